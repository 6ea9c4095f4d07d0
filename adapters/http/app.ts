import * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import * as t from 'io-ts';
import type { Logger } from '../../application/ports/logger.ts';
import { meetingOptionalFields, meetingRequiredFields } from '../../domain/meeting.ts';
import { seriesOptionalFields, seriesRequiredFields } from '../../domain/series.ts';
import { Settings } from '../../domain/settings.ts';
import { IsoInstant, assertNever, idProblem } from '../../domain/shared.ts';
import type { FieldError } from '../../domain/shared.ts';
import type { AuthUser } from '../../application/ports/access.ts';
import type { AppError, RequestContext, Service } from '../../application/service.ts';
import type { JoinAnswer } from '../../application/join.ts';
import { staticAsset } from './static.ts';
import type { SeriesService } from '../../application/series-service.ts';
import type { HistoryEntry, HistoryPage, SeriesView } from '../../application/ports/read-models.ts';

export interface JoinService {
  join(user: AuthUser, meetingId: string): Promise<E.Either<AppError, JoinAnswer>>;
}
import { presentMeeting } from '../../application/service.ts';
import type { Authenticator } from './auth.ts';
import { openApiDocument } from './openapi.ts';
import { docsPage, swaggerAsset } from './docs.ts';
import { createRateLimiter } from './rate-limit.ts';
import { decodeBody } from './validation.ts';
import { idempotencyLayer } from './idempotency.ts';
import type { IdempotentKind } from './idempotency.ts';
import type { Idempotency } from '../../application/idempotency.ts';

export const MAX_BODY_BYTES = 64 * 1024;

export type Env = {
  Variables: {
    user: AuthUser;
    requestId: string;
    errorDetail: string;
    clientAborted: boolean;
    /** The body, when read ahead of the route (to fingerprint an idempotent request). */
    bodyText: string;
    /** The request runs under an `Idempotency-Key` claim. */
    idempotency: NonNullable<RequestContext['idempotency']>;
  };
};

/**
 * The POSTs that take `Idempotency-Key`: every one that creates or changes something. Not `POST /meetings/:id/join`,
 * which stores nothing (each call hands out a fresh single-use ticket, so repeating it is harmless).
 */
export const IDEMPOTENT_POSTS: ReadonlyArray<readonly [RegExp, IdempotentKind]> = [
  [/^\/meetings$/, 'replay'],
  [/^\/meetings\/[^/]+\/(?:cancel|confirm|reinstate)$/, 'replay'],
  [/^\/series$/, 'replay'],
  [/^\/series\/[^/]+\/cancel$/, 'replay'],
  [/^\/notifications\/[^/]+\/retry$/, 'replay'],
  // Its answer is the feed's secret, shown once: kept nowhere, so a repeat says so instead.
  [/^\/calendar\/feed$/, 'secret'],
];
const idempotentKind = (path: string): IdempotentKind | undefined =>
  IDEMPOTENT_POSTS.find(([pattern]) => pattern.test(path))?.[1];

const MeetingBody = t.intersection([
  t.type(meetingRequiredFields),
  t.partial({ timezone: t.string, ...meetingOptionalFields }),
]);
const MeetingPatchBody = t.partial({ ...meetingRequiredFields, timezone: t.string, ...meetingOptionalFields });
const CancelBody = t.partial({ reason: t.string });
const SeriesBody = t.intersection([t.type(seriesRequiredFields), t.partial(seriesOptionalFields)]);
const SeriesPatchBody = t.partial({ ...seriesRequiredFields, ...seriesOptionalFields });
const SeriesCancelBody = t.partial({ reason: t.string, from: IsoInstant });

/** As for meetings: customer metadata for admins and the instructor, instructor metadata for admins. */
export const presentSeries = (user: AuthUser, view: SeriesView) => {
  const { customerMetadata, instructorMetadata, cancelledFrom, ...rest } = view;
  const admin = user.roles.includes('admin');
  return {
    ...rest,
    ...(cancelledFrom !== undefined ? { cancelledFrom } : {}),
    ...(admin || view.instructorId === user.id ? { customerMetadata } : {}),
    ...(admin ? { instructorMetadata } : {}),
  };
};
const PersonBody = t.intersection([t.type({ name: t.string, email: t.string }), t.partial({ timezone: t.string })]);
const HistoryQuery = t.partial({ after: t.string, limit: t.string });
const HISTORY_PAGE = 1000;
const CalendarQuery = t.intersection([t.type({ from: IsoInstant, to: IsoInstant }), t.partial({ userId: t.string })]);

export interface HealthSource {
  (): Promise<{ status: 'ok' | 'degraded'; body: Record<string, unknown> }>;
}

export interface HttpDeps {
  readonly service: Service;
  readonly authenticate: Authenticator;
  readonly logger: Logger;
  readonly health: HealthSource;
  readonly publicBaseUrl: string;
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number };
  readonly join?: JoinService;
  readonly series?: SeriesService;
  /**
   * The read models' version (the last projected position), when answers may be cached until it changes; calendars
   * are then served from memory and answer `If-None-Match` with 304.
   */
  readonly readVersion?: () => number;
  /** Further routes (series, join, notifications) mounted by later capabilities on the authenticated app. */
  readonly extend?: (app: Hono<Env>, helpers: HttpHelpers) => void;
  /** `Idempotency-Key` on the POSTs that change something; without it the header is ignored. */
  readonly idempotency?: { readonly keys: Idempotency; readonly writable: () => AppError | undefined };
  /** Routes with credentials of their own (the calendar feed's secret URL), mounted ahead of the bearer check. */
  readonly publicRoutes?: (app: Hono<Env>, helpers: HttpHelpers) => void;
}

export interface HttpHelpers {
  readonly problem: typeof problem;
  readonly appError: typeof appErrorResponse;
  readonly readJson: typeof readJson;
  readonly ctx: (c: Context<Env>) => RequestContext;
  readonly ifMatch: typeof ifMatch;
}

export const problem = (
  c: Context,
  status: 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 426 | 429 | 500 | 503,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
) => {
  c.header('Content-Type', 'application/problem+json');
  return c.body(JSON.stringify({ type: `about:blank`, title, status, detail, ...extra }), status);
};

export const appErrorResponse = (c: Context, error: AppError) => {
  switch (error._tag) {
    case 'ValidationFailed':
      return problem(c, 400, 'Validation failed', error.errors.map((e) => `${e.path} ${e.message}`).join('; '), {
        errors: error.errors,
      });
    case 'NotFound':
      return problem(c, 404, 'Not found', error.message);
    case 'Forbidden':
      return problem(c, 403, 'Forbidden', error.message);
    case 'Conflict':
      return problem(c, 409, 'Conflict', error.message, {
        ...(error.conflicts !== undefined ? { conflicts: error.conflicts } : {}),
        ...(error.opensAt !== undefined ? { opensAt: error.opensAt } : {}),
      });
    case 'StaleRevision':
      return problem(
        c,
        412,
        'Precondition failed',
        `the resource is at revision ${error.actual}, not ${error.expected}`,
        {
          currentRevision: error.actual,
        },
      );
    case 'TooMuchContention':
      return problem(c, 409, 'Conflict', `too many concurrent changes to ${error.streamName}; try again`);
    case 'CorruptEvent':
      // The details (stream, position, stored values) go to the log, not to the client.
      c.set('errorDetail', error.message);
      return problem(
        c,
        500,
        'Stored event cannot be read',
        'a stored event could not be read; the operators have the details in the log',
      );
    case 'Unavailable':
      c.header('Retry-After', '5');
      return problem(c, 503, 'Service unavailable', error.message);
    default:
      return assertNever(error);
  }
};

type JsonResult<A> = { ok: true; value: A } | { ok: false; response: Response };

/** Reads and validates a JSON body; an absent body counts as `{}` when `optional`. */
export const readJson = async <A>(
  c: Context,
  codec: t.Decoder<unknown, A>,
  options: { allowed?: ReadonlyArray<string>; optional?: boolean } = {},
): Promise<JsonResult<A>> => {
  const body = await readBodyText(c);
  if (!body.ok) return body;
  const text = body.text;
  let raw: unknown = {};
  if (text.trim().length > 0) {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
      return { ok: false, response: problem(c, 415, 'Unsupported media type', 'send the body as application/json') };
    }
    try {
      raw = JSON.parse(text);
    } catch {
      return { ok: false, response: problem(c, 400, 'Malformed JSON', 'the request body is not valid JSON') };
    }
  } else if (!options.optional) {
    return {
      ok: false,
      response: problem(c, 400, 'Validation failed', 'a JSON body is required', {
        errors: [{ path: '(body)', message: 'is required' }],
      }),
    };
  }
  const decoded = decodeBody(codec, raw, options.allowed);
  if (E.isLeft(decoded)) return { ok: false, response: validationProblem(c, decoded.left) };
  return { ok: true, value: decoded.right };
};

const tooLarge = (c: Context) =>
  problem(c, 413, 'Payload too large', `request bodies are limited to ${MAX_BODY_BYTES} bytes`);

/**
 * The client went away before its body had arrived (a dropped upload): nobody is left to answer, so this is no
 * server error. 499 is nginx's "client closed request"; the access log counts it and notes it at debug.
 */
const clientAborted = (c: Context): Response => {
  c.set('clientAborted', true);
  return new Response(null, { status: CLIENT_CLOSED_REQUEST });
};
const CLIENT_CLOSED_REQUEST = 499;

/**
 * Reads the body straight from Node's request (much cheaper than a web stream), at most MAX_BODY_BYTES: a larger
 * declared or actual body answers 413 without being buffered. A connection that closes or breaks before the body's
 * end, even before reading began, is a client abort, never a hang or a 500.
 */
const readBodyText = async (c: Context): Promise<{ ok: true; text: string } | { ok: false; response: Response }> => {
  const readAhead = (c as Context<Env>).get('bodyText');
  if (readAhead !== undefined) return { ok: true, text: readAhead };
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) return { ok: false, response: tooLarge(c) };
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming === undefined) {
    const text = await c.req.text();
    return Buffer.byteLength(text) > MAX_BODY_BYTES ? { ok: false, response: tooLarge(c) } : { ok: true, text };
  }
  if (incoming.destroyed && !incoming.readableEnded) return { ok: false, response: clientAborted(c) };
  const read = await new Promise<{ kind: 'text'; text: string } | { kind: 'tooLarge' } | { kind: 'aborted' }>(
    (resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (value: { kind: 'text'; text: string } | { kind: 'tooLarge' } | { kind: 'aborted' }) => {
        incoming
          .off('data', onData)
          .off('end', onEnd)
          .off('error', onAbort)
          .off('aborted', onAbort)
          .off('close', onClose);
        resolve(value);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          done({ kind: 'tooLarge' });
          // Drained, not kept: the connection stays usable and memory stays bounded (requestTimeout ends a flood).
          incoming.resume();
        } else chunks.push(chunk);
      };
      const onEnd = () => done({ kind: 'text', text: Buffer.concat(chunks, size).toString('utf8') });
      // Errors on a request being read come from its connection (reset, closed mid-body): the client is gone.
      const onAbort = () => done({ kind: 'aborted' });
      const onClose = () => {
        if (!incoming.readableEnded) done({ kind: 'aborted' });
      };
      incoming.on('data', onData).on('end', onEnd).on('error', onAbort).on('aborted', onAbort).on('close', onClose);
    },
  );
  switch (read.kind) {
    case 'text':
      return { ok: true, text: read.text };
    case 'tooLarge':
      return { ok: false, response: tooLarge(c) };
    case 'aborted':
      return { ok: false, response: clientAborted(c) };
    default:
      return assertNever(read);
  }
};

const validationProblem = (c: Context, errors: ReadonlyArray<FieldError>) =>
  problem(c, 400, 'Validation failed', errors.map((e) => `${e.path} ${e.message}`).join('; '), { errors });

/** `If-Match: "3"` pins the revision the client saw; `*` or no header means "whatever is current". */
export const ifMatch = (c: Context): { ok: true; revision: number | undefined } | { ok: false; response: Response } => {
  const header = c.req.header('if-match');
  if (header === undefined || header.trim() === '*') return { ok: true, revision: undefined };
  // If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches, so it is stale by definition.
  if (/^\s*W\//.test(header)) return { ok: true, revision: -2 };
  const match = /^\s*"(-?\d{1,15})"\s*$/.exec(header);
  if (match === null) {
    return {
      ok: false,
      response: problem(c, 400, 'Bad If-Match', 'If-Match must be an ETag this server sent, like "3"'),
    };
  }
  return { ok: true, revision: Number(match[1]) };
};

const etag = (revision: number) => `"${revision}"`;

/**
 * Answers valid for one read-model version: everything is dropped when the version moves, and the cache is bounded
 * by bytes (large answers are not kept at all), so no sequence of requests can grow it past its budget.
 */
const createResponseCache = (maxBytes = 64 * 1024 * 1024, maxEntryBytes = 1024 * 1024) => {
  let version = -1;
  let bytes = 0;
  const entries = new Map<string, string>();
  return {
    get(current: number, key: string): string | undefined {
      return current === version ? entries.get(key) : undefined;
    },
    set(current: number, key: string, body: string): void {
      if (current !== version) {
        entries.clear();
        bytes = 0;
        version = current;
      }
      if (body.length > maxEntryBytes || entries.has(key)) return;
      while (bytes + body.length > maxBytes && entries.size > 0) {
        const [oldest, value] = entries.entries().next().value as [string, string];
        entries.delete(oldest);
        bytes -= value.length;
      }
      entries.set(key, body);
      bytes += body.length;
    },
  };
};

/** Rate-limit tokens a request costs: a series write touches up to 500 meetings, so it weighs accordingly. */
const costOf = (method: string, path: string): number =>
  method !== 'GET' && path.startsWith('/series') ? SERIES_WRITE_COST : 1;
const SERIES_WRITE_COST = 20;

export const createHttpApp = (deps: HttpDeps) => {
  const { service, authenticate, logger } = deps;
  const app = new Hono<Env>();
  const limiter = createRateLimiter(deps.rateLimit ?? { perSecond: 100, burst: 400 });
  let counter = 0;
  /** Requests whose client went away before its body had arrived: counted (see /health), logged at debug only. */
  let clientAborts = 0;

  app.use('*', async (c, next) => {
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
      logger.error({ requestId, err: error }, 'unhandled error');
      c.res = problem(c, 500, 'Internal error', `something went wrong; quote request id ${requestId}`);
    }
    const ms = Math.round((performance.now() - started) * 10) / 10;
    if (c.get('clientAborted') === true) {
      clientAborts++;
      logger.debug(
        { requestId, method: c.req.method, path: c.req.path, status: c.res.status, ms, user: c.get('user')?.id },
        'request aborted by the client',
      );
      return;
    }
    const level = c.res.status >= 500 ? 'error' : 'info';
    const detail = c.get('errorDetail');
    logger[level](
      {
        requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms,
        user: c.get('user')?.id,
        ...(detail !== undefined ? { detail } : {}),
      },
      'request',
    );
  });

  app.onError((error, c) => {
    logger.error({ requestId: c.get('requestId'), err: error }, 'unhandled error');
    return problem(c, 500, 'Internal error', `something went wrong; quote request id ${c.get('requestId')}`);
  });
  app.notFound((c) => problem(c, 404, 'Not found', `no route for ${c.req.method} ${c.req.path}`));

  app.get('/health', async (c) => {
    const health = await deps.health();
    return c.json({ ...health.body, http: { clientAborts } }, health.status === 'ok' ? 200 : 503);
  });
  let openApiJson: string | undefined;
  app.get('/openapi.json', (c) => {
    openApiJson ??= JSON.stringify(openApiDocument(deps.publicBaseUrl));
    return c.body(openApiJson, 200, { 'Content-Type': 'application/json; charset=utf-8' });
  });
  app.get('/docs', (c) => c.html(docsPage()));
  const noFile = (c: Context, file: string) =>
    problem(c, 404, 'Not found', `there is no file ${JSON.stringify(file.slice(0, 64))} here`);
  app.get(
    '/docs/assets/:file',
    async (c) => (await swaggerAsset(c, c.req.param('file'))) ?? noFile(c, c.req.param('file')),
  );
  app.get('/static/:file', async (c) => (await staticAsset(c, c.req.param('file'))) ?? noFile(c, c.req.param('file')));
  app.get('/call', async (c) => (await staticAsset(c, 'call.html')) ?? noFile(c, 'call.html'));
  // A WebSocket upgrade of /signaling never gets here (the signaling server takes it from Node's 'upgrade' event):
  // this is a plain request, which can only be told to upgrade (RFC 9110 §15.5.22), with or without a bearer token.
  app.get('/signaling', (c) => {
    c.header('Upgrade', 'websocket');
    return problem(
      c,
      426,
      'Upgrade required',
      'this is the WebSocket endpoint for calls: open it with a WebSocket and the ticket from POST /meetings/{id}/join',
    );
  });

  const api = new Hono<Env>();
  api.use('*', async (c, next) => {
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
    // Personal data: never cached by shared caches, never sniffed as anything but what it says.
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
  });

  // A path id follows the id rule (no NUL, line breaks or bidirectional controls): 400 naming `id`, before any lookup.
  const checkPathId = async (c: Context<Env>, next: () => Promise<void>) => {
    const problem = idProblem(c.req.param('id') ?? '');
    if (problem !== undefined) return validationProblem(c, [{ path: 'id', message: problem }]);
    await next();
  };
  api.use('/:collection/:id', checkPathId);
  api.use('/:collection/:id/*', checkPathId);

  if (deps.idempotency !== undefined) {
    api.use(
      '*',
      idempotencyLayer({
        keys: deps.idempotency.keys,
        writable: deps.idempotency.writable,
        kindOf: idempotentKind,
        readBody: readBodyText,
        problem,
        appError: appErrorResponse,
        logger,
      }),
    );
  }

  const ctx = (c: Context<Env>): RequestContext => {
    const idempotency = c.get('idempotency');
    return {
      user: c.get('user'),
      correlationId: c.get('requestId'),
      ...(idempotency !== undefined ? { idempotency } : {}),
    };
  };

  /** A versioned resource: its ETag, its Location when just created, and only the fields the caller may read. */
  const sendVersioned =
    <V extends { id: string; revision: number }>(collection: string, present: (user: AuthUser, view: V) => object) =>
    (c: Context<Env>, result: E.Either<AppError, V>, status: 200 | 201 = 200) => {
      if (E.isLeft(result)) return appErrorResponse(c, result.left);
      c.header('ETag', etag(result.right.revision));
      if (status === 201) c.header('Location', `/${collection}/${encodeURIComponent(result.right.id)}`);
      return c.json(present(c.get('user'), result.right), status);
    };
  const sendMeeting = sendVersioned('meetings', presentMeeting);

  /** JSON answer of a query or a write without a version. */
  const answer = <A>(c: Context<Env>, result: E.Either<AppError, A>) =>
    E.isLeft(result) ? appErrorResponse(c, result.left) : c.json(result.right as object);
  /** A write: the `If-Match` revision if any, then the body checked against its codec (unknown fields refused). */
  const write =
    <A>(
      codec: t.Decoder<unknown, A>,
      optional: boolean,
      run: (c: Context<Env>, body: A, revision: number | undefined) => Promise<Response>,
    ) =>
    async (c: Context<Env>) => {
      const match = ifMatch(c);
      if (!match.ok) return match.response;
      const body = await readJson(c, codec, { optional });
      if (!body.ok) return body.response;
      return run(c, body.value, match.revision);
    };
  const NoBody = t.type({});
  const idOf = (c: Context<Env>) => c.req.param('id') ?? '';

  api.put(
    '/people/:id',
    write(PersonBody, false, async (c, body) => answer(c, await service.upsertPerson(ctx(c), idOf(c), body))),
  );
  api.get('/people/:id', async (c) => answer(c, await service.getPerson(ctx(c), idOf(c))));

  api.post(
    '/meetings',
    write(MeetingBody, false, async (c, body) => sendMeeting(c, await service.scheduleMeeting(ctx(c), body), 201)),
  );
  api.get('/meetings/:id', async (c) => {
    const result = await service.getMeeting(ctx(c), idOf(c));
    if (E.isRight(result) && c.req.header('if-none-match') === etag(result.right.revision)) {
      c.header('ETag', etag(result.right.revision));
      return c.body(null, 304);
    }
    return sendMeeting(c, result);
  });
  api.patch(
    '/meetings/:id',
    write(MeetingPatchBody, false, async (c, body, revision) =>
      sendMeeting(c, await service.changeMeeting(ctx(c), idOf(c), body, revision)),
    ),
  );
  api.post(
    '/meetings/:id/cancel',
    write(CancelBody, true, async (c, body, revision) =>
      sendMeeting(c, await service.cancelMeeting(ctx(c), idOf(c), body.reason, revision)),
    ),
  );
  api.post(
    '/meetings/:id/confirm',
    write(NoBody, true, async (c, _body, revision) =>
      sendMeeting(c, await service.confirmMeeting(ctx(c), idOf(c), revision)),
    ),
  );
  api.post(
    '/meetings/:id/reinstate',
    write(NoBody, true, async (c, _body, revision) =>
      sendMeeting(c, await service.reinstateMeeting(ctx(c), idOf(c), revision)),
    ),
  );
  api.post('/meetings/:id/join', async (c) => {
    if (deps.join === undefined) return problem(c, 404, 'Not found', 'calls are not enabled on this server');
    const result = await deps.join.join(c.get('user'), idOf(c));
    c.header('Cache-Control', 'no-store');
    return answer(c, result);
  });
  /** History comes in pages of at most HISTORY_PAGE events; `next` is the `after` that fetches the following page. */
  const historyPage = (c: Context<Env>): E.Either<FieldError[], HistoryPage> => {
    const decoded = decodeBody(HistoryQuery, c.req.query(), ['after', 'limit']);
    if (E.isLeft(decoded)) return decoded;
    const after = decoded.right.after === undefined ? -1 : Number(decoded.right.after);
    const limit = decoded.right.limit === undefined ? HISTORY_PAGE : Number(decoded.right.limit);
    const errors: FieldError[] = [];
    if (!Number.isInteger(after) || after < -1)
      errors.push({ path: 'after', message: 'must be a revision (a whole number, -1 for the start)' });
    if (!Number.isInteger(limit) || limit < 1 || limit > HISTORY_PAGE)
      errors.push({ path: 'limit', message: `must be a whole number from 1 to ${HISTORY_PAGE}` });
    return errors.length > 0 ? E.left(errors) : E.right({ after, limit });
  };
  const historyAnswer = async (
    c: Context<Env>,
    read: (page: HistoryPage) => Promise<E.Either<AppError, ReadonlyArray<HistoryEntry>>>,
  ) => {
    const page = historyPage(c);
    if (E.isLeft(page)) return validationProblem(c, page.left);
    const result = await read(page.right);
    if (E.isLeft(result)) return appErrorResponse(c, result.left);
    const last = result.right[result.right.length - 1];
    return c.json({
      events: result.right,
      ...(result.right.length === page.right.limit && last !== undefined ? { next: last.revision } : {}),
    });
  };
  api.get('/meetings/:id/history', (c) => historyAnswer(c, (page) => service.meetingHistory(ctx(c), idOf(c), page)));

  const calendarCache = createResponseCache();
  api.get('/calendar', async (c) => {
    const query = decodeBody(CalendarQuery, c.req.query(), ['from', 'to', 'userId']);
    if (E.isLeft(query)) return validationProblem(c, query.left);
    const checked = await service.checkCalendarQuery(ctx(c), query.right);
    if (E.isLeft(checked)) return appErrorResponse(c, checked.left);
    const version = deps.readVersion?.();
    const user = c.get('user');
    const key = `${user.id}\u0000${user.roles.join(',')}\u0000${checked.right}\u0000${query.right.from}\u0000${query.right.to}`;
    if (version !== undefined) {
      // Opaque to the caller: it changes with the read models, without telling how many writes happened.
      const tag = `W/"${createHash('sha256').update(`${version}\u0000${key}`).digest('base64url').slice(0, 22)}"`;
      c.header('ETag', tag);
      c.header('Cache-Control', 'private, no-cache');
      if (c.req.header('if-none-match') === tag) return c.body(null, 304);
      const cached = calendarCache.get(version, key);
      if (cached !== undefined) return c.body(cached, 200, { 'Content-Type': 'application/json' });
    }
    const result = await service.calendar(ctx(c), query.right);
    if (E.isLeft(result)) return appErrorResponse(c, result.left);
    const body = JSON.stringify({ items: result.right });
    if (version !== undefined) calendarCache.set(version, key, body);
    return c.body(body, 200, { 'Content-Type': 'application/json' });
  });

  api.get('/settings', async (c) => answer(c, await service.getSettings(ctx(c))));
  api.put(
    '/settings',
    write(Settings, false, async (c, body) => answer(c, await service.putSettings(ctx(c), body))),
  );
  api.get('/settings/history', (c) => historyAnswer(c, (page) => service.settingsHistory(ctx(c), page)));

  const seriesService = deps.series;
  if (seriesService !== undefined) {
    const sendSeries = sendVersioned<SeriesView>('series', presentSeries);
    api.post(
      '/series',
      write(SeriesBody, false, async (c, body) => sendSeries(c, await seriesService.scheduleSeries(ctx(c), body), 201)),
    );
    api.get('/series/:id', async (c) => sendSeries(c, await seriesService.getSeries(ctx(c), idOf(c))));
    api.patch(
      '/series/:id',
      write(SeriesPatchBody, false, async (c, body, revision) =>
        sendSeries(c, await seriesService.changeSeries(ctx(c), idOf(c), body, revision)),
      ),
    );
    api.post(
      '/series/:id/cancel',
      write(SeriesCancelBody, true, async (c, body, revision) =>
        sendSeries(c, await seriesService.cancelSeries(ctx(c), idOf(c), body, revision)),
      ),
    );
    api.get('/series/:id/history', (c) =>
      historyAnswer(c, (page) => seriesService.seriesHistory(ctx(c), idOf(c), page)),
    );
  }

  const helpers: HttpHelpers = { problem, appError: appErrorResponse, readJson, ctx, ifMatch };
  deps.extend?.(api, helpers);
  // Registered before `api` is mounted, so the bearer middleware never runs for them.
  deps.publicRoutes?.(app, helpers);

  app.route('/', api);
  return app;
};

export type HttpApp = ReturnType<typeof createHttpApp>;
