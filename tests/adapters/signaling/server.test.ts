import { createHmac } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as E from 'fp-ts/lib/Either.js';
import { CUSTOMER, INSTRUCTOR, MEETING, ORIGIN, TURN_SECRET, eventually, sleep, startHarness } from './harness.ts';
import type { Harness, ServerMessage, TestClient } from './harness.ts';

let harness: Harness | undefined;

const start = async (overrides: Parameters<typeof startHarness>[0] = {}): Promise<Harness> => {
  harness = await startHarness(overrides);
  return harness;
};

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const pairUp = async (h: Harness): Promise<{ customer: TestClient; instructor: TestClient; connectionId: string }> => {
  const customer = await h.join(CUSTOMER, MEETING, 'customer');
  await customer.waitType('welcome');
  const instructor = await h.join(INSTRUCTOR, MEETING, 'instructor');
  const joinedC = await customer.waitType('peer-joined');
  const joinedI = await instructor.waitType('peer-joined');
  expect(joinedC['connectionId']).toBe(joinedI['connectionId']);
  return { customer, instructor, connectionId: joinedC['connectionId'] as string };
};

describe('signaling: pairing and relay', () => {
  it('welcomes both, pairs them with the instructor as initiator and the same connectionId', async () => {
    const h = await start();
    const customer = await h.join(CUSTOMER, MEETING, 'customer');
    const welcomeC = await customer.waitType('welcome');
    expect(welcomeC).toMatchObject({ type: 'welcome', meetingId: MEETING, role: 'customer' });
    expect(typeof welcomeC['peerId']).toBe('string');

    const instructor = await h.join(INSTRUCTOR, MEETING, 'instructor');
    const welcomeI = await instructor.waitType('welcome');
    expect(welcomeI).toMatchObject({ type: 'welcome', meetingId: MEETING, role: 'instructor' });
    expect(welcomeI['peerId']).not.toBe(welcomeC['peerId']);

    const joinedC = await customer.waitType('peer-joined');
    const joinedI = await instructor.waitType('peer-joined');
    expect(joinedC).toEqual({
      type: 'peer-joined',
      peer: { peerId: welcomeI['peerId'], role: 'instructor' },
      connectionId: joinedI['connectionId'],
      initiator: false,
    });
    expect(joinedI).toEqual({
      type: 'peer-joined',
      peer: { peerId: welcomeC['peerId'], role: 'customer' },
      connectionId: joinedC['connectionId'],
      initiator: true,
    });
    expect(typeof joinedC['connectionId']).toBe('string');
    // welcome comes before peer-joined
    expect(instructor.messages.map((m) => m.type)).toEqual(['welcome', 'peer-joined']);
    expect(h.handle.stats()).toEqual({ rooms: 1, sockets: 2 });
  });

  it('relays offer, answer and candidates unchanged with the sender as `from`', async () => {
    const h = await start();
    const { customer, instructor, connectionId } = await pairUp(h);
    const peerIdC = (await customer.waitType('welcome'))['peerId'];
    const peerIdI = (await instructor.waitType('welcome'))['peerId'];

    const offer = { type: 'offer', sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
    const answer = { type: 'answer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };
    const candidate = {
      type: 'candidate',
      candidate: { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host', sdpMLineIndex: 0, sdpMid: '0' },
    };
    const renegotiate = { renegotiate: true, nested: { list: [1, 'two', null, { three: 3 }], unicode: 'čau ☎' } };

    instructor.send({ type: 'signal', connectionId, data: offer });
    const gotOffer = await customer.waitType('signal');
    expect(gotOffer).toEqual({ type: 'signal', from: peerIdI, connectionId, data: offer });

    customer.send({ type: 'signal', connectionId, data: answer });
    customer.send({ type: 'signal', connectionId, data: candidate });
    const [gotAnswer, gotCandidate] = await instructor.waitCount('signal', 2);
    expect(gotAnswer).toEqual({ type: 'signal', from: peerIdC, connectionId, data: answer });
    expect(gotCandidate).toEqual({ type: 'signal', from: peerIdC, connectionId, data: candidate });

    instructor.send({ type: 'signal', connectionId, data: renegotiate });
    const [, second] = await customer.waitCount('signal', 2);
    expect(second?.['data']).toEqual(renegotiate);
  });

  it('drops a signal with a stale or unknown connectionId', async () => {
    const h = await start();
    const { customer, instructor, connectionId } = await pairUp(h);
    instructor.send({ type: 'signal', connectionId: 'not-the-current-one', data: { type: 'offer', sdp: 'stale' } });
    instructor.send({ type: 'signal', connectionId, data: { type: 'offer', sdp: 'valid' } });
    await customer.waitType('signal');
    await sleep(100);
    expect(customer.ofType('signal').map((m) => (m['data'] as { sdp: string }).sdp)).toEqual(['valid']);
    // not a strike: no error frame for the sender
    expect(instructor.ofType('error')).toEqual([]);
  });

  it('drops signals sent while alone in the room', async () => {
    const h = await start();
    const customer = await h.join(CUSTOMER, MEETING, 'customer');
    await customer.waitType('welcome');
    customer.send({ type: 'signal', connectionId: 'x', data: { type: 'offer', sdp: 'nobody' } });
    const instructor = await h.join(INSTRUCTOR, MEETING, 'instructor');
    await instructor.waitType('peer-joined');
    await sleep(100);
    expect(instructor.ofType('signal')).toEqual([]);
    expect(customer.ofType('error')).toEqual([]);
  });

  it('leave tells the other side, closes normally and frees the room', async () => {
    const h = await start();
    const { customer, instructor } = await pairUp(h);
    const peerIdC = (await customer.waitType('welcome'))['peerId'];
    customer.send({ type: 'leave' });
    const left = await instructor.waitType('peer-left');
    // Said on purpose, so the other side need not wait for a reconnect.
    expect(left).toEqual({ type: 'peer-left', peerId: peerIdC, reason: 'left' });
    expect((await customer.closed).code).toBe(1000);
    expect(instructor.open).toBe(true);
    instructor.ws.close();
    await instructor.closed;
    await eventually(() => expect(h.handle.stats()).toEqual({ rooms: 0, sockets: 0 }));
  });

  it('a closing socket sends peer-left, the other can be paired again with a new connectionId', async () => {
    const h = await start();
    const { customer, instructor, connectionId } = await pairUp(h);
    const peerIdI = (await instructor.waitType('welcome'))['peerId'];
    instructor.ws.terminate();
    expect(await customer.waitType('peer-left')).toEqual({ type: 'peer-left', peerId: peerIdI });
    await eventually(() => expect(h.handle.stats()).toEqual({ rooms: 1, sockets: 1 }));

    const instructor2 = await h.join(INSTRUCTOR, MEETING, 'instructor');
    const rejoined = await instructor2.waitType('peer-joined');
    const [, again] = await customer.waitCount('peer-joined', 2);
    expect(again?.['connectionId']).toBe(rejoined['connectionId']);
    expect(rejoined['connectionId']).not.toBe(connectionId);
    // the old connectionId is now stale
    customer.send({ type: 'signal', connectionId, data: { type: 'answer', sdp: 'old' } });
    customer.send({ type: 'signal', connectionId: rejoined['connectionId'], data: { type: 'answer', sdp: 'new' } });
    const got = await instructor2.waitType('signal');
    await sleep(50);
    expect(instructor2.ofType('signal')).toEqual([got]);
    expect((got['data'] as { sdp: string }).sdp).toBe('new');
  });

  it('frees empty rooms', async () => {
    const h = await start();
    const { customer, instructor } = await pairUp(h);
    expect(h.handle.stats()).toEqual({ rooms: 1, sockets: 2 });
    customer.ws.close();
    instructor.ws.close();
    await Promise.all([customer.closed, instructor.closed]);
    await eventually(() => expect(h.handle.stats()).toEqual({ rooms: 0, sockets: 0 }));
  });
});

describe('signaling: refusals before the upgrade', () => {
  it('answers 401 without a ticket, with a garbage ticket, a reused ticket and an expired ticket', async () => {
    const h = await start();
    expect(await h.connect(undefined).refused).toBe(401);
    expect(await h.connect('ticket=').refused).toBe(401);
    expect(await h.connect('ticket=garbage').refused).toBe(401);
    expect(await h.connect(`ticket=${'A'.repeat(5000)}`).refused).toBe(401);

    const ticket = h.ticket(CUSTOMER, MEETING, 'customer');
    const first = h.connect(`ticket=${ticket}`);
    await first.opened;
    await first.waitType('welcome');
    expect(await h.connect(`ticket=${ticket}`).refused).toBe(401);

    const late = h.ticket(INSTRUCTOR, MEETING, 'instructor');
    h.clock = new Date(h.clock.getTime() + 61_000);
    expect(await h.connect(`ticket=${late}`).refused).toBe(401);
    // the first one was never disturbed
    expect(first.open).toBe(true);
    expect(first.ofType('peer-joined')).toEqual([]);
  });

  it('answers 403 to a disallowed origin without spending the ticket', async () => {
    const h = await start();
    const ticket = h.ticket(CUSTOMER, MEETING, 'customer');
    expect(await h.connect(`ticket=${ticket}`, { origin: 'https://evil.example' }).refused).toBe(403);
    expect(await h.connect(`ticket=${ticket}`, { origin: 'null' }).refused).toBe(403);
    const ok = h.connect(`ticket=${ticket}`, { origin: ORIGIN });
    await ok.opened;
    expect((await ok.waitType('welcome'))['role']).toBe('customer');
  });

  it('accepts clients that send no Origin (not browsers; the ticket is what authenticates)', async () => {
    const h = await start();
    const ticket = h.ticket(CUSTOMER, MEETING, 'customer');
    const client = h.connect(`ticket=${ticket}`, { origin: undefined as unknown as string });
    await client.opened;
    await client.waitType('welcome');
  });

  it('answers 404 for another path when nobody else handles upgrades', async () => {
    const h = await start();
    const ticket = h.ticket(CUSTOMER, MEETING, 'customer');
    const other = new WebSocket(`ws://127.0.0.1:${h.port}/elsewhere?ticket=${ticket}`, { origin: ORIGIN });
    const status = await new Promise<number>((resolve, reject) => {
      other.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
      });
      other.on('open', () => reject(new Error('should not open')));
      other.on('error', () => {});
    });
    other.terminate();
    expect(status).toBe(404);
    // the ticket was not spent
    const client = h.connect(`ticket=${ticket}`);
    await client.opened;
  });

  it('leaves other paths alone when another upgrade listener exists', async () => {
    const h = await start();
    const seen: string[] = [];
    h.server.on('upgrade', (req, socket) => {
      if (req.url?.startsWith('/other') === true) {
        seen.push(req.url);
        socket.end("HTTP/1.1 418 I'm a Teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      }
    });
    const other = new WebSocket(`ws://127.0.0.1:${h.port}/other`, { origin: ORIGIN });
    const status = await new Promise<number>((resolve) => {
      other.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
      });
      other.on('error', () => {});
    });
    other.terminate();
    expect(status).toBe(418);
    expect(seen).toEqual(['/other']);
    // our path still works
    const client = await h.join(CUSTOMER, MEETING, 'customer');
    await client.waitType('welcome');
  });

  it('answers 500 when the access check itself fails, and keeps serving', async () => {
    let fail = true;
    const h = await start({
      checkAccess: async () => {
        if (fail) throw new Error('store down');
        return E.right({ iceServers: [{ urls: 'stun:custom.example' }] });
      },
    });
    expect(await h.connect(`ticket=${h.ticket(CUSTOMER, MEETING, 'customer')}`).refused).toBe(500);
    fail = false;
    const client = await h.join(CUSTOMER, MEETING, 'customer');
    // iceServers from the access check win over iceServersFor
    expect((await client.waitType('welcome'))['iceServers']).toEqual([{ urls: 'stun:custom.example' }]);
  });
});

describe('signaling: access', () => {
  it('closes a cancelled meeting with an error frame and 4003', async () => {
    const h = await start();
    h.meetings.get(MEETING)!.cancelled = true;
    const client = await h.join(CUSTOMER, MEETING, 'customer');
    const closed = await client.closed;
    expect(closed.code).toBe(4003);
    expect(client.messages).toEqual([{ type: 'error', code: 'cancelled', message: 'The meeting was cancelled.' }]);
    await eventually(() => expect(h.handle.stats()).toEqual({ rooms: 0, sockets: 0 }));
  });

  it('closes outside the join window with 4003 (too early and after the end)', async () => {
    const h = await start();
    const meeting = h.meetings.get(MEETING)!;
    h.clock = new Date(meeting.start.getTime() - 16 * 60_000);
    const early = await h.join(CUSTOMER, MEETING, 'customer');
    expect((await early.closed).code).toBe(4003);
    expect(early.messages[0]).toMatchObject({ type: 'error', code: 'outside_window' });

    h.clock = new Date(meeting.end.getTime());
    const late = await h.join(INSTRUCTOR, MEETING, 'instructor');
    expect((await late.closed).code).toBe(4003);
    expect(late.messages[0]).toMatchObject({ type: 'error', code: 'outside_window' });

    h.clock = new Date(meeting.start.getTime() - 15 * 60_000);
    const onTime = await h.join(CUSTOMER, MEETING, 'customer');
    await onTime.waitType('welcome');
  });

  it('closes a non-participant and an unknown meeting with 4003', async () => {
    const h = await start();
    const stranger = await h.join('user-stranger', MEETING, 'customer');
    expect((await stranger.closed).code).toBe(4003);
    expect(stranger.messages[0]).toMatchObject({ type: 'error', code: 'not_participant' });
    const lost = await h.join(CUSTOMER, 'no-such-meeting', 'customer');
    expect((await lost.closed).code).toBe(4003);
    expect(lost.messages[0]).toMatchObject({ type: 'error', code: 'not_found' });
  });

  it('refuses a third socket for a full room with 4003 and leaves the pair alone', async () => {
    const h = await start();
    h.meetings.get(MEETING)!.extra = ['user-other-instructor'];
    const { customer, instructor, connectionId } = await pairUp(h);
    const third = await h.join('user-other-instructor', MEETING, 'instructor');
    expect((await third.closed).code).toBe(4003);
    expect(third.messages).toEqual([expect.objectContaining({ type: 'error', code: 'room_full' })]);
    await sleep(50);
    expect(customer.open && instructor.open).toBe(true);
    expect(customer.ofType('peer-left')).toEqual([]);
    expect(instructor.ofType('peer-joined')).toHaveLength(1);
    instructor.send({ type: 'signal', connectionId, data: { type: 'offer', sdp: 'still paired' } });
    await customer.waitType('signal');
    expect(h.handle.stats()).toEqual({ rooms: 1, sockets: 2 });
  });

  it('meetingChanged closes both with an error frame and 4003 once the meeting is cancelled', async () => {
    const h = await start();
    const { customer, instructor } = await pairUp(h);
    await h.handle.meetingChanged(MEETING);
    await sleep(50);
    expect(customer.open && instructor.open).toBe(true);

    h.meetings.get(MEETING)!.cancelled = true;
    await h.handle.meetingChanged(MEETING);
    expect(h.handle.stats().rooms).toBe(0);
    const [c, i] = await Promise.all([customer.closed, instructor.closed]);
    expect(c.code).toBe(4003);
    expect(i.code).toBe(4003);
    for (const client of [customer, instructor]) {
      expect(client.ofType('error')).toEqual([
        { type: 'error', code: 'cancelled', message: 'The meeting was cancelled.' },
      ]);
    }
    await eventually(() => expect(h.handle.stats()).toEqual({ rooms: 0, sockets: 0 }));
    await h.handle.meetingChanged('no-room-for-this');
  });

  it('meetingChanged closes the call when the meeting moves out of the window', async () => {
    const h = await start();
    const { customer, instructor } = await pairUp(h);
    const meeting = h.meetings.get(MEETING)!;
    meeting.start = new Date(meeting.start.getTime() + 24 * 3600_000);
    meeting.end = new Date(meeting.end.getTime() + 24 * 3600_000);
    await h.handle.meetingChanged(MEETING);
    expect((await customer.closed).code).toBe(4003);
    expect((await instructor.closed).code).toBe(4003);
    expect(customer.ofType('error')[0]).toMatchObject({ code: 'outside_window' });
  });
});

describe('signaling: replacement by the same user', () => {
  it('closes the old socket with exactly one 4009, re-pairs with a new connectionId, and does not loop', async () => {
    const h = await start();
    const { customer: oldCustomer, instructor, connectionId } = await pairUp(h);
    const oldPeerId = (await oldCustomer.waitType('welcome'))['peerId'];

    const newCustomer = await h.join(CUSTOMER, MEETING, 'customer');
    const welcome = await newCustomer.waitType('welcome');
    const joined = await newCustomer.waitType('peer-joined');
    expect(joined['initiator']).toBe(false);
    expect(joined['connectionId']).not.toBe(connectionId);

    expect((await oldCustomer.closed).code).toBe(4009);
    expect(oldCustomer.ofType('error')).toEqual([expect.objectContaining({ code: 'replaced' })]);

    const [, rejoined] = await instructor.waitCount('peer-joined', 2);
    expect(rejoined).toEqual({
      type: 'peer-joined',
      peer: { peerId: welcome['peerId'], role: 'customer' },
      connectionId: joined['connectionId'],
      initiator: true,
    });
    const types = instructor.messages.map((m) => m.type);
    expect(types).toEqual(['welcome', 'peer-joined', 'peer-left', 'peer-joined']);
    expect(instructor.ofType('peer-left')).toEqual([{ type: 'peer-left', peerId: oldPeerId }]);

    // the old connectionId is stale now, the new one works
    instructor.send({ type: 'signal', connectionId, data: { type: 'offer', sdp: 'stale' } });
    instructor.send({ type: 'signal', connectionId: joined['connectionId'], data: { type: 'offer', sdp: 'fresh' } });
    const signal = await newCustomer.waitType('signal');
    expect((signal['data'] as { sdp: string }).sdp).toBe('fresh');

    await sleep(300);
    expect(newCustomer.open).toBe(true);
    expect(instructor.open).toBe(true);
    expect(oldCustomer.closeCodes).toEqual([4009]);
    expect(newCustomer.closeCodes).toEqual([]);
    expect(newCustomer.ofType('signal')).toHaveLength(1);
    expect(instructor.ofType('peer-left')).toHaveLength(1);
    expect(h.handle.stats()).toEqual({ rooms: 1, sockets: 2 });
  });

  it('replaces a lone socket too (second tab before the other side arrives)', async () => {
    const h = await start();
    const first = await h.join(INSTRUCTOR, MEETING, 'instructor');
    await first.waitType('welcome');
    const second = await h.join(INSTRUCTOR, MEETING, 'instructor');
    await second.waitType('welcome');
    expect((await first.closed).code).toBe(4009);
    const customer = await h.join(CUSTOMER, MEETING, 'customer');
    await customer.waitType('peer-joined');
    expect((await second.waitType('peer-joined'))['initiator']).toBe(true);
    expect(first.closeCodes).toEqual([4009]);
  });
});

describe('signaling: policy', () => {
  it('closes with 4008 for a frame over 64 KiB', async () => {
    const h = await start();
    const { customer, instructor, connectionId } = await pairUp(h);
    const peerIdC = (await customer.waitType('welcome'))['peerId'];
    customer.send({ type: 'signal', connectionId, data: { type: 'offer', sdp: 'x'.repeat(70_000) } });
    expect((await customer.closed).code).toBe(4008);
    expect(customer.ofType('error')).toEqual([expect.objectContaining({ code: 'too_large' })]);
    expect(await instructor.waitType('peer-left')).toEqual({ type: 'peer-left', peerId: peerIdC });
    expect(instructor.ofType('signal')).toEqual([]);
  });

  it('accepts a frame of exactly 64 KiB', async () => {
    const h = await start();
    const { customer, instructor, connectionId } = await pairUp(h);
    const skeleton = JSON.stringify({ type: 'signal', connectionId, data: { type: 'offer', sdp: '' } });
    const sdp = 'y'.repeat(65_536 - skeleton.length);
    const frame = JSON.stringify({ type: 'signal', connectionId, data: { type: 'offer', sdp } });
    expect(Buffer.byteLength(frame)).toBe(65_536);
    customer.send(frame);
    const got = await instructor.waitType('signal');
    expect((got['data'] as { sdp: string }).sdp).toHaveLength(sdp.length);
  });

  it('closes with 4008 (not 1009) for a frame far over the limit', async () => {
    const h = await start();
    const client = await h.join(CUSTOMER, MEETING, 'customer');
    await client.waitType('welcome');
    client.send('z'.repeat(2 * 1024 * 1024));
    expect((await client.closed).code).toBe(4008);
  });

  it('answers malformed, non-object, unknown and invalid messages with error frames, then 4008', async () => {
    const h = await start({ maxStrikes: 5 });
    const { customer, instructor } = await pairUp(h);
    customer.send('{not json');
    const first = await customer.waitType('error');
    expect(first).toMatchObject({ type: 'error', code: 'malformed' });
    expect(typeof first['message']).toBe('string');
    expect(customer.open).toBe(true);

    customer.send('[1,2,3]');
    customer.send({ type: 'dance' });
    customer.send({ type: 'signal', connectionId: 42, data: {} });
    await customer.waitCount('error', 4);
    expect(customer.open).toBe(true);
    customer.ws.send(Buffer.from([1, 2, 3]));
    expect((await customer.closed).code).toBe(4008);
    expect(customer.ofType('error').map((m) => m['code'])).toEqual([
      'malformed',
      'malformed',
      'unknown_type',
      'invalid_message',
      'malformed',
    ]);
    await instructor.waitType('peer-left');
  });

  it('repeated malformed JSON ends in 4008', async () => {
    const h = await start({ maxStrikes: 3 });
    const client = await h.join(CUSTOMER, MEETING, 'customer');
    await client.waitType('welcome');
    for (let i = 0; i < 10; i += 1) client.send('nope');
    expect((await client.closed).code).toBe(4008);
    expect(client.ofType('error')).toHaveLength(3);
  });

  it('rate limits per socket: excess is dropped with error frames, persistent abuse closes 4008', async () => {
    const h = await start({ rateLimit: { messages: 5, perMs: 1000 }, maxStrikes: 3, monotonicNow: () => 0 });
    const { customer, instructor, connectionId } = await pairUp(h);
    for (let i = 0; i < 12; i += 1) {
      customer.send({ type: 'signal', connectionId, data: { type: 'candidate', n: i } });
    }
    expect((await customer.closed).code).toBe(4008);
    await instructor.waitType('peer-left');
    expect(instructor.ofType('signal').map((m) => (m['data'] as { n: number }).n)).toEqual([0, 1, 2, 3, 4]);
    expect(customer.ofType('error').map((m) => m['code'])).toEqual(['rate_limited', 'rate_limited', 'rate_limited']);
  });

  it('refills the rate limit over time', async () => {
    let t = 0;
    const h = await start({ rateLimit: { messages: 2, perMs: 1000 }, maxStrikes: 10, monotonicNow: () => t });
    const { customer, instructor, connectionId } = await pairUp(h);
    const sendN = (n: number): void => {
      for (let i = 0; i < n; i += 1) customer.send({ type: 'signal', connectionId, data: { k: 'v' } });
    };
    sendN(3);
    await customer.waitType('error');
    await instructor.waitCount('signal', 2);
    t = 1000;
    sendN(2);
    await instructor.waitCount('signal', 4);
    expect(customer.ofType('error')).toHaveLength(1);
    expect(customer.open).toBe(true);
  });

  it('terminates a socket that stops answering pings, and tells the other side', async () => {
    const h = await start({ pingIntervalMs: 250 });
    const customer = await h.join(CUSTOMER, MEETING, 'customer');
    await customer.waitType('welcome');
    const dead = await h.join(INSTRUCTOR, MEETING, 'instructor', { autoPong: false });
    const deadPeerId = (await dead.waitType('welcome'))['peerId'];
    await customer.waitType('peer-joined');
    expect(await customer.waitType('peer-left')).toEqual({ type: 'peer-left', peerId: deadPeerId });
    expect((await dead.closed).code).toBe(1006);
    expect(customer.open).toBe(true);
    await eventually(() => expect(h.handle.stats()).toEqual({ rooms: 1, sockets: 1 }));
  });

  it('terminates a slow consumer whose send buffer grows too large', async () => {
    const warnings: string[] = [];
    const h = await start({
      maxBufferedBytes: 256 * 1024,
      rateLimit: { messages: 1_000_000, perMs: 1000 },
      logger: { info: () => {}, debug: () => {}, warn: (_obj, msg) => warnings.push(msg ?? '') },
    });
    const { customer, instructor, connectionId } = await pairUp(h);
    const peerIdC = (await customer.waitType('welcome'))['peerId'];
    customer.ws.pause();
    const data = { type: 'candidate', blob: 'b'.repeat(60_000) };
    let sent = 0;
    const frame = JSON.stringify({ type: 'signal', connectionId, data });
    while (instructor.ofType('peer-left').length === 0 && sent < 3000) {
      sent += 1;
      if (sent % 16 === 0) {
        // let the server read what was sent so far before piling on more
        await new Promise<void>((resolve) => instructor.ws.send(frame, () => resolve()));
        await new Promise((resolve) => setImmediate(resolve));
      } else {
        instructor.ws.send(frame);
      }
    }
    expect(await instructor.waitType('peer-left')).toEqual({ type: 'peer-left', peerId: peerIdC });
    expect(instructor.open).toBe(true);
    expect(warnings).toContain('signaling: slow consumer terminated');
    customer.ws.resume();
  });

  it('survives clients that send garbage bytes instead of a WebSocket handshake or frames', async () => {
    const h = await start();
    await new Promise<void>((resolve) => {
      const raw = net.connect(h.port, '127.0.0.1', () => {
        raw.write('GET /signaling?ticket=x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      });
      raw.on('data', () => {});
      raw.on('error', () => resolve());
      raw.on('close', () => resolve());
    });
    const ticket = h.ticket(CUSTOMER, MEETING, 'customer');
    await new Promise<void>((resolve) => {
      const raw = net.connect(h.port, '127.0.0.1', () => {
        raw.write(
          `GET /signaling?ticket=${ticket} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
        // an unmasked frame with a reserved opcode: a protocol error for the server
        setTimeout(() => raw.write(Buffer.from([0x83, 0x02, 0x41, 0x42])), 50);
      });
      raw.on('data', () => {});
      raw.on('error', () => resolve());
      raw.on('close', () => resolve());
    });
    const client = await h.join(INSTRUCTOR, MEETING, 'instructor');
    await client.waitType('welcome');
    await eventually(() => expect(h.handle.stats().sockets).toBe(1));
  });
});

describe('signaling: ICE servers and shutdown', () => {
  it('hands out STUN and TURN with ephemeral coturn credentials in welcome', async () => {
    const h = await start();
    const client = await h.join(CUSTOMER, MEETING, 'customer');
    const welcome = (await client.waitType('welcome')) as ServerMessage & {
      iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
    };
    expect(welcome.iceServers[0]).toEqual({ urls: ['stun:stun.example:3478'] });
    const turn = welcome.iceServers[1]!;
    expect(turn.urls).toEqual(['turn:turn.example:3478?transport=udp']);
    const [expiry, user] = turn.username!.split(':');
    expect(user).toBe(CUSTOMER);
    expect(Number(expiry)).toBe(Math.floor(h.clock.getTime() / 1000) + 3600);
    expect(turn.credential).toBe(createHmac('sha1', TURN_SECRET).update(turn.username!).digest('base64'));
  });

  it('close() closes every socket with 1001 and stops accepting', async () => {
    const h = await start();
    const { customer, instructor } = await pairUp(h);
    const ticket = h.ticket(CUSTOMER, MEETING, 'customer');
    await h.handle.close();
    expect((await customer.closed).code).toBe(1001);
    expect((await instructor.closed).code).toBe(1001);
    expect(h.handle.stats()).toEqual({ rooms: 0, sockets: 0 });
    expect(h.server.listenerCount('upgrade')).toBe(0);
    // nobody handles upgrades any more: the connection fails without opening
    const late = h.connect(`ticket=${ticket}`);
    await expect(late.opened).rejects.toThrow();
  });
});
