import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../adapters/http/auth.ts';
import { CookieJar, follow, startTestProvider } from '../support/oidc-provider.ts';
import type { TestProvider } from '../support/oidc-provider.ts';
import { startServerProcess } from '../support/server-process.ts';
import { TEST_SECRET, tempDir } from '../support/system.ts';

/**
 * `npm start` configured for single sign-on through the environment alone, as the README shows it, against a real
 * OpenID provider: a person signs in, and nothing of the flow's secrets reaches the log.
 */

const children: ChildProcessWithoutNullStreams[] = [];

const until = async (condition: () => boolean, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
const dataDir = tempDir();
let provider: TestProvider | undefined;

afterAll(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await provider?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the server with AUTH_OIDC_ISSUER and AUTH_OIDC_CLIENT_ID', () => {
  it('signs a person in through the provider and logs no code, state or credential', async () => {
    provider = await startTestProvider();
    const server = await startServerProcess(dataDir, children, {
      env: {
        AUTH_OIDC_ISSUER: provider.issuer,
        AUTH_OIDC_CLIENT_ID: 'coaching',
        AUTH_OIDC_ROLES_CLAIM: 'roles',
        LOG_LEVEL: 'debug',
      },
    });
    const publicBase = `http://localhost:${new URL(server.url).port}`;
    await provider.configure([{ clientId: 'coaching', redirectUris: [`${publicBase}/auth/oidc/callback`] }]);
    provider.account({ sub: 'idp-ivan', email: 'ivan@example.com', email_verified: true, roles: 'instructor' });
    provider.signInAs('idp-ivan');
    const admin = await mintToken(new TextEncoder().encode(TEST_SECRET), { sub: 'ada', roles: ['admin'] });
    const put = await fetch(`${server.url}/people/ivan`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ivan', email: 'ivan@example.com', roles: ['instructor'] }),
    });
    expect(put.status).toBe(200);

    const serverJar = new CookieJar();
    const idpJar = new CookieJar();
    const serverPort = new URL(server.url).port;
    const jars = (url: URL) => (url.port === serverPort ? serverJar : idpJar);
    const { url } = await follow(
      `${server.url}/auth/oidc/start?next=/calendar`,
      jars,
      `${publicBase}/auth/oidc/callback`,
    );
    const callback = new URL(url.replace(publicBase, server.url));
    const response = await fetch(callback, { redirect: 'manual', headers: { cookie: serverJar.header() } });
    serverJar.take(response);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/sign-in?next=%2Fcalendar');
    const refresh = serverJar.get('session_refresh');
    expect(refresh).toBeDefined();

    // The request line is written once the answer is sent: wait for it to reach the output.
    await until(() => server.output().includes('"path":"/auth/oidc/callback"'));
    const log = server.output();
    for (const secret of [callback.searchParams.get('code'), callback.searchParams.get('state'), refresh]) {
      expect(secret).toBeTruthy();
      expect(log).not.toContain(secret);
    }
  }, 120_000);
});
