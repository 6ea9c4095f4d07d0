import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@redis/client';
import * as E from 'fp-ts/lib/Either.js';
import type { CallRole } from '../../../application/calls.ts';
import type { BusDelivery, Seat, SeatClaim, SignalingBus } from '../../../application/ports/signaling-bus.ts';
import { createInProcessBroker } from '../../../adapters/signaling/bus-in-process.ts';
import { createRedisBus } from '../../../adapters/signaling/bus-redis.ts';
import { REDIS_SERVER, needingRedis, startRedisServer } from '../../support/redis-server.ts';
import type { RedisServer } from '../../support/redis-server.ts';
import { eventually, sleep } from './harness.ts';

const waitUntil = async (check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await sleep(25);
  }
};

/** One node's bus with everything delivered to it, in order. */
interface TestNode {
  readonly bus: SignalingBus;
  readonly got: BusDelivery[];
  /** Seats the node reports as its own (what `localSeats` answers). */
  readonly seats: Array<{ meetingId: string; seat: Seat }>;
  waitFor(count: number): Promise<BusDelivery[]>;
}

interface Adapter {
  readonly name: string;
  readonly available: boolean;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  bus(node: string): SignalingBus;
}

const inProcess = (): Adapter => {
  let broker = createInProcessBroker();
  return {
    name: 'in-process',
    available: true,
    setUp: async () => {
      broker = createInProcessBroker();
    },
    tearDown: async () => {},
    bus: (node) => broker.bus(node),
  };
};

let redis: RedisServer | undefined;
const redisAdapter = (): Adapter => {
  let prefix = '';
  return {
    name: 'redis',
    available: REDIS_SERVER !== undefined,
    setUp: async () => {
      redis ??= await startRedisServer();
      prefix = `test-${randomUUID()}:`;
    },
    tearDown: async () => {},
    bus: (node) => createRedisBus({ url: (redis as RedisServer).url, node, keyPrefix: prefix, heartbeatMs: 2_000 }),
  };
};

afterAll(async () => {
  await redis?.stop();
});

const seat = (node: TestNode, userId: string, role: CallRole): Seat => ({
  peerId: `peer-${randomUUID()}`,
  userId,
  role,
  node: node.bus.node,
});

const admitted = (claim: E.Either<unknown, SeatClaim>): Extract<SeatClaim, { admitted: true }> => {
  if (E.isLeft(claim)) throw new Error(`claim failed: ${JSON.stringify(claim.left)}`);
  if (!claim.right.admitted) throw new Error('claim refused: room full');
  return claim.right;
};

for (const adapter of [inProcess(), redisAdapter()]) {
  describe.skipIf(!adapter.available)(
    needingRedis(`signaling bus contract: ${adapter.name}`, !adapter.available),
    () => {
      const nodes: TestNode[] = [];
      const node = async (name: string): Promise<TestNode> => {
        const bus = adapter.bus(`${name}-${randomUUID().slice(0, 8)}`);
        const got: BusDelivery[] = [];
        const seats: TestNode['seats'] = [];
        bus.start(
          (d) => got.push(d),
          () => seats,
        );
        await eventually(() => expect(bus.status()).toBe('ok'));
        const n: TestNode = {
          bus,
          got,
          seats,
          waitFor: async (count) => {
            await eventually(() => expect(got.length).toBeGreaterThanOrEqual(count));
            return got.slice(0, count);
          },
        };
        nodes.push(n);
        return n;
      };

      beforeAll(async () => {
        await adapter.setUp();
      });
      afterEach(async () => {
        for (const n of nodes.splice(0)) await n.bus.close();
        await adapter.tearDown();
      });

      it('seats the first alone, pairs the second across nodes, and tells the first who and on which connection', async () => {
        const [a, b] = [await node('a'), await node('b')];
        const customer = seat(a, 'cora', 'customer');
        const first = admitted(await a.bus.claim('m1', customer, 'cid-unused'));
        expect(first).toEqual({ admitted: true, replaced: undefined, partner: undefined });
        const instructor = seat(b, 'ivan', 'instructor');
        const second = admitted(await b.bus.claim('m1', instructor, 'cid-1'));
        expect(second.partner).toEqual({ peerId: customer.peerId, role: 'customer', node: a.bus.node });
        expect(await a.waitFor(1)).toEqual([
          {
            kind: 'paired',
            to: customer.peerId,
            peer: { peerId: instructor.peerId, role: 'instructor', node: b.bus.node },
            connectionId: 'cid-1',
          },
        ]);
        await sleep(50);
        expect(b.got).toEqual([]);
      });

      it('refuses a third member and a second one of the same role, telling nobody', async () => {
        const [a, b] = [await node('a'), await node('b')];
        admitted(await a.bus.claim('m2', seat(a, 'cora', 'customer'), 'x'));
        const sameRole = await b.bus.claim('m2', seat(b, 'carl', 'customer'), 'x');
        expect(sameRole).toEqual(E.right({ admitted: false, reason: 'room_full', replaced: undefined }));
        admitted(await b.bus.claim('m2', seat(b, 'ivan', 'instructor'), 'cid'));
        const third = await b.bus.claim('m2', seat(b, 'olga', 'instructor'), 'x');
        expect(third).toEqual(E.right({ admitted: false, reason: 'room_full', replaced: undefined }));
        await a.waitFor(1);
        await sleep(50);
        expect(a.got.map((d) => d.kind)).toEqual(['paired']);
        expect(b.got).toEqual([]);
      });

      it('lets the same user replace its older seat on another node: replaced, then peer-left and paired in order', async () => {
        const [a, b, c] = [await node('a'), await node('b'), await node('c')];
        const instructor = seat(a, 'ivan', 'instructor');
        admitted(await a.bus.claim('m3', instructor, 'x'));
        const oldCustomer = seat(b, 'cora', 'customer');
        admitted(await b.bus.claim('m3', oldCustomer, 'cid-old'));
        const newCustomer = seat(c, 'cora', 'customer');
        const claim = admitted(await c.bus.claim('m3', newCustomer, 'cid-new'));
        expect(claim.replaced).toEqual(oldCustomer);
        expect(claim.partner).toEqual({ peerId: instructor.peerId, role: 'instructor', node: a.bus.node });
        expect(await b.waitFor(1)).toEqual([{ kind: 'replaced', to: oldCustomer.peerId }]);
        expect(await a.waitFor(3)).toEqual([
          expect.objectContaining({ kind: 'paired', connectionId: 'cid-old' }),
          { kind: 'peer-left', to: instructor.peerId, peerId: oldCustomer.peerId },
          {
            kind: 'paired',
            to: instructor.peerId,
            peer: { peerId: newCustomer.peerId, role: 'customer', node: c.bus.node },
            connectionId: 'cid-new',
          },
        ]);
      });

      it('a leave tells the one left behind once; the seat is free again', async () => {
        const [a, b] = [await node('a'), await node('b')];
        const customer = seat(a, 'cora', 'customer');
        const instructor = seat(b, 'ivan', 'instructor');
        admitted(await a.bus.claim('m4', customer, 'x'));
        admitted(await b.bus.claim('m4', instructor, 'cid'));
        expect(await b.bus.leave('m4', instructor.peerId)).toEqual(E.right(undefined));
        expect(await b.bus.leave('m4', instructor.peerId)).toEqual(E.right(undefined));
        expect((await a.waitFor(2))[1]).toEqual({ kind: 'peer-left', to: customer.peerId, peerId: instructor.peerId });
        const again = admitted(await b.bus.claim('m4', seat(b, 'ivan', 'instructor'), 'cid-2'));
        expect(again.partner?.peerId).toBe(customer.peerId);
        await a.waitFor(3);
        await sleep(50);
        expect(a.got.map((d) => d.kind)).toEqual(['paired', 'peer-left', 'paired']);
      });

      it("answers who holds a seat, from any node, without a left or a stopped node's seats", async () => {
        const [a, b, c] = [await node('a'), await node('b'), await node('c')];
        expect(await c.bus.occupants('m6')).toEqual(E.right([]));
        const customer = seat(a, 'cora', 'customer');
        const instructor = seat(b, 'ivan', 'instructor');
        admitted(await a.bus.claim('m6', customer, 'x'));
        admitted(await b.bus.claim('m6', instructor, 'cid'));
        admitted(await b.bus.claim('m6-other', seat(b, 'olga', 'instructor'), 'y'));
        const both = await c.bus.occupants('m6');
        expect(E.isRight(both) && [...both.right].sort((x, y) => x.role.localeCompare(y.role))).toEqual([
          customer,
          instructor,
        ]);
        await b.bus.leave('m6', instructor.peerId);
        expect(await c.bus.occupants('m6')).toEqual(E.right([customer]));
        admitted(await b.bus.claim('m6', instructor, 'cid-2'));
        await a.bus.close();
        nodes.splice(nodes.indexOf(a), 1);
        expect(await c.bus.occupants('m6')).toEqual(E.right([instructor]));
      });

      it('sends to a member on another node unchanged, to one on its own node directly, and broadcasts to others', async () => {
        const [a, b] = [await node('a'), await node('b')];
        const data = {
          type: 'offer',
          sdp: 'v=0\r\n',
          nested: { list: [1, 'two', null, { three: 3.5 }], unicode: 'čau ☎ 🎉' },
        };
        const signal: BusDelivery = { kind: 'signal', to: 'peer-x', from: 'peer-y', connectionId: 'cid', data };
        expect(a.bus.send(b.bus.node, signal)).toEqual(E.right(undefined));
        expect(await b.waitFor(1)).toEqual([signal]);
        expect(a.bus.send(a.bus.node, { ...signal, to: 'peer-self' })).toEqual(E.right(undefined));
        expect(a.got).toEqual([{ ...signal, to: 'peer-self' }]);
        expect(a.bus.broadcast({ kind: 'recheck', meetingId: 'm5', origin: a.bus.node })).toEqual(E.right(undefined));
        expect((await b.waitFor(2))[1]).toEqual({ kind: 'recheck', meetingId: 'm5', origin: a.bus.node });
        await sleep(50);
        expect(a.got).toHaveLength(1);
      });
    },
  );
}

describe.skipIf(REDIS_SERVER === undefined)(needingRedis('signaling bus on Redis: crashes and outages'), () => {
  let server: RedisServer;
  const buses: SignalingBus[] = [];
  const start = async (
    node: string,
    deliveries: BusDelivery[],
    seats: () => Array<{ meetingId: string; seat: Seat }>,
  ) => {
    const bus = createRedisBus({
      url: server.url,
      node,
      keyPrefix: 'outage:',
      heartbeatMs: 2_000,
    });
    buses.push(bus);
    bus.start((d) => deliveries.push(d), seats);
    await eventually(() => expect(bus.status()).toBe('ok'));
    return bus;
  };

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.close();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('drops the seats of a node that stopped (its key gone) at the next claim, telling the one left behind', async () => {
    const got: BusDelivery[] = [];
    const a = await start('node-a', got, () => []);
    const b = await start('node-b', [], () => []);
    const customer: Seat = { peerId: 'p-cora', userId: 'cora', role: 'customer', node: 'node-a' };
    admitted(await a.claim('crash', customer, 'x'));
    admitted(await b.claim('crash', { peerId: 'p-ivan', userId: 'ivan', role: 'instructor', node: 'node-b' }, 'c'));
    await b.close();
    const c = await start('node-c', [], () => []);
    const claim = admitted(
      await c.claim('crash', { peerId: 'p-ivan-2', userId: 'ivan-2', role: 'instructor', node: 'node-c' }, 'c2'),
    );
    expect(claim.partner?.peerId).toBe('p-cora');
    await eventually(() => expect(got.map((d) => d.kind)).toEqual(['paired', 'peer-left', 'paired']));
    expect(got[1]).toEqual({ kind: 'peer-left', to: 'p-cora', peerId: 'p-ivan' });
  });

  it('refuses at once while Redis is down, keeps no queue, and seats its members again once Redis is back', async () => {
    const gotA: BusDelivery[] = [];
    const gotB: BusDelivery[] = [];
    const cora: Seat = { peerId: 'p-cora', userId: 'cora', role: 'customer', node: 'node-a' };
    const ivan: Seat = { peerId: 'p-ivan', userId: 'ivan', role: 'instructor', node: 'node-b' };
    // What each node lists as seated, as the signaling server does: only once its claim was answered.
    const seatedA: Array<{ meetingId: string; seat: Seat }> = [];
    const seatedB: Array<{ meetingId: string; seat: Seat }> = [];
    const a = await start('node-a', gotA, () => seatedA);
    const b = await start('node-b', gotB, () => seatedB);
    admitted(await a.claim('outage', cora, 'x'));
    seatedA.push({ meetingId: 'outage', seat: cora });
    admitted(await b.claim('outage', ivan, 'cid'));
    seatedB.push({ meetingId: 'outage', seat: ivan });

    await server.kill();
    await eventually(() => expect([a.status(), b.status()]).toEqual(['down', 'down']));
    const refused = await a.claim('elsewhere', { ...cora, peerId: 'p-other' }, 'x');
    expect(E.isLeft(refused) && refused.left.kind).toBe('BusUnavailable');
    expect(E.isLeft(a.send('node-b', { kind: 'replaced', to: 'p-ivan' }))).toBe(true);
    expect(E.isLeft(await a.leave('gone', 'p-nobody'))).toBe(true);

    await server.restart();
    await eventually(() => expect([a.status(), b.status()]).toEqual(['ok', 'ok']));
    const data = { type: 'answer', sdp: 'after the outage' };
    await eventually(() => {
      expect(a.send('node-b', { kind: 'signal', to: 'p-ivan', from: 'p-cora', connectionId: 'cid', data })).toEqual(
        E.right(undefined),
      );
      expect(gotB.some((d) => d.kind === 'signal')).toBe(true);
    });
    // The heartbeat seated both again: the room is full for a third, and the same user still replaces.
    const olga: Seat = { peerId: 'p-olga', userId: 'olga', role: 'instructor', node: 'node-a' };
    const raw = createClient({ url: server.url });
    await raw.connect();
    try {
      await waitUntil(async () => (await raw.hLen('outage:room:outage')) === 2);
    } finally {
      await raw.close();
    }
    const third = await a.claim('outage', olga, 'x');
    expect(third).toEqual(E.right({ admitted: false, reason: 'room_full', replaced: undefined }));
    expect(gotA.filter((d) => d.kind === 'replaced')).toEqual([]);
    expect(gotB.filter((d) => d.kind === 'replaced')).toEqual([]);
  });

  it('gives up a leave taken while Redis was down once it is back, telling the partner though Redis lost the room', async () => {
    const gotB: BusDelivery[] = [];
    const cora: Seat = { peerId: 'p-cora-2', userId: 'cora', role: 'customer', node: 'node-a' };
    const ivan: Seat = { peerId: 'p-ivan-2', userId: 'ivan', role: 'instructor', node: 'node-b' };
    const seatedB: Array<{ meetingId: string; seat: Seat }> = [];
    const a = await start('node-a', [], () => []);
    const b = await start('node-b', gotB, () => seatedB);
    admitted(await a.claim('left-offline', cora, 'x'));
    admitted(await b.claim('left-offline', ivan, 'cid'));
    seatedB.push({ meetingId: 'left-offline', seat: ivan });

    await server.kill();
    await eventually(() => expect(a.status()).toBe('down'));
    const partner = { peerId: ivan.peerId, role: ivan.role, node: ivan.node };
    expect(E.isLeft(await a.leave('left-offline', cora.peerId, partner))).toBe(true);
    await server.restart();
    await eventually(() =>
      expect(gotB.filter((d) => d.kind === 'peer-left')).toEqual([
        { kind: 'peer-left', to: ivan.peerId, peerId: cora.peerId },
      ]),
    );
    // Ivan is seated again (his node's heartbeat) and alone: a customer is paired with him, not refused.
    const raw = createClient({ url: server.url });
    await raw.connect();
    try {
      await waitUntil(async () => (await raw.hExists('outage:room:left-offline', ivan.peerId)) === 1);
    } finally {
      await raw.close();
    }
    const again = admitted(
      await a.claim('left-offline', { peerId: 'p-cora-3', userId: 'cora', role: 'customer', node: 'node-a' }, 'c3'),
    );
    expect(again.partner?.peerId).toBe(ivan.peerId);
  });
});
