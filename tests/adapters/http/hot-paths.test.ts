import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../../../adapters/http/app.ts';
import type { HttpDeps } from '../../../adapters/http/app.ts';
import { boundedMemo, createResponseCache } from '../../../adapters/http/kit/response-cache.ts';
import type { AuthUser } from '../../../application/ports/access.ts';
import type { CalendarEntry } from '../../../application/ports/read-models.ts';

/**
 * The HTTP app over stand-in services: what every answer carries, what a cached calendar answer costs (which services
 * it asks), and what the access log builds. The same over the real system: calendar-cache.test.ts.
 */

const FROM = '2030-03-01T00:00:00.000Z';
const TO = '2030-04-01T00:00:00.000Z';
const MONTH = `/calendar?from=${FROM}&to=${TO}`;

const entry = (meetingId: string, customerId: string): CalendarEntry =>
  ({
    meetingId,
    title: `Session ${meetingId} ✓`,
    start: '2030-03-04T09:00:00.000Z',
    end: '2030-03-04T10:00:00.000Z',
    timezone: 'Europe/Amsterdam',
    state: 'planned',
    trainingType: '1-1',
    role: 'customer',
    customerId,
    instructorId: 'ivan',
  }) as CalendarEntry;

interface Calls {
  checks: number;
  calendars: number;
  lines: Array<{ level: string; details: object }>;
}

interface Options {
  /** What the log says it writes; undefined: a log without `isLevelEnabled`. */
  readonly logLevels?: ReadonlyArray<string>;
  readonly rateLimit?: { perSecond: number; burst: number };
}

/** Tokens are `Bearer <id>:<role,role>`; `Bearer bad` is refused. At once, as the real one is for a known token. */
const authenticate: HttpDeps['authenticate'] = (header) => {
  const match = /^Bearer (\w+):([\w,]+)$/.exec(header ?? '');
  if (match === null) return E.left({ reason: 'invalid', message: 'the token is not valid' });
  return E.right({ id: match[1] as string, roles: (match[2] as string).split(',') as AuthUser['roles'] });
};

const appWith = (options: Options = {}) => {
  const calls: Calls = { checks: 0, calendars: 0, lines: [] };
  const version = { current: 7 };
  const meetings = new Map<string, CalendarEntry[]>([
    ['cora', [entry('m1', 'cora')]],
    ['cam', [entry('m2', 'cam')]],
  ]);
  const readsAll = (user: AuthUser) => user.roles.includes('admin');
  const service = {
    readModels: { personActive: () => true },
    checkCalendarQuery: async (ctx: { user: AuthUser }, query: { userId?: string }) => {
      calls.checks++;
      const owner = query.userId ?? ctx.user.id;
      return readsAll(ctx.user) || owner === ctx.user.id
        ? E.right(owner)
        : E.left({ _tag: 'Forbidden', message: "you may not read this user's calendar" });
    },
    calendar: async (ctx: { user: AuthUser }, query: { userId?: string }) => {
      calls.calendars++;
      return E.right(meetings.get(query.userId ?? ctx.user.id) ?? []);
    },
    me: () => {
      throw new Error('a bug');
    },
  };
  const log = (level: string) => (details: object) => calls.lines.push({ level, details });
  const logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
    ...(options.logLevels !== undefined
      ? { isLevelEnabled: (level: string) => options.logLevels?.includes(level) === true }
      : {}),
  };
  const app = createHttpApp({
    service: service as unknown as HttpDeps['service'],
    authenticate,
    logger,
    ...(options.rateLimit !== undefined ? { rateLimit: options.rateLimit } : {}),
    health: (async () => ({ status: 'ok', body: {} })) as unknown as HttpDeps['health'],
    publicBaseUrl: 'http://127.0.0.1:8080',
    series: {} as HttpDeps['series'],
    join: {} as HttpDeps['join'],
    notifications: {} as HttpDeps['notifications'],
    webhooks: {} as HttpDeps['webhooks'],
    audit: {} as HttpDeps['audit'],
    calendarFeeds: { service: {} as HttpDeps['calendarFeeds']['service'], render: () => E.left('unused') },
    readVersion: () => version.current,
    idempotency: { keys: {} as HttpDeps['idempotency']['keys'], writable: () => undefined },
    signaling: { originAllowed: () => false, suggestedOrigin: () => undefined },
  });
  const get = (path: string, who: string | undefined, headers: Record<string, string> = {}) =>
    app.request(path, { headers: { ...(who !== undefined ? { authorization: `Bearer ${who}` } : {}), ...headers } });
  return { app, calls, version, meetings, get };
};

const personal = (res: Response) => ({
  cacheControl: res.headers.get('cache-control'),
  nosniff: res.headers.get('x-content-type-options'),
  requestId: res.headers.get('x-request-id') !== null,
});

describe('every answer of the bearer API', () => {
  it('carries no-store, nosniff and its request id, whatever the status', async () => {
    const { get } = appWith({ rateLimit: { perSecond: 0.001, burst: 3 } });
    const answers = {
      unauthorized: await get(MONTH, 'bad'),
      ok: await get('/calendar?from=2030-01-01T00:00:00Z&to=2030-01-02T00:00:00Z&userId=cam', 'ada:admin'),
      badQuery: await get('/calendar?from=yesterday', 'ada:admin'),
      bug: await get('/me', 'ada:admin'),
      tooMany: await get('/me', 'ada:admin'),
      forbidden: await get(`${MONTH}&userId=cam`, 'cora:customer'),
      unknownPath: await get('/nowhere', 'cora:customer'),
    };
    expect(Object.fromEntries(Object.entries(answers).map(([name, res]) => [name, res.status]))).toEqual({
      unauthorized: 401,
      ok: 200,
      badQuery: 400,
      bug: 500,
      tooMany: 429,
      forbidden: 403,
      unknownPath: 404,
    });
    for (const [name, res] of Object.entries(answers)) {
      const expected = name === 'ok' ? 'private, no-cache' : 'no-store';
      expect(personal(res), name).toEqual({ cacheControl: expected, nosniff: 'nosniff', requestId: true });
    }
    expect(answers.unauthorized.headers.get('www-authenticate')).toContain('invalid_token');
    expect(answers.tooMany.headers.get('retry-after')).not.toBeNull();
    expect(answers.bug.headers.get('content-type')).toBe('application/problem+json');
  });

  it('keeps the headers off the routes with credentials of their own', async () => {
    const { get } = appWith();
    const health = await get('/health', undefined);
    expect(health.headers.get('x-content-type-options')).toBeNull();
    expect(health.headers.get('x-request-id')).not.toBeNull();
  });
});

describe('GET /calendar from its cache', () => {
  it('is answered in the same turn, with every header in one record, where the first asking waits on the services', async () => {
    const { app } = appWith();
    const request = () =>
      new Request(`http://127.0.0.1${MONTH}`, {
        headers: { authorization: 'Bearer cora:customer', 'x-request-id': 'r-1' },
      });
    const first = app.fetch(request());
    expect(first).toBeInstanceOf(Promise);
    const firstAnswer = await first;
    const hit = app.fetch(request());
    // No promise: the app answered before returning, so @hono/node-server writes it at once.
    expect(hit).toBeInstanceOf(Response);
    const answer = hit as Response;
    const headers: Record<string, string> = {};
    answer.headers.forEach((value, name) => (headers[name] = value));
    expect(headers).toEqual({
      'cache-control': 'private, no-cache',
      'content-type': 'application/json',
      etag: firstAnswer.headers.get('etag'),
      'x-content-type-options': 'nosniff',
      'x-request-id': 'r-1',
    });
    expect(await answer.text()).toBe(await firstAnswer.text());
  });

  it('asks the services once per caller, question and version, and answers the same bytes', async () => {
    const { get, calls, version } = appWith();
    const first = await get(MONTH, 'cora:customer');
    const firstBytes = new Uint8Array(await first.arrayBuffer());
    expect(JSON.parse(new TextDecoder().decode(firstBytes))).toEqual({ items: [entry('m1', 'cora')] });
    expect(first.headers.get('content-type')).toBe('application/json');
    const again = await get(MONTH, 'cora:customer');
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(firstBytes);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(personal(again)).toEqual({ cacheControl: 'private, no-cache', nosniff: 'nosniff', requestId: true });
    expect({ checks: calls.checks, calendars: calls.calendars }).toEqual({ checks: 1, calendars: 1 });

    version.current = 8;
    const moved = await get(MONTH, 'cora:customer');
    expect(moved.headers.get('etag')).not.toBe(first.headers.get('etag'));
    expect({ checks: calls.checks, calendars: calls.calendars }).toEqual({ checks: 2, calendars: 2 });
  });

  it('answers 304 to the ETag it holds, and 200 with the new answer once the version moved', async () => {
    const { get, calls, version, meetings } = appWith();
    const tag = (await get(MONTH, 'cora:customer')).headers.get('etag') as string;
    const notModified = await get(MONTH, 'cora:customer', { 'if-none-match': tag });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe('');
    expect(notModified.headers.get('etag')).toBe(tag);
    expect(personal(notModified)).toEqual({ cacheControl: 'private, no-cache', nosniff: 'nosniff', requestId: true });
    expect(calls.calendars).toBe(1);
    expect((await get(MONTH, 'cora:customer', { 'if-none-match': 'W/"other"' })).status).toBe(200);

    meetings.set('cora', [entry('m1', 'cora'), entry('m3', 'cora')]);
    version.current = 8;
    const changed = await get(MONTH, 'cora:customer', { 'if-none-match': tag });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as { items: unknown[] }).items).toHaveLength(2);
    const newTag = changed.headers.get('etag') as string;
    expect((await get(MONTH, 'cora:customer', { 'if-none-match': newTag })).status).toBe(304);
  });

  it('answers 304 to a tag of this version without computing the answer, when nothing is cached yet', async () => {
    const tag = (await appWith().get(MONTH, 'cora:customer')).headers.get('etag') as string;
    // Another process (a restart, another node) at the same version: its cache is empty, the tag the same.
    const other = appWith();
    const res = await other.get(MONTH, 'cora:customer', { 'if-none-match': tag });
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe(tag);
    expect({ checks: other.calls.checks, calendars: other.calls.calendars }).toEqual({ checks: 1, calendars: 0 });
    // The check still runs first: another caller with that tag is refused.
    expect((await other.get(`${MONTH}&userId=cora`, 'cam:customer', { 'if-none-match': tag })).status).toBe(403);
  });

  it("never serves one caller's answer to another, nor to the same id with other roles", async () => {
    const { get, calls } = appWith();
    const cora = await get(`${MONTH}&userId=cora`, 'cora:customer');
    expect(cora.status).toBe(200);
    const tag = cora.headers.get('etag') as string;
    // Cam asks Cora's very question, with and without her ETag: refused each time, by the access check.
    expect((await get(`${MONTH}&userId=cora`, 'cam:customer')).status).toBe(403);
    expect((await get(`${MONTH}&userId=cora`, 'cam:customer', { 'if-none-match': tag })).status).toBe(403);
    // An admin reading Cora's calendar gets it, under a tag of their own.
    const asAdmin = await get(`${MONTH}&userId=cora`, 'cam:admin');
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.headers.get('etag')).not.toBe(tag);
    // The admin's entry is no answer for the same id as a customer.
    expect((await get(`${MONTH}&userId=cora`, 'cam:customer')).status).toBe(403);
    // Each caller's own calendar is their own.
    expect(((await (await get(MONTH, 'cam:customer')).json()) as { items: CalendarEntry[] }).items).toEqual([
      entry('m2', 'cam'),
    ]);
    expect(calls.checks).toBe(6);
  });

  it('refuses a bad query every time, and reads the same instants spelled otherwise as the same question', async () => {
    const { get, calls } = appWith();
    for (let i = 0; i < 2; i++) {
      const bad = await get('/calendar?from=2030-03-01T00:00:00Z&to=soon&colour=red', 'cora:customer');
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort()).toEqual([
        'colour',
        'to',
      ]);
    }
    expect((await get(MONTH, 'cora:customer')).status).toBe(200);
    const respelled = await get('/calendar?from=2030-03-01T01:00:00%2B01:00&to=2030-04-01T00:00:00Z', 'cora:customer');
    expect(respelled.status).toBe(200);
    expect({ checks: calls.checks, calendars: calls.calendars }).toEqual({ checks: 1, calendars: 1 });
  });
});

describe('the access log', () => {
  it('builds no line the log would drop, and still counts what it needs to', async () => {
    const silent = appWith({ logLevels: [] });
    expect((await silent.get(MONTH, 'cora:customer')).status).toBe(200);
    expect((await silent.get('/me', 'cora:customer')).status).toBe(500);
    // The bug is still logged by the error handler; the access log wrote nothing.
    expect(silent.calls.lines.map((line) => line.level)).toEqual(['error']);

    const errorsOnly = appWith({ logLevels: ['error'] });
    await errorsOnly.get(MONTH, 'cora:customer');
    await errorsOnly.get('/me', 'cora:customer');
    expect(errorsOnly.calls.lines.map((line) => line.level)).toEqual(['error', 'error']);
    expect(errorsOnly.calls.lines[1]?.details).toMatchObject({ method: 'GET', path: '/me', status: 500 });
  });

  it('writes every line to a log that cannot say what it drops', async () => {
    const plain = appWith();
    await plain.get(MONTH, 'cora:customer');
    expect(plain.calls.lines).toEqual([
      {
        level: 'info',
        details: expect.objectContaining({ method: 'GET', path: '/calendar', status: 200, user: 'cora' }),
      },
    ]);
  });
});

describe('the response cache and the memo', () => {
  it('keeps answers as bytes within its budget, for one version at a time', () => {
    const cache = createResponseCache(10, 6);
    const bytes = (n: number) => ({ body: new Uint8Array(n), etag: `"${n}"` });
    cache.set(1, 'a', bytes(4));
    cache.set(1, 'b', bytes(4));
    cache.set(1, 'huge', bytes(7));
    expect([cache.get(1, 'a')?.etag, cache.get(1, 'b')?.etag, cache.get(1, 'huge')]).toEqual(['"4"', '"4"', undefined]);
    cache.set(1, 'c', bytes(4));
    // Over 10 bytes: the oldest went.
    expect([cache.get(1, 'a'), cache.get(1, 'c')?.etag]).toEqual([undefined, '"4"']);
    expect(cache.get(2, 'c')).toBeUndefined();
    cache.set(2, 'd', bytes(1));
    expect([cache.get(1, 'c'), cache.get(2, 'c'), cache.get(2, 'd')?.etag]).toEqual([undefined, undefined, '"1"']);
  });

  it('remembers at most so many keys, and none longer than its limit', () => {
    const memo = boundedMemo<string>({ maxEntries: 2, maxKeyLength: 5 });
    let computed = 0;
    const value = (key: string) =>
      memo(key, () => {
        computed++;
        return key.toUpperCase();
      });
    expect([value('a'), value('a'), value('b')]).toEqual(['A', 'A', 'B']);
    expect(computed).toBe(2);
    value('c');
    value('a');
    expect(computed).toBe(4);
    expect([value('longer'), value('longer')]).toEqual(['LONGER', 'LONGER']);
    expect(computed).toBe(6);
  });
});
