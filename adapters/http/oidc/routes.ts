import * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import * as oidc from 'openid-client';
import type { Identified, Identities } from '../../../application/oidc.ts';
import type { Logger } from '../../../application/ports/logger.ts';
import { clientIp } from '../auth/guards.ts';
import type { Env } from '../kit/context.ts';
import { createRateLimiter } from '../rate-limit.ts';
import type { OidcClient } from './client.ts';
import { FLOW_COOKIE, FLOW_COOKIE_PATH, FLOW_TTL_SECONDS, openFlow, safeNext, sealFlow } from './flow-cookie.ts';
import { refusalPage } from './page.ts';

export interface OidcRouteDeps {
  readonly client: Pick<OidcClient, 'authorizationUrl' | 'exchange'>;
  readonly identities: Identities;
  /** The flow cookie's key (flowKey of the bearer secret). */
  readonly flowKey: Uint8Array;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly siteName: string;
  /**
   * Starts the person's session (the refresh cookie set on `c`); a Left is a refusal in words. The browser then gets
   * its access token through `POST /auth/refresh`.
   */
  readonly startSession: (c: Context<Env>, identified: Identified) => Promise<E.Either<string, void>>;
  /** Callbacks a client address may send a minute (default 30): each costs a request to the provider's token endpoint. */
  readonly perClientPerMinute?: number;
}

const MAX_QUERY_LENGTH = 8192;

const noStore = (c: Context<Env>) => {
  c.header('Cache-Control', 'no-store');
  // The callback's address holds the code: no page it leads to may pass it on as a Referer.
  c.header('Referrer-Policy', 'no-referrer');
};

const start = (deps: OidcRouteDeps) => async (c: Context<Env>) => {
  noStore(c);
  const flow = {
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    verifier: oidc.randomPKCECodeVerifier(),
    next: safeNext(c.req.query('next')),
  };
  let url: URL;
  try {
    url = await deps.client.authorizationUrl(flow);
  } catch (error) {
    deps.logger.warn({ requestId: c.get('requestId'), err: error }, 'OIDC discovery failed');
    return refusalPage(
      c,
      503,
      deps.siteName,
      'Sign-in is unavailable',
      'the identity provider cannot be reached; try again in a minute',
    );
  }
  setCookie(c, FLOW_COOKIE, await sealFlow(deps.flowKey, flow, deps.clock()), {
    path: FLOW_COOKIE_PATH,
    httpOnly: true,
    secure: true,
    sameSite: 'Lax',
    maxAge: FLOW_TTL_SECONDS,
  });
  return c.redirect(url.href, 302);
};

const callback = (deps: OidcRouteDeps) => async (c: Context<Env>) => {
  noStore(c);
  const requestId = c.get('requestId');
  const flow = await openFlow(deps.flowKey, getCookie(c, FLOW_COOKIE), deps.clock());
  // Single use on this browser: whatever happens next, the flow is over.
  deleteCookie(c, FLOW_COOKIE, { path: FLOW_COOKIE_PATH, secure: true, httpOnly: true, sameSite: 'Lax' });
  const refuse = (status: 400 | 403 | 503, detail: string) =>
    refusalPage(c, status, deps.siteName, 'Sign-in failed', detail);
  if (flow === undefined) {
    return refuse(400, 'this sign-in expired or was started in another browser; sign in again');
  }
  const query = new URL(c.req.url).search;
  if (query.length > MAX_QUERY_LENGTH) return refuse(400, 'the identity provider sent too long an answer');
  const providerError = c.req.query('error');
  if (providerError !== undefined) {
    deps.logger.info({ requestId, error: providerError.slice(0, 64) }, 'OIDC provider refused the sign-in');
    return refuse(403, `the identity provider did not sign you in (${providerError.slice(0, 64)})`);
  }
  let claims;
  try {
    claims = await deps.client.exchange(query, flow);
  } catch (error) {
    // The error names what failed (state mismatch, a used code); it never holds the code or the tokens.
    const { name, code } = error as { name?: string; code?: string };
    deps.logger.warn({ requestId, error: name, code }, 'OIDC callback refused');
    return refuse(400, 'the answer from the identity provider could not be verified; sign in again');
  }
  const identified = await deps.identities.identify(claims, true);
  if (E.isLeft(identified)) return refuse(403, identified.left.message);
  const session = await deps.startSession(c, identified.right);
  if (E.isLeft(session)) return refuse(403, session.left);
  // Through the sign-in page, which takes the access token with the cookie (POST /auth/refresh) and goes on to `next`.
  return c.redirect(`/sign-in?next=${encodeURIComponent(flow.next)}`, 302);
};

/** `GET /auth/oidc/start?next=/path` and `GET /auth/oidc/callback`: credentials of their own (the flow cookie). */
export const oidcRoutes = (deps: OidcRouteDeps): Hono<Env> => {
  const routes = new Hono<Env>();
  const perMinute = deps.perClientPerMinute ?? 30;
  const limiter = createRateLimiter({ perSecond: perMinute / 60, burst: perMinute });
  const finish = callback(deps);
  routes.get('/auth/oidc/start', start(deps));
  routes.get('/auth/oidc/callback', async (c) => {
    const wait = limiter(clientIp(c), 1);
    if (wait === 0) return finish(c);
    c.header('Retry-After', String(Math.ceil(wait / 1000)));
    return refusalPage(
      c,
      429,
      deps.siteName,
      'Too many sign-ins',
      'too many sign-ins from here; try again in a minute',
    );
  });
  return routes;
};
