import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../adapters/http/auth.ts';
import { TestClient, sleep } from '../adapters/signaling/harness.ts';
import { aMeeting } from '../support/builders.ts';
import { REDIS_SERVER, needingRedis, startRedisServer } from '../support/redis-server.ts';
import type { RedisServer } from '../support/redis-server.ts';
import { startServerProcess } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';
import { TEST_SECRET, client, putPeople, startTestSystem, tempDir } from '../support/system.ts';
import type { Client } from '../support/system.ts';

/**
 * Two real server processes on one shared SQLite event store (DATA_DIR), each with its own read models
 * (READ_MODELS_DIR), and one Redis of the test's own: the customer's call goes through node A, the instructor's
 * through node B.
 */

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];
const sockets: TestClient[] = [];
let redis: RedisServer | undefined;

afterEach(() => {
  for (const s of sockets.splice(0)) s.ws.terminate();
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await redis?.stop();
});

const waitUntil = async (check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await sleep(50);
  }
};

const busStatus = async (node: ServerProcess): Promise<string> =>
  (await client(node.url, undefined).request('GET', '/health')).body.signaling.status as string;

const as = async (node: ServerProcess, sub: string, roles: string[]): Promise<Client> =>
  client(node.url, await mintToken(new TextEncoder().encode(TEST_SECRET), { sub, roles }, 3600));

const startNodes = async (redisUrl: string): Promise<[ServerProcess, ServerProcess]> => {
  const shared = tempDir('cross-node-');
  dirs.push(shared);
  const node = (name: string) =>
    startServerProcess(shared, children, {
      env: { READ_MODELS_DIR: join(shared, name), REDIS_URL: redisUrl },
      readyWhen: () => true,
    });
  // One after the other: the first creates the shared store's schema.
  const a = await node('node-a');
  const b = await node('node-b');
  return [a, b];
};

/** A meeting that is on now (the servers' clock is the real one), booked through A, visible on both nodes. */
const bookNow = async (a: ServerProcess, b: ServerProcess, suffix: string) => {
  const [customerId, instructorId] = [`cora-${suffix}`, `ivan-${suffix}`];
  const admin = await as(a, 'ada', ['admin']);
  await putPeople(admin, customerId, instructorId);
  const now = Date.now();
  const res = await admin.request(
    'POST',
    '/meetings',
    aMeeting({
      customerId,
      instructorId,
      start: new Date(now - 5 * 60_000).toISOString(),
      end: new Date(now + 55 * 60_000).toISOString(),
    }),
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const id = res.body.id as string;
  const adminB = await as(b, 'ada', ['admin']);
  await waitUntil(async () => (await adminB.request('GET', `/meetings/${id}`)).status === 200);
  return { id, customer: await as(a, customerId, ['customer']), instructor: await as(b, instructorId, ['instructor']) };
};

/** The join answer from the node's API, and a socket to that node with its ticket. */
const joinThrough = async (node: ServerProcess, who: Client, meetingId: string): Promise<TestClient> => {
  const res = await who.request('POST', `/meetings/${meetingId}/join`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.mode).toBe('native');
  const socket = new TestClient(
    `${node.url.replace(/^http/, 'ws')}/signaling?ticket=${encodeURIComponent(res.body.ticket as string)}`,
  );
  sockets.push(socket);
  return socket;
};

describe('a node without REDIS_URL', () => {
  it('keeps its rooms in process and says so in /health', async () => {
    const sys = await startTestSystem();
    try {
      const health = await client(sys.url, undefined).request('GET', '/health');
      expect(health.status).toBe(200);
      expect(health.body.signaling).toEqual({ bus: 'in-process', status: 'ok' });
    } finally {
      await sys.destroy();
    }
  });
});

describe.skipIf(REDIS_SERVER === undefined)(needingRedis('a call across two server processes over Redis'), () => {
  it('pairs the customer on A with the instructor on B, relays unchanged both ways, and ends on cancel', async () => {
    redis ??= await startRedisServer();
    const [a, b] = await startNodes(redis.url);
    await waitUntil(async () => (await busStatus(a)) === 'ok' && (await busStatus(b)) === 'ok');
    expect((await client(b.url, undefined).request('GET', '/health')).body.signaling).toEqual({
      bus: 'redis',
      status: 'ok',
    });
    const { id, customer, instructor } = await bookNow(a, b, 'x');
    const customerSocket = await joinThrough(a, customer, id);
    const welcomeC = await customerSocket.waitType('welcome');
    const instructorSocket = await joinThrough(b, instructor, id);
    const welcomeI = await instructorSocket.waitType('welcome');
    const [pairedC, pairedI] = await Promise.all([
      customerSocket.waitType('peer-joined'),
      instructorSocket.waitType('peer-joined'),
    ]);
    const connectionId = pairedC['connectionId'] as string;
    expect(pairedC).toMatchObject({ peer: { peerId: welcomeI['peerId'], role: 'instructor' }, initiator: false });
    expect(pairedI).toMatchObject({ peer: { peerId: welcomeC['peerId'], role: 'customer' }, initiator: true });
    expect(pairedI['connectionId']).toBe(connectionId);

    const offer = { type: 'offer', sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
    instructorSocket.send({ type: 'signal', connectionId, data: offer });
    expect(await customerSocket.waitType('signal')).toEqual({
      type: 'signal',
      from: welcomeI['peerId'],
      connectionId,
      data: offer,
    });
    const candidate = {
      type: 'candidate',
      candidate: { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host', sdpMLineIndex: 0, sdpMid: '0' },
    };
    customerSocket.send({ type: 'signal', connectionId, data: candidate });
    expect(await instructorSocket.waitType('signal')).toEqual({
      type: 'signal',
      from: welcomeC['peerId'],
      connectionId,
      data: candidate,
    });

    // Cancelled through B: each node's projection re-checks its own member, and both calls end.
    const adminB = await as(b, 'ada', ['admin']);
    expect((await adminB.request('POST', `/meetings/${id}/cancel`, { reason: 'coach ill' })).status).toBe(200);
    const [endC, endI] = await Promise.all([customerSocket.closed, instructorSocket.closed]);
    expect([endC.code, endI.code]).toEqual([4003, 4003]);
    expect(customerSocket.ofType('error')).toEqual([expect.objectContaining({ code: 'cancelled' })]);
    expect(instructorSocket.ofType('error')).toEqual([expect.objectContaining({ code: 'cancelled' })]);
  }, 120_000);

  it('serves HTTP while Redis is unreachable, refuses joins with 1013, and takes calls once Redis is back', async () => {
    const password = 'redis-password-never-logged';
    const server = await startRedisServer({ password });
    try {
      await server.kill();
      const [a, b] = await startNodes(server.url);
      const anon = client(a.url, undefined);
      const health = await anon.request('GET', '/health');
      expect(health.status).toBe(200);
      expect(health.body.signaling).toEqual({ bus: 'redis', status: 'connecting' });
      const { id, customer, instructor } = await bookNow(a, b, 'y');
      const refused = await joinThrough(a, customer, id);
      expect((await refused.closed).code).toBe(1013);
      expect(refused.ofType('error')).toEqual([expect.objectContaining({ code: 'unavailable' })]);

      await server.restart();
      await waitUntil(async () => (await busStatus(a)) === 'ok' && (await busStatus(b)) === 'ok');
      const customerSocket = await joinThrough(a, customer, id);
      const instructorSocket = await joinThrough(b, instructor, id);
      await Promise.all([customerSocket.waitType('peer-joined'), instructorSocket.waitType('peer-joined')]);
      for (const node of [a, b]) {
        expect(node.output()).toContain('signaling bus: connected to Redis');
        expect(node.output()).not.toContain(password);
      }
    } finally {
      await server.stop();
    }
  }, 120_000);
});
