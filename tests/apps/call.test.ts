import { createHmac } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { TestClient } from '../adapters/signaling/harness.ts';
import type { ServerMessage } from '../adapters/signaling/harness.ts';
import { pairBooker } from '../support/booked.ts';
import type { Booked } from '../support/booked.ts';
import { client, useSystem } from '../support/system.ts';
import type { Client } from '../support/system.ts';

// The public base URL differs from where the test server listens: the join answer must name the public one, and
// the signaling endpoint must accept that origin (and only that one) from browsers.
const PUBLIC = 'http://app.test';
const STUN = 'stun:stun.test:3478';
const TURN = 'turn:turn.test:3478?transport=udp';
const TURN_SECRET = 'coturn-use-auth-secret-for-tests';

let now = new Date('2030-05-01T10:05:00Z');
const at = (minutesFromNow: number) => new Date(now.getTime() + minutesFromNow * 60_000).toISOString();

const ts = useSystem({
  env: { PUBLIC_BASE_URL: PUBLIC, STUN_URLS: STUN, TURN_URLS: TURN, TURN_SECRET },
  system: { clock: () => now },
});
const admin = ts.client('ada', ['admin']);
const open: TestClient[] = [];

// Runs before useSystem's afterAll destroys the system.
afterAll(() => {
  for (const c of open) c.ws.terminate();
});

const book = pairBooker(ts, admin);
/** A meeting between a fresh pair of people, live now. */
const meeting = (overrides: Record<string, unknown> = {}): Promise<Booked> =>
  book({ start: at(-5), end: at(55) }, overrides);

const signalingAt = (ticket: string) =>
  `${ts.url.replace(/^http/, 'ws')}/signaling?ticket=${encodeURIComponent(ticket)}`;

const connect = (ticket: string, origin = PUBLIC): TestClient => {
  const c = new TestClient(signalingAt(ticket), { origin });
  open.push(c);
  return c;
};

const joinAs = async (who: Client, id: string) => {
  const res = await who.request('POST', `/meetings/${id}/join`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};

/** Both participants join over HTTP, open their sockets and get paired. */
const call = async ({ id, customer: cora, instructor: ivan }: Booked) => {
  const customerJoin = await joinAs(cora, id);
  const instructorJoin = await joinAs(ivan, id);
  const customer = connect(customerJoin.ticket);
  const instructor = connect(instructorJoin.ticket);
  const [customerPaired, instructorPaired] = await Promise.all([
    customer.waitType('peer-joined'),
    instructor.waitType('peer-joined'),
  ]);
  return { customer, instructor, customerJoin, instructorJoin, customerPaired, instructorPaired };
};

const expectProblem = (res: { status: number; body: any; headers: Headers }, status: number) => {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body.status).toBe(status);
  return res.body.detail as string;
};

describe('POST /meetings/:id/join then /signaling, over the real server', () => {
  it('answers both participants natively with a ticket, ICE servers and their role', async () => {
    const { id, customer, instructor, customerId, instructorId } = await meeting();
    const expiry = Math.floor(now.getTime() / 1000) + 3600;
    for (const [who, userId, role] of [
      [customer, customerId, 'customer'],
      [instructor, instructorId, 'instructor'],
    ] as const) {
      const answer = await joinAs(who, id);
      expect(answer).toMatchObject({
        mode: 'native',
        signalingUrl: 'ws://app.test/signaling',
        role,
        expiresAt: new Date(now.getTime() + 60_000).toISOString(),
      });
      expect(typeof answer.ticket).toBe('string');
      expect(answer.ticket.length).toBeGreaterThanOrEqual(32);
      expect(typeof answer.debugLevel).toBe('number');
      expect(answer.iceServers).toHaveLength(2);
      expect(answer.iceServers[0]).toEqual({ urls: [STUN] });
      const turn = answer.iceServers[1];
      expect(turn.urls).toEqual([TURN]);
      // coturn use-auth-secret: username "<expiry>:<user>", credential base64(HMAC-SHA1(secret, username))
      expect(turn.username).toBe(`${expiry}:${userId}`);
      expect(turn.credential).toBe(createHmac('sha1', TURN_SECRET).update(`${expiry}:${userId}`).digest('base64'));
    }
    const again = await customer.request('POST', `/meetings/${id}/join`);
    expect(again.headers.get('cache-control')).toBe('no-store');
  });

  it("says who is in the call room now, to the meeting's readers and its join links only", async () => {
    const booked = await meeting();
    const { id, customer, instructor, customerId, instructorId } = booked;
    const room = async (who: Client) => {
      const res = await who.request('GET', `/meetings/${id}/room`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      return res.body.participants;
    };
    expect(await room(instructor)).toEqual([]);
    const customerJoin = await joinAs(customer, id);
    const cora = connect(customerJoin.ticket);
    await cora.waitType('welcome');
    expect(await room(instructor)).toEqual([{ personId: customerId, role: 'customer' }]);
    const ivan = connect((await joinAs(instructor, id)).ticket);
    await ivan.waitType('peer-joined');
    const both = [
      { personId: customerId, role: 'customer' },
      { personId: instructorId, role: 'instructor' },
    ];
    expect(await room(admin)).toEqual(both);
    // The customer's join link (what an emailed link carries) reads the room of its own meeting only.
    const link = client(ts.url, String(customerJoin.link).split('#link=')[1]);
    expect(await room(link)).toEqual(both);
    const other = await meeting();
    expectProblem(await link.request('GET', `/meetings/${other.id}/room`), 403);
    // Someone else's meeting is not found, as the meeting itself is not.
    expectProblem(await other.customer.request('GET', `/meetings/${id}/room`), 404);
    ivan.ws.close();
    await cora.waitType('peer-left');
    expect(await room(customer)).toEqual([{ personId: customerId, role: 'customer' }]);
  });

  it('pairs the two sockets with the instructor as initiator and relays signals unchanged', async () => {
    const booked = await meeting();
    const id = booked.id;
    const { customer, instructor, customerJoin, instructorJoin, customerPaired, instructorPaired } = await call(booked);

    const customerWelcome = await customer.waitType('welcome');
    const instructorWelcome = await instructor.waitType('welcome');
    expect(customerWelcome).toMatchObject({ meetingId: id, role: 'customer', iceServers: customerJoin.iceServers });
    expect(instructorWelcome).toMatchObject({
      meetingId: id,
      role: 'instructor',
      iceServers: instructorJoin.iceServers,
    });
    expect(customerWelcome.peerId).not.toBe(instructorWelcome.peerId);

    expect(instructorPaired).toMatchObject({
      initiator: true,
      peer: { peerId: customerWelcome.peerId, role: 'customer' },
    });
    expect(customerPaired).toMatchObject({
      initiator: false,
      peer: { peerId: instructorWelcome.peerId, role: 'instructor' },
    });
    const connectionId = instructorPaired.connectionId as string;
    expect(customerPaired.connectionId).toBe(connectionId);

    const offer = {
      type: 'offer',
      sdp: 'v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\ns=-\r\n',
      extra: { nested: [1, 'two', null, true] },
    };
    instructor.send({ type: 'signal', connectionId, data: offer });
    const relayed = await customer.waitType('signal');
    expect(relayed).toEqual({ type: 'signal', from: instructorWelcome.peerId, connectionId, data: offer });

    const candidate = {
      candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMLineIndex: 0, sdpMid: '0' },
    };
    customer.send({ type: 'signal', connectionId, data: candidate });
    expect(await instructor.waitType('signal')).toEqual({
      type: 'signal',
      from: customerWelcome.peerId,
      connectionId,
      data: candidate,
    });

    customer.send({ type: 'leave' });
    expect(await instructor.waitType('peer-left')).toEqual({
      type: 'peer-left',
      peerId: customerWelcome.peerId,
      reason: 'left',
    });
    expect((await customer.closed).code).toBe(1000);
    instructor.ws.close();
    await instructor.closed;
  });

  it('refuses a reused or unknown ticket and a foreign origin before the upgrade', async () => {
    const { id, customer: cora } = await meeting();
    const { ticket } = await joinAs(cora, id);
    const first = connect(ticket);
    await first.waitType('welcome');
    expect(await connect(ticket).refused).toBe(401);
    expect(await connect('not-a-ticket').refused).toBe(401);
    const fresh = await joinAs(cora, id);
    expect(await connect(fresh.ticket, 'https://evil.example').refused).toBe(403);
    first.ws.close();
    await first.closed;
  });

  it('hands out the debug level from the settings', async () => {
    const { id, customer: cora, instructor: ivan } = await meeting();
    const settings = await admin.request('GET', '/settings');
    expect(settings.status).toBe(200);
    expect((await joinAs(cora, id)).debugLevel).toBe(settings.body.debugLevel);
    const put = await admin.request('PUT', '/settings', { ...settings.body, debugLevel: 2 });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect((await joinAs(cora, id)).debugLevel).toBe(2);
    expect((await joinAs(ivan, id)).debugLevel).toBe(2);
  });

  it('answers a link meeting with its link and no ticket', async () => {
    const {
      id,
      customer: cora,
      instructor: ivan,
    } = await meeting({ trainingType: 'link', remoteLink: 'https://meet.example/room-42' });
    const link = expect.stringMatching(`/call\\?meeting=${id}#link=jl1\\.`);
    expect(await joinAs(cora, id)).toEqual({
      mode: 'link',
      url: 'https://meet.example/room-42',
      role: 'customer',
      link,
    });
    expect(await joinAs(ivan, id)).toEqual({
      mode: 'link',
      url: 'https://meet.example/room-42',
      role: 'instructor',
      link,
    });
  });

  it('refuses cancelled meetings and meetings outside the join window with 409 and a reason', async () => {
    const cancelled = await meeting();
    expect((await admin.request('POST', `/meetings/${cancelled.id}/cancel`, { reason: 'coach ill' })).status).toBe(200);
    expect(expectProblem(await cancelled.customer.request('POST', `/meetings/${cancelled.id}/join`), 409)).toMatch(
      /cancelled/,
    );
    expect(expectProblem(await cancelled.instructor.request('POST', `/meetings/${cancelled.id}/join`), 409)).toMatch(
      /cancelled/,
    );

    // Too early: the opening time in the meeting's own zone, named, with the date when it is not today there, and the
    // instant itself for clients that show it in their viewer's zone (the call page does).
    const later = await meeting({ start: at(120), end: at(180), timezone: 'Europe/London' });
    for (const who of [later.customer, later.instructor]) {
      const refused = await who.request('POST', `/meetings/${later.id}/join`);
      expect(expectProblem(refused, 409)).toBe('Joining opens at 12:50 (Europe/London), 15 minutes before the start.');
      expect(refused.body.opensAt).toBe('2030-05-01T11:50:00.000Z');
    }
    const nextDays = await meeting({
      start: '2030-05-03T08:00:00Z',
      end: '2030-05-03T09:00:00Z',
      timezone: 'America/New_York',
    });
    const far = await nextDays.customer.request('POST', `/meetings/${nextDays.id}/join`);
    expect(expectProblem(far, 409)).toBe(
      'Joining opens on 2030-05-03 at 03:45 (America/New_York), 15 minutes before the start.',
    );
    expect(far.body.opensAt).toBe('2030-05-03T07:45:00.000Z');

    // 14 minutes ahead is inside the window, the end itself is not.
    const soon = await meeting({ start: at(14), end: at(74) });
    expect((await joinAs(soon.customer, soon.id)).mode).toBe('native');
    const ended = await meeting({ start: at(-65), end: at(-5) });
    expect(expectProblem(await ended.customer.request('POST', `/meetings/${ended.id}/join`), 409)).toMatch(/ended/);
    const endingNow = await meeting({ start: at(-60), end: at(0) });
    expect(expectProblem(await endingNow.instructor.request('POST', `/meetings/${endingNow.id}/join`), 409)).toMatch(
      /ended/,
    );
  });

  it('tells an admin only participants join (403), hides the meeting from other users (404), and wants a token (401)', async () => {
    const { id, customer: cora } = await meeting();
    expectProblem(await admin.request('POST', `/meetings/${id}/join`), 403);
    expectProblem(await (await ts.as('carl', ['customer'])).request('POST', `/meetings/${id}/join`), 404);
    expectProblem(await (await ts.as('irma', ['instructor'])).request('POST', `/meetings/${id}/join`), 404);
    expectProblem(await cora.request('POST', '/meetings/no-such-meeting/join'), 404);
    const anonymous = await client(ts.url, undefined).request('POST', `/meetings/${id}/join`);
    expectProblem(anonymous, 401);
    const forged = await client(ts.url, 'not.a.jwt').request('POST', `/meetings/${id}/join`);
    expectProblem(forged, 401);
  });

  it('ends a running call when the meeting is cancelled over HTTP: an error frame, then close 4003', async () => {
    const booked = await meeting();
    const id = booked.id;
    const { customer, instructor } = await call(booked);
    const cancel = await booked.instructor.request('POST', `/meetings/${id}/cancel`, { reason: 'gym closed' });
    expect(cancel.status).toBe(200);
    const [customerClosed, instructorClosed] = await Promise.all([customer.closed, instructor.closed]);
    expect(customerClosed.code).toBe(4003);
    expect(instructorClosed.code).toBe(4003);
    for (const c of [customer, instructor]) {
      const error = c.messages.find((m: ServerMessage) => m.type === 'error');
      expect(error).toMatchObject({ type: 'error', code: 'cancelled' });
      expect(typeof error?.message).toBe('string');
      // the reason arrived before the close, and nothing after it
      expect(c.messages.at(-1)?.type).toBe('error');
    }
    expectProblem(await booked.customer.request('POST', `/meetings/${id}/join`), 409);
  });

  it('ends a running call when the meeting is moved out of the join window', async () => {
    const booked = await meeting();
    const id = booked.id;
    const { customer, instructor } = await call(booked);
    const moved = await admin.request('PATCH', `/meetings/${id}`, { start: at(24 * 60), end: at(25 * 60) });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    const [customerClosed, instructorClosed] = await Promise.all([customer.closed, instructor.closed]);
    expect([customerClosed.code, instructorClosed.code]).toEqual([4003, 4003]);
    expect(customer.messages.find((m) => m.type === 'error')).toMatchObject({ code: 'outside_window' });
  });

  it('ends a running native call when the meeting switches to a remote link', async () => {
    const booked = await meeting();
    const { customer, instructor } = await call(booked);
    const switched = await booked.instructor.request('PATCH', `/meetings/${booked.id}`, {
      trainingType: 'link',
      remoteLink: 'https://zoom.example/j/9',
    });
    expect(switched.status).toBe(200);
    const [customerClosed, instructorClosed] = await Promise.all([customer.closed, instructor.closed]);
    expect([customerClosed.code, instructorClosed.code]).toEqual([4003, 4003]);
    expect(instructor.messages.find((m) => m.type === 'error')).toMatchObject({ code: 'not_native' });
    const rejoin = await booked.customer.request('POST', `/meetings/${booked.id}/join`);
    expect(rejoin.body).toMatchObject({ mode: 'link', url: 'https://zoom.example/j/9' });
  });

  it('upgrades a still-valid ticket once the meeting has ended only to say why: error frame, close 4003', async () => {
    const { id, customer: cora } = await meeting({
      start: at(-59),
      end: new Date(now.getTime() + 20_000).toISOString(),
    });
    const { ticket } = await joinAs(cora, id);
    const saved = now;
    // 30 s later: the ticket (60 s on the same clock) is still good, the meeting is over.
    now = new Date(now.getTime() + 30_000);
    try {
      const late = connect(ticket);
      expect((await late.closed).code).toBe(4003);
      expect(late.messages.find((m) => m.type === 'error')).toMatchObject({ code: 'outside_window' });
      expect(late.messages.some((m) => m.type === 'welcome')).toBe(false);
    } finally {
      now = saved;
    }
  });
});

describe('the call page', () => {
  it('sends /call?meeting=<id> (the address in emails and feeds) to the web app, and refuses a bad id', async () => {
    const res = await fetch(`${ts.url}/call?meeting=${encodeURIComponent('m 1/x')}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/app/call/m%201%2Fx');
    await res.arrayBuffer();
    for (const query of ['', '?meeting=', `?meeting=${'x'.repeat(129)}`, '?meeting=a%00b', '?meeting=a&other=1']) {
      const bad = await fetch(`${ts.url}/call${query}`, { redirect: 'manual' });
      expect(bad.status, query).toBe(400);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
      await bad.arrayBuffer();
    }
  });

  it('serves simple-peer from the allow-list only; the old page and its files are gone', async () => {
    for (const [file, type] of [['simplepeer.min.js', 'text/javascript']] as const) {
      const res = await fetch(`${ts.url}/static/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      await res.arrayBuffer();
    }
    for (const path of [
      '/static/call.html',
      '/static/call-page.js',
      '/static/call.css',
      '/static/constructor',
      '/static/__proto__',
      '/static/..%2Fapp.ts',
      '/static/call-page.ts',
      '/static/call-client.js',
      '/static/pages%2Fcall.html',
    ]) {
      const res = await fetch(`${ts.url}${path}`);
      expect(res.status, path).toBe(404);
      await res.arrayBuffer();
    }
  });
});
