import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aMeeting, aSeriesBody } from '../../support/builders.ts';
import { useSystem } from '../../support/system.ts';

/**
 * The calendar's cached answers and the headers of the hot paths over the real system (the same over stand-in
 * services, with the service calls counted: hot-paths.test.ts).
 */
const sys = useSystem({ people: ['ivan', 'cora', 'cam'] });
const admin = sys.client('ada', ['admin']);
const ivan = sys.client('ivan', ['instructor']);
const cora = sys.client('cora', ['customer']);
const cam = sys.client('cam', ['customer']);

const YEAR = '/calendar?from=2030-01-01T00:00:00Z&to=2031-01-01T00:00:00Z';

const raw = async (path: string, token: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${sys.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
};

describe('GET /calendar served from its cache', () => {
  it('answers the very bytes it computed, with their length, until a change shows at once', async () => {
    // Forty weekly sessions: a long answer, with a name in it that is not ASCII.
    await admin.request('PUT', '/people/cora', { name: 'Córa Çustomer', email: 'cora@example.com' });
    const series = await ivan.request('POST', '/series', aSeriesBody({ rrule: 'FREQ=WEEKLY;COUNT=40' }));
    expect(series.status).toBe(201);
    const token = await sys.token('cora', ['customer']);
    const first = await raw(YEAR, token);
    expect(first.res.status).toBe(200);
    expect(Number(first.res.headers.get('content-length'))).toBe(first.bytes.length);
    const items = (JSON.parse(first.bytes.toString('utf8')) as { items: Array<{ counterpartName?: string }> }).items;
    expect(items).toHaveLength(40);
    const second = await raw(YEAR, token);
    expect(second.bytes.equals(first.bytes)).toBe(true);
    expect(second.res.headers.get('etag')).toBe(first.res.headers.get('etag'));
    expect(second.res.headers.get('cache-control')).toBe('private, no-cache');
    expect(second.res.headers.get('x-content-type-options')).toBe('nosniff');

    const notModified = await raw(YEAR, token, { 'if-none-match': first.res.headers.get('etag') as string });
    expect(notModified.res.status).toBe(304);
    expect(notModified.res.headers.get('cache-control')).toBe('private, no-cache');

    const added = await ivan.request(
      'POST',
      '/meetings',
      aMeeting({ start: '2030-12-30T20:00:00Z', end: '2030-12-30T21:00:00Z' }),
    );
    expect(added.status).toBe(201);
    const after = await raw(YEAR, token, { 'if-none-match': first.res.headers.get('etag') as string });
    expect(after.res.status).toBe(200);
    expect((JSON.parse(after.bytes.toString('utf8')) as { items: unknown[] }).items).toHaveLength(41);
    expect(after.res.headers.get('etag')).not.toBe(first.res.headers.get('etag'));
    // Cam asks the same range: his own (empty) calendar, not Cora's cached one; and hers is refused to him.
    expect((await cam.request('GET', YEAR)).body.items).toEqual([]);
    expect((await cam.request('GET', `${YEAR}&userId=cora`)).status).toBe(403);
    expect((await cora.request('GET', YEAR)).body.items).toHaveLength(41);
  });
});

describe('the headers of answers that skip the routes', () => {
  it('a repeated idempotent answer carries the request id, no-store and nosniff, as the first did', async () => {
    const key = randomUUID();
    const body = aMeeting({ start: '2031-02-04T20:00:00Z', end: '2031-02-04T21:00:00Z' });
    const first = await ivan.request('POST', '/meetings', body, { 'idempotency-key': key });
    const again = await ivan.request('POST', '/meetings', body, { 'idempotency-key': key, 'x-request-id': 'again-1' });
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body).toEqual(first.body);
    for (const res of [first, again]) {
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(res.headers.get('location')).toBe(`/meetings/${first.body.id}`);
    }
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('x-request-id')).toBe('again-1');
    expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
  });

  it('the calendar feed keeps its own cache header', async () => {
    const feed = await cora.request('POST', '/calendar/feed');
    expect(feed.status).toBe(201);
    expect(feed.headers.get('cache-control')).toBe('no-store');
    const ics = await fetch(`${sys.url}/calendar.ics?token=${feed.body.token as string}`);
    expect(ics.status).toBe(200);
    expect(ics.headers.get('cache-control')).toBe('private, no-cache');
    expect(ics.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
  });
});
