import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  AttendanceEvent,
  MAX_RECORDED_VISITS,
  attendanceDecider,
  attendanceEventTypes,
  attendanceStreamName,
} from '../../domain/attendance.ts';
import type { AttendanceCommand, MeetingFacts } from '../../domain/attendance.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(attendanceDecider);
const start = '2026-03-02T15:00:00.000Z';
const after = '2026-03-02T15:10:00.000Z';
const ivan = { id: 'ivan', roles: ['instructor' as const] };
const meeting: MeetingFacts = { start, cancelled: false, customerId: 'cora', instructorId: 'ivan' };

const markCmd = (status: 'attended' | 'no-show', overrides: Record<string, unknown> = {}): AttendanceCommand => ({
  type: 'MarkAttendance',
  data: { meetingId: 'm1', personId: 'cora', status, meeting, at: after, by: ivan, ...overrides },
});
const presence = (personId: string, role: 'customer' | 'instructor', at = after) => ({
  meetingId: 'm1',
  personId,
  role,
  at,
  by: { id: personId, roles: [role] },
});
const join = (personId: string, role: 'customer' | 'instructor' = 'customer'): AttendanceCommand => ({
  type: 'RecordJoin',
  data: presence(personId, role),
});
const leave = (personId: string, role: 'customer' | 'instructor' = 'customer'): AttendanceCommand => ({
  type: 'RecordLeave',
  data: presence(personId, role),
});
const joined = { type: 'ParticipantJoined' as const, data: presence('cora', 'customer') };
const left = { type: 'ParticipantLeft' as const, data: presence('cora', 'customer') };
const marked = (status: 'attended' | 'no-show') => ({
  type: 'AttendanceMarked' as const,
  data: { meetingId: 'm1', personId: 'cora', status, role: 'customer' as const, at: after, by: ivan },
});

describe('attendance', () => {
  it('names its stream after the meeting and lists its event types off the codec', () => {
    expect(attendanceStreamName('m1')).toBe('attendance-m1');
    expect(attendanceEventTypes).toEqual(['ParticipantJoined', 'ParticipantLeft', 'AttendanceMarked']);
    expect(E.isRight(AttendanceEvent.decode(marked('attended')))).toBe(true);
  });

  it('records a join, and a leave only of someone in the call', () => {
    spec.given([]).when(join('cora')).then([joined]);
    spec.given([joined]).when(leave('cora')).then([left]);
    spec.given([]).when(leave('cora')).then([]);
    spec.given([joined, left]).when(leave('cora')).then([]);
  });

  it('stops recording the comings and goings of a participant after MAX_RECORDED_VISITS visits', () => {
    const visits = Array.from({ length: MAX_RECORDED_VISITS }, () => [joined, left]).flat();
    spec.given(visits.slice(0, -2)).when(join('cora')).then([joined]);
    spec.given(visits).when(join('cora')).then([]);
    spec.given(visits).when(leave('cora')).then([]);
    spec
      .given(visits)
      .when(join('ivan', 'instructor'))
      .then([{ type: 'ParticipantJoined', data: presence('ivan', 'instructor') }]);
  });

  it('keeps marks of ids that name inherited properties apart from the prototype', () => {
    const proto = (personId: string): AttendanceCommand => ({
      type: 'MarkAttendance',
      data: {
        meetingId: 'm1',
        personId,
        status: 'attended',
        meeting: { start, cancelled: false, customerId: personId, instructorId: 'ivan' },
        at: after,
        by: ivan,
      },
    });
    for (const personId of ['__proto__', 'constructor', 'toString']) {
      const first = {
        type: 'AttendanceMarked' as const,
        data: {
          meetingId: 'm1',
          personId,
          status: 'attended' as const,
          role: 'customer' as const,
          at: after,
          by: ivan,
        },
      };
      spec.given([]).when(proto(personId)).then([first]);
      expect(E.isRight(AttendanceEvent.decode(first))).toBe(true);
      // The same mark again is no change, as for any id.
      spec.given([first]).when(proto(personId)).then([]);
    }
  });

  it('takes a second connection of someone in the call for the same visit', () => {
    spec.given([joined]).when(join('cora')).then([]);
    spec
      .given([joined])
      .when(join('ivan', 'instructor'))
      .thenState((s) => expect(s.present).toEqual(['cora', 'ivan']));
  });

  it('marks a participant after the start, and changes the mark naming the one it replaces', () => {
    spec
      .given([])
      .when(markCmd('attended'))
      .then([marked('attended')]);
    spec
      .given([marked('attended')])
      .when(markCmd('no-show'))
      .then([{ ...marked('no-show'), data: { ...marked('no-show').data, previous: 'attended' } }]);
    spec
      .given([])
      .when(markCmd('attended', { personId: 'ivan' }))
      .thenState((s) => expect(s.marks).toEqual(new Map([['ivan', 'attended']])));
  });

  it('takes the same mark again as done', () => {
    spec
      .given([marked('no-show')])
      .when(markCmd('no-show'))
      .then([]);
  });

  it('refuses a mark before the start', () => {
    spec
      .given([])
      .when(markCmd('no-show', { at: '2026-03-02T14:59:59.999Z' }))
      .thenError({ _tag: 'TooEarly', start });
    spec
      .given([])
      .when(markCmd('no-show', { at: start }))
      .then([marked('no-show')].map((e) => ({ ...e, data: { ...e.data, at: start } })));
  });

  it('refuses a mark on a cancelled meeting and of someone who is no participant', () => {
    spec
      .given([])
      .when(markCmd('attended', { meeting: { ...meeting, cancelled: true } }))
      .thenError({ _tag: 'MeetingIsCancelled' });
    spec
      .given([])
      .when(markCmd('attended', { personId: 'olga' }))
      .thenError({ _tag: 'NotAParticipant', personId: 'olga' });
    spec
      .given([])
      .when(markCmd('attended', { personId: 'bad\u0000id' }))
      .thenError((error) => expect(error._tag).toBe('ValidationFailed'));
  });
});
