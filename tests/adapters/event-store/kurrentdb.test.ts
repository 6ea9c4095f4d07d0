import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { isRight } from 'fp-ts/lib/Either.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventToAppend, RecordedEvent } from '../../../application/ports/event-store.ts';
import {
  describeConnectionTarget,
  openKurrentDbEventStore,
} from '../../../adapters/event-store/kurrentdb.ts';
import type { KurrentDbEventStore, KurrentDbEventStoreOptions } from '../../../adapters/event-store/kurrentdb.ts';
import { startFakeKurrentDb } from '../../support/fake-kurrentdb.ts';
import type { FakeKurrentDb, FakeRequest } from '../../support/fake-kurrentdb.ts';
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

  beforeAll(async () => {
    fake = await startFakeKurrentDb();
  });

  afterAll(async () => {
    await fake.close();
  });

  // The Rust part of the client waits discoveryInterval (500 ms by default) before its first connection; shortened
  // here only to keep the many store openings of the contract quick.
  const quickly = () => `${fake.connectionString}&discoveryInterval=10`;

  runEventStoreContract(
    'kurrentdb (fake server)',
    fixtureFor(() => openKurrentDbEventStore({ connectionString: quickly() })),
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
    expect(filtersAsked(fake.requests, 'read')).toContainEqual({ on: 'eventType', prefixes: [], regex: '^[^$].*' });

    const all = await store.readAll({ after: head });
    expect(all.map((e) => e.id)).toEqual([ours.id, later.id]);

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
    const logger = { info: (m: string) => infos.push(m), warn: (m: string) => warnings.push(m), error: () => {} };
    const { fake, store } = await setUp({}, {
      logger,
      retry: { initialDelayMs: 20, maxDelayMs: 200 },
      // High, so that the status stays 'reconnecting' (not 'down') for the whole outage.
      downAfterFailedAttempts: 1_000_000,
    });
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
