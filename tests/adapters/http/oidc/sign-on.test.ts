import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identities } from '../../../../application/aggregates.ts';
import { identityKey } from '../../../../application/oidc.ts';
import { recordPerson } from '../../../support/directory.ts';
import { CookieJar, follow, pkcePair, startTestProvider } from '../../../support/oidc-provider.ts';
import type { TestProvider } from '../../../support/oidc-provider.ts';
import { startTestSystem } from '../../../support/system.ts';
import type { TestSystem } from '../../../support/system.ts';

/**
 * Single sign-on against a real OpenID provider (oidc-provider) in this process: the browser is a pair of cookie
 * jars and hand-followed redirects. Two servers share the provider: `plain` takes roles from the directory,
 * `claimed` from the ID token's `roles` claim.
 */

const CLIENT_ID = 'coaching';
let provider: TestProvider;
let strangers: TestProvider;
let plain: TestSystem;
let claimed: TestSystem;
let confidential: TestSystem;

const callbackOf = (sys: TestSystem) => `${sys.system.publicBaseUrl}/auth/oidc/callback`;

beforeAll(async () => {
  provider = await startTestProvider();
  strangers = await startTestProvider();
  const env = { AUTH_OIDC_ISSUER: provider.issuer, AUTH_OIDC_CLIENT_ID: CLIENT_ID };
  plain = await startTestSystem({ env });
  claimed = await startTestSystem({ env: { ...env, AUTH_OIDC_ROLES_CLAIM: 'roles' } });
  confidential = await startTestSystem({
    env: { ...env, AUTH_OIDC_CLIENT_ID: 'coaching-server', AUTH_OIDC_CLIENT_SECRET: 'a-client-secret' },
  });
  await provider.configure([
    { clientId: CLIENT_ID, redirectUris: [callbackOf(plain), callbackOf(claimed)] },
    { clientId: 'other-app', redirectUris: ['http://127.0.0.1:9/callback'] },
    { clientId: 'coaching-server', redirectUris: [callbackOf(confidential)], clientSecret: 'a-client-secret' },
  ]);
  await strangers.configure([{ clientId: CLIENT_ID, redirectUris: [callbackOf(plain)] }]);
  for (const sys of [plain, claimed, confidential]) {
    await recordPerson(sys.system, { id: 'cora', roles: ['customer'] });
    await recordPerson(sys.system, { id: 'ada', roles: ['customer'] });
    await recordPerson(sys.system, { id: 'dave', roles: ['customer'], active: false });
  }
  const account = { email_verified: true, roles: ['admin', 'wizard'] };
  provider.account({ sub: 'idp-cora', email: 'Cora@Example.com', email_verified: true, roles: 'customer' });
  provider.account({ sub: 'idp-ada', email: 'ada@example.com', ...account });
  provider.account({ sub: 'idp-dave', email: 'dave@example.com', email_verified: true });
  provider.account({ sub: 'idp-mallory', email: 'cora@example.com', email_verified: false });
  provider.account({ sub: 'idp-stranger', email: 'nobody@example.com', email_verified: true });
  strangers.account({ sub: 'idp-ada', email: 'ada@example.com', ...account });
}, 60_000);

afterAll(async () => {
  await plain?.destroy();
  await claimed?.destroy();
  await confidential?.destroy();
  await provider?.close();
  await strangers?.close();
});

/** A browser: one jar for the provider, one for the server (told apart by port). */
const browser = (sys: TestSystem) => {
  const server = new CookieJar();
  const idp = new CookieJar();
  const serverPort = new URL(sys.url).port;
  return { server, jars: (url: URL) => (url.port === serverPort ? server : idp) };
};

/** Up to the provider's redirect back to the server's callback, which is not followed; answers its address. */
const toCallback = async (sys: TestSystem, sub: string, next = '/calendar') => {
  provider.signInAs(sub);
  const b = browser(sys);
  const start = `${sys.url}/auth/oidc/start?next=${encodeURIComponent(next)}`;
  const { url } = await follow(start, b.jars, callbackOf(sys));
  // The public address says localhost; the server listens on 127.0.0.1.
  return { ...b, callback: url.replace(sys.system.publicBaseUrl, sys.url) };
};

const openCallback = async (callback: string, jar: CookieJar) => {
  const response = await fetch(callback, { redirect: 'manual', headers: { cookie: jar.header() } });
  jar.take(response);
  return { response, text: await response.text() };
};

const signIn = async (sys: TestSystem, sub: string, next?: string) => {
  const flow = await toCallback(sys, sub, next);
  return { ...flow, ...(await openCallback(flow.callback, flow.server)) };
};

const identityEvents = async (sys: TestSystem, sub: string) =>
  (await sys.system.store.readStream(identities.streamName(identityKey(provider.issuer, sub)))).map((e) => e.type);

/** An ID token from the provider, with the test as the client (its own PKCE), for a client id of the provider's. */
const idToken = async (idp: TestProvider, sub: string, clientId: string, redirectUri: string): Promise<string> => {
  idp.signInAs(sub);
  const { verifier, challenge } = pkcePair();
  const auth = new URL(`${idp.issuer}/auth`);
  const params = {
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid email profile',
    state: 'test-state',
    nonce: 'test-nonce',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  };
  for (const [key, value] of Object.entries(params)) auth.searchParams.set(key, value);
  const jar = new CookieJar();
  const { url } = await follow(auth.href, () => jar, redirectUri);
  const code = new URL(url).searchParams.get('code');
  if (code === null) throw new Error(`no code in ${url}`);
  const response = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: clientId,
      code_verifier: verifier,
    }),
  });
  const body = (await response.json()) as { id_token?: string };
  if (body.id_token === undefined) throw new Error(`no ID token: ${JSON.stringify(body)}`);
  return body.id_token;
};

const getSettings = (sys: TestSystem, token: string) =>
  fetch(`${sys.url}/settings`, { headers: { authorization: `Bearer ${token}` } });

const me = async (sys: TestSystem, token: string) => {
  const response = await fetch(`${sys.url}/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as { id?: string; roles?: string[] } };
};

describe('OIDC sign-in: the authorization code flow', () => {
  it('starts at the provider with PKCE (S256), state and nonce, kept in an HttpOnly Secure Lax cookie', async () => {
    // The sign-in page is told to offer it.
    const methods = await fetch(`${plain.url}/auth/methods`);
    expect(await methods.json()).toMatchObject({ email: true, singleSignOn: true });
    const response = await fetch(`${plain.url}/auth/oidc/start?next=/calendar`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(`${provider.issuer}/auth`);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(location.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(location.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/);
    expect(location.searchParams.get('redirect_uri')).toBe(callbackOf(plain));
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('oidc_flow='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Max-Age=600/i);
  });

  it('signs in a person matched by verified email, links the identity, and starts a session', async () => {
    const { response, server } = await signIn(plain, 'idp-cora', '/meetings?view=week');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`/sign-in?next=${encodeURIComponent('/meetings?view=week')}`);
    const refresh = server.get('session_refresh');
    expect(refresh).toBeDefined();
    expect(server.get('oidc_flow')).toBeUndefined();
    // The page takes its access token as after any sign-in: POST /auth/refresh with the cookie.
    const refreshed = await fetch(`${plain.url}/auth/refresh`, {
      method: 'POST',
      headers: {
        cookie: `session_refresh=${refresh}`,
        'content-type': 'application/json',
        origin: new URL(plain.system.publicBaseUrl).origin,
      },
      body: '{}',
    });
    expect(refreshed.status).toBe(200);
    const grant = (await refreshed.json()) as { accessToken: string; person: { id: string; roles: string[] } };
    expect(grant.person).toMatchObject({ id: 'cora', roles: ['customer'] });
    const own = await fetch(`${plain.url}/people/cora`, { headers: { authorization: `Bearer ${grant.accessToken}` } });
    expect(own.status).toBe(200);
    expect(await identityEvents(plain, 'idp-cora')).toEqual(['IdentityLinked']);
    // The second time the link finds her; nothing more is linked.
    const again = await signIn(plain, 'idp-cora');
    expect(again.response.status).toBe(302);
    expect(await identityEvents(plain, 'idp-cora')).toEqual(['IdentityLinked']);
  });

  it("keeps the provider's claimed roles in a session when AUTH_OIDC_ROLES_CLAIM names one, refresh after refresh", async () => {
    const { response, server } = await signIn(claimed, 'idp-ada');
    expect(response.status).toBe(302);
    let cookie = server.get('session_refresh');
    const origin = new URL(claimed.system.publicBaseUrl).origin;
    for (let round = 0; round < 2; round++) {
      const refreshed = await fetch(`${claimed.url}/auth/refresh`, {
        method: 'POST',
        headers: { cookie: `session_refresh=${cookie}`, 'content-type': 'application/json', origin },
        body: '{}',
      });
      expect(refreshed.status).toBe(200);
      const grant = (await refreshed.json()) as { accessToken: string; person: { roles: string[] } };
      // Ada is a customer in the directory; the provider says admin, and the session goes by the provider.
      expect(grant.person.roles).toEqual(['admin']);
      expect((await getSettings(claimed, grant.accessToken)).status).toBe(200);
      cookie = /session_refresh=([^;]+)/.exec(refreshed.headers.getSetCookie().join('\n'))?.[1];
      expect(cookie).toBeDefined();
    }
  });

  it('signs in as a confidential client too (AUTH_OIDC_CLIENT_SECRET, HTTP Basic at the token endpoint)', async () => {
    const { response, server } = await signIn(confidential, 'idp-cora');
    expect(response.status).toBe(302);
    expect(server.get('session_refresh')).toBeDefined();
  });

  it('refuses a callback whose state is not the one the flow began with', async () => {
    const { callback, server } = await toCallback(plain, 'idp-cora');
    const forged = new URL(callback);
    forged.searchParams.set('state', 'forged-state-value');
    const { response, text } = await openCallback(forged.href, server);
    expect(response.status).toBe(400);
    expect(text).toContain('could not be verified');
    expect(server.get('session_refresh')).toBeUndefined();
  });

  it('refuses a replayed callback, even with the flow cookie kept from the first time', async () => {
    const { callback, server } = await toCallback(plain, 'idp-cora');
    const flowCookie = server.header();
    const first = await fetch(callback, { redirect: 'manual', headers: { cookie: flowCookie } });
    expect(first.status).toBe(302);
    const replay = await fetch(callback, { redirect: 'manual', headers: { cookie: flowCookie } });
    expect(replay.status).toBe(400);
    expect(replay.headers.getSetCookie().some((line) => line.startsWith('session_refresh='))).toBe(false);
  });

  it('refuses a callback without its flow cookie (another browser)', async () => {
    const { callback } = await toCallback(plain, 'idp-cora');
    const { response, text } = await openCallback(callback, new CookieJar());
    expect(response.status).toBe(400);
    expect(text).toContain('started in another browser');
  });

  it.each(['https://evil.example/', '//evil.example/x', '/\\evil.example'])(
    'goes to / instead of the open redirect %j',
    async (next) => {
      const { response } = await signIn(plain, 'idp-cora', next);
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe('/sign-in?next=%2F');
    },
  );

  it('refuses a provider account no person here has, creating none, and records the refusal', async () => {
    const { response, text, server } = await signIn(plain, 'idp-stranger');
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(text).toContain('no account here belongs to this sign-in');
    expect(server.get('session_refresh')).toBeUndefined();
    expect(plain.system.readModels.personByEmail('nobody@example.com')).toBeUndefined();
    expect(await identityEvents(plain, 'idp-stranger')).toEqual(['IdentitySignInFailed']);
  });

  it('does not match an address the provider has not verified', async () => {
    const { response, text } = await signIn(plain, 'idp-mallory');
    expect(response.status).toBe(403);
    expect(text).toContain('no account here belongs to this sign-in');
    expect(await identityEvents(plain, 'idp-mallory')).toEqual(['IdentitySignInFailed']);
  });

  it('refuses a deactivated person', async () => {
    const { response, text, server } = await signIn(plain, 'idp-dave');
    expect(response.status).toBe(403);
    expect(text).toContain('the account is deactivated');
    expect(server.get('session_refresh')).toBeUndefined();
  });
});

describe("OIDC: the provider's tokens as bearer tokens", () => {
  it('accepts an ID token of the provider for this client, with the directory roles by default', async () => {
    const token = await idToken(provider, 'idp-ada', CLIENT_ID, callbackOf(plain));
    // Ada is a customer in the directory, whatever the token says: authenticated, and refused the admin's page.
    expect(await me(plain, token)).toMatchObject({ status: 200, body: { id: 'ada', roles: ['customer'] } });
    const response = await getSettings(plain, token);
    expect(response.status).toBe(403);
  });

  it('takes the roles from the claim when AUTH_OIDC_ROLES_CLAIM names one (unknown roles left out)', async () => {
    const token = await idToken(provider, 'idp-ada', CLIENT_ID, callbackOf(claimed));
    expect(await me(claimed, token)).toMatchObject({ status: 200, body: { id: 'ada', roles: ['admin'] } });
    expect((await getSettings(claimed, token)).status).toBe(200);
    // Cora's claim says customer: no admin rights there either.
    const cora = await idToken(provider, 'idp-cora', CLIENT_ID, callbackOf(claimed));
    expect((await getSettings(claimed, cora)).status).toBe(403);
  });

  it("refuses a token for another client of the provider, one of another issuer, and an unknown person's", async () => {
    const otherAudience = await idToken(provider, 'idp-ada', 'other-app', 'http://127.0.0.1:9/callback');
    expect((await me(claimed, otherAudience)).status).toBe(401);
    expect((await getSettings(claimed, otherAudience)).status).toBe(401);
    const otherIssuer = await idToken(strangers, 'idp-ada', CLIENT_ID, callbackOf(plain));
    expect((await getSettings(claimed, otherIssuer)).status).toBe(401);
    const stranger = await idToken(provider, 'idp-stranger', CLIENT_ID, callbackOf(plain));
    const response = await getSettings(plain, stranger);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { detail: string }).detail).toContain('no account here');
    const dave = await idToken(provider, 'idp-dave', CLIENT_ID, callbackOf(plain));
    expect((await getSettings(plain, dave)).status).toBe(401);
  });

  it('still accepts the server’s own HS256 tokens', async () => {
    expect((await getSettings(plain, await plain.token('ada', ['admin']))).status).toBe(200);
  });
});
