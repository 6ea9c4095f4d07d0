import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../apps/compose.ts';
import { startFakeKurrentDb } from '../support/fake-kurrentdb.ts';
import type { FakeKurrentDb } from '../support/fake-kurrentdb.ts';
import { TEST_SECRET, client, startTestSystem, tempDir } from '../support/system.ts';
import type { Client, TestSystem } from '../support/system.ts';
import { describeHttpApi, personIds } from '../adapters/http/api-suite.ts';
import { aMeeting } from '../support/builders.ts';
import { capturingLogger } from '../support/logs.ts';
import type { LogLine } from '../support/logs.ts';

/*
 * The whole system on KurrentDB, end to end over HTTP. Everything here runs against tests/support/fake-kurrentdb.ts,
 * an in-process imitation of the KurrentDB gRPC protocol (see its header for where it differs from a real server).
 * The blocks at the end run the same test bodies against a real server only when KURRENTDB_CONNECTION_STRING is set,
 * and are reported as skipped otherwise.
 */

const WAIT_MS = 20_000;
const SLOW_TEST_MS = 90_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `done` holds; another node's projections follow $all, so they show a write a little later. */
async function eventually<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      const last = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
      throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}; last: ${last}`);
    }
    await sleep(25);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

// The Rust part of the client waits discoveryInterval (500 ms by default) before its first connection; shortened
// against the fake only, to keep the many node start-ups quick.
const quickly = (fake: FakeKurrentDb) => `${fake.connectionString}&discoveryInterval=10`;

const startNode = (connectionString: string, options: { dataDir?: string; logger?: Logger } = {}) =>
  startTestSystem({
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    env: { KURRENTDB_CONNECTION_STRING: connectionString },
    ...(options.logger !== undefined ? { system: { logger: options.logger } } : {}),
  });

const range = (from: string, to: string) => `from=${from}&to=${to}`;

/**
 * Several API nodes (each its own DATA_DIR and read models) against one KurrentDB. `idSuffix` keeps runs against a
 * server that outlives them apart.
 */
const describeScaleOut = (label: string, target: { connectionString: () => string; idSuffix: string }) =>
  describe(label, () => {
    const id = { ...personIds(target.idSuffix), dora: `dora${target.idSuffix}` };
    const nodes: TestSystem[] = [];
    let nodeA: TestSystem;
    let nodeB: TestSystem;
    const as = async (node: TestSystem, who: keyof typeof id, roles: string[]): Promise<Client> =>
      node.as(id[who], roles);

    const meeting = (start: string, end: string, overrides: Record<string, unknown> = {}) =>
      aMeeting({
        title: 'Scaled out',
        customerId: id.cora,
        instructorId: id.ivan,
        start,
        end,
        timezone: 'Europe/Berlin',
        trainingType: 'link',
        remoteLink: 'https://meet.example/scale',
        ...overrides,
      });

    beforeAll(async () => {
      nodeA = await startNode(target.connectionString());
      nodes.push(nodeA);
      nodeB = await startNode(target.connectionString());
      nodes.push(nodeB);
      await nodeA.people(
        { id: id.ivan, name: 'Ivan Instructor', email: 'ivan@example.com', timezone: 'Europe/Berlin' },
        { id: id.cora, name: 'Cora Customer', email: 'cora@example.com' },
        { id: id.dora, name: 'Dora Customer', email: 'dora@example.com' },
      );
    }, SLOW_TEST_MS);

    afterAll(async () => {
      for (const node of nodes.splice(0)) await node.destroy();
    });

    it(
      'keeps events in KurrentDB and only read models in DATA_DIR, and reads its own writes at once',
      async () => {
        expect(existsSync(join(nodeA.dataDir, 'read-models-kurrentdb.db'))).toBe(true);
        expect(existsSync(join(nodeA.dataDir, 'events.db'))).toBe(false);
        expect(existsSync(join(nodeA.dataDir, 'read-models.db'))).toBe(false);
        const health = await (await as(nodeA, 'cora', ['customer'])).request('GET', '/health');
        expect(health.status).toBe(200);
        expect(health.body).toMatchObject({ status: 'ok', store: { name: 'kurrentdb', status: 'ok' } });

        const ivan = await as(nodeA, 'ivan', ['instructor']);
        const cora = await as(nodeA, 'cora', ['customer']);
        const created = await ivan.request(
          'POST',
          '/meetings',
          meeting('2032-01-05T09:00:00Z', '2032-01-05T10:00:00Z'),
        );
        expect(created.status).toBe(201);
        const meetingId: string = created.body.id;
        // Every answer below is read right after a 2xx write, without waiting: the node waits for its projections.
        const calendarRange = range('2032-01-01T00:00:00Z', '2032-02-01T00:00:00Z');
        expect((await cora.request('GET', `/meetings/${meetingId}`)).body).toMatchObject({
          state: 'planned',
          revision: 0,
        });
        expect((await cora.request('GET', `/calendar?${calendarRange}`)).body.items).toEqual([
          expect.objectContaining({ meetingId, state: 'planned', counterpartName: 'Ivan Instructor' }),
        ]);
        for (let i = 1; i <= 4; i++) {
          const patched = await ivan.request(
            'PATCH',
            `/meetings/${meetingId}`,
            { title: `Round ${i}` },
            { 'if-match': `"${i - 1}"` },
          );
          expect(patched.status).toBe(200);
          expect(patched.headers.get('etag')).toBe(`"${i}"`);
          expect((await cora.request('GET', `/meetings/${meetingId}`)).body).toMatchObject({
            title: `Round ${i}`,
            revision: i,
          });
          expect((await cora.request('GET', `/meetings/${meetingId}/history`)).body.events).toHaveLength(i + 1);
          expect((await cora.request('GET', `/calendar?${calendarRange}`)).body.items[0]).toMatchObject({
            title: `Round ${i}`,
          });
        }
        expect((await ivan.request('POST', `/meetings/${meetingId}/confirm`)).body.state).toBe('scheduled');
        expect((await cora.request('GET', `/calendar?${calendarRange}`)).body.items[0].state).toBe('scheduled');
        expect((await ivan.request('POST', `/meetings/${meetingId}/cancel`, { reason: 'snow' })).body.state).toBe(
          'cancelled',
        );
        expect((await cora.request('GET', `/calendar?${calendarRange}`)).body.items[0].state).toBe('cancelled');
        expect((await ivan.request('POST', `/meetings/${meetingId}/reinstate`)).body.state).toBe('planned');
        const history = await cora.request('GET', `/meetings/${meetingId}/history`);
        expect(history.body.events.map((e: { type: string }) => e.type)).toEqual([
          'MeetingScheduled',
          'MeetingDetailsChanged',
          'MeetingDetailsChanged',
          'MeetingDetailsChanged',
          'MeetingDetailsChanged',
          'MeetingConfirmed',
          'SessionCancelled',
          'MeetingReinstated',
        ]);
        expect(
          (await ivan.request('PATCH', `/meetings/${meetingId}`, { title: 'stale' }, { 'if-match': '"3"' })).status,
        ).toBe(412);
      },
      SLOW_TEST_MS,
    );

    it(
      'shows on node B what was written through node A: person, meeting, calendar, history, settings',
      async () => {
        const adminA = await as(nodeA, 'ada', ['admin']);
        const adminB = await as(nodeB, 'ada', ['admin']);
        expect(
          (
            await adminA.request('PUT', `/people/${id.dora}`, {
              name: 'Dora Customer',
              email: 'dora@example.com',
              timezone: 'Asia/Tokyo',
            })
          ).status,
        ).toBe(200);
        const person = await eventually(
          'the person on node B',
          () => adminB.request('GET', `/people/${id.dora}`),
          (r) => r.status === 200,
        );
        expect(person.body).toMatchObject({ name: 'Dora Customer', timezone: 'Asia/Tokyo' });

        const ivanA = await as(nodeA, 'ivan', ['instructor']);
        const created = await ivanA.request(
          'POST',
          '/meetings',
          meeting('2032-02-03T09:00:00Z', '2032-02-03T10:00:00Z', { customerId: id.dora }),
        );
        expect(created.status).toBe(201);
        const meetingId: string = created.body.id;
        expect((await ivanA.request('POST', `/meetings/${meetingId}/confirm`)).status).toBe(200);

        const doraB = await nodeB.as(id.dora, ['customer']);
        const seen = await eventually(
          'the confirmed meeting on node B',
          () => doraB.request('GET', `/meetings/${meetingId}`),
          (r) => r.status === 200 && r.body.revision === 1,
        );
        const doraA = await nodeA.as(id.dora, ['customer']);
        expect(seen.body).toEqual((await doraA.request('GET', `/meetings/${meetingId}`)).body);
        const calendarRange = range('2032-02-01T00:00:00Z', '2032-03-01T00:00:00Z');
        expect((await doraB.request('GET', `/calendar?${calendarRange}`)).body).toEqual(
          (await doraA.request('GET', `/calendar?${calendarRange}`)).body,
        );
        expect((await doraB.request('GET', `/calendar?${calendarRange}`)).body.items).toEqual([
          expect.objectContaining({ meetingId, state: 'scheduled', counterpartName: 'Ivan Instructor' }),
        ]);
        expect((await doraB.request('GET', `/meetings/${meetingId}/history`)).body).toEqual(
          (await doraA.request('GET', `/meetings/${meetingId}/history`)).body,
        );

        // And back: a write through B, read on B at once and on A eventually.
        const ivanB = await as(nodeB, 'ivan', ['instructor']);
        const cancelled = await ivanB.request(
          'POST',
          `/meetings/${meetingId}/cancel`,
          { reason: 'from B' },
          { 'if-match': '"1"' },
        );
        expect(cancelled.status).toBe(200);
        expect((await doraB.request('GET', `/meetings/${meetingId}`)).body.state).toBe('cancelled');
        await eventually(
          'the cancellation on node A',
          () => doraA.request('GET', `/meetings/${meetingId}`),
          (r) => r.body.state === 'cancelled',
        );

        const settings = (await adminA.request('GET', '/settings')).body;
        const subject = `Cancelled ${randomUUID()}: {{meetingTitle}}`;
        const saved = await adminA.request('PUT', '/settings', {
          ...settings,
          notifications: { cancellation: { ...settings.notifications.cancellation, subject } },
        });
        expect(saved.status).toBe(200);
        await eventually(
          'the settings on node B',
          () => adminB.request('GET', '/settings'),
          (r) => r.body.notifications?.cancellation?.subject === subject,
        );
      },
      SLOW_TEST_MS,
    );

    it(
      'lets exactly one of two concurrent writes with the same If-Match through, whichever node they reach',
      async () => {
        const ivanA = await as(nodeA, 'ivan', ['instructor']);
        const ivanB = await as(nodeB, 'ivan', ['instructor']);
        const created = await ivanA.request(
          'POST',
          '/meetings',
          meeting('2032-03-03T09:00:00Z', '2032-03-03T10:00:00Z'),
        );
        const meetingId: string = created.body.id;
        await eventually(
          'the meeting on node B',
          () => ivanB.request('GET', `/meetings/${meetingId}`),
          (r) => r.status === 200,
        );

        const rounds = 5;
        const winners: string[] = [];
        for (let round = 0; round < rounds; round++) {
          const etag = `"${round}"`;
          const [fromA, fromB] = await Promise.all([
            ivanA.request('PATCH', `/meetings/${meetingId}`, { title: `A${round}` }, { 'if-match': etag }),
            ivanB.request('PATCH', `/meetings/${meetingId}`, { title: `B${round}` }, { 'if-match': etag }),
          ]);
          expect([fromA.status, fromB.status].sort()).toEqual([200, 412]);
          const winner = fromA.status === 200 ? fromA : fromB;
          const loser = fromA.status === 200 ? fromB : fromA;
          expect(winner.headers.get('etag')).toBe(`"${round + 1}"`);
          expect(loser.body).toMatchObject({ status: 412 });
          winners.push(winner.body.title);
        }
        const history = (await ivanA.request('GET', `/meetings/${meetingId}/history`)).body.events;
        expect(history.map((e: { revision: number }) => e.revision)).toEqual([0, 1, 2, 3, 4, 5]);
        expect(history.slice(1).map((e: { data: { changes: { title?: string } } }) => e.data.changes.title)).toEqual(
          winners,
        );
        const onB = await eventually(
          'the last winner on node B',
          () => ivanB.request('GET', `/meetings/${meetingId}`),
          (r) => r.body.revision === rounds,
        );
        expect(onB.body.title).toBe(winners.at(-1));
      },
      SLOW_TEST_MS,
    );

    it(
      'builds the read models of a node on a fresh DATA_DIR from $all, the same as the first node has them',
      async () => {
        const adminA = await as(nodeA, 'ada', ['admin']);
        const created = await adminA.request(
          'POST',
          '/meetings',
          meeting('2032-04-04T09:00:00Z', '2032-04-04T10:00:00Z'),
        );
        const meetingId: string = created.body.id;
        await adminA.request('PATCH', `/meetings/${meetingId}`, { title: 'Rebuilt', trainingType: '1-1' });
        await adminA.request('POST', `/meetings/${meetingId}/cancel`, { reason: 'rebuild' });
        const calendarPath = `/calendar?userId=${id.cora}&${range('2032-01-01T00:00:00Z', '2033-01-01T00:00:00Z')}`;
        const before = {
          meeting: (await adminA.request('GET', `/meetings/${meetingId}`)).body,
          calendar: (await adminA.request('GET', calendarPath)).body,
          history: (await adminA.request('GET', `/meetings/${meetingId}/history`)).body,
          person: (await adminA.request('GET', `/people/${id.cora}`)).body,
        };

        const nodeC = await startNode(target.connectionString());
        nodes.push(nodeC);
        expect(existsSync(join(nodeC.dataDir, 'events.db'))).toBe(false);
        await nodeC.system.projections.waitFor(await nodeC.system.store.headPosition(), 60_000);
        const adminC = await as(nodeC, 'ada', ['admin']);
        expect((await adminC.request('GET', `/meetings/${meetingId}`)).body).toEqual(before.meeting);
        expect((await adminC.request('GET', calendarPath)).body).toEqual(before.calendar);
        expect((await adminC.request('GET', `/meetings/${meetingId}/history`)).body).toEqual(before.history);
        expect((await adminC.request('GET', `/people/${id.cora}`)).body).toEqual(before.person);
        const health = await adminC.request('GET', '/health');
        expect(health.body.store).toEqual({ name: 'kurrentdb', status: 'ok' });
      },
      SLOW_TEST_MS,
    );

    it('holds an Idempotency-Key across nodes: node B repeats what node A answered, and refuses the key for another request', async () => {
      const key = `cross-node-${target.idSuffix}-${Date.now()}`;
      const body = meeting('2032-03-01T09:00:00Z', '2032-03-01T10:00:00Z');
      const onA = await (
        await as(nodeA, 'ivan', ['instructor'])
      ).request('POST', '/meetings', body, { 'idempotency-key': key });
      expect(onA.status).toBe(201);
      const ivanOnB = await as(nodeB, 'ivan', ['instructor']);
      const onB = await ivanOnB.request('POST', '/meetings', body, { 'idempotency-key': key });
      expect(onB).toMatchObject({ status: 201, body: onA.body });
      expect(onB.headers.get('idempotent-replayed')).toBe('true');
      expect(onB.headers.get('location')).toBe(onA.headers.get('location'));
      const other = await ivanOnB.request(
        'POST',
        '/meetings',
        meeting('2032-03-02T09:00:00Z', '2032-03-02T10:00:00Z'),
        { 'idempotency-key': key },
      );
      expect(other.status).toBe(422);
    });
  });

describe('the system on KurrentDB (fake server)', () => {
  describeHttpApi('HTTP API on KurrentDB (fake server)', {
    storeName: 'kurrentdb',
    setup: async () => {
      const fake = await startFakeKurrentDb();
      try {
        const sys = await startNode(quickly(fake));
        return {
          sys,
          teardown: async () => {
            await sys.destroy();
            await fake.close();
          },
        };
      } catch (error) {
        await fake.close();
        throw error;
      }
    },
  });

  describe('several API nodes against one server', () => {
    let fake: FakeKurrentDb;
    beforeAll(async () => {
      fake = await startFakeKurrentDb();
    });
    afterAll(async () => {
      await fake.close();
    });
    describeScaleOut('scale-out (fake server)', { connectionString: () => quickly(fake), idSuffix: '' });
  });

  describe('node restarts, outages and start-up failures', () => {
    let fake: FakeKurrentDb;
    const dirs: string[] = [];
    beforeAll(async () => {
      fake = await startFakeKurrentDb();
    });
    afterAll(async () => {
      await fake.close();
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    const body = (start: string, end: string) =>
      aMeeting({ start, end, trainingType: 'link', remoteLink: 'https://meet.example/outage' });

    it('a restarted node resumes $all after the checkpoint in its own DATA_DIR, not from the start', async () => {
      const dataDir = tempDir();
      dirs.push(dataDir);
      const subscribes = (from: number) =>
        fake.requests.slice(from).filter((r) => r.kind === 'subscribe' && r.target === 'all');
      const first = await startNode(quickly(fake), { dataDir });
      await first.people('cora', 'ivan');
      const admin = await first.as('ada', ['admin']);
      const created = await admin.request('POST', '/meetings', body('2033-01-02T10:00:00Z', '2033-01-02T11:00:00Z'));
      expect(created.status).toBe(201);
      const checkpoint = Math.min(...first.system.readModels.sinks.map((sink) => sink.checkpoint()));
      const booked = fake.events.find((e) => e.streamName === `meeting-${created.body.id}`);
      expect(checkpoint).toBeGreaterThanOrEqual(Number(booked?.position));
      await first.close();
      // Projections and reactions each follow the log with a subscription of their own.
      const followers = subscribes(0).length;
      expect(followers).toBeGreaterThan(0);

      const requestsBefore = fake.requests.length;
      const second = await startNode(quickly(fake), { dataDir });
      try {
        // Subscriptions are opened in the background of start-up, so their requests may still be on the way.
        const resumed = await eventually(
          'every follower to subscribe again',
          async () => subscribes(requestsBefore),
          (found) => found.length >= followers,
        );
        // Each from its own checkpoint: the projections from theirs, the reactions from theirs (a reaction may hold
        // its place back, as the change emails do before an open window's first change) — none from the start.
        const froms = resumed.map((r) => (r.kind === 'subscribe' ? r.from : undefined));
        const last = fake.events.at(-1)?.position ?? 0n;
        expect(froms.every((from) => typeof from === 'bigint' && from > 0n && from <= last)).toBe(true);
        // The projections resume at least where they were when the meeting was booked (the reactions' writes after
        // it are projected before the close too).
        expect(froms.some((from) => typeof from === 'bigint' && from >= BigInt(checkpoint))).toBe(true);
        const admin2 = await second.as('ada', ['admin']);
        expect((await admin2.request('GET', `/meetings/${created.body.id}`)).body).toEqual(created.body);
      } finally {
        await second.close();
      }
    });

    it(
      'reports a lost connection in /health and the log, fails writes meanwhile, and recovers when the server is back',
      async () => {
        const { lines, logger } = capturingLogger<LogLine & { component?: string }>();
        const node = await startNode(quickly(fake), { logger });
        try {
          await node.people('cora', 'ivan');
          const admin = await node.as('ada', ['admin']);
          const anon = client(node.url, undefined);
          const healthy = await anon.request('GET', '/health');
          expect(healthy.status).toBe(200);
          expect(healthy.body.store).toEqual({ name: 'kurrentdb', status: 'ok' });
          const created = await admin.request(
            'POST',
            '/meetings',
            body('2033-02-02T10:00:00Z', '2033-02-02T11:00:00Z'),
          );
          expect(created.status).toBe(201);
          const meetingsPosition: number = (await anon.request('GET', '/health')).body.projections.meetings.position;
          // The booking is projected (the reactions may have written more after it meanwhile).
          const booked = fake.events.find((e) => e.streamName === `meeting-${created.body.id}`);
          expect(meetingsPosition).toBeGreaterThanOrEqual(Number(booked?.position));

          await fake.stop();
          const degraded = await eventually(
            '/health to report the outage',
            () => anon.request('GET', '/health'),
            (r) => r.status === 503,
          );
          expect(degraded.body.status).toBe('degraded');
          expect(degraded.body.store.name).toBe('kurrentdb');
          expect(['reconnecting', 'down']).toContain(degraded.body.store.status);
          expect(degraded.body.projections.meetings.position).toBeGreaterThanOrEqual(meetingsPosition);

          const eventsBefore = fake.events.length;
          const failed = await admin.request('POST', `/meetings/${created.body.id}/confirm`);
          expect(failed.status).toBeGreaterThanOrEqual(500);
          expect(fake.events.length).toBe(eventsBefore);
          const warnings = lines.filter((l) => l.component === 'kurrentdb' && l.level === 40);
          expect(warnings.some((l) => l.msg.includes(`127.0.0.1:${fake.port}`))).toBe(true);

          await fake.start();
          const recovered = await eventually(
            '/health to recover',
            () => anon.request('GET', '/health'),
            (r) => r.status === 200,
          );
          expect(recovered.body).toMatchObject({ status: 'ok', store: { name: 'kurrentdb', status: 'ok' } });
          expect(lines.some((l) => l.component === 'kurrentdb' && l.level === 30 && /resumed/.test(l.msg))).toBe(true);
          const confirmed = await admin.request('POST', `/meetings/${created.body.id}/confirm`);
          expect(confirmed.status).toBe(200);
          expect((await admin.request('GET', `/meetings/${created.body.id}`)).body).toMatchObject({
            state: 'scheduled',
            revision: 1,
          });
        } finally {
          if (!fake.running) await fake.start();
          await node.destroy();
        }
      },
      SLOW_TEST_MS,
    );

    it('refuses to start when nothing answers at the connection string, naming the host', async () => {
      const port = await freePort();
      const dataDir = tempDir();
      dirs.push(dataDir);
      const error = await startNode(`kurrentdb://admin:s3cret-pw@127.0.0.1:${port}?tls=false&discoveryInterval=10`, {
        dataDir,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StartupError);
      expect((error as Error).message).toMatch(new RegExp(`^Cannot reach KurrentDB at 127\\.0\\.0\\.1:${port}\\b`));
      expect((error as Error).message).not.toContain('s3cret-pw');
    });

    const runServer = (connectionString: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const dataDir = tempDir();
        dirs.push(dataDir);
        execFile(
          process.execPath,
          ['--import', 'tsx', 'apps/server.ts'],
          {
            env: {
              ...process.env,
              KURRENTDB_CONNECTION_STRING: connectionString,
              DATA_DIR: dataDir,
              AUTH_JWT_SECRET: TEST_SECRET,
              PORT: '0',
              LOG_LEVEL: 'silent',
            },
            timeout: 60_000,
          },
          (error, _stdout, stderr) =>
            resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
        );
      });

    it(
      'the server prints the unreachable host without a stack trace and exits 1',
      async () => {
        const port = await freePort();
        const { code, stderr } = await runServer(`kurrentdb://admin:s3cret-pw@127.0.0.1:${port}?tls=false`);
        expect(code).toBe(1);
        expect(stderr.trim()).toMatch(
          new RegExp(`^Failed to start: Cannot reach KurrentDB at 127\\.0\\.0\\.1:${port}: [^\\n]+$`),
        );
        expect(stderr).not.toContain('s3cret-pw');
      },
      SLOW_TEST_MS,
    );

    it(
      'the server says access is denied, naming the user, when the user may not read $all, and exits 1',
      async () => {
        const secured = await startFakeKurrentDb({
          tls: true,
          users: { booking: { password: 's3cret-pw', groups: [] } },
        });
        try {
          const { code, stderr } = await runServer(secured.connectionStringFor('booking', 's3cret-pw'));
          expect(code).toBe(1);
          expect(stderr.trim()).toMatch(
            new RegExp(
              `^Failed to start: KurrentDB at 127\\.0\\.0\\.1:${secured.port} denied access to user 'booking' [^\\n]*read access to \\$all[^\\n]*$`,
            ),
          );
          expect(stderr).not.toMatch(/Cannot reach/);
          expect(stderr).not.toContain('s3cret-pw');
        } finally {
          await secured.close();
        }
      },
      SLOW_TEST_MS,
    );

    it(
      'the server calls a malformed connection string a configuration error and exits 2',
      async () => {
        const { code, stderr } = await runServer('kurrentdb://admin:s3cret-pw@');
        expect(code).toBe(2);
        expect(stderr.trim()).toMatch(
          /^Configuration error: KURRENTDB_CONNECTION_STRING: Invalid KurrentDB connection string\b[^\n]*$/,
        );
        expect(stderr).not.toContain('s3cret-pw');
      },
      SLOW_TEST_MS,
    );
  });
});

const realConnectionString = process.env['KURRENTDB_CONNECTION_STRING'];

describe.skipIf(!realConnectionString)('the system on a real KurrentDB (KURRENTDB_CONNECTION_STRING)', () => {
  // The server keeps what earlier runs wrote: person ids carry a per-run suffix so calendars never mix runs.
  const idSuffix = `-${randomUUID().slice(0, 8)}`;
  describeHttpApi('HTTP API on KurrentDB (real server)', {
    storeName: 'kurrentdb',
    idSuffix,
    setup: async () => {
      const sys = await startNode(realConnectionString ?? '');
      return { sys, teardown: () => sys.destroy() };
    },
  });
  describeScaleOut('scale-out (real server)', { connectionString: () => realConnectionString ?? '', idSuffix });
});
