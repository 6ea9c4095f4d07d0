import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SignalingBus } from '../../../application/ports/signaling-bus.ts';
import { createInProcessBroker } from '../../../adapters/signaling/bus-in-process.ts';
import { createRedisBus } from '../../../adapters/signaling/bus-redis.ts';
import { REDIS_SERVER, needingRedis, startRedisServer } from '../../support/redis-server.ts';
import type { RedisServer } from '../../support/redis-server.ts';
import { CUSTOMER, INSTRUCTOR, MEETING, eventually, sleep, startHarness } from './harness.ts';
import type { Harness, TestClient, TestMeeting } from './harness.ts';

/**
 * Two signaling servers (two HTTP servers in this process) sharing one bus: the customer reaches node A, the
 * instructor node B. The same suite runs on an in-process broker and on a Redis server of its own.
 */

let redis: RedisServer | undefined;
afterAll(async () => {
  await redis?.stop();
});

interface Cluster {
  readonly a: Harness;
  readonly b: Harness;
  readonly meetings: Map<string, TestMeeting>;
}

const clusters: Cluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await Promise.all([c.a.close(), c.b.close()]);
});

const startCluster = async (bus: (node: string) => SignalingBus): Promise<Cluster> => {
  const meetings = new Map<string, TestMeeting>();
  const a = await startHarness({ bus: bus('node-a') }, { meetings });
  const b = await startHarness({ bus: bus('node-b') }, { meetings });
  const cluster = { a, b, meetings };
  clusters.push(cluster);
  await eventually(() => expect([a.handle.bus().status, b.handle.bus().status]).toEqual(['ok', 'ok']));
  return cluster;
};

const pairAcross = async ({ a, b }: Cluster) => {
  const customer = await a.join(CUSTOMER, MEETING, 'customer');
  const welcomeC = await customer.waitType('welcome');
  const instructor = await b.join(INSTRUCTOR, MEETING, 'instructor');
  const welcomeI = await instructor.waitType('welcome');
  const [joinedC, joinedI] = await Promise.all([customer.waitType('peer-joined'), instructor.waitType('peer-joined')]);
  return {
    customer,
    instructor,
    welcomeC,
    welcomeI,
    joinedC,
    joinedI,
    connectionId: joinedC['connectionId'] as string,
  };
};

const buses: Array<{ name: string; available: boolean; bus: () => (node: string) => SignalingBus }> = [
  {
    name: 'in-process broker',
    available: true,
    bus: () => {
      const broker = createInProcessBroker();
      return (node) => broker.bus(node);
    },
  },
  {
    name: 'Redis',
    available: REDIS_SERVER !== undefined,
    bus: () => {
      const prefix = `cross-${randomUUID()}:`;
      return (node) => createRedisBus({ url: (redis as RedisServer).url, node, keyPrefix: prefix, heartbeatMs: 2_000 });
    },
  },
];

for (const { name, available, bus } of buses) {
  describe.skipIf(!available)(needingRedis(`signaling across two nodes on one bus: ${name}`, !available), () => {
    const cluster = async () => {
      if (name === 'Redis') redis ??= await startRedisServer();
      return startCluster(bus());
    };

    it('pairs a customer on A with an instructor on B and relays signals unchanged both ways', async () => {
      const c = await cluster();
      const { customer, instructor, welcomeC, welcomeI, joinedC, joinedI, connectionId } = await pairAcross(c);
      expect(joinedC).toEqual({
        type: 'peer-joined',
        peer: { peerId: welcomeI['peerId'], role: 'instructor' },
        connectionId,
        initiator: false,
      });
      expect(joinedI).toEqual({
        type: 'peer-joined',
        peer: { peerId: welcomeC['peerId'], role: 'customer' },
        connectionId,
        initiator: true,
      });
      const offer = { type: 'offer', sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
      const odd = { renegotiate: true, nested: { list: [1, 'two', null, { three: 3.25 }], unicode: 'čau ☎ 🎉' } };
      instructor.send({ type: 'signal', connectionId, data: offer });
      instructor.send({ type: 'signal', connectionId, data: odd });
      const received = await customer.waitCount('signal', 2);
      expect(received).toEqual([
        { type: 'signal', from: welcomeI['peerId'], connectionId, data: offer },
        { type: 'signal', from: welcomeI['peerId'], connectionId, data: odd },
      ]);
      const answer = { type: 'answer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };
      customer.send({ type: 'signal', connectionId, data: answer });
      expect(await instructor.waitType('signal')).toEqual({
        type: 'signal',
        from: welcomeC['peerId'],
        connectionId,
        data: answer,
      });
      // A stale connection id is dropped across nodes too.
      customer.send({ type: 'signal', connectionId: 'stale', data: { type: 'candidate' } });
      customer.send({ type: 'signal', connectionId, data: { type: 'candidate', n: 2 } });
      await instructor.waitCount('signal', 2);
      await sleep(50);
      expect(instructor.ofType('signal')).toHaveLength(2);
      expect(c.a.handle.stats()).toEqual({ rooms: 1, sockets: 1 });
      expect(c.b.handle.stats()).toEqual({ rooms: 1, sockets: 1 });
    });

    it('replaces an older socket of the same user on the other node (4009 there) and pairs the new one', async () => {
      const c = await cluster();
      const { customer: oldCustomer, instructor, welcomeC, connectionId } = await pairAcross(c);
      const newCustomer = await c.b.join(CUSTOMER, MEETING, 'customer');
      const welcome = await newCustomer.waitType('welcome');
      const joined = await newCustomer.waitType('peer-joined');
      expect(joined['connectionId']).not.toBe(connectionId);
      expect((await oldCustomer.closed).code).toBe(4009);
      expect(oldCustomer.ofType('error')).toEqual([expect.objectContaining({ code: 'replaced' })]);
      await instructor.waitCount('peer-joined', 2);
      expect(instructor.messages.map((m) => m.type)).toEqual(['welcome', 'peer-joined', 'peer-left', 'peer-joined']);
      expect(instructor.ofType('peer-left')).toEqual([{ type: 'peer-left', peerId: welcomeC['peerId'] }]);
      expect(instructor.ofType('peer-joined')[1]).toEqual({
        type: 'peer-joined',
        peer: { peerId: welcome['peerId'], role: 'customer' },
        connectionId: joined['connectionId'],
        initiator: true,
      });
      instructor.send({ type: 'signal', connectionId: joined['connectionId'], data: { type: 'offer', sdp: 'fresh' } });
      expect(((await newCustomer.waitType('signal'))['data'] as { sdp: string }).sdp).toBe('fresh');
      await eventually(() => expect(c.a.handle.stats()).toEqual({ rooms: 0, sockets: 0 }));
      expect(oldCustomer.closeCodes).toEqual([4009]);
      expect(newCustomer.open).toBe(true);
    });

    it('tells peer-left across nodes on leave and on a dropped socket; the seat can be taken again', async () => {
      const c = await cluster();
      const { customer, instructor, welcomeC, welcomeI } = await pairAcross(c);
      customer.send({ type: 'leave' });
      expect(await instructor.waitType('peer-left')).toEqual({
        type: 'peer-left',
        peerId: welcomeC['peerId'],
        reason: 'left',
      });
      expect((await customer.closed).code).toBe(1000);

      const again = await c.a.join(CUSTOMER, MEETING, 'customer');
      await again.waitType('peer-joined');
      instructor.ws.terminate();
      expect(await again.waitType('peer-left')).toEqual({ type: 'peer-left', peerId: welcomeI['peerId'] });
      expect(again.open).toBe(true);
    });

    it('refuses a third participant on either node with room_full and 4003, leaving the pair alone', async () => {
      const c = await cluster();
      c.meetings.get(MEETING)!.extra = ['user-other-instructor', 'user-other-customer'];
      const { customer, instructor, connectionId } = await pairAcross(c);
      for (const [node, userId, role] of [
        [c.a, 'user-other-instructor', 'instructor'],
        [c.b, 'user-other-customer', 'customer'],
      ] as const) {
        const third = await node.join(userId, MEETING, role);
        expect((await third.closed).code).toBe(4003);
        expect(third.messages).toEqual([expect.objectContaining({ type: 'error', code: 'room_full' })]);
      }
      await sleep(50);
      expect(customer.ofType('peer-left')).toEqual([]);
      expect(instructor.ofType('peer-left')).toEqual([]);
      instructor.send({ type: 'signal', connectionId, data: { type: 'offer', sdp: 'still paired' } });
      await customer.waitType('signal');
    });

    it('closes both sides with an error frame and 4003 when one node sees the meeting cancelled', async () => {
      const c = await cluster();
      const { customer, instructor } = await pairAcross(c);
      c.meetings.get(MEETING)!.cancelled = true;
      await c.a.handle.meetingChanged(MEETING);
      const [closedC, closedI] = await Promise.all([customer.closed, instructor.closed]);
      expect([closedC.code, closedI.code]).toEqual([4003, 4003]);
      for (const client of [customer, instructor]) {
        expect(client.ofType('error')).toEqual([
          { type: 'error', code: 'cancelled', message: 'The meeting was cancelled.' },
        ]);
      }
      await eventually(() =>
        expect([c.a.handle.stats(), c.b.handle.stats()]).toEqual([
          { rooms: 0, sockets: 0 },
          { rooms: 0, sockets: 0 },
        ]),
      );
    });
  });
}

describe.skipIf(REDIS_SERVER === undefined)(
  needingRedis('signaling across two nodes when Redis goes away mid-call'),
  () => {
    it('keeps the call, refuses new joins with 1013, and relays, pairs and refuses as before once Redis is back', async () => {
      redis ??= await startRedisServer();
      const server = redis;
      const prefix = `outage-${randomUUID()}:`;
      const c = await startCluster((node) =>
        createRedisBus({ url: server.url, node, keyPrefix: prefix, heartbeatMs: 2_000 }),
      );
      c.meetings.get(MEETING)!.extra = ['user-other-instructor'];
      const { customer, instructor, welcomeC, connectionId } = await pairAcross(c);

      await server.kill();
      await eventually(() => expect([c.a.handle.bus().status, c.b.handle.bus().status]).toEqual(['down', 'down']));
      const refused: TestClient = await c.b.join('user-other-instructor', MEETING, 'instructor');
      expect((await refused.closed).code).toBe(1013);
      expect(refused.messages).toEqual([expect.objectContaining({ type: 'error', code: 'unavailable' })]);
      expect(customer.open && instructor.open).toBe(true);

      await server.restart();
      await eventually(() => expect([c.a.handle.bus().status, c.b.handle.bus().status]).toEqual(['ok', 'ok']));
      const data = { type: 'candidate', candidate: { candidate: 'after the outage', sdpMLineIndex: 0 } };
      instructor.send({ type: 'signal', connectionId, data });
      expect((await customer.waitType('signal'))['data']).toEqual(data);
      // The nodes seat their members again (their heartbeat): then a third is refused as before.
      const raw = createClient({ url: server.url });
      await raw.connect();
      try {
        for (let seats = 0; seats < 2; seats = await raw.hLen(`${prefix}room:${MEETING}`)) await sleep(25);
      } finally {
        await raw.close();
      }
      const third = await c.a.join('user-other-instructor', MEETING, 'instructor');
      expect((await third.closed).code).toBe(4003);
      expect(third.ofType('error').map((m) => m['code'])).toEqual(['room_full']);
      customer.send({ type: 'leave' });
      expect(await instructor.waitType('peer-left')).toEqual({
        type: 'peer-left',
        peerId: welcomeC['peerId'],
        reason: 'left',
      });
      expect(instructor.ofType('peer-left')).toHaveLength(1);
    });
  },
);

describe('signaling: what reaches a member before its claim is answered', () => {
  it('waits and follows the welcome in order: the pairing and the first signal are not lost', async () => {
    const broker = createInProcessBroker();
    let answerClaim: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      answerClaim = resolve;
    });
    // Node A's claims are answered only once the test says so, as a slow Redis would.
    const slow = (inner: SignalingBus): SignalingBus => ({
      ...inner,
      claim: async (...args) => {
        const answer = await inner.claim(...args);
        await held;
        return answer;
      },
    });
    const c = await startCluster((node) => (node === 'node-a' ? slow(broker.bus(node)) : broker.bus(node)));
    const customer = await c.a.join(CUSTOMER, MEETING, 'customer');
    await eventually(() => expect(broker.rooms.get(MEETING)).toHaveLength(1));
    const instructor = await c.b.join(INSTRUCTOR, MEETING, 'instructor');
    const joined = await instructor.waitType('peer-joined');
    const offer = { type: 'offer', sdp: 'sent before the customer was welcomed' };
    instructor.send({ type: 'signal', connectionId: joined['connectionId'], data: offer });
    await sleep(100);
    expect(customer.messages).toEqual([]);
    answerClaim();
    await customer.waitType('signal');
    expect(customer.messages.map((m) => m.type)).toEqual(['welcome', 'peer-joined', 'signal']);
    expect(customer.ofType('signal')[0]?.['data']).toEqual(offer);
  });
});
