import * as E from 'fp-ts/lib/Either.js';
import type { CalendarFeed, CalendarFeedService } from '../../application/calendar-feed.ts';
import { hashFeedToken } from '../../application/calendar-feed.ts';
import type { HttpDeps, HttpHelpers } from './app.ts';
import { createRateLimiter } from './rate-limit.ts';
import { decodeBody } from './validation.ts';
import { FeedBody, FeedQuery } from './calendar/shapes.ts';

type Api = Parameters<NonNullable<HttpDeps['extend']>>[0];
type PublicApp = Parameters<NonNullable<HttpDeps['publicRoutes']>>[0];

/** Calendar apps poll a feed every few minutes to hours; this is far above that and far below a flood. */
export const DEFAULT_FEED_RATE_LIMIT = { perSecond: 0.5, burst: 30 } as const;

/** `POST /calendar/feed` (a new secret URL, revoking the old one) and `DELETE /calendar/feed`: bearer-authenticated. */
export const mountCalendarFeedRoutes = (api: Api, helpers: HttpHelpers, service: CalendarFeedService): void => {
  api.post('/calendar/feed', async (c) => {
    const body = await helpers.readJson(c, FeedBody, { allowed: ['userId'], optional: true });
    if (!body.ok) return body.response;
    const result = await service.enableFeed(helpers.ctx(c), body.value.userId);
    if (E.isLeft(result)) return helpers.appError(c, result.left);
    c.header('Cache-Control', 'no-store');
    return c.json({ url: result.right.url, token: result.right.token }, 201);
  });

  api.delete('/calendar/feed', async (c) => {
    const query = decodeBody(FeedQuery, c.req.query(), ['userId']);
    if (E.isLeft(query)) {
      return helpers.problem(c, 400, 'Validation failed', query.left.map((e) => `${e.path} ${e.message}`).join('; '), {
        errors: query.left,
      });
    }
    const result = await service.disableFeed(helpers.ctx(c), query.right.userId);
    return E.isLeft(result) ? helpers.appError(c, result.left) : c.body(null, 204);
  });
};

/**
 * `GET /calendar.ics?token=…`: no bearer token (calendar apps cannot send one); the secret in the URL is the credential.
 * A missing, malformed, unknown or revoked token all get the same 401. Rate-limited per token.
 */
export const mountCalendarFeedPublicRoutes = (
  app: PublicApp,
  helpers: Pick<HttpHelpers, 'problem'>,
  deps: {
    readonly service: CalendarFeedService;
    readonly render: (feed: CalendarFeed) => E.Either<string, string>;
    readonly rateLimit?: { readonly perSecond: number; readonly burst: number };
  },
): void => {
  const limiter = createRateLimiter(deps.rateLimit ?? DEFAULT_FEED_RATE_LIMIT);
  const unauthorized = (c: Parameters<typeof helpers.problem>[0]) =>
    helpers.problem(c, 401, 'Unauthorized', 'unknown or revoked calendar feed token');

  app.get('/calendar.ics', async (c) => {
    // Only `token` is read: some calendar apps append parameters of their own.
    const token = c.req.query('token');
    if (token === undefined || token.length === 0) return unauthorized(c);
    const wait = limiter(hashFeedToken(token));
    if (wait > 0) {
      c.header('Retry-After', String(Math.ceil(wait / 1000)));
      return helpers.problem(c, 429, 'Too many requests', 'slow down; see Retry-After');
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
};
