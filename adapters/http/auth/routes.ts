import * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { AppError } from '../../../application/execute.ts';
import type { Sessions, SessionGrant } from '../../../application/sessions.ts';
import type { SignIn } from '../../../application/sign-in.ts';
import type { SignedInPerson } from '../../../application/sessions.ts';
import type { Env } from '../kit/context.ts';
import { requestContext, pathId } from '../kit/context.ts';
import { readJson } from '../kit/body.ts';
import { answer, appErrorResponse, problem } from '../kit/problem.ts';
import { createRateLimiter } from '../rate-limit.ts';
import { clearRefreshCookie, clientIp, isLoopback, refreshCookieOf, sameSiteJson, setRefreshCookie } from './guards.ts';
import { DevSessionBody, EmailLinkBody, SessionBody, sessionAnswer } from './shapes.ts';

export interface AuthRouteDeps {
  readonly sessions: Sessions;
  readonly signIn: SignIn;
  /** Is this the site's own origin (PUBLIC_BASE_URL's, and in dev mode this machine's loopback spellings)? */
  readonly ownOrigin: (origin: string) => boolean;
  /** Dev mode only: the demo people a loopback visitor may sign in as; undefined outside dev mode. */
  readonly devPeople?: () => ReadonlyArray<SignedInPerson>;
  /** Sign-in requests (links, codes, dev sessions) one client address may make per 15 minutes. */
  readonly perClient: number;
  /** Whether the site's identity provider signs people in too (`/auth/oidc/start`). */
  readonly singleSignOn?: boolean;
}

const WINDOW_SECONDS = 15 * 60;

/** Who a session is started or refreshed for, as the audit log records it. */
const clientOf = (c: Context<Env>) => ({ ip: clientIp(c), userAgent: c.req.header('user-agent') });

const ACCEPTED = {
  status: 'accepted' as const,
  message: 'if this address belongs to someone who may sign in, a sign-in link is on its way',
};

const granted = (c: Context<Env>, grant: SessionGrant) => {
  setRefreshCookie(c, grant.refreshCookie);
  c.header('Cache-Control', 'no-store');
  return c.json(sessionAnswer(grant), 200);
};

const refusedAs = (c: Context<Env>, status: 400 | 401, error: { _tag: string; message?: string }) => {
  if (status === 401) clearRefreshCookie(c);
  c.header('Cache-Control', 'no-store');
  return problem(c, status, status === 400 ? 'Sign-in failed' : 'Unauthorized', error.message ?? 'sign in again');
};

const isAppError = (error: { _tag: string }): error is AppError =>
  error._tag !== 'SignInRefused' && error._tag !== 'SessionRefused';

/** `/sign-in` (to the web app's page) and the `/auth` endpoints: none of them takes a bearer token. */
export const authRoutes = (deps: AuthRouteDeps): Hono<Env> => {
  const routes = new Hono<Env>();
  const perClient = createRateLimiter({
    perSecond: deps.perClient / WINDOW_SECONDS,
    burst: deps.perClient,
    maxKeys: 10_000,
  });
  const limited = (c: Context<Env>): Response | undefined => {
    const wait = perClient(clientIp(c));
    if (wait <= 0) return undefined;
    c.header('Retry-After', String(Math.ceil(wait / 1000)));
    return problem(c, 429, 'Too many requests', 'too many sign-in requests from this address; see Retry-After');
  };

  // The sign-in page is the web app's: emailed links (`/sign-in#code=…`) keep their fragment across the redirect.
  routes.get('/sign-in', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.redirect(`/app/sign-in${new URL(c.req.url).search}`, 302);
  });

  routes.post('/auth/email-link', async (c) => {
    const body = await readJson(c, EmailLinkBody);
    if (!body.ok) return body.response;
    const tooMany = limited(c);
    if (tooMany !== undefined) return tooMany;
    // Answered before anything is looked up: the same answer, as fast, for every address.
    deps.signIn.requestLink(body.value.email);
    c.header('Cache-Control', 'no-store');
    return c.json(ACCEPTED, 202);
  });

  routes.post('/auth/session', async (c) => {
    const refusal = sameSiteJson(c, deps.ownOrigin) ?? limited(c);
    if (refusal !== undefined) return refusal;
    const body = await readJson(c, SessionBody);
    if (!body.ok) return body.response;
    const result = await deps.signIn.redeem(body.value.code, clientOf(c));
    if (E.isRight(result)) return granted(c, result.right);
    return isAppError(result.left) ? appErrorResponse(c, result.left) : refusedAs(c, 400, result.left);
  });

  routes.post('/auth/refresh', async (c) => {
    const refusal = sameSiteJson(c, deps.ownOrigin);
    if (refusal !== undefined) return refusal;
    const result = await deps.sessions.refresh(refreshCookieOf(c), clientOf(c));
    if (E.isRight(result)) return granted(c, result.right);
    return isAppError(result.left) ? appErrorResponse(c, result.left) : refusedAs(c, 401, result.left);
  });

  routes.post('/auth/sign-out', async (c) => {
    const refusal = sameSiteJson(c, deps.ownOrigin);
    if (refusal !== undefined) return refusal;
    const result = await deps.sessions.signOut(refreshCookieOf(c));
    if (E.isLeft(result)) return appErrorResponse(c, result.left);
    clearRefreshCookie(c);
    return c.body(null, 204);
  });

  // Dev mode, from this machine only: anything else is told there is no such route.
  const devOnly = (c: Context<Env>) =>
    deps.devPeople === undefined || !isLoopback(clientIp(c))
      ? problem(c, 404, 'Not found', `no route for ${c.req.method} ${c.req.path}`)
      : undefined;

  // What the sign-in page offers: nothing here is a secret (dev mode's people are listed only to loopback clients).
  routes.get('/auth/methods', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json({ email: true, singleSignOn: deps.singleSignOn === true, dev: deps.devPeople !== undefined });
  });

  routes.get('/auth/dev-people', (c) => {
    const refusal = devOnly(c);
    if (refusal !== undefined) return refusal;
    c.header('Cache-Control', 'no-store');
    return c.json({ items: (deps.devPeople?.() ?? []).map((p) => ({ ...p, roles: [...p.roles] })) });
  });

  routes.post('/auth/dev-session', async (c) => {
    const refusal = devOnly(c) ?? sameSiteJson(c, deps.ownOrigin);
    if (refusal !== undefined) return refusal;
    const body = await readJson(c, DevSessionBody);
    if (!body.ok) return body.response;
    const result = await deps.sessions.start({
      personId: body.value.personId,
      method: 'dev',
      client: clientOf(c),
    });
    return E.isRight(result) ? granted(c, result.right) : appErrorResponse(c, result.left);
  });
  return routes;
};

/** `POST /people/:id/invite` (bearer, admins): emails that person a sign-in link that stays good for days. */
export const inviteRoutes = (signIn: SignIn): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.post('/people/:id/invite', async (c) => {
    const result = await signIn.invite(requestContext(c), pathId(c));
    return answer(
      c,
      E.map((r: { personId: string }) => ({ status: 'accepted' as const, personId: r.personId }))(result),
      202,
    );
  });
  return routes;
};
