import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

/**
 * A real OpenID provider (the certified `oidc-provider`) on a free loopback port, for tests. Its interactions are a
 * minimal policy the test drives: whoever `signInAs` names is logged in and consents, without a form. Accounts carry
 * `email`, `email_verified`, `name` and `roles` (in the ID token, as `conformIdTokenClaims: false` allows).
 */

export interface TestAccount {
  readonly sub: string;
  readonly email?: string;
  readonly email_verified?: boolean;
  readonly name?: string;
  readonly roles?: ReadonlyArray<string> | string;
}

export interface TestProvider {
  readonly issuer: string;
  /** Registers the clients, once the relying party's address is known (the provider answers nothing before). */
  configure(
    clients: ReadonlyArray<{ clientId: string; redirectUris: ReadonlyArray<string>; clientSecret?: string }>,
  ): Promise<void>;
  account(account: TestAccount): void;
  /** The account the next interaction logs in. */
  signInAs(sub: string): void;
  close(): Promise<void>;
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

export const startTestProvider = async (): Promise<TestProvider> => {
  const accounts = new Map<string, TestAccount>();
  let current: string | undefined;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handler === undefined) {
      res.statusCode = 503;
      res.end();
      return;
    }
    handler(req, res);
  });
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

  const interaction = async (provider: Provider, req: IncomingMessage, res: ServerResponse) => {
    const details = await provider.interactionDetails(req, res);
    const prompt = details.prompt as { name: string; details: Record<string, unknown> };
    if (prompt.name === 'login') {
      if (current === undefined) throw new Error('test provider: signInAs(...) was not called');
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: current } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const accountId = (details.session as { accountId: string }).accountId;
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id as string });
    const scopes = (prompt.details.missingOIDCScope as string[] | undefined) ?? [];
    if (scopes.length > 0) grant.addOIDCScope(scopes.join(' '));
    const claims = (prompt.details.missingOIDCClaims as string[] | undefined) ?? [];
    if (claims.length > 0) grant.addOIDCClaims(claims);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };

  return {
    issuer,
    configure: async (clients) => {
      const provider = new Provider(issuer, {
        clients: clients.map((c) => ({
          client_id: c.clientId,
          // A confidential client authenticates with HTTP Basic; a public one with PKCE alone.
          ...(c.clientSecret !== undefined
            ? { client_secret: c.clientSecret, token_endpoint_auth_method: 'client_secret_basic' }
            : { token_endpoint_auth_method: 'none' }),
          redirect_uris: [...c.redirectUris],
          response_types: ['code'],
          grant_types: ['authorization_code'],
        })),
        jwks: { keys: [jwk] },
        cookies: { keys: [randomBytes(16).toString('hex')] },
        pkce: { required: () => true },
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'roles'] },
        conformIdTokenClaims: false,
        // Explicit lifetimes, so the provider does not print a notice for each default it falls back on.
        ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
        features: { devInteractions: { enabled: false } },
        interactions: { url: (_ctx: unknown, i: { uid: string }) => `/interaction/${i.uid}` },
        findAccount: async (_ctx: unknown, sub: string) => {
          const account = accounts.get(sub);
          return account === undefined ? undefined : { accountId: sub, claims: async () => ({ ...account }) };
        },
      });
      const callback = provider.callback();
      handler = (req, res) => {
        if (req.url?.startsWith('/interaction/') === true) {
          interaction(provider, req, res).catch((error: unknown) => {
            res.statusCode = 500;
            res.end(String(error));
          });
          return;
        }
        callback(req, res);
      };
    },
    account: (account) => accounts.set(account.sub, account),
    signInAs: (sub) => {
      current = sub;
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
};

/** Cookies by name, for one browser talking to one host: enough for the provider's and the server's few. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/**
 * Follows redirects by hand, with a jar for each host, until one leads to `stopAt` (an address prefix) or a
 * response is not a redirect. Answers the last response and the address it came from or pointed to.
 */
export const follow = async (
  start: string,
  jars: (url: URL) => CookieJar,
  stopAt?: string,
): Promise<{ response: Response; url: string }> => {
  let url = start;
  for (let hop = 0; hop < 20; hop++) {
    if (stopAt !== undefined && url.startsWith(stopAt)) return { response: new Response(null), url };
    const jar = jars(new URL(url));
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.take(response);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) return { response, url };
    await response.arrayBuffer();
    url = new URL(location, url).href;
  }
  throw new Error(`too many redirects from ${start}`);
};

/** A PKCE pair for a test acting as a client itself. */
export const pkcePair = (): { verifier: string; challenge: string } => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};
