import type { AttendanceEvent } from '../../domain/attendance.ts';
import { assertNever } from '../../domain/shared.ts';
import type { AttendanceView, AttendanceVisit, ParticipantAttendance } from '../ports/read-models.ts';

/** The visits a view keeps per participant: the latest ones. */
export const MAX_VISITS = 20;

const withVisits = (entry: ParticipantAttendance, visits: ReadonlyArray<AttendanceVisit>): ParticipantAttendance => ({
  ...entry,
  visits: visits.slice(-MAX_VISITS),
});

const updateVisits = (entry: ParticipantAttendance, event: AttendanceEvent): ParticipantAttendance => {
  const last = entry.visits[entry.visits.length - 1];
  const open = last !== undefined && last.leftAt === undefined;
  switch (event.type) {
    case 'ParticipantJoined':
      // Still in the call (a second connection, or a leave lost in a crash): the visit goes on.
      return open ? entry : withVisits(entry, [...entry.visits, { joinedAt: event.data.at }]);
    case 'ParticipantLeft':
      return open ? withVisits(entry, [...entry.visits.slice(0, -1), { ...last, leftAt: event.data.at }]) : entry;
    case 'AttendanceMarked': {
      const { status, by, at } = event.data;
      return { ...entry, status, markedBy: by, markedAt: at };
    }
    default:
      return assertNever(event);
  }
};

/** The attendance view after one more event of the meeting's attendance stream. */
export const projectAttendanceView = (
  view: AttendanceView | undefined,
  event: AttendanceEvent,
  revision: number,
): AttendanceView => {
  const { meetingId, personId } = event.data;
  const participants = view?.participants ?? [];
  const existing = participants.find((p) => p.personId === personId);
  const next = updateVisits(existing ?? { personId, visits: [] }, event);
  return {
    meetingId,
    revision,
    participants:
      existing === undefined ? [...participants, next] : participants.map((p) => (p === existing ? next : p)),
  };
};
