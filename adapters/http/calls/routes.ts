import type * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { AuthUser } from '../../../application/ports/access.ts';
import type { CallRoom } from '../../../application/call-room.ts';
import type { RequestContext } from '../../../application/execute.ts';
import type { JoinAnswer } from '../../../application/join.ts';
import type { AppError } from '../../../application/service.ts';
import { pathId, requestContext as ctx } from '../kit/context.ts';
import type { Env } from '../kit/context.ts';
import { answer, noFile, problem, validationProblem } from '../kit/problem.ts';
import { staticAsset } from '../static.ts';
import { parseOrigin } from './shapes.ts';
import { idProblem } from '../../../domain/shared.ts';

export interface JoinService {
  join(user: AuthUser, meetingId: string): Promise<E.Either<AppError, JoinAnswer>>;
  /** Who is in the meeting's call room now (for a caller who may read the meeting). */
  room(ctx: RequestContext, meetingId: string): Promise<E.Either<AppError, CallRoom>>;
}

/** Who may open the signaling socket: known only once the signaling server listens. */
export interface SignalingOrigins {
  readonly originAllowed: (origin: string) => boolean;
  readonly suggestedOrigin: () => string | undefined;
}

/** `POST /meetings/:id/join`: a single-use signaling ticket (or the meeting's link) for a participant. */
export const callRoutes = (join: JoinService): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.post('/meetings/:id/join', async (c) => {
    const result = await join.join(c.get('user'), pathId(c));
    c.header('Cache-Control', 'no-store');
    return answer(c, result);
  });
  routes.get('/meetings/:id/room', async (c) => {
    const result = await join.room(ctx(c), pathId(c));
    c.header('Cache-Control', 'no-store');
    return answer(c, result);
  });
  return routes;
};

/**
 * What a browser needs before it has a ticket, so without a bearer token: the redirect to the call page, simple-peer, the plain
 * `GET /signaling` (told to upgrade), and the origin check.
 */
export const callPageRoutes = (origins: SignalingOrigins): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.get(
    '/static/:file',
    async (c) => (await staticAsset(c, c.req.param('file'))) ?? noFile(c, c.req.param('file')),
  );
  routes.get('/call', (c) => callRedirect(c));
  // A WebSocket upgrade of /signaling never gets here (the signaling server takes it from Node's 'upgrade' event):
  // this is a plain request, which can only be told to upgrade (RFC 9110 §15.5.22), with or without a bearer token.
  routes.get('/signaling', (c) => {
    c.header('Upgrade', 'websocket');
    return problem(
      c,
      426,
      'Upgrade required',
      'this is the WebSocket endpoint for calls: open it with a WebSocket and the ticket from POST /meetings/{id}/join',
    );
  });
  routes.get('/signaling/origin-check', (c) => originCheck(c, origins));
  return routes;
};

/** The query's parameters other than `known`, each a field error (the first ten, names cut to 64 characters). */
const unknownParameters = (c: Context<Env>, known: string) =>
  Object.keys(c.req.query())
    .filter((name) => name !== known)
    .slice(0, 10)
    .map((name) => ({ path: name.slice(0, 64), message: 'is not a known parameter' }));

/**
 * `GET /call?meeting=<id>` (what emails and calendar feeds link to): 302 to the web app's call page,
 * `/app/call/<id>`. The browser keeps the fragment (`#link=…`) across the redirect, so the join link never reaches
 * the server.
 */
const callRedirect = (c: Context<Env>) => {
  const meeting = c.req.query('meeting') ?? '';
  const why = idProblem(meeting);
  const errors = [
    ...(why === undefined ? [] : [{ path: 'meeting', message: why }]),
    ...unknownParameters(c, 'meeting'),
  ];
  if (errors.length > 0) return validationProblem(c, errors);
  c.header('Cache-Control', 'no-store');
  return c.redirect(`/app/call/${encodeURIComponent(meeting)}`, 302);
};

/**
 * `GET /signaling/origin-check?origin=…`: may a page on this origin open the signaling socket? A browser refuses to
 * tell a page why its WebSocket failed (a 403 for its Origin looks like any lost connection), so the call client asks
 * here after a socket that never opened, and can say so instead of reconnecting forever. It tells nothing secret:
 * which origins are allowed is visible to anyone who tries one.
 */
const originCheck = (c: Context<Env>, origins: SignalingOrigins) => {
  const parsed = parseOrigin(c.req.query('origin'));
  const errors = [
    ...(parsed.ok ? [] : [{ path: 'origin', message: parsed.message }]),
    ...unknownParameters(c, 'origin'),
  ];
  if (!parsed.ok || errors.length > 0) return validationProblem(c, errors);
  const allowed = origins.originAllowed(parsed.origin);
  const suggested = allowed ? undefined : origins.suggestedOrigin();
  c.header('Cache-Control', 'no-store');
  return c.json({ origin: parsed.origin, allowed, suggestedOrigin: suggested });
};
