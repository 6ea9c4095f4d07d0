import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { isRight, right } from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { DeadlineExceededError, KurrentDBClient, jsonEvent } from '@kurrent/kurrentdb-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppendTooLargeError, MultiStreamAppendUnsupportedError } from '../../../application/ports/event-store.ts';
import type { EventToAppend, RecordedEvent, StreamAppend } from '../../../application/ports/event-store.ts';
import { handleCommand, loadAggregate } from '../../../application/command-handler.ts';
import {
  KurrentDbAccessDeniedError,
  describeConnectionTarget,
  openKurrentDbEventStore,
} from '../../../adapters/event-store/kurrentdb.ts';
import type { KurrentDbEventStore, KurrentDbEventStoreOptions } from '../../../adapters/event-store/kurrentdb.ts';
import { startFakeKurrentDb } from '../../support/fake-kurrentdb.ts';
import type { FakeKurrentDb, FakeRequest } from '../../support/fake-kurrentdb.ts';
import { startFakeKurrentDbProcess } from '../../support/fake-kurrentdb-process.ts';
import { startServerProcess } from '../../support/server-process.ts';
import { tempDir } from '../../support/system.ts';
import { runEventStoreContract } from './contract.ts';

/*
 * The adapter is exercised here against tests/support/fake-kurrentdb.ts, an in-process imitation of the KurrentDB
 * gRPC protocol. The fake's header lists where it differs from a real server. The second contract run below uses a
 * real server only when KURRENTDB_CONNECTION_STRING is set, and is reported as skipped otherwise.
 */

const WAIT_TIMEOUT_MS = 15_000;

async function waitUntil(condition: () => boolean, description: string): Promise<void> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${WAIT_TIMEOUT_MS} ms waiting until ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function event(type = 'Tested', data: unknown = { n: 0 }): EventToAppend {
  return { id: randomUUID(), type, data };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function fixtureFor(connect: () => Promise<KurrentDbEventStore>) {
  return async () => {
    const opened: KurrentDbEventStore[] = [];
    const open = async () => {
      const store = await connect();
      opened.push(store);
      return store;
    };
    const store = await open();
    return {
      store,
      reopen: open,
      secondConnection: open,
      cleanup: async () => {
        await Promise.all(opened.map((s) => s.close()));
      },
    };
  };
}

describe('KurrentDB adapter against the fake server', () => {
  let fake: FakeKurrentDb;

  let before25: FakeKurrentDb;

  beforeAll(async () => {
    fake = await startFakeKurrentDb();
    before25 = await startFakeKurrentDb({ multiStreamAppend: false });
  });

  afterAll(async () => {
    await fake.close();
    await before25.close();
  });

  // The Rust part of the client waits discoveryInterval (500 ms by default) before its first connection; shortened
  // here only to keep the many store openings of the contract quick.
  const quickly = () => `${fake.connectionString}&discoveryInterval=10`;

  runEventStoreContract(
    'kurrentdb (fake server)',
    fixtureFor(() => openKurrentDbEventStore({ connectionString: quickly() })),
  );

  runEventStoreContract(
    'kurrentdb (fake server before 25.1, without the multi-stream append)',
    fixtureFor(() =>
      openKurrentDbEventStore({ connectionString: `${before25.connectionString}&discoveryInterval=10` }),
    ),
  );

  runEventStoreContract(
    'kurrentdb (fake server, stream prefixes)',
    fixtureFor(() => openKurrentDbEventStore({ connectionString: quickly(), streamPrefixes: ['contract_'] })),
  );
});

const realConnectionString = process.env['KURRENTDB_CONNECTION_STRING'];

describe.skipIf(!realConnectionString)('KurrentDB adapter against a real server (KURRENTDB_CONNECTION_STRING)', () => {
  // The contract names its streams `contract_<label>-<uuid>`, unique per run; the prefix keeps other data out.
  runEventStoreContract(
    'kurrentdb (real server)',
    fixtureFor(() =>
      openKurrentDbEventStore({ connectionString: realConnectionString ?? '', streamPrefixes: ['contract_'] }),
    ),
  );
});

describe('KurrentDB adapter specifics (fake server)', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(
    fakeOptions: Parameters<typeof startFakeKurrentDb>[0] = {},
    storeOptions: Partial<KurrentDbEventStoreOptions> = {},
  ) {
    const fake = await startFakeKurrentDb(fakeOptions);
    cleanups.push(() => fake.close());
    const store = await openKurrentDbEventStore({ connectionString: fake.connectionString, ...storeOptions });
    cleanups.push(() => store.close());
    return { fake, store };
  }

  const filtersAsked = (requests: ReadonlyArray<FakeRequest>, kind: 'read' | 'subscribe') =>
    requests.flatMap((r) => (r.kind === kind && r.target === 'all' ? [r.filter] : []));

  it('asks the server to leave out system events and skips any that still arrive', async () => {
    const { fake, store } = await setUp();
    const head = await store.headPosition();
    const ours = event('Ours');
    expect(isRight(await store.appendToStream('meeting-1', [ours]))).toBe(true);
    const system = fake.injectEvent('$stats-127.0.0.1:2113', '$statsCollected', { cpu: 1 });
    const systemTypeInOurStream = fake.injectEvent('meeting-1', '$metadata', { $maxAge: 1 });
    // Passes the server-side event-type filter; only the adapter's own check keeps it out.
    const plainTypeInSystemStream = fake.injectEvent('$internal-checkpoints', 'Checkpointed', {});
    const later = event('Later');
    expect(isRight(await store.appendToStream('meeting-1', [later]))).toBe(true);

    expect(fake.events.map((e) => e.id)).toContain(system.id);

    const all = await store.readAll({ after: head });
    expect(all.map((e) => e.id)).toEqual([ours.id, later.id]);
    expect(filtersAsked(fake.requests, 'read')).toContainEqual({ on: 'eventType', prefixes: [], regex: '^[^$].*' });

    const received: RecordedEvent[] = [];
    const subscription = store.subscribeToAll({ after: head }, (e) => {
      received.push(e);
    });
    try {
      await waitUntil(() => received.length >= 2, 'both of our events arrived');
      fake.injectEvent('$$meeting-1', '$metadata', {});
      fake.injectEvent('$internal-checkpoints', 'Checkpointed', {});
      const last = event('Last');
      await store.appendToStream('meeting-1', [last]);
      await waitUntil(() => received.length >= 3, 'the live event arrived');
      expect(received.map((e) => e.id)).toEqual([ours.id, later.id, last.id]);
      const leaked = [systemTypeInOurStream.id, plainTypeInSystemStream.id];
      expect(received.some((e) => leaked.includes(e.id))).toBe(false);
    } finally {
      await subscription.stop();
    }
    expect(filtersAsked(fake.requests, 'subscribe')).toEqual([{ on: 'eventType', prefixes: [], regex: '^[^$].*' }]);

    // The newest events are system ones: the head is still the newest of ours.
    fake.injectEvent('$scavenges', '$scavengeStarted', {});
    const newest = fake.injectEvent('$internal-checkpoints', 'Checkpointed', {});
    expect(await store.headPosition()).toBe(received[2]?.position);
    expect(newest.position > BigInt(received[2]?.position ?? 0)).toBe(true);
  });

  it('with stream prefixes, asks the server for those streams only', async () => {
    const { fake, store } = await setUp({}, { streamPrefixes: ['meeting-', 'person-'] });
    const meeting = event();
    const person = event();
    await store.appendToStream('meeting-a', [meeting]);
    await store.appendToStream('other-x', [event()]);
    await store.appendToStream('person-b', [person]);
    fake.injectEvent('meeting-a', '$metadata', {});

    expect((await store.readAll()).map((e) => e.id)).toEqual([meeting.id, person.id]);
    expect(filtersAsked(fake.requests, 'read')).toContainEqual({
      on: 'streamName',
      prefixes: ['meeting-', 'person-'],
      regex: '',
    });
    expect(await store.headPosition()).toBe((await store.readStream('person-b'))[0]?.position);
  });

  it('converts bigint positions to exact numbers and back', async () => {
    // Above 2^32 and with gaps: a truncating or float-rounding conversion would show here.
    const first = 2n ** 52n + 12_345n;
    const { fake, store } = await setUp({ firstPosition: first });
    const batch = [event(), event(), event()];
    const result = await store.appendToStream('meeting-big', batch);
    if (!isRight(result)) throw new Error('append failed');
    const stored = fake.events.map((e) => e.position);
    expect(result.right.position).toBe(Number(stored[2]));
    expect(stored.every((p) => BigInt(Number(p)) === p)).toBe(true);

    const all = await store.readAll();
    expect(all.map((e) => e.position)).toEqual(stored.map(Number));
    expect(all[0]?.position).toBe(Number(first));
    expect(await store.headPosition()).toBe(Number(stored[2]));

    const afterFirst = await store.readAll({ after: Number(stored[0]) });
    expect(afterFirst.map((e) => e.id)).toEqual([batch[1]?.id, batch[2]?.id]);
    const asked = fake.requests.filter((r) => r.kind === 'read' && r.target === 'all').at(-1);
    expect(asked).toMatchObject({ from: stored[0] });
  });

  it('refuses a position that a JS number cannot hold exactly instead of rounding it', async () => {
    const { fake, store } = await setUp({ firstPosition: 2n ** 53n + 1n });
    await expect(store.appendToStream('meeting-huge', [event()])).rejects.toThrow(/cannot be represented exactly/);
    fake.injectEvent('meeting-huge', 'Tested', {});
    await expect(store.readAll()).rejects.toThrow(/cannot be represented exactly/);
    const errors: unknown[] = [];
    const received: RecordedEvent[] = [];
    const subscription = store.subscribeToAll(
      {},
      (e) => {
        received.push(e);
      },
      (error) => errors.push(error),
    );
    try {
      await waitUntil(() => errors.length > 0, 'the subscription reported the position');
      expect(errors[0]).toBeInstanceOf(RangeError);
      expect(received).toEqual([]);
    } finally {
      await subscription.stop();
    }
  });

  it('sends the port event id, so a retried append is not written twice', async () => {
    const { fake, store } = await setUp();
    const batch = [event(), event()];
    const first = await store.appendToStream('meeting-retry', batch, { expectedRevision: 'any' });
    const again = await store.appendToStream('meeting-retry', batch, { expectedRevision: 'any' });
    expect(again).toEqual(first);
    expect(fake.events.map((e) => e.id)).toEqual(batch.map((e) => e.id));
    // The client sends appends through BatchAppend when the server lists it, as a real server does.
    const appends = fake.requests.flatMap((r) => (r.kind === 'batchAppend' ? [r] : []));
    const sentIds = batch.map((e) => e.id);
    expect(appends.map((r) => [r.eventIds, r.outcome])).toEqual([
      [sentIds, 'success'],
      [sentIds, 'idempotent'],
    ]);
    expect(fake.requests.some((r) => r.kind === 'append')).toBe(false);
  });

  it('speaks BatchAppend as the server does: expected revisions, results and errors per correlation id', async () => {
    const { fake, store } = await setUp();
    // Concurrent appends share one BatchAppend stream; each answer must reach its own caller.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.appendToStream(`meeting-c${i % 4}`, [event('Tested', { i })])),
    );
    expect(results.every(isRight)).toBe(true);
    const revisions = results.map((r) => (isRight(r) ? r.right.nextExpectedRevision : -2));
    for (let s = 0; s < 4; s++) {
      expect(revisions.filter((_, i) => i % 4 === s).sort()).toEqual([0, 1, 2, 3, 4]);
    }
    expect(await store.appendToStream('meeting-c0', [event()], { expectedRevision: 2 })).toEqual({
      _tag: 'Left',
      left: { _tag: 'WrongExpectedRevision', streamName: 'meeting-c0', expected: 2, actual: 4 },
    });
    expect(await store.appendToStream('meeting-none', [event()], { expectedRevision: 'stream_exists' })).toEqual({
      _tag: 'Left',
      left: { _tag: 'WrongExpectedRevision', streamName: 'meeting-none', expected: 'stream_exists', actual: -1 },
    });
    expect(isRight(await store.appendToStream('meeting-c0', [event()], { expectedRevision: 4 }))).toBe(true);
    const outcomes = fake.requests.flatMap((r) => (r.kind === 'batchAppend' ? [r.outcome] : []));
    expect(outcomes.filter((o) => o === 'wrong-expected-version')).toHaveLength(2);
    expect(outcomes.filter((o) => o === 'success')).toHaveLength(21);
  });

  it('answers an empty append from the stream state, as the embedded stores do', async () => {
    const { fake, store } = await setUp();
    expect(await store.appendToStream('meeting-empty', [], { expectedRevision: 'no_stream' })).toEqual({
      _tag: 'Right',
      right: { nextExpectedRevision: -1, position: 0 },
    });
    const written = await store.appendToStream('meeting-empty', [event(), event()]);
    if (!isRight(written)) throw new Error('append failed');
    expect(await store.appendToStream('meeting-empty', [], { expectedRevision: 1 })).toEqual({
      _tag: 'Right',
      right: written.right,
    });
    expect(await store.appendToStream('meeting-empty', [], { expectedRevision: 'no_stream' })).toEqual({
      _tag: 'Left',
      left: { _tag: 'WrongExpectedRevision', streamName: 'meeting-empty', expected: 'no_stream', actual: 1 },
    });
    expect(fake.events).toHaveLength(2);
  });

  it('stores actor, correlation and causation as JSON metadata', async () => {
    const { fake, store } = await setUp();
    const metadata = { actor: { id: 'p-1', roles: ['coach'] }, correlationId: 'c-1', causationId: 'k-1' };
    await store.appendToStream('meeting-meta', [{ ...event(), metadata }]);
    const stored = fake.events[0];
    expect(stored?.contentType).toBe('application/json');
    expect(JSON.parse(new TextDecoder().decode(stored?.customMetadata))).toEqual(metadata);
  });

  it('resumes a subscription after the server restarts, without duplicates or gaps', async () => {
    const warnings: string[] = [];
    const infos: string[] = [];
    const logger = {
      info: (_: object, m: string) => infos.push(m),
      warn: (_: object, m: string) => warnings.push(m),
      error: () => {},
    };
    const { fake, store } = await setUp(
      {},
      {
        logger,
        retry: { initialDelayMs: 20, maxDelayMs: 200 },
        // High, so that the status stays 'reconnecting' (not 'down') for the whole outage.
        downAfterFailedAttempts: 1_000_000,
      },
    );
    const writer = await openKurrentDbEventStore({ connectionString: fake.connectionString });
    cleanups.push(() => writer.close());

    const received: RecordedEvent[] = [];
    const subscription = store.subscribeToAll({}, (e) => {
      received.push(e);
    });
    cleanups.push(() => subscription.stop());
    const before = [event(), event(), event()];
    await writer.appendToStream('meeting-r', before);
    await waitUntil(() => received.length >= 3, 'events before the outage arrived');
    expect(store.connectionStatus()).toBe('connected');

    await fake.stop();
    await waitUntil(() => store.connectionStatus() === 'reconnecting', 'the store noticed the outage');

    await fake.start();
    // Written while the subscriber may still be waiting to retry.
    const during = [event(), event()];
    await writer.appendToStream('meeting-r', during);
    await waitUntil(() => store.connectionStatus() === 'connected', 'the store reconnected');
    const after = [event()];
    await writer.appendToStream('meeting-r', after);
    await waitUntil(() => received.length >= 6, 'events after the outage arrived');

    expect(received.map((e) => e.id)).toEqual([...before, ...during, ...after].map((e) => e.id));
    expect(warnings.some((w) => w.includes(`127.0.0.1:${fake.port}`))).toBe(true);
    expect(infos.some((m) => m.includes('resumed'))).toBe(true);
    // The resubscription started after the last delivered event, not from the beginning.
    const subscribes = fake.requests.filter((r) => r.kind === 'subscribe');
    expect(subscribes.length).toBeGreaterThanOrEqual(2);
    expect(subscribes.at(-1)).toMatchObject({ from: BigInt(received[2]?.position ?? -1) });
  });

  it('says down after repeated failed reconnects and down after close', async () => {
    const { fake, store } = await setUp(
      {},
      { retry: { initialDelayMs: 10, maxDelayMs: 20 }, downAfterFailedAttempts: 3 },
    );
    const subscription = store.subscribeToAll({}, () => {});
    cleanups.push(() => subscription.stop());
    await fake.stop();
    await waitUntil(() => store.connectionStatus() === 'down', 'the store gave the connection up as down');
    await fake.start();
    await waitUntil(() => store.connectionStatus() === 'connected', 'the store came back');
    await subscription.stop();
    await store.close();
    expect(store.connectionStatus()).toBe('down');
    await expect(store.readAll()).rejects.toThrow(/closed/);
  });

  it('rejects at start-up with an error naming the host but not the credentials when nothing listens', async () => {
    const port = await freePort();
    const attempt = openKurrentDbEventStore({
      connectionString: `kurrentdb://admin:s3cret-pw@127.0.0.1:${port}?tls=false`,
      connectTimeoutMs: 3000,
    });
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(`Cannot reach KurrentDB at 127.0.0.1:${port}`);
    expect(message).not.toContain('s3cret-pw');
    expect(message).not.toContain('admin');
  });

  it('reads a stream from the leader when a command is decided on it, and without asking otherwise', async () => {
    // nodePreference=follower: the client then asks for the leader only when a read says so (with the default
    // preference, leader, the Rust part of the client sends requires-leader on every read).
    const { fake, store } = await setUp({}, {});
    const reader = await openKurrentDbEventStore({
      connectionString: `${fake.connectionString}&nodePreference=follower`,
    });
    cleanups.push(() => reader.close());
    await store.appendToStream('meeting-lead', [event('Counted', { n: 1 })]);
    const streamReads = () =>
      fake.requests.flatMap((r) =>
        r.kind === 'read' && r.target === 'stream' && r.streamName === 'meeting-lead' ? [r] : [],
      );

    await reader.readStream('meeting-lead');
    expect(streamReads().at(-1)?.requiresLeader).toBe(false);

    const Counted = t.type({ type: t.literal('Counted'), data: t.type({ n: t.number }) });
    const decider = {
      initialState: () => 0,
      evolve: (state: number, e: t.TypeOf<typeof Counted>) => state + e.data.n,
      decide: (command: number, state: number) => right([{ type: 'Counted' as const, data: { n: command + state } }]),
    };
    const before = streamReads().length;
    const handled = await handleCommand(reader, 'meeting-lead', { decider, codec: Counted }, 1, {
      expectedRevision: 0,
      newId: randomUUID,
    });
    expect(isRight(handled)).toBe(true);
    const decisionReads = streamReads().slice(before);
    expect(decisionReads.length).toBeGreaterThan(0);
    expect(decisionReads.every((r) => r.requiresLeader)).toBe(true);
    const loaded = await loadAggregate(reader, 'meeting-lead', Counted, decider.evolve, 0);
    expect(loaded).toMatchObject({ right: { state: 3, revision: 1 } });
    expect(streamReads().at(-1)?.requiresLeader).toBe(true);
  });

  it('tells the head position without scanning the log on every call', async () => {
    const { fake, store } = await setUp({}, { streamPrefixes: ['meeting-'] });
    await store.appendToStream('meeting-h', [event()]);
    // A shared database: another application wrote a lot after our last event.
    for (let i = 0; i < 3000; i++) fake.injectEvent(`billing-${i}`, 'Invoiced', { i });
    const ours = (await store.readStream('meeting-h'))[0]?.position;
    const scannedBy = async (call: () => Promise<number>) => {
      const from = fake.requests.length;
      const value = await call();
      const reads = fake.requests.slice(from).flatMap((r) => (r.kind === 'read' && r.target === 'all' ? [r] : []));
      return { value, scanned: reads.reduce((sum, r) => sum + (r.scanned ?? 0), 0) };
    };

    // The first answer has to look back past the other application's events once.
    expect((await scannedBy(() => store.headPosition())).value).toBe(ours);
    // Then, while nothing is written, an answer costs one record, as /health asks it every time.
    for (let i = 0; i < 5; i++)
      expect(await scannedBy(() => store.headPosition())).toEqual({ value: ours, scanned: 1 });
    // Our own newest event at the end: one record as well.
    const appended = await store.appendToStream('meeting-h', [event()]);
    if (!isRight(appended)) throw new Error('append failed');
    expect(await scannedBy(() => store.headPosition())).toEqual({ value: appended.right.position, scanned: 1 });
    // Someone else's write after ours: one look back to ours, then cheap again.
    fake.injectEvent('billing-x', 'Invoiced', {});
    expect(await scannedBy(() => store.headPosition())).toEqual({ value: appended.right.position, scanned: 3 });
    expect(await scannedBy(() => store.headPosition())).toEqual({ value: appended.right.position, scanned: 1 });
  });

  it('refuses an append over the max append size before sending it, counted as the server counts it', async () => {
    const limit = 10_000;
    const fake = await startFakeKurrentDb({ maxAppendSize: limit });
    cleanups.push(() => fake.close());
    // data {"t":"xx…"} (8 + n bytes) + metadata {} (2 bytes) + 2 × the type's length (6 bytes for "Big").
    const sized = (bytes: number) => event('Big', { t: 'x'.repeat(bytes - 16) });
    const guarded = await openKurrentDbEventStore({ connectionString: fake.connectionString, maxAppendSize: limit });
    cleanups.push(() => guarded.close());
    expect(isRight(await guarded.appendToStream('meeting-size', [sized(limit)]))).toBe(true);
    const refused = await guarded.appendToStream('meeting-size', [sized(limit + 1)]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(AppendTooLargeError);
    expect(refused).toMatchObject({ streamName: 'meeting-size', size: limit + 1, limit });
    expect((refused as Error).message).toContain(`${limit + 1} bytes, over the event store's limit of ${limit} bytes`);
    const sent = fake.requests.flatMap((r) => (r.kind === 'batchAppend' ? [r] : []));
    expect(sent.map((r) => [r.size, r.outcome])).toEqual([[limit, 'success']]);

    // A server whose limit is lower than the adapter's: its refusal comes back as the same typed error.
    const trusting = await openKurrentDbEventStore({ connectionString: fake.connectionString });
    cleanups.push(() => trusting.close());
    const byServer = await trusting.appendToStream('meeting-size', [sized(limit + 1)]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(byServer).toBeInstanceOf(AppendTooLargeError);
    expect(byServer).toMatchObject({ limit });
    expect(fake.requests.at(-1)).toMatchObject({
      kind: 'batchAppend',
      size: limit + 1,
      outcome: 'maximum-append-size-exceeded',
    });
    // The stream is untouched and the shared BatchAppend stream still works.
    expect(isRight(await trusting.appendToStream('meeting-size', [event()], { expectedRevision: 0 }))).toBe(true);
  });

  it('the fake answers an append whose deadline has passed with Timeout, as the server does', async () => {
    const fake = await startFakeKurrentDb();
    cleanups.push(() => fake.close());
    const raw = KurrentDBClient.connectionString(fake.connectionString);
    cleanups.push(() => raw.dispose());
    const ok = await raw.appendToStream('meeting-deadline', [jsonEvent({ type: 'Tested', data: { n: 1 } })]);
    expect(ok.success).toBe(true);
    // A deadline of now has passed by the time the server reads the request.
    const late = await raw
      .appendToStream('meeting-deadline', [jsonEvent({ type: 'Tested', data: { n: 2 } })], { deadline: 0 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(late).toBeInstanceOf(DeadlineExceededError);
    expect(fake.requests.flatMap((r) => (r.kind === 'batchAppend' ? [r.outcome] : []))).toEqual(['success', 'timeout']);
    expect(fake.events).toHaveLength(1);
  });

  it('over TLS with credentials, a user allowed to read $all appends, reads and subscribes', async () => {
    const fake = await startFakeKurrentDb({
      tls: true,
      users: { admin: { password: 'changeit', groups: ['$admins'] }, reader: { password: 'r-pw', readAll: true } },
    });
    cleanups.push(() => fake.close());
    const store = await openKurrentDbEventStore({ connectionString: fake.connectionStringFor('reader', 'r-pw') });
    cleanups.push(() => store.close());
    const written = event();
    expect(isRight(await store.appendToStream('meeting-tls', [written]))).toBe(true);
    expect((await store.readAll()).map((e) => e.id)).toEqual([written.id]);
    const received: RecordedEvent[] = [];
    const subscription = store.subscribeToAll({}, (e) => {
      received.push(e);
    });
    cleanups.push(() => subscription.stop());
    await waitUntil(() => received.length === 1, 'the subscription delivered the event');
    // Both parts of the client (grpc-js for appends and subscriptions, the Rust bridge for reads) sent credentials.
    expect(fake.requests.filter((r) => r.kind !== 'features').every((r) => r.user === 'reader')).toBe(true);
  });

  it('says access is denied, naming the user, when the user may not read $all', async () => {
    const fake = await startFakeKurrentDb({ tls: true, users: { booking: { password: 's3cret-pw', groups: [] } } });
    cleanups.push(() => fake.close());
    const error = await openKurrentDbEventStore({
      connectionString: fake.connectionStringFor('booking', 's3cret-pw'),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KurrentDbAccessDeniedError);
    const message = (error as Error).message;
    expect(message).toContain(`KurrentDB at 127.0.0.1:${fake.port} denied access to user 'booking'`);
    expect(message).toContain('read access to $all');
    expect(message).not.toMatch(/Cannot reach/);
    expect(message).not.toContain('s3cret-pw');
    expect(fake.requests.some((r) => r.kind === 'read' && r.target === 'all' && r.denied === true)).toBe(true);

    const wrongPassword = await openKurrentDbEventStore({
      connectionString: fake.connectionStringFor('booking', 'nope'),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(wrongPassword).toBeInstanceOf(KurrentDbAccessDeniedError);
    expect((wrongPassword as Error).message).toContain("user 'booking'");

    const anonymous = await openKurrentDbEventStore({ connectionString: fake.connectionString }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(anonymous).toBeInstanceOf(KurrentDbAccessDeniedError);
    expect((anonymous as Error).message).toContain('without credentials');
  });

  it('rejects a malformed connection string without echoing its credentials', async () => {
    const error = await openKurrentDbEventStore({ connectionString: 'kurrentdb://admin:s3cret-pw@' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/KurrentDB/);
    expect((error as Error).message).not.toContain('s3cret-pw');
  });

  it('names only the host of a connection string', () => {
    expect(describeConnectionTarget('kurrentdb://u:p@db.example:2113?tls=true')).toBe('db.example:2113');
    expect(describeConnectionTarget('esdb+discover://a:1113,b:1113/?tls=false')).toBe('a:1113,b:1113');
    expect(describeConnectionTarget('kurrentdb://127.0.0.1:2113')).toBe('127.0.0.1:2113');
  });
});

describe('KurrentDB multi-stream append (fake server)', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(
    fakeOptions: Parameters<typeof startFakeKurrentDb>[0] = {},
    storeOptions: Partial<KurrentDbEventStoreOptions> = {},
  ) {
    const fake = await startFakeKurrentDb(fakeOptions);
    cleanups.push(() => fake.close());
    const store = await openKurrentDbEventStore({ connectionString: fake.connectionString, ...storeOptions });
    cleanups.push(() => store.close());
    return { fake, store };
  }

  const multiAppends = (requests: ReadonlyArray<FakeRequest>) =>
    requests.flatMap((r) => (r.kind === 'multiAppend' ? [r] : []));
  const failure = (attempt: Promise<unknown>) =>
    attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
  const two = (): StreamAppend[] => [
    { streamName: 'meeting-1', events: [event()], expectedRevision: 'no_stream' },
    { streamName: 'schedule-p-2026-12', events: [event()], expectedRevision: 'any' },
  ];

  it('sends one AppendSession with the v2 expected revisions, the events as sent and the metadata as properties', async () => {
    const infos: string[] = [];
    const logger = { info: (_: object, m: string) => infos.push(m), warn: () => {}, error: () => {} };
    const { fake, store } = await setUp({}, { logger });
    expect(infos).toContain(`KurrentDB at 127.0.0.1:${fake.port} appends to several streams atomically`);
    expect(await store.supportsMultiStreamAppend()).toBe(true);
    expect(isRight(await store.appendToStream('schedule-b', [event()]))).toBe(true);
    const metadata = { correlationId: 'c-1', causationId: 'k-1' };
    const appends: StreamAppend[] = [
      {
        streamName: 'meeting-a',
        events: [{ ...event('Scheduled', { at: 1 }), metadata }],
        expectedRevision: 'no_stream',
      },
      { streamName: 'schedule-b', events: [event('Reserved')], expectedRevision: 0 },
      { streamName: 'schedule-c', events: [event('Reserved')], expectedRevision: 'any' },
      { streamName: 'meeting-a-2', events: [event('Noted')], expectedRevision: 'stream_exists' },
    ];
    expect(isRight(await store.appendToStream('meeting-a-2', [event()]))).toBe(true);
    const result = await store.appendToStreams(appends);
    expect(result).toMatchObject({
      _tag: 'Right',
      right: {
        streams: [
          { streamName: 'meeting-a', nextExpectedRevision: 0 },
          { streamName: 'schedule-b', nextExpectedRevision: 1 },
          { streamName: 'schedule-c', nextExpectedRevision: 0 },
          { streamName: 'meeting-a-2', nextExpectedRevision: 1 },
        ],
      },
    });
    const [sent] = multiAppends(fake.requests);
    expect(sent?.streams.map((s) => [s.streamName, s.expectedRevision])).toEqual([
      ['meeting-a', -1n],
      ['schedule-b', 0n],
      ['schedule-c', -2n],
      ['meeting-a-2', -4n],
    ]);
    expect(sent?.outcome).toBe('success');
    // Stored as properties; a v1 read shows them as JSON metadata with the schema name and format added.
    const stored = fake.events.find((e) => e.id === appends[0]?.events[0]?.id);
    expect(stored?.properties).toEqual(metadata);
    expect(stored?.contentType).toBe('application/json');
    expect(JSON.parse(new TextDecoder().decode(stored?.customMetadata))).toEqual({
      ...metadata,
      '$schema.name': 'Scheduled',
      '$schema.format': 'Json',
    });
    // Read back exactly as an event appended to one stream with the same metadata.
    const single = { ...event('Scheduled', { at: 1 }), metadata };
    expect(isRight(await store.appendToStream('meeting-single', [single]))).toBe(true);
    const [viaSession] = await store.readStream('meeting-a');
    const [viaAppend] = await store.readStream('meeting-single');
    expect(viaSession?.metadata).toEqual(metadata);
    const comparable = (e: RecordedEvent | undefined) => e && { type: e.type, data: e.data, metadata: e.metadata };
    expect(comparable(viaSession)).toEqual(comparable(viaAppend));
    if (!isRight(result)) throw new Error('append failed');
    expect(result.right.position).toBe(
      Number(fake.events.find((e) => e.streamName === 'meeting-a-2' && e.revision === 1n)?.position),
    );
  });

  it('answers the refusal the server details: the stream, its expected and its actual revision', async () => {
    const { fake, store } = await setUp();
    expect(isRight(await store.appendToStream('schedule-x', [event(), event(), event()]))).toBe(true);
    const before = fake.events.length;
    const refused = await store.appendToStreams([
      { streamName: 'meeting-x', events: [event()], expectedRevision: 'no_stream' },
      { streamName: 'schedule-x', events: [event()], expectedRevision: 'no_stream' },
    ]);
    expect(refused).toEqual({
      _tag: 'Left',
      left: { _tag: 'WrongExpectedRevision', streamName: 'schedule-x', expected: 'no_stream', actual: 2 },
    });
    const exact = await store.appendToStreams([
      { streamName: 'meeting-x', events: [event()], expectedRevision: 'any' },
      { streamName: 'schedule-x', events: [event()], expectedRevision: 1 },
    ]);
    expect(exact).toEqual({
      _tag: 'Left',
      left: { _tag: 'WrongExpectedRevision', streamName: 'schedule-x', expected: 1, actual: 2 },
    });
    expect(fake.events).toHaveLength(before);
    expect(multiAppends(fake.requests).map((r) => r.outcome)).toEqual([
      'stream-revision-conflict',
      'stream-revision-conflict',
    ]);
  });

  it('on a server before 25.1, says so and rejects without sending anything', async () => {
    const infos: string[] = [];
    const logger = { info: (_: object, m: string) => infos.push(m), warn: () => {}, error: () => {} };
    const { fake, store } = await setUp({ multiStreamAppend: false }, { logger });
    expect(infos.some((m) => m.includes('has no atomic multi-stream append (before 25.1)'))).toBe(true);
    expect(await store.supportsMultiStreamAppend()).toBe(false);
    expect(await failure(store.appendToStreams(two()))).toBeInstanceOf(MultiStreamAppendUnsupportedError);
    expect(await store.supportsMultiStreamAppend()).toBe(false);
    expect(fake.events).toEqual([]);
    expect(multiAppends(fake.requests)).toEqual([]);
    // Its single-stream appends work as before.
    expect(isRight(await store.appendToStream('meeting-old', [event()]))).toBe(true);
  });

  it('takes an UNIMPLEMENTED answer as the server having no multi-stream append, and remembers it', async () => {
    // A server that lists AppendSession without serving it: a node behind a proxy, an older leader in an upgrade.
    const { fake, store } = await setUp({ multiStreamAppend: false, advertiseMultiStreamAppend: true });
    expect(await store.supportsMultiStreamAppend()).toBe(true);
    expect(await failure(store.appendToStreams(two()))).toBeInstanceOf(MultiStreamAppendUnsupportedError);
    expect(await store.supportsMultiStreamAppend()).toBe(false);
    expect(await failure(store.appendToStreams(two()))).toBeInstanceOf(MultiStreamAppendUnsupportedError);
    expect(fake.events).toEqual([]);
    expect(store.connectionStatus()).toBe('connected');
  });

  it('refuses an append over the max append size before sending it, counted as the server counts v2 records', async () => {
    const limit = 10_000;
    const { fake } = await setUp({ maxAppendSize: limit });
    const guarded = await openKurrentDbEventStore({ connectionString: fake.connectionString, maxAppendSize: limit });
    cleanups.push(() => guarded.close());
    // Data {"t":"x…"} (8 + k bytes) + properties {correlationId: "corr-1"} as a Struct (27 bytes) + "Big" (3), and
    // data {} (2) + "Small" (5) in the other stream: k + 45 bytes in all.
    const sized = (total: number): StreamAppend[] => [
      {
        streamName: 'meeting-size',
        events: [{ ...event('Big', { t: 'x'.repeat(total - 45) }), metadata: { correlationId: 'corr-1' } }],
        expectedRevision: 'any',
      },
      { streamName: 'schedule-size', events: [event('Small', {})], expectedRevision: 'any' },
    ];
    expect(isRight(await guarded.appendToStreams(sized(limit)))).toBe(true);
    const refused = await failure(guarded.appendToStreams(sized(limit + 1)));
    expect(refused).toBeInstanceOf(AppendTooLargeError);
    expect(refused).toMatchObject({ streamName: 'meeting-size, schedule-size', size: limit + 1, limit });
    expect(multiAppends(fake.requests).map((r) => [r.size, r.outcome])).toEqual([[limit, 'success']]);

    // A server whose limit is lower than the adapter's: its refusal comes back as the same typed error.
    const trusting = await openKurrentDbEventStore({ connectionString: fake.connectionString });
    cleanups.push(() => trusting.close());
    const byServer = await failure(trusting.appendToStreams(sized(limit + 1)));
    expect(byServer).toBeInstanceOf(AppendTooLargeError);
    expect(byServer).toMatchObject({ size: limit + 1, limit });
    expect(multiAppends(fake.requests).at(-1)).toMatchObject({ outcome: 'append-transaction-size-exceeded' });
    expect(fake.events).toHaveLength(2);
  });

  it("maps the server's per-event limit (MaxAppendEventSize) to the same typed error", async () => {
    const { fake, store } = await setUp({ maxAppendEventSize: 100 });
    const big = event('Big', { t: 'x'.repeat(200) });
    const refused = await failure(
      store.appendToStreams([
        { streamName: 'meeting-e', events: [event()], expectedRevision: 'any' },
        { streamName: 'schedule-e', events: [big], expectedRevision: 'any' },
      ]),
    );
    expect(refused).toBeInstanceOf(AppendTooLargeError);
    expect(refused).toMatchObject({ streamName: 'schedule-e', limit: 100 });
    expect(fake.events).toEqual([]);
  });

  it('refuses, before sending, what the server would refuse: a stream twice in any case, ids and types it cannot take', async () => {
    const { fake, store } = await setUp();
    const twice = await failure(
      store.appendToStreams([
        { streamName: 'meeting-Case', events: [event()], expectedRevision: 'any' },
        { streamName: 'MEETING-case', events: [event()], expectedRevision: 'any' },
      ]),
    );
    expect(twice).toBeInstanceOf(RangeError);
    const notUuid = await failure(
      store.appendToStreams([
        { streamName: 'meeting-id', events: [{ ...event(), id: 'not-a-uuid' }], expectedRevision: 'any' },
      ]),
    );
    expect(notUuid).toBeInstanceOf(TypeError);
    const spaced = await failure(
      store.appendToStreams([{ streamName: 'meeting-type', events: [event('Has spaces')], expectedRevision: 'any' }]),
    );
    expect(spaced).toBeInstanceOf(TypeError);
    expect(multiAppends(fake.requests)).toEqual([]);
  });

  it('the fake refuses what the server refuses of a raw AppendSession, writing nothing', async () => {
    const { fake } = await setUp();
    const raw = KurrentDBClient.connectionString(fake.connectionString);
    cleanups.push(() => raw.dispose());
    const one = () => [jsonEvent({ type: 'Tested', data: { n: 1 } })];
    const outcomeOf = async (requests: Parameters<KurrentDBClient['multiStreamAppend']>[0]) => {
      const error = await failure(raw.multiStreamAppend(requests));
      expect(error).toBeInstanceOf(Error);
      return multiAppends(fake.requests).at(-1)?.outcome;
    };
    // AppendSessionCommand compares stream names without regard to case.
    expect(
      await outcomeOf([
        { streamName: 'meeting-dup', events: one(), expectedState: 'any' },
        { streamName: 'MEETING-DUP', events: one(), expectedState: 'any' },
      ]),
    ).toBe('stream-already-in-append-session');
    expect(await outcomeOf([{ streamName: 'meeting-empty', events: [], expectedState: 'any' }])).toBe('bad-request');
    expect(await outcomeOf([{ streamName: '$$', events: one(), expectedState: 'any' }])).toBe('bad-request');
    expect(
      await outcomeOf([
        { streamName: 'meeting-type', events: [jsonEvent({ type: 'no spaces', data: {} })], expectedState: 'any' },
      ]),
    ).toBe('bad-request');
    expect(await outcomeOf([])).toBe('append-session-no-requests');
    expect(fake.events).toEqual([]);
    const ok = await raw.multiStreamAppend([{ streamName: 'meeting-ok', events: one(), expectedState: 'no_stream' }]);
    expect(ok.responses).toEqual([{ streamName: 'meeting-ok', revision: 0n }]);
    expect(ok.position).toBe(fake.events[0]?.position);
  });

  it('reports a lost server as appends do, and appends again once it is back', async () => {
    const { fake, store } = await setUp({}, { logger: { info: () => {}, warn: () => {}, error: () => {} } });
    expect(await store.supportsMultiStreamAppend()).toBe(true);
    await fake.stop();
    expect(await failure(store.appendToStreams(two()))).toBeInstanceOf(Error);
    expect(store.connectionStatus()).toBe('reconnecting');
    await fake.start();
    // The same event ids on every attempt: an attempt whose answer was lost is answered as written by the next.
    const appends = two();
    const deadline = Date.now() + WAIT_TIMEOUT_MS;
    let answer: unknown;
    while (answer === undefined) {
      if (Date.now() > deadline) throw new Error('the multi-stream append never succeeded after the restart');
      answer = await store.appendToStreams(appends).catch(() => undefined);
    }
    expect(answer).toMatchObject({ _tag: 'Right' });
    expect(store.connectionStatus()).toBe('connected');
    expect(fake.events).toHaveLength(2);
  });
});

describe('the fake server in a process of its own, for servers started as processes', () => {
  const children: ChildProcessWithoutNullStreams[] = [];
  const dirs: string[] = [];

  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('takes its options from the test, e.g. a server before 25.1, as the servers it serves see', async () => {
    const fake = await startFakeKurrentDbProcess({ multiStreamAppend: false }, children);
    const store = await openKurrentDbEventStore({ connectionString: fake.connectionString });
    try {
      expect(await store.supportsMultiStreamAppend()).toBe(false);
    } finally {
      await store.close();
    }
    const dataDir = tempDir();
    dirs.push(dataDir);
    const server = await startServerProcess(dataDir, children, {
      env: { KURRENTDB_CONNECTION_STRING: `${fake.connectionString}&discoveryInterval=10` },
      readyWhen: (output) => output.includes('has no atomic multi-stream append'),
    });
    expect(server.output()).toContain(`KurrentDB at 127.0.0.1:${fake.port} has no atomic multi-stream append`);
    server.child.kill('SIGTERM');
    await server.ended;
    await fake.stop();
    expect(fake.child.exitCode).toBe(0);
  });
});
