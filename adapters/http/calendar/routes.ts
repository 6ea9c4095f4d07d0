import * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type * as t from 'io-ts';
import type { Context } from 'hono';
import { createHash } from 'node:crypto';
import type { CalendarFeed, CalendarFeedService } from '../../../application/calendar-feed.ts';
import { hashFeedToken } from '../../../application/calendar-feed.ts';
import type { Service } from '../../../application/service.ts';
import { requestContext as ctx } from '../kit/context.ts';
import type { Env } from '../kit/context.ts';
import { readJson } from '../kit/body.ts';
import { appErrorResponse, problem, validationProblem } from '../kit/problem.ts';
import { plainAnswer } from '../kit/pipeline.ts';
import { boundedMemo, createResponseCache } from '../kit/response-cache.ts';
import type { CachedAnswer } from '../kit/response-cache.ts';
import { createRateLimiter } from '../rate-limit.ts';
import type { RateLimit } from '../rate-limit.ts';
import { decodeBody } from '../validation.ts';
import { CalendarQuery, FeedBody, FeedQuery } from './shapes.ts';

/** Calendar apps poll a feed every few minutes to hours; this is far above that and far below a flood. */
export const DEFAULT_FEED_RATE_LIMIT = { perSecond: 0.5, burst: 30 } as const;

export interface CalendarDeps {
  readonly service: Service;
  readonly feeds: CalendarFeedService;
  /**
   * The read models' version (the last projected position) when answers may be cached until it changes, else
   * undefined; with a version, calendars are served from memory and answer `If-None-Match` with 304.
   */
  readonly readVersion: () => number | undefined;
}

const decodeCalendarQuery = (query: Record<string, string>) =>
  decodeBody(CalendarQuery, query, ['from', 'to', 'userId']);

export interface CalendarFeedDeps {
  readonly service: CalendarFeedService;
  readonly render: (feed: CalendarFeed) => E.Either<string, string>;
  readonly rateLimit?: RateLimit;
}

/** The query string as sent (after `?`), which the calendar's query check is remembered by. */
const rawQuery = (url: string): string => {
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at + 1);
};

const utf8 = new TextEncoder();

/** A calendar answer is the caller's alone, and checked again (its ETag) before it is used. */
const CALENDAR_CACHE_CONTROL = 'private, no-cache';

/** The validators of a cacheable answer; true when the caller holds this very answer already (`If-None-Match`). */
const validators = (c: Context<Env>, etag: string): boolean => {
  c.header('ETag', etag);
  c.header('Cache-Control', CALENDAR_CACHE_CONTROL);
  return c.req.header('if-none-match') === etag;
};

/** A cached answer: 304 when the caller has it already, else its bytes as they are; its headers in one record. */
const sendCached = (c: Context<Env>, answer: CachedAnswer): Response => {
  if (c.req.header('if-none-match') === answer.etag)
    return plainAnswer(c, null, 304, { etag: answer.etag, 'cache-control': CALENDAR_CACHE_CONTROL });
  return plainAnswer(c, answer.body, 200, {
    etag: answer.etag,
    'cache-control': CALENDAR_CACHE_CONTROL,
    'content-type': 'application/json',
  });
};

/** Opaque to the caller: it changes with the read models, without telling how many writes happened. */
const calendarTag = (version: number, key: string): string =>
  `W/"${createHash('sha256').update(`${version}\u0000${key}`).digest('base64url').slice(0, 22)}"`;

/**
 * `GET /calendar?from&to[&userId]`: whose meetings overlap [from, to), cached per read-model version when allowed.
 * The answer stays personal: the cache key is the caller's id and roles with the calendar's owner and range. A hit
 * is served without asking the access provider again: with a version the provider is deterministic, so the same
 * caller asking the same at the same version was allowed when the entry was made and would be again. The query
 * check is remembered per query string, the ETag and the bytes per entry: a hit parses, hashes and encodes nothing.
 */
const calendarRoute = (deps: CalendarDeps) => {
  const cache = createResponseCache();
  const checkQuery = boundedMemo<ReturnType<typeof decodeCalendarQuery>>({ maxEntries: 1_000, maxKeyLength: 512 });
  const compute = async (
    c: Context<Env>,
    query: t.TypeOf<typeof CalendarQuery>,
    version: number | undefined,
    key: string,
  ) => {
    const checked = await deps.service.checkCalendarQuery(ctx(c), query);
    if (E.isLeft(checked)) return appErrorResponse(c, checked.left);
    const tag = version !== undefined ? calendarTag(version, key) : undefined;
    if (tag !== undefined && validators(c, tag)) return c.body(null, 304);
    const result = await deps.service.calendar(ctx(c), query);
    if (E.isLeft(result)) return appErrorResponse(c, result.left);
    const body = JSON.stringify({ items: result.right });
    if (version === undefined || tag === undefined) return c.body(body, 200, { 'Content-Type': 'application/json' });
    const answer = { body: utf8.encode(body), etag: tag };
    cache.set(version, key, answer);
    return c.body(answer.body, 200, { 'Content-Type': 'application/json' });
  };
  // Not async: a hit is answered in the same turn.
  return (c: Context<Env>): Response | Promise<Response> => {
    const query = checkQuery(rawQuery(c.req.url), () => decodeCalendarQuery(c.req.query()));
    if (E.isLeft(query)) return validationProblem(c, query.left);
    const version = deps.readVersion();
    const user = c.get('user');
    const { from, to, userId = user.id } = query.right;
    const key = `${user.id}\u0000${user.roles.join(',')}\u0000${userId}\u0000${from}\u0000${to}`;
    const hit = version !== undefined ? cache.get(version, key) : undefined;
    return hit !== undefined ? sendCached(c, hit) : compute(c, query.right, version, key);
  };
};

/**
 * `GET /calendar`, and the caller's calendar feed: `POST /calendar/feed` (a new secret URL, revoking the old one) and
 * `DELETE /calendar/feed`. Bearer-authenticated.
 */
export const calendarRoutes = (deps: CalendarDeps): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.get('/calendar', calendarRoute(deps));
  routes.post('/calendar/feed', async (c) => {
    const body = await readJson(c, FeedBody, { allowed: ['userId'], optional: true });
    if (!body.ok) return body.response;
    const result = await deps.feeds.enableFeed(ctx(c), body.value.userId);
    if (E.isLeft(result)) return appErrorResponse(c, result.left);
    c.header('Cache-Control', 'no-store');
    return c.json({ url: result.right.url, token: result.right.token }, 201);
  });
  routes.delete('/calendar/feed', async (c) => {
    const query = decodeBody(FeedQuery, c.req.query(), ['userId']);
    if (E.isLeft(query)) return validationProblem(c, query.left);
    const result = await deps.feeds.disableFeed(ctx(c), query.right.userId);
    return E.isLeft(result) ? appErrorResponse(c, result.left) : c.body(null, 204);
  });
  return routes;
};

/**
 * `GET /calendar.ics?token=…`: no bearer token (calendar apps cannot send one); the secret in the URL is the credential.
 * A missing, malformed, unknown or revoked token all get the same 401. Rate-limited per token.
 */
export const calendarFeedRoutes = (deps: CalendarFeedDeps): Hono<Env> => {
  const routes = new Hono<Env>();
  const limiter = createRateLimiter(deps.rateLimit ?? DEFAULT_FEED_RATE_LIMIT);
  const unauthorized = (c: Context) => problem(c, 401, 'Unauthorized', 'unknown or revoked calendar feed token');

  routes.get('/calendar.ics', async (c) => {
    // Only `token` is read: some calendar apps append parameters of their own.
    const token = c.req.query('token');
    if (token === undefined || token.length === 0) return unauthorized(c);
    const wait = limiter(hashFeedToken(token));
    if (wait > 0) {
      c.header('Retry-After', String(Math.ceil(wait / 1000)));
      return problem(c, 429, 'Too many requests', 'slow down; see Retry-After');
    }
    const feed = await deps.service.feed(token);
    if (E.isLeft(feed)) return unauthorized(c);
    const ics = deps.render(feed.right);
    if (E.isLeft(ics)) throw new Error(ics.left);
    return c.body(ics.right, 200, {
      'Content-Type': 'text/calendar; charset=utf-8',
      'Cache-Control': 'private, no-cache',
    });
  });
  return routes;
};
