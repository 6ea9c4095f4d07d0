import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../../adapters/event-store/sqlite.ts';
import type { EventStore } from '../../../application/ports/event-store.ts';
import { claimIds, idempotencyStreamName } from '../../../application/idempotency.ts';
import { requestFingerprint } from '../../../adapters/http/idempotency.ts';
import { IDEMPOTENT_POSTS } from '../../../adapters/http/app.ts';
import { openApiDocument } from '../../../adapters/http/openapi.ts';
import { aMeeting, aSeriesBody } from '../../support/builders.ts';
import { requestEventsSince, startTestSystem, tempDir } from '../../support/system.ts';
import type { Client, TestSystem } from '../../support/system.ts';

const systems: TestSystem[] = [];
afterEach(async () => {
  for (const s of systems.splice(0)) await s.destroy();
});

/** A clock the test moves. */
const movableClock = (start: string) => {
  let now = new Date(start);
  return { clock: () => now, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
};

const meeting = (over: Record<string, unknown> = {}) =>
  aMeeting({ start: '2031-03-02T15:00:00Z', end: '2031-03-02T16:00:00Z', ...over });

const start = async (clock: () => Date, store?: EventStore) => {
  const system = await startTestSystem({ system: { clock, ...(store !== undefined ? { store } : {}) } });
  systems.push(system);
  await system.people('cora', 'cam', 'ivan');
  return system;
};

const meetingsOf = async (client: Client, userId: string) =>
  (await client.request('GET', `/calendar?userId=${userId}&from=2031-01-01T00:00:00Z&to=2031-12-31T00:00:00Z`)).body
    .items as Array<{ meetingId: string }>;

describe('Idempotency-Key', () => {
  it('answers a repeated create with the first answer (status, body, Location, ETag) and writes nothing again', async () => {
    const { clock } = movableClock('2030-06-01T10:00:00Z');
    const system = await start(clock);
    const admin = await system.as('ada', ['admin']);
    const key = randomUUID();
    const first = await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const head = await system.system.store.headPosition();

    // The same request again, its JSON fields in another order: the same request.
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(meeting()).reverse()));
    for (const body of [meeting(), reordered]) {
      const again = await admin.request('POST', '/meetings', body, { 'idempotency-key': key });
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('location')).toBe(first.headers.get('location'));
      expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
      expect(again.headers.get('idempotent-replayed')).toBe('true');
    }
    expect(await requestEventsSince(system.system.store, head)).toEqual([]);
    expect(await meetingsOf(admin, 'cora')).toHaveLength(1);

    // A key on a state change: cancel once, repeat, and the second answer is the first (not "already cancelled").
    const cancelKey = randomUUID();
    const cancelled = await admin.request(
      'POST',
      `/meetings/${first.body.id}/cancel`,
      { reason: 'ill' },
      { 'idempotency-key': cancelKey, 'if-match': '"0"' },
    );
    expect(cancelled.status).toBe(200);
    const repeated = await admin.request(
      'POST',
      `/meetings/${first.body.id}/cancel`,
      { reason: 'ill' },
      { 'idempotency-key': cancelKey, 'if-match': '"0"' },
    );
    expect(repeated.status).toBe(200);
    expect(repeated.body).toEqual(cancelled.body);
    expect((await admin.request('GET', `/meetings/${first.body.id}/history`)).body.events).toHaveLength(2);
    // Without a key nothing changes: a repeat is a new request.
    expect((await admin.request('POST', `/meetings/${first.body.id}/cancel`, { reason: 'ill' })).status).toBe(409);
  });

  it('keeps error answers too, and answers the same key on another request (body, path, method) with 422', async () => {
    const { clock } = movableClock('2030-06-01T10:00:00Z');
    const system = await start(clock);
    const admin = await system.as('ada', ['admin']);
    const key = 'order-17';
    expect((await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': key })).status).toBe(201);
    const head = await system.system.store.headPosition();
    for (const [path, body] of [
      ['/meetings', meeting({ title: 'Another title' })],
      ['/series', meeting()],
      ['/meetings/x/confirm', undefined],
    ] as const) {
      const refused = await admin.request('POST', path, body, { 'idempotency-key': key });
      expect(refused.status, path).toBe(422);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.body).toMatchObject({ status: 422, title: 'Idempotency-Key reused' });
    }
    expect(await requestEventsSince(system.system.store, head)).toEqual([]);
    expect(await meetingsOf(admin, 'cora')).toHaveLength(1);

    // A 4xx is a final answer as well: repeated, not re-run.
    const colliding = await admin.request('POST', '/meetings', meeting({ customerId: 'cam' }), {
      'idempotency-key': 'collide-1',
    });
    expect(colliding.status).toBe(409);
    const again = await admin.request('POST', '/meetings', meeting({ customerId: 'cam' }), {
      'idempotency-key': 'collide-1',
    });
    expect(again).toMatchObject({ status: 409, body: colliding.body });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('answers 409 with Retry-After while the first request with the key is still running, then the first answer', async () => {
    const { clock } = movableClock('2030-06-01T10:00:00Z');
    const dataDir = tempDir();
    const inner = openSqliteEventStore({ path: join(dataDir, 'events.db') });
    let hold: Promise<void> | undefined;
    let release: () => void = () => {};
    let reached: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      reached = resolve;
    });
    // Appends to meeting streams wait while `hold` is set: the first request is caught in the middle.
    const store: EventStore = {
      ...inner,
      appendToStream: async (streamName, events, options) => {
        if (hold !== undefined && streamName.startsWith('meeting-')) {
          reached();
          await hold;
        }
        return inner.appendToStream(streamName, events, options);
      },
      // A booking appends its meeting with its schedule reservations in one atomic append.
      appendToStreams: async (appends) => {
        if (hold !== undefined && appends.some((a) => a.streamName.startsWith('meeting-'))) {
          reached();
          await hold;
        }
        return inner.appendToStreams(appends);
      },
    };
    const system = await startTestSystem({ dataDir, system: { clock, store } });
    systems.push(system);
    await system.people('cora', 'cam', 'ivan');
    const admin = await system.as('ada', ['admin']);
    hold = new Promise((resolve) => {
      release = resolve;
    });
    const key = randomUUID();
    const first = admin.request('POST', '/meetings', meeting(), { 'idempotency-key': key });
    await held;
    const busy = await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': key });
    expect(busy.status).toBe(409);
    expect(busy.headers.get('content-type')).toContain('application/problem+json');
    expect(busy.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(busy.body).toMatchObject({ title: 'Request in progress' });
    hold = undefined;
    release();
    const answered = await first;
    expect(answered.status).toBe(201);
    const replay = await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': key });
    expect(replay).toMatchObject({ status: 201, body: answered.body });
    expect(await meetingsOf(admin, 'cora')).toHaveLength(1);
  });

  it("waits for another node's claim until its lease runs out, then runs the request under that claim and its ids", async () => {
    const { clock, advance } = movableClock('2030-06-01T10:00:00Z');
    const system = await start(clock);
    const admin = await system.as('ada', ['admin']);
    const key = randomUUID();
    const claimId = randomUUID();
    const now = clock().getTime();
    // Another node claimed this key for this very request and has not answered (it may be running, or dead).
    await system.system.store.appendToStream(
      idempotencyStreamName('ada', key),
      [
        {
          id: randomUUID(),
          type: 'IdempotencyKeyClaimed',
          data: {
            claimId,
            userId: 'ada',
            fingerprint: requestFingerprint('POST', '/meetings', undefined, JSON.stringify(meeting())),
            claimedAt: new Date(now).toISOString(),
            expiresAt: new Date(now + 86_400_000).toISOString(),
            owner: { node: 'another-node', instance: 'its-process' },
            leaseUntil: new Date(now + 60_000).toISOString(),
          },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    const busy = await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': key });
    expect(busy.status).toBe(409);
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(
      (await admin.request('POST', '/meetings', meeting({ title: 'Other' }), { 'idempotency-key': key })).status,
    ).toBe(422);
    advance(61_000);
    const taken = await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': key });
    expect(taken.status).toBe(201);
    // The id the claim fixed: had the other node written the meeting, this run would have found it.
    expect(taken.body.id).toBe(claimIds(claimId)());
    const events = await system.system.store.readStream(idempotencyStreamName('ada', key));
    expect(events.map((e) => e.type)).toEqual([
      'IdempotencyKeyClaimed',
      'IdempotencyKeyResumed',
      'IdempotentAnswerRecorded',
    ]);
  });

  it('after a 5xx runs the request again under the same claim: a write that landed is found, not made twice', async () => {
    const { clock } = movableClock('2030-06-01T10:00:00Z');
    const dataDir = tempDir();
    const inner = openSqliteEventStore({ path: join(dataDir, 'events.db') });
    let fault: ((streamName: string) => 'before' | 'after' | undefined) | undefined;
    const store: EventStore = {
      ...inner,
      appendToStream: async (streamName, events, options) => {
        const when = fault?.(streamName);
        if (when === 'before') throw new Error('disk unplugged');
        const result = await inner.appendToStream(streamName, events, options);
        // The write is stored, then the answer is lost (the process dies here, in effect).
        if (when === 'after') throw new Error('connection lost after the write');
        return result;
      },
      // A booking appends its meeting with its schedule reservations in one atomic append.
      appendToStreams: async (appends) => {
        const when = appends.map((a) => fault?.(a.streamName)).find((w) => w !== undefined);
        if (when === 'before') throw new Error('disk unplugged');
        const result = await inner.appendToStreams(appends);
        if (when === 'after') throw new Error('connection lost after the write');
        return result;
      },
    };
    const system = await startTestSystem({ dataDir, system: { clock, store } });
    systems.push(system);
    await system.people('cora', 'cam', 'ivan');
    const admin = await system.as('ada', ['admin']);
    const types = async (prefix: string) =>
      (await inner.readAll()).filter((e) => e.streamName.startsWith(prefix)).map((e) => e.type);

    // A meeting: stored, then the request fails before it answers.
    fault = (streamName) => (streamName.startsWith('meeting-') ? 'after' : undefined);
    const key = randomUUID();
    expect((await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': key })).status).toBe(500);
    fault = undefined;
    const retried = await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': key });
    expect(retried.status).toBe(201);
    expect(await types('meeting-')).toEqual(['MeetingScheduled']);
    expect((await types('idempotency-')).slice(-3)).toEqual([
      'IdempotencyKeyReleased',
      'IdempotencyKeyResumed',
      'IdempotentAnswerRecorded',
    ]);

    // A series: its event and some sessions stored, one session refused every time, so the request answers 503.
    const series = aSeriesBody({ customerId: 'cam', startDate: '2031-02-03', rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=4' });
    fault = (streamName) =>
      streamName.startsWith('meeting-') && streamName.endsWith('_2031-02-17') ? 'before' : undefined;
    const seriesKey = randomUUID();
    expect((await admin.request('POST', '/series', series, { 'idempotency-key': seriesKey })).status).toBe(503);
    fault = undefined;
    const done = await admin.request('POST', '/series', series, { 'idempotency-key': seriesKey });
    expect(done.status).toBe(201);
    expect(done.body.occurrences.map((o: { state: string }) => o.state)).toEqual([
      'planned',
      'planned',
      'planned',
      'planned',
    ]);
    expect(await types('series-')).toEqual(['SeriesScheduled']);
    expect((await types('meeting-')).filter((t) => t === 'MeetingScheduled')).toHaveLength(5);
    expect(await meetingsOf(admin, 'cam')).toHaveLength(4);

    // Its cancellation: the series event and one session's cancel stored, the others refused, so 503; then the retry.
    const seriesId: string = done.body.id;
    fault = (streamName) =>
      streamName.startsWith('meeting-') && !streamName.endsWith('_2031-02-03') ? 'before' : undefined;
    const cancelKey = randomUUID();
    expect(
      (
        await admin.request(
          'POST',
          `/series/${seriesId}/cancel`,
          { reason: 'Gym closed' },
          { 'idempotency-key': cancelKey },
        )
      ).status,
    ).toBe(503);
    fault = undefined;
    const cancelled = await admin.request(
      'POST',
      `/series/${seriesId}/cancel`,
      { reason: 'Gym closed' },
      { 'idempotency-key': cancelKey },
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.occurrences.map((o: { state: string }) => o.state)).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    expect((await types('series-')).filter((t) => t === 'SeriesCancelled')).toHaveLength(1);
    const cancels = (await inner.readAll())
      .filter((e) => e.type === 'SessionCancelled')
      .map((e) => e.data as { seriesCancellationId?: string });
    expect(cancels).toHaveLength(4);
    expect(new Set(cancels.map((c) => c.seriesCancellationId)).size).toBe(1);
  });

  it('refuses keys that are empty, longer than 255 characters or not printable ASCII with 400, and writes nothing', async () => {
    const { clock } = movableClock('2030-06-01T10:00:00Z');
    const system = await start(clock);
    const admin = await system.as('ada', ['admin']);
    const head = await system.system.store.headPosition();
    for (const bad of ['', '   ', 'x'.repeat(256), 'caf\u00e9', '"unterminated', '"bad \\escape"']) {
      const refused = await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': bad });
      expect(refused.status, JSON.stringify(bad)).toBe(400);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.body.errors).toEqual([{ path: 'Idempotency-Key', message: expect.stringContaining('255') }]);
    }
    expect(await requestEventsSince(system.system.store, head)).toEqual([]);
    const longest = 'k'.repeat(255);
    expect((await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': longest })).status).toBe(201);
    // The draft's Structured Field form names the same key as the bare one.
    const quoted = await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': `"${longest}"` });
    expect(quoted.status).toBe(201);
    expect(quoted.headers.get('idempotent-replayed')).toBe('true');
    expect(await meetingsOf(admin, 'cora')).toHaveLength(1);
  });

  it('scopes keys per user: the same key of two users names two requests', async () => {
    const { clock } = movableClock('2030-06-01T10:00:00Z');
    const system = await start(clock);
    const ada = await system.as('ada', ['admin']);
    const ivan = await system.as('ivan', ['instructor']);
    const key = 'shared-key';
    const a = await ada.request('POST', '/meetings', meeting(), { 'idempotency-key': key });
    const b = await ivan.request(
      'POST',
      '/meetings',
      meeting({ customerId: 'cam', start: '2031-03-03T15:00:00Z', end: '2031-03-03T16:00:00Z' }),
      { 'idempotency-key': key },
    );
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(await meetingsOf(ada, 'ivan')).toHaveLength(2);
  });

  it('forgets a key after 24 hours: the same request then is a new one', async () => {
    const { clock, advance } = movableClock('2030-06-01T10:00:00Z');
    const system = await start(clock);
    const admin = await system.as('ada', ['admin']);
    const key = randomUUID();
    const first = await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': key });
    expect(first.status).toBe(201);
    advance(24 * 3600 * 1000 - 1000);
    const within = await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': key });
    expect(within).toMatchObject({ status: 201, body: first.body });
    advance(2000);
    // Expired: run as new, and so it meets the meeting the first one booked.
    const after = await admin.request('POST', '/meetings', meeting(), { 'idempotency-key': key });
    expect(after.status).toBe(409);
    expect(after.headers.get('idempotent-replayed')).toBeNull();
    const moved = await admin.request('POST', '/meetings', meeting({ title: 'Later' }), { 'idempotency-key': key });
    expect(moved.status).toBe(422);
  });

  it('never keeps the calendar feed secret: a repeat says the address cannot be shown again, and the first one works', async () => {
    const { clock } = movableClock('2030-06-01T10:00:00Z');
    const system = await start(clock);
    const cora = await system.as('cora', ['customer']);
    const key = randomUUID();
    const first = await cora.request('POST', '/calendar/feed', undefined, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const token: string = first.body.token;
    const logged = await system.system.store.readAll();
    expect(JSON.stringify(logged)).not.toContain(token);
    const head = await system.system.store.headPosition();
    const again = await cora.request('POST', '/calendar/feed', undefined, { 'idempotency-key': key });
    expect(again.status).toBe(409);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toMatchObject({ title: 'Answer not repeated', originalStatus: 201 });
    expect(JSON.stringify(again.body)).not.toContain(token);
    expect(await requestEventsSince(system.system.store, head)).toEqual([]);
    expect((await fetch(`${system.url}/calendar.ics?token=${token}`)).status).toBe(200);
  });
});

describe('Idempotency-Key in the OpenAPI document', () => {
  it('is declared, with its 409 and 422 answers, on exactly the POSTs that take it: every API one but join and the series preview', () => {
    const doc = openApiDocument('https://coaching.example.com') as {
      paths: Record<
        string,
        Record<string, { parameters?: Array<{ $ref?: string }>; responses: Record<string, unknown> }>
      >;
    };
    const posts = Object.entries(doc.paths).flatMap(([path, item]) =>
      item.post !== undefined ? [{ path, op: item.post }] : [],
    );
    expect(posts.length).toBeGreaterThanOrEqual(8);
    for (const { path, op } of posts) {
      const concrete = path.replace(/\{[^}]+\}/g, 'abc');
      const takesKey = IDEMPOTENT_POSTS.some(([pattern]) => pattern.test(concrete));
      // Sign-in's routes are outside the bearer API, with credentials of their own (a code, the refresh cookie).
      // A series or settings preview writes nothing either: repeating it is harmless.
      const storesNothing =
        path === '/meetings/{id}/join' || path === '/series/preview' || path === '/settings/preview';
      expect(takesKey, path).toBe(!storesNothing && !path.startsWith('/auth/'));
      const declared = (op.parameters ?? []).some((p) => p.$ref === '#/components/parameters/IdempotencyKey');
      expect(declared, path).toBe(takesKey);
      if (takesKey) expect(Object.keys(op.responses), path).toEqual(expect.arrayContaining(['400', '409', '422']));
    }
  });
});
