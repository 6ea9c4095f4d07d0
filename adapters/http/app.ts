/**
 * The HTTP API. One folder per resource: `routes.ts` takes that resource's services and returns its routes,
 * `shapes.ts` says what a caller may send and see; `kit/` holds what every route shares (problem+json, body
 * reading, ETag/If-Match, the request pipeline). This file only says what runs around each route and mounts the
 * modules, in the order that matters: routes with credentials of their own (or none) first, then the
 * bearer-authenticated API. No Hono middleware: see kit/pipeline.ts.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { webAppRoutes } from './web/routes.ts';
import type { Logger } from '../../application/ports/logger.ts';
import { idProblem } from '../../domain/shared.ts';
import { tryDecodeURIComponent } from 'hono/utils/url';
import type { Idempotency } from '../../application/idempotency.ts';
import type { NotificationService } from '../../application/notifications/service.ts';
import type { SeriesService } from '../../application/series-service.ts';
import type { AppError, Service } from '../../application/service.ts';
import type { AuditService } from '../../application/audit.ts';
import type { AuthOutcome, Authenticator } from './auth.ts';
import { auditRoutes } from './audit/routes.ts';
import { clientAddress } from './auth/guards.ts';
import { authRoutes, inviteRoutes } from './auth/routes.ts';
import type { AuthRouteDeps } from './auth/routes.ts';
import { calendarFeedRoutes, calendarRoutes } from './calendar/routes.ts';
import type { CalendarFeedDeps } from './calendar/routes.ts';
import { callPageRoutes, callRoutes } from './calls/routes.ts';
import type { JoinService, SignalingOrigins } from './calls/routes.ts';
import { idempotencyLayer } from './idempotency.ts';
import type { IdempotentKind } from './idempotency.ts';
import type { Env } from './kit/context.ts';
import { gated, mountRoutes, withDefaultHeaders } from './kit/pipeline.ts';
import type { Answer, GateStep, Route } from './kit/pipeline.ts';
import { problem, validationProblem } from './kit/problem.ts';
import { meetingRoutes } from './meetings/routes.ts';
import { attendanceRoutes } from './attendance/routes.ts';
import { notificationRoutes } from './notifications/routes.ts';
import { webhookRoutes } from './webhooks/routes.ts';
import type { WebhookService } from '../../application/webhooks/service.ts';
import { oidcRoutes } from './oidc/routes.ts';
import type { OidcRouteDeps } from './oidc/routes.ts';
import { importBodyLimit, importGate, peopleRoutes } from './people/routes.ts';
import { joinLinkScope } from './join-link.ts';
import { directoryGuard } from './directory-guard.ts';
import { createRateLimiter } from './rate-limit.ts';
import type { RateLimit } from './rate-limit.ts';
import { seriesRoutes } from './series/routes.ts';
import { settingsRoutes } from './settings/routes.ts';
import type { SettingsPreview } from '../../application/settings-preview.ts';
import { systemRoutes } from './system/routes.ts';
import type { HealthSource } from './system/routes.ts';

/**
 * The POSTs that take `Idempotency-Key`: every one that creates or changes something. Not `POST /meetings/:id/join`,
 * which stores nothing (each call hands out a fresh single-use ticket, so repeating it is harmless), nor
 * `POST /series/preview` and `POST /settings/preview`, which write nothing.
 */
export const IDEMPOTENT_POSTS: ReadonlyArray<readonly [RegExp, IdempotentKind]> = [
  [/^\/meetings$/, 'replay'],
  [/^\/meetings\/[^/]+\/(?:cancel|confirm|reinstate)$/, 'replay'],
  [/^\/series$/, 'replay'],
  [/^\/series\/[^/]+\/cancel$/, 'replay'],
  [/^\/notifications\/[^/]+\/retry$/, 'replay'],
  // An invitation sent again with the same key is not emailed twice.
  [/^\/people\/[^/]+\/invite$/, 'replay'],
  // An import is idempotent by itself (the same file twice changes nothing); the key repeats its first report.
  [/^\/people\/import$/, 'replay'],
  // Its answer is the feed's secret, shown once: kept nowhere, so a repeat says so instead.
  [/^\/calendar\/feed$/, 'secret'],
  // The answer holds the endpoint's signing secret, shown once.
  [/^\/webhooks$/, 'secret'],
  [/^\/webhooks\/[^/]+\/rotate-secret$/, 'secret'],
  [/^\/webhooks\/[^/]+\/deliveries\/[^/]+\/redeliver$/, 'replay'],
];
const idempotentKind = (path: string): IdempotentKind | undefined =>
  IDEMPOTENT_POSTS.find(([pattern]) => pattern.test(path))?.[1];

/**
 * Rate-limit tokens a request costs: a series write touches up to 500 meetings, an import up to 5,000 people, so
 * they weigh accordingly.
 */
const costOf = (method: string, path: string): number =>
  method === 'GET' ? 1 : path === '/people/import' ? IMPORT_COST : path.startsWith('/series') ? SERIES_WRITE_COST : 1;
const SERIES_WRITE_COST = 20;
export const IMPORT_COST = 50;

export interface HttpDeps {
  readonly authenticate: Authenticator;
  readonly logger: Logger;
  readonly rateLimit?: RateLimit;
  /** Proxies in front that append to `X-Forwarded-For` (TRUSTED_PROXY_HOPS); 0 or unset: none is trusted. */
  readonly trustedProxyHops?: number;
  /** `Idempotency-Key` on the POSTs that change something (IDEMPOTENT_POSTS). */
  readonly idempotency: { readonly keys: Idempotency; readonly writable: () => AppError | undefined };
  readonly health: HealthSource;
  readonly publicBaseUrl: string;
  readonly service: Service;
  /** Settings previews and the template token list (absent: those two routes are not served). */
  readonly settingsPreview?: SettingsPreview;
  readonly series: SeriesService;
  readonly join: JoinService;
  readonly notifications: NotificationService;
  readonly webhooks: WebhookService;
  readonly audit: AuditService;
  /** The calendar feed: its bearer routes, and its secret URL (credentials of its own). */
  readonly calendarFeeds: CalendarFeedDeps;
  /** The read models' version when calendars may be cached until it changes, else undefined (see calendarRoutes). */
  readonly readVersion: () => number | undefined;
  readonly signaling: SignalingOrigins;
  /** Sign-in (the page and /auth); absent when there is no bearer secret to sign session tokens with. */
  readonly signIn?: AuthRouteDeps;
  /** OIDC single sign-on's browser routes, when an issuer is configured. */
  readonly oidc?: OidcRouteDeps;
  /** The signaling socket's URL (as join answers give it), which the app's CSP lets the call page connect to. */
  readonly signalingUrl?: () => string;
  /** The built web app's folder (default: adapters/web/dist, where `npm start` builds it). */
  readonly webDist?: string;
}

/** A bug: the details go to the log under the request id, which the client is given to quote. */
const unhandled = (logger: Logger, c: Context<Env>, error: unknown) => {
  const requestId = c.get('requestId');
  logger.error({ requestId, err: error }, 'unhandled error');
  return problem(c, 500, 'Internal error', `something went wrong; quote request id ${requestId}`);
};

/**
 * Request ids (a sane `X-Request-Id` is kept, else one is made), the client's address, the access log, and the last
 * word on unhandled errors, around every route. Requests whose client went away before its body had arrived are
 * counted in `aborts`, logged at debug only.
 */
const requestLog = (logger: Logger, aborts: { count: number }, trustedProxyHops: number) => {
  let counter = 0;
  const finish = (c: Context<Env>, started: number, answered: Response): Response => {
    const res = withDefaultHeaders(c, answered);
    const aborted = c.get('clientAborted') === true;
    if (aborted) aborts.count++;
    const status = res.status;
    const level = aborted ? 'debug' : status >= 500 ? 'error' : 'info';
    // A silent log (the bench's, a quiet production) costs no line built per request.
    if (logger.isLevelEnabled?.(level) === false) return res;
    const line = {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      user: c.get('user')?.id,
    };
    if (aborted) logger.debug(line, 'request aborted by the client');
    else logger[level]({ ...line, detail: c.get('errorDetail') }, 'request');
    return res;
  };
  return (route: Route): Route =>
    (c) => {
      c.set('clientAddress', clientAddress(c, trustedProxyHops));
      const incoming = c.req.header('x-request-id');
      const requestId =
        incoming !== undefined && /^[\w.-]{1,64}$/.test(incoming)
          ? incoming
          : `${Date.now().toString(36)}-${(counter++).toString(36)}`;
      c.set('requestId', requestId);
      c.set('defaultHeaders', { 'x-request-id': requestId });
      const started = performance.now();
      let answer: Answer;
      try {
        answer = route(c);
      } catch (error) {
        return finish(c, started, unhandled(logger, c, error));
      }
      if (!(answer instanceof Promise)) return finish(c, started, answer);
      return answer.then(
        (res) => finish(c, started, res),
        (error: unknown) => finish(c, started, unhandled(logger, c, error)),
      );
    };
};

/**
 * The bearer token, then the caller's rate limit; answers are personal, so no shared cache keeps them. The two
 * headers are defaults of the request, so every answer carries them (a route that sets its own Cache-Control
 * replaces the default). They are added to the answer itself as it leaves, never through the context once it has
 * answered: that would make Hono copy the finished answer, which leaves @hono/node-server's fast path.
 */
const bearerAuth = (authenticate: Authenticator, limiter: ReturnType<typeof createRateLimiter>): GateStep => {
  const admit = (c: Context<Env>, result: AuthOutcome): Response | undefined => {
    if (E.isLeft(result)) {
      c.header('WWW-Authenticate', `Bearer error="invalid_token", error_description="${result.left.message}"`);
      return problem(c, 401, 'Unauthorized', result.left.message);
    }
    c.set('user', result.right);
    const wait = limiter(result.right.id, costOf(c.req.method, c.req.path));
    if (wait === 0) return undefined;
    c.header('Retry-After', String(Math.ceil(wait / 1000)));
    return problem(c, 429, 'Too many requests', 'slow down; see Retry-After');
  };
  return (c) => {
    // Personal data: never cached by shared caches, never sniffed as anything but what it says.
    const defaults = c.get('defaultHeaders');
    defaults['cache-control'] = 'no-store';
    defaults['x-content-type-options'] = 'nosniff';
    const result = authenticate(c.req.header('authorization'));
    return result instanceof Promise ? result.then((settled) => admit(c, settled)) : admit(c, result);
  };
};

/**
 * A path id (`/:collection/:id`, and below it) follows the id rule (no NUL, line breaks or bidirectional controls):
 * 400 naming `id`, before any lookup. The segment is read as a route parameter would be, percent-decoded.
 */
const checkPathId: GateStep = (c) => {
  const path = c.req.path;
  const start = path.indexOf('/', 1) + 1;
  if (start === 0 || start === path.length) return undefined;
  const end = path.indexOf('/', start);
  const problem = idProblem(tryDecodeURIComponent(end < 0 ? path.slice(start) : path.slice(start, end)));
  return problem === undefined ? undefined : validationProblem(c, [{ path: 'id', message: problem }]);
};

/** The bearer API's gate: authentication, rate limit, directory, join-link scope, id rule, import gate, idempotency. */
const apiGate = (deps: HttpDeps): ((route: Route) => Route) => {
  const limiter = createRateLimiter(deps.rateLimit ?? { perSecond: 100, burst: 400 });
  const steps = [
    bearerAuth(deps.authenticate, limiter),
    directoryGuard(deps.service.readModels),
    joinLinkScope,
    checkPathId,
    importGate(deps.service),
  ];
  const idempotency = idempotencyLayer({
    ...deps.idempotency,
    kindOf: idempotentKind,
    bodyLimitOf: importBodyLimit,
    logger: deps.logger,
  });
  return gated(steps, idempotency);
};

/** Every resource's routes that the bearer token authenticates. */
const apiRoutes = (deps: HttpDeps): ReadonlyArray<Hono<Env>> => [
  peopleRoutes(deps.service),
  ...(deps.signIn !== undefined ? [inviteRoutes(deps.signIn.signIn)] : []),
  meetingRoutes(deps.service),
  attendanceRoutes(deps.service),
  callRoutes(deps.join),
  calendarRoutes({ service: deps.service, feeds: deps.calendarFeeds.service, readVersion: deps.readVersion }),
  settingsRoutes(deps.service, deps.settingsPreview),
  seriesRoutes(deps.series),
  notificationRoutes(deps.notifications),
  webhookRoutes(deps.webhooks),
  auditRoutes(deps.audit),
];

/** The routes with credentials of their own, or none. */
const openRoutes = (deps: HttpDeps, aborts: { count: number }): ReadonlyArray<Hono<Env>> => [
  systemRoutes({ health: deps.health, publicBaseUrl: deps.publicBaseUrl, clientAborts: () => aborts.count }),
  webAppRoutes(deps.webDist, deps.signalingUrl),
  callPageRoutes(deps.signaling),
  calendarFeedRoutes(deps.calendarFeeds),
  ...(deps.signIn !== undefined ? [authRoutes({ ...deps.signIn, singleSignOn: deps.oidc !== undefined })] : []),
  ...(deps.oidc !== undefined ? [oidcRoutes(deps.oidc)] : []),
];

export const createHttpApp = (deps: HttpDeps) => {
  const { logger } = deps;
  const app = new Hono<Env>();
  const aborts = { count: 0 };
  const logged = requestLog(logger, aborts, deps.trustedProxyHops ?? 0);
  const gate = apiGate(deps);
  app.onError((error, c) => unhandled(logger, c, error));
  // Routes with credentials of their own, or none: registered ahead of the API, so the bearer check never runs for
  // them. A path no route has goes through the gate as well: 401 without a token, 404 with one.
  for (const routes of openRoutes(deps, aborts)) mountRoutes(app, routes, logged);
  for (const routes of apiRoutes(deps)) mountRoutes(app, routes, (route) => logged(gate(route)));
  const notFound = logged(gate((c) => problem(c, 404, 'Not found', `no route for ${c.req.method} ${c.req.path}`)));
  app.notFound((c) => notFound(c));
  return app;
};
