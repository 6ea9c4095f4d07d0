import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessBroker } from '../../../adapters/signaling/bus-in-process.ts';
import { CUSTOMER, INSTRUCTOR, MEETING, eventually, sleep, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

// What the signaling server tells its attendance port: a seated member's join, its leave (also at close), none for
// a member a newer connection replaced, each person's calls in order, and a failing port never affects the call.
let harness: Harness | undefined;
const others: Harness[] = [];
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  for (const h of others.splice(0)) await h.close();
});

type Call = readonly [string, string, string, string, string?];

const recording = (options: { joinDelayMs?: number; fail?: boolean } = {}) => {
  const calls: Call[] = [];
  const port = {
    joined: async (meetingId: string, personId: string, role: string) => {
      if (options.joinDelayMs !== undefined) await sleep(options.joinDelayMs);
      calls.push(['joined', meetingId, personId, role]);
      if (options.fail === true) throw new Error('store down');
    },
    left: async (meetingId: string, personId: string, role: string, at: Date) => {
      calls.push(['left', meetingId, personId, role, at.toISOString()]);
      if (options.fail === true) throw new Error('store down');
    },
  };
  return { calls, port };
};

describe('the signaling server and attendance', () => {
  it('tells of joins and leaves, in order per person even when a join is slow to record', async () => {
    const { calls, port } = recording({ joinDelayMs: 150 });
    harness = await startHarness({ attendance: port, attendanceGraceMs: 0 });
    const customer = await harness.join(CUSTOMER, MEETING, 'customer');
    await customer.waitType('welcome');
    customer.ws.close();
    await eventually(() => expect(calls).toHaveLength(2));
    expect(calls).toEqual([
      ['joined', MEETING, CUSTOMER, 'customer'],
      ['left', MEETING, CUSTOMER, 'customer', harness?.clock.toISOString()],
    ]);
  });

  it('folds a reconnect within the grace into the visit, and tells a leave after it with the time of leaving', async () => {
    const { calls, port } = recording();
    harness = await startHarness({ attendance: port, attendanceGraceMs: 400 });
    const first = await harness.join(CUSTOMER, MEETING, 'customer');
    await first.waitType('welcome');
    first.ws.close();
    await first.closed;
    // A reload: back before the grace is up, so neither the leave nor the second join is told.
    const again = await harness.join(CUSTOMER, MEETING, 'customer');
    await again.waitType('welcome');
    await sleep(600);
    expect(calls.map(([what]) => what)).toEqual(['joined']);
    const leftAt = harness.clock.toISOString();
    again.ws.close();
    await again.closed;
    harness.clock = new Date(harness.clock.getTime() + 60_000);
    await sleep(100);
    expect(calls.map(([what]) => what)).toEqual(['joined']);
    await eventually(() => expect(calls).toHaveLength(2));
    expect(calls[1]).toEqual(['left', MEETING, CUSTOMER, 'customer', leftAt]);
  });

  it('tells no leave of someone who came back on another node within the grace', async () => {
    const broker = createInProcessBroker();
    const meetings = new Map();
    const a = recording();
    const b = recording();
    harness = await startHarness({ attendance: a.port, attendanceGraceMs: 300, bus: broker.bus('a') }, { meetings });
    const nodeB = await startHarness(
      { attendance: b.port, attendanceGraceMs: 300, bus: broker.bus('b') },
      { meetings },
    );
    others.push(nodeB);
    const onA = await harness.join(CUSTOMER, MEETING, 'customer');
    await onA.waitType('welcome');
    onA.ws.close();
    await onA.closed;
    const onB = await nodeB.join(CUSTOMER, MEETING, 'customer');
    await onB.waitType('welcome');
    await sleep(700);
    expect(a.calls.map(([what]) => what)).toEqual(['joined']);
    expect(b.calls.map(([what]) => what)).toEqual(['joined']);
  });

  it('tells no leave for a replaced connection, and the leave of everyone still in a room at close', async () => {
    const { calls, port } = recording();
    harness = await startHarness({ attendance: port, attendanceGraceMs: 0 });
    const first = await harness.join(CUSTOMER, MEETING, 'customer');
    await first.waitType('welcome');
    const instructor = await harness.join(INSTRUCTOR, MEETING, 'instructor');
    await instructor.waitType('peer-joined');
    const second = await harness.join(CUSTOMER, MEETING, 'customer');
    await second.waitType('welcome');
    await first.closed;
    await eventually(() => expect(calls.filter(([what]) => what === 'joined')).toHaveLength(3));
    expect(calls.filter(([what]) => what === 'left')).toEqual([]);
    await harness.handle.close();
    expect(
      calls
        .filter(([what]) => what === 'left')
        .map(([, , person]) => person)
        .sort(),
    ).toEqual([CUSTOMER, INSTRUCTOR].sort());
  });

  it('logs a port that fails and keeps the call going', async () => {
    const { calls, port } = recording({ fail: true });
    const warnings: string[] = [];
    const logger = {
      info: () => {},
      debug: () => {},
      warn: (_o: unknown, message: string) => void warnings.push(message),
    };
    harness = await startHarness({ attendance: port, logger, attendanceGraceMs: 0 });
    const customer = await harness.join(CUSTOMER, MEETING, 'customer');
    const instructor = await harness.join(INSTRUCTOR, MEETING, 'instructor');
    const paired = (await instructor.waitType('peer-joined')) as unknown as { connectionId: string };
    await customer.waitType('peer-joined');
    instructor.send({ type: 'signal', connectionId: paired.connectionId, data: { sdp: 'v=0' } });
    await customer.waitType('signal');
    await eventually(() => expect(warnings.filter((w) => w === 'signaling: joined not recorded')).toHaveLength(2));
    expect(calls).toHaveLength(2);
    expect(customer.open && instructor.open).toBe(true);
  });
});
