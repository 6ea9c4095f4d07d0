import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';
import { attendanceAggregate } from '../../application/aggregates.ts';
import { attendanceEntries, createAttendanceRecorder } from '../../application/attendance.ts';
import { createRecorder } from '../../application/execute.ts';
import { MAX_VISITS, projectAttendanceView } from '../../application/projections/attendance-view.ts';
import type { AttendanceView } from '../../application/ports/read-models.ts';
import type { AttendanceEvent } from '../../domain/attendance.ts';

const minute = (n: number) => new Date(Date.UTC(2030, 4, 1, 10, n)).toISOString();
const presence = (type: 'ParticipantJoined' | 'ParticipantLeft', personId: string, at: string): AttendanceEvent => ({
  type,
  data: { meetingId: 'm1', personId, role: 'customer', at, by: { id: personId, roles: ['customer'] } },
});
const fold = (events: ReadonlyArray<AttendanceEvent>): AttendanceView | undefined =>
  events.reduce<AttendanceView | undefined>(
    (view, event, revision) => projectAttendanceView(view, event, revision),
    undefined,
  );

describe('the attendance recorder', () => {
  it("appends joins and leaves to the meeting's attendance stream with the participant as actor", async () => {
    let n = 0;
    const store = createInMemoryEventStore();
    const port = createAttendanceRecorder(createRecorder({ store, newId: () => `e${++n}` }));
    await port.joined('m1', 'cora', 'customer', new Date(minute(0)));
    await port.joined('m1', 'cora', 'customer', new Date(minute(1)));
    await port.left('m1', 'cora', 'customer', new Date(minute(5)));
    await port.left('m1', 'cora', 'customer', new Date(minute(6)));
    const events = await store.readStream(attendanceAggregate.streamName('m1'));
    expect(events.map((e) => [e.type, (e.data as { at: string }).at])).toEqual([
      ['ParticipantJoined', minute(0)],
      ['ParticipantLeft', minute(5)],
    ]);
    expect(events[0]!.data).toMatchObject({
      personId: 'cora',
      role: 'customer',
      by: { id: 'cora', roles: ['customer'] },
    });
  });

  it('rejects when the store fails, for the signaling server to log', async () => {
    const store = createInMemoryEventStore();
    const failing = { ...store, readStream: () => Promise.reject(new Error('disk gone')) } as typeof store;
    const port = createAttendanceRecorder(createRecorder({ store: failing, newId: () => 'x' }));
    await expect(port.joined('m1', 'cora', 'customer', new Date())).rejects.toThrow('disk gone');
  });
});

describe('the attendance view', () => {
  it('keeps visits per participant, a visit open until its leave, and the last mark with who and when', () => {
    const by = { id: 'ivan', roles: ['instructor' as const] };
    const view = fold([
      presence('ParticipantJoined', 'cora', minute(0)),
      presence('ParticipantJoined', 'ivan', minute(1)),
      presence('ParticipantLeft', 'cora', minute(3)),
      presence('ParticipantJoined', 'cora', minute(4)),
      { type: 'AttendanceMarked', data: { meetingId: 'm1', personId: 'cora', status: 'attended', at: minute(9), by } },
    ]);
    expect(view?.revision).toBe(4);
    const entries = attendanceEntries({ customerId: 'cora', instructorId: 'ivan' }, view);
    expect(entries).toEqual([
      {
        personId: 'cora',
        role: 'customer',
        status: 'attended',
        markedBy: by,
        markedAt: minute(9),
        present: true,
        visits: [{ joinedAt: minute(0), leftAt: minute(3) }, { joinedAt: minute(4) }],
      },
      { personId: 'ivan', role: 'instructor', status: null, present: true, visits: [{ joinedAt: minute(1) }] },
    ]);
  });

  it('lists both participants before any event, and keeps only the latest visits', () => {
    expect(attendanceEntries({ customerId: 'cora', instructorId: 'ivan' }, undefined)).toEqual([
      { personId: 'cora', role: 'customer', status: null, present: false, visits: [] },
      { personId: 'ivan', role: 'instructor', status: null, present: false, visits: [] },
    ]);
    const many = Array.from({ length: MAX_VISITS + 5 }, (_, i) => [
      presence('ParticipantJoined', 'cora', minute(2 * i)),
      presence('ParticipantLeft', 'cora', minute(2 * i + 1)),
    ]).flat();
    const visits = fold(many)!.participants[0]!.visits;
    expect(visits).toHaveLength(MAX_VISITS);
    expect(visits[visits.length - 1]).toEqual({
      joinedAt: minute(2 * (MAX_VISITS + 4)),
      leftAt: minute(2 * (MAX_VISITS + 4) + 1),
    });
  });
});
