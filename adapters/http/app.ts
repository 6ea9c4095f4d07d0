/**
 * The HTTP API. One folder per resource: `routes.ts` takes that resource's services and returns its routes,
 * `shapes.ts` says what a caller may send and see; `kit/` holds what every route shares (problem+json, body
 * reading, ETag/If-Match). This file only wires the middleware and mounts the modules, in the order that matters:
 * routes with credentials of their own (or none) first, then the bearer-authenticated API.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import { webAppRoutes } from './web/routes.ts';
import type { Logger } from '../../application/ports/logger.ts';
import { idProblem } from '../../domain/shared.ts';
import type { Idempotency } from '../../application/idempotency.ts';
import type { NotificationService } from '../../application/notifications/service.ts';
import type { SeriesService } from '../../application/series-service.ts';
import type { AppError, Service } from '../../application/service.ts';
import type { AuditService } from '../../application/audit.ts';
import type { Authenticator } from './auth.ts';
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
  /**
   * The position of the last person event the read models show: the directory guard reads a caller's active flag
   * once per caller and version (absent: on every request).
   */
  readonly directoryVersion?: () => number;
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
 * Request ids (a sane `X-Request-Id` is kept, else one is made), the access log, and the last word on unhandled
 * errors. Requests whose client went away before its body had arrived are counted in `aborts`, logged at debug only.
 */
const requestLog = (logger: Logger, aborts: { count: number }): MiddlewareHandler<Env> => {
  let counter = 0;
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId =
      incoming !== undefined && /^[\w.-]{1,64}$/.test(incoming)
        ? incoming
        : `${Date.now().toString(36)}-${(counter++).toString(36)}`;
    c.set('requestId', requestId);
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } catch (error) {
      c.res = unhandled(logger, c, error);
    }
    const aborted = c.get('clientAborted') === true;
    if (aborted) aborts.count++;
    const status = c.res.status;
    const level = aborted ? 'debug' : status >= 500 ? 'error' : 'info';
    // A silent log (the bench's, a quiet production) costs no line built per request.
    if (logger.isLevelEnabled?.(level) === false) return;
    const line = {
      requestId,
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      user: c.get('user')?.id,
    };
    if (aborted) logger.debug(line, 'request aborted by the client');
    else logger[level]({ ...line, detail: c.get('errorDetail') }, 'request');
  };
};

/**
 * The bearer token, then the caller's rate limit; answers are personal, so no shared cache keeps them. The two
 * headers are set before anything answers, so every answer carries them (a route that sets its own Cache-Control
 * replaces the default): set after `next()`, they would make Hono copy the finished answer, which leaves
 * @hono/node-server's fast path and streams the copy.
 */
const bearerAuth =
  (authenticate: Authenticator, limiter: ReturnType<typeof createRateLimiter>): MiddlewareHandler<Env> =>
  async (c, next) => {
    // Personal data: never cached by shared caches, never sniffed as anything but what it says.
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
    const result = await authenticate(c.req.header('authorization'));
    if (E.isLeft(result)) {
      c.header('WWW-Authenticate', `Bearer error="invalid_token", error_description="${result.left.message}"`);
      return problem(c, 401, 'Unauthorized', result.left.message);
    }
    c.set('user', result.right);
    const wait = limiter(result.right.id, costOf(c.req.method, c.req.path));
    if (wait > 0) {
      c.header('Retry-After', String(Math.ceil(wait / 1000)));
      return problem(c, 429, 'Too many requests', 'slow down; see Retry-After');
    }
    await next();
  };

/** A path id follows the id rule (no NUL, line breaks or bidirectional controls): 400 naming `id`, before any lookup. */
const checkPathId = async (c: Context<Env>, next: () => Promise<void>) => {
  const problem = idProblem(c.req.param('id') ?? '');
  if (problem !== undefined) return validationProblem(c, [{ path: 'id', message: problem }]);
  await next();
};

/** The bearer-authenticated API: every resource's routes behind authentication, rate limit, id rule, idempotency. */
const authenticatedApi = (deps: HttpDeps): Hono<Env> => {
  const api = new Hono<Env>();
  api.use('*', bearerAuth(deps.authenticate, createRateLimiter(deps.rateLimit ?? { perSecond: 100, burst: 400 })));
  api.use('*', directoryGuard(deps.service.readModels, deps.directoryVersion));
  api.use('*', joinLinkScope);
  api.use('/:collection/:id', checkPathId);
  api.use('/:collection/:id/*', checkPathId);
  api.use('/people/import', importGate(deps.service));
  api.use(
    '*',
    idempotencyLayer({
      ...deps.idempotency,
      kindOf: idempotentKind,
      bodyLimitOf: importBodyLimit,
      logger: deps.logger,
    }),
  );
  api.route('/', peopleRoutes(deps.service));
  if (deps.signIn !== undefined) api.route('/', inviteRoutes(deps.signIn.signIn));
  api.route('/', meetingRoutes(deps.service));
  api.route('/', attendanceRoutes(deps.service));
  api.route('/', callRoutes(deps.join));
  api.route(
    '/',
    calendarRoutes({ service: deps.service, feeds: deps.calendarFeeds.service, readVersion: deps.readVersion }),
  );
  api.route('/', settingsRoutes(deps.service, deps.settingsPreview));
  api.route('/', seriesRoutes(deps.series));
  api.route('/', notificationRoutes(deps.notifications));
  api.route('/', webhookRoutes(deps.webhooks));
  api.route('/', auditRoutes(deps.audit));
  return api;
};

export const createHttpApp = (deps: HttpDeps) => {
  const { logger } = deps;
  const app = new Hono<Env>();
  const aborts = { count: 0 };
  app.use('*', async (c, next) => {
    c.set('clientAddress', clientAddress(c, deps.trustedProxyHops ?? 0));
    await next();
  });
  app.use('*', requestLog(logger, aborts));
  app.onError((error, c) => unhandled(logger, c, error));
  app.notFound((c) => problem(c, 404, 'Not found', `no route for ${c.req.method} ${c.req.path}`));

  // Routes with credentials of their own, or none: mounted ahead of the API, so the bearer check never runs for them.
  app.route(
    '/',
    systemRoutes({ health: deps.health, publicBaseUrl: deps.publicBaseUrl, clientAborts: () => aborts.count }),
  );
  app.route('/', webAppRoutes(deps.webDist, deps.signalingUrl));
  app.route('/', callPageRoutes(deps.signaling));
  app.route('/', calendarFeedRoutes(deps.calendarFeeds));
  if (deps.signIn !== undefined) app.route('/', authRoutes({ ...deps.signIn, singleSignOn: deps.oidc !== undefined }));
  if (deps.oidc !== undefined) app.route('/', oidcRoutes(deps.oidc));

  app.route('/', authenticatedApi(deps));
  return app;
};
