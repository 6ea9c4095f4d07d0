import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../adapters/event-store/sqlite.ts';
import type { EventStore } from '../../application/ports/event-store.ts';
import { TestClient } from '../adapters/signaling/harness.ts';
import { aMeeting } from '../support/builders.ts';
import { pairBooker } from '../support/booked.ts';
import type { Booked } from '../support/booked.ts';
import { startTestSystem, tempDir, useSystem } from '../support/system.ts';
import type { Client, TestSystem } from '../support/system.ts';

let now = new Date('2030-05-01T10:00:00Z');
const at = (minutesFromNow: number) => new Date(now.getTime() + minutesFromNow * 60_000).toISOString();

// Leaves are told at once here (in production a reconnect within 10 s continues the visit: tests/adapters/signaling).
const ts = useSystem({ system: { clock: () => now, signaling: { attendanceGraceMs: 0 } } });
const admin = ts.client('ada', ['admin']);
const auditor = ts.client('audrey', ['auditor']);
const otherInstructor = ts.client('irma', ['instructor']);
const open: TestClient[] = [];

afterAll(() => {
  for (const c of open) c.ws.terminate();
});

const book = pairBooker(ts, admin);
/** A meeting between a fresh pair of people, starting `startIn` minutes from now. */
const meeting = (startIn: number): Promise<Booked> => book({ start: at(startIn), end: at(startIn + 60) });

const mark = (who: Client, m: Booked, personId: string, status: unknown) =>
  who.request('PUT', `/meetings/${m.id}/attendance/${encodeURIComponent(personId)}`, { status });

const connect = async (who: Client, id: string): Promise<TestClient> => {
  const res = await who.request('POST', `/meetings/${id}/join`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const c = new TestClient(`${ts.url.replace(/^http/, 'ws')}/signaling?ticket=${encodeURIComponent(res.body.ticket)}`);
  open.push(c);
  await c.waitType('welcome');
  return c;
};

/** Polls until `check` passes (the signaling server records joins and leaves without waiting for them). */
const eventually = async <A>(read: () => Promise<A>, check: (value: A) => boolean, what: string): Promise<A> => {
  const until = Date.now() + 5_000;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > until) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

const historyTypes = async (who: Client, id: string): Promise<string[]> =>
  (await who.request('GET', `/meetings/${id}/history`)).body.events.map((e: { type: string }) => e.type);

describe('PUT /meetings/:id/attendance/:personId', () => {
  it('refuses a mark before the start (409) and from the member (403), the auditor (403) and another instructor (404)', async () => {
    const m = await meeting(30);
    const early = await mark(m.instructor, m, m.customerId, 'no-show');
    expect(early.status, JSON.stringify(early.body)).toBe(409);
    expect(early.body.detail).toMatch(/started/);
    now = new Date(Date.parse(at(31)));
    expect((await mark(m.customer, m, m.customerId, 'no-show')).status).toBe(403);
    expect((await mark(m.customer, m, m.instructorId, 'no-show')).status).toBe(403);
    expect((await mark(auditor, m, m.customerId, 'no-show')).status).toBe(403);
    expect((await mark(otherInstructor, m, m.customerId, 'no-show')).status).toBe(404);
    expect((await mark(m.instructor, m, 'someone-else', 'no-show')).status).toBe(404);
    expect(
      (await m.instructor.request('PUT', `/meetings/nope/attendance/${m.customerId}`, { status: 'attended' })).status,
    ).toBe(404);
    const after = await m.customer.request('GET', `/meetings/${m.id}`);
    expect(after.body.attendance.map((e: { status: unknown }) => e.status)).toEqual([null, null]);
    expect(await historyTypes(admin, m.id)).not.toContain('AttendanceMarked');
  });

  it('answers 400 to a bad status, an unknown field, no body and a bad person id', async () => {
    const m = await meeting(-5);
    for (const body of [{ status: 'late' }, { status: 'attended', note: 'x' }, {}]) {
      const res = await m.instructor.request('PUT', `/meetings/${m.id}/attendance/${m.customerId}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await m.instructor.request('PUT', `/meetings/${m.id}/attendance/${m.customerId}`)).status).toBe(400);
    expect((await mark(m.instructor, m, 'a\u202Eb', 'attended')).status).toBe(400);
  });

  it('refuses a mark on a cancelled meeting (409)', async () => {
    const m = await meeting(-5);
    expect((await admin.request('POST', `/meetings/${m.id}/cancel`, {})).status).toBe(200);
    const res = await mark(m.instructor, m, m.customerId, 'attended');
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/cancelled/);
  });

  it('marks after the start: the meeting, its ETag, the calendar, the history and the audit CSV show it, and it may change', async () => {
    const m = await meeting(-10);
    const before = await m.customer.request('GET', `/meetings/${m.id}`);
    const oldTag = before.headers.get('etag')!;
    expect(oldTag).toBe(`"${before.body.revision}"`);

    const marked = await mark(m.instructor, m, m.customerId, 'no-show');
    expect(marked.status, JSON.stringify(marked.body)).toBe(200);
    expect(marked.body).toMatchObject({
      personId: m.customerId,
      role: 'customer',
      status: 'no-show',
      markedBy: { id: m.instructorId, roles: ['instructor'] },
      markedAt: now.toISOString(),
      present: false,
      visits: [],
    });

    // The member sees their own mark and the trainer's entry.
    const seen = await m.customer.request('GET', `/meetings/${m.id}`);
    expect(seen.body.attendance).toEqual([
      expect.objectContaining({ personId: m.customerId, status: 'no-show' }),
      expect.objectContaining({ personId: m.instructorId, role: 'instructor', status: null }),
    ]);
    const newTag = seen.headers.get('etag')!;
    expect(newTag).not.toBe(oldTag);
    expect((await m.customer.request('GET', `/meetings/${m.id}`, undefined, { 'if-none-match': oldTag })).status).toBe(
      200,
    );
    expect((await m.customer.request('GET', `/meetings/${m.id}`, undefined, { 'if-none-match': newTag })).status).toBe(
      304,
    );
    // If-Match pins the meeting's own revision: both tags still fit it.
    const patched = await m.instructor.request(
      'PATCH',
      `/meetings/${m.id}`,
      { title: 'Renamed' },
      { 'if-match': newTag },
    );
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.attendance[0].status).toBe('no-show');
    const stale = await m.instructor.request('PATCH', `/meetings/${m.id}`, { title: 'Again' }, { 'if-match': oldTag });
    expect(stale.status).toBe(412);

    const calendar = await m.customer.request(
      'GET',
      `/calendar?from=${encodeURIComponent(at(-60))}&to=${encodeURIComponent(at(120))}`,
    );
    expect(calendar.body.items).toEqual([expect.objectContaining({ meetingId: m.id, attendance: 'no-show' })]);

    // Changeable, by an admin too; the same mark again changes nothing.
    expect((await mark(admin, m, m.customerId, 'attended')).body.status).toBe('attended');
    expect((await mark(m.instructor, m, m.customerId, 'attended')).status).toBe(200);
    expect((await mark(m.instructor, m, m.instructorId, 'attended')).body).toMatchObject({
      role: 'instructor',
      status: 'attended',
    });
    const trainerCalendar = await m.instructor.request(
      'GET',
      `/calendar?from=${encodeURIComponent(at(-60))}&to=${encodeURIComponent(at(120))}`,
    );
    expect(trainerCalendar.body.items[0].attendance).toBe('attended');

    const history = (await m.customer.request('GET', `/meetings/${m.id}/history`)).body.events;
    const marks = history.filter((e: { type: string }) => e.type === 'AttendanceMarked');
    expect(marks.map((e: { data: { status: string; previous?: string } }) => [e.data.status, e.data.previous])).toEqual(
      [
        ['no-show', undefined],
        ['attended', 'no-show'],
        ['attended', undefined],
      ],
    );
    expect(marks[1].actor).toEqual({ id: 'ada', roles: ['admin'] });
    expect(history.map((e: { type: string }) => e.type).slice(0, 3)).toEqual([
      'MeetingScheduled',
      'AttendanceMarked',
      'MeetingDetailsChanged',
    ]);

    const csv = await fetch(`${ts.url}/audit?type=AttendanceMarked&personId=${encodeURIComponent(m.customerId)}`, {
      headers: { authorization: `Bearer ${await ts.token('audrey', ['auditor'])}`, accept: 'text/csv' },
    });
    expect(csv.status).toBe(200);
    const rows = (await csv.text()).trim().split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toContain('AttendanceMarked');
    expect(rows[1]).toContain(m.instructorId);
    expect(rows[1]).toContain(`Attendance of ${m.customerId} was marked no-show.`);
    expect(rows[2]).toContain('(was no-show)');
  });
});

describe('joins and leaves from the signaling server', () => {
  it('records the join and the leave of each participant in the history, and who is in the call now', async () => {
    const m = await meeting(-2);
    const customer = await connect(m.customer, m.id);
    const instructor = await connect(m.instructor, m.id);
    await customer.waitType('peer-joined');
    const joinedAt = now.toISOString();
    const joined = await eventually(
      () => m.customer.request('GET', `/meetings/${m.id}`),
      (res) => res.body.attendance.every((e: { present: boolean }) => e.present),
      'both present',
    );
    expect(joined.body.attendance[0].visits).toEqual([{ joinedAt }]);
    // A second connection of the member replaces the first: the same visit, and no leave for the replaced one.
    const again = await connect(m.customer, m.id);
    await customer.closed;
    await again.waitType('peer-joined');
    expect(await historyTypes(admin, m.id)).toEqual(['MeetingScheduled', 'ParticipantJoined', 'ParticipantJoined']);
    now = new Date(Date.parse(at(7)));
    again.ws.close();
    await eventually(
      async () => instructor.ofType('peer-left').length,
      (n) => n >= 2,
      'the instructor told of both departures',
    );
    const left = await eventually(
      () => m.instructor.request('GET', `/meetings/${m.id}`),
      (res) => !res.body.attendance[0].present,
      'the customer left',
    );
    expect(left.body.attendance[0].visits).toEqual([{ joinedAt, leftAt: now.toISOString() }]);
    expect(left.body.attendance[1].present).toBe(true);
    expect(left.headers.get('etag')).toMatch(/^"\d+\.\d+"$/);

    const history = (await m.customer.request('GET', `/meetings/${m.id}/history`)).body.events;
    const attendance = history.filter((e: { type: string }) => e.type.startsWith('Participant'));
    expect(attendance.map((e: { type: string; data: { personId: string } }) => [e.type, e.data.personId])).toEqual([
      ['ParticipantJoined', m.customerId],
      ['ParticipantJoined', m.instructorId],
      ['ParticipantLeft', m.customerId],
    ]);
    expect(attendance[2].actor).toEqual({ id: m.customerId, roles: ['customer'] });
    // Pages of the merged history: `next` is the place of the last entry, and the next page follows on from it.
    const first = await m.customer.request('GET', `/meetings/${m.id}/history?limit=2`);
    expect(first.body.next).toBe(1);
    const rest = await m.customer.request('GET', `/meetings/${m.id}/history?after=1`);
    expect([...first.body.events, ...rest.body.events]).toEqual(history);

    // The trainer marks the member attended, now that they came.
    expect((await mark(m.instructor, m, m.customerId, 'attended')).body).toMatchObject({
      status: 'attended',
      visits: [{ joinedAt, leftAt: now.toISOString() }],
    });
    instructor.ws.close();
    await eventually(
      () => historyTypes(admin, m.id),
      (types) => types.filter((t) => t === 'ParticipantLeft').length === 2,
      'the instructor left',
    );
  });
});

/** The embedded store, refusing every append to an attendance stream while `failing` says so. */
const flakyStore = (dataDir: string, failing: () => boolean): EventStore => {
  const store = openSqliteEventStore({ path: join(dataDir, 'events.db') });
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'appendToStream') {
        return (streamName: string, ...rest: unknown[]) => {
          if (failing() && streamName.startsWith('attendance-')) return Promise.reject(new Error('disk full'));
          return (target.appendToStream as (...args: unknown[]) => unknown).call(target, streamName, ...rest);
        };
      }
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
};

describe('attendance beside the call', () => {
  const start = new Date('2030-05-01T10:00:00Z');
  const book = async (sys: TestSystem) => {
    await sys.people('cora', 'ivan');
    const res = await (
      await sys.as('ada', ['admin'])
    ).request(
      'POST',
      '/meetings',
      aMeeting({ start: start.toISOString(), end: new Date(start.getTime() + 3_600_000).toISOString() }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const join = async (sys: TestSystem, who: string, role: string, id: string) => {
    const res = await (await sys.as(who, [role])).request('POST', `/meetings/${id}/join`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const c = new TestClient(
      `${sys.url.replace(/^http/, 'ws')}/signaling?ticket=${encodeURIComponent(res.body.ticket)}`,
    );
    open.push(c);
    return c;
  };

  it('keeps the call working when the event store cannot record a join', async () => {
    const dataDir = tempDir();
    let failing = true;
    const sys = await startTestSystem({
      dataDir,
      system: { clock: () => new Date(start.getTime() + 60_000), store: flakyStore(dataDir, () => failing) },
    });
    try {
      const id = await book(sys);
      const customer = await join(sys, 'cora', 'customer', id);
      const instructor = await join(sys, 'ivan', 'instructor', id);
      await Promise.all([customer.waitType('peer-joined'), instructor.waitType('peer-joined')]);
      // Signals still pass between them.
      const paired = (await instructor.waitType('peer-joined')) as unknown as { connectionId: string };
      instructor.send({ type: 'signal', connectionId: paired.connectionId, data: { kind: 'offer', sdp: 'v=0' } });
      await customer.waitType('signal');
      const view = await (await sys.as('cora', ['customer'])).request('GET', `/meetings/${id}`);
      expect(view.body.attendance.map((e: { present: boolean }) => e.present)).toEqual([false, false]);
      expect(customer.open && instructor.open).toBe(true);
      failing = false;
      customer.ws.close();
      await instructor.waitType('peer-left');
      // Nothing was recorded of the join, so no leave either.
      const history = await (await sys.as('ada', ['admin'])).request('GET', `/meetings/${id}/history`);
      expect(history.body.events.map((e: { type: string }) => e.type)).toEqual(['MeetingScheduled']);
    } finally {
      await sys.destroy();
    }
  });

  it('records those still in a call as left at a graceful shutdown', async () => {
    const dataDir = tempDir();
    const clock = () => new Date(start.getTime() + 120_000);
    const first = await startTestSystem({ dataDir, system: { clock } });
    const id = await book(first);
    const customer = await join(first, 'cora', 'customer', id);
    await customer.waitType('welcome');
    await eventually(
      async () => (await (await first.as('cora', ['customer'])).request('GET', `/meetings/${id}`)).body,
      (body) => body.attendance[0].present === true,
      'the customer is in the call',
    );
    await first.close();
    const second = await startTestSystem({ dataDir, system: { clock } });
    try {
      const history = await (await second.as('ada', ['admin'])).request('GET', `/meetings/${id}/history`);
      expect(history.body.events.map((e: { type: string }) => e.type)).toEqual([
        'MeetingScheduled',
        'ParticipantJoined',
        'ParticipantLeft',
      ]);
      const view = await (await second.as('cora', ['customer'])).request('GET', `/meetings/${id}`);
      expect(view.body.attendance[0]).toMatchObject({
        present: false,
        visits: [{ joinedAt: clock().toISOString(), leftAt: clock().toISOString() }],
      });
    } finally {
      await second.destroy();
    }
  });
});
