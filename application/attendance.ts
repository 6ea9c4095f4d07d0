import * as E from 'fp-ts/lib/Either.js';
import type { AttendanceCommand, AttendanceStatus, ParticipantRole } from '../domain/attendance.ts';
import type { Actor } from '../domain/shared.ts';
import { attendanceAggregate, meetings, notFound } from './aggregates.ts';
import type { AppError, Executor, Recorder, RequestContext } from './execute.ts';
import type { AttendanceView, AttendanceVisit, MeetingView, ReadModels } from './ports/read-models.ts';

/**
 * Who came to a meeting: the instructor's (or an admin's) marks, which the service runs once it has checked the caller
 * may see and change the meeting, and the joins and leaves the signaling server records as they happen.
 */

/** One participant's attendance as a reader sees it: both participants are always listed. */
export interface AttendanceEntry {
  readonly personId: string;
  readonly role: ParticipantRole;
  readonly status: AttendanceStatus | null;
  readonly markedBy?: Actor;
  readonly markedAt?: string;
  /** In the call now: joined and not left. */
  readonly present: boolean;
  readonly visits: ReadonlyArray<AttendanceVisit>;
}

/** The meeting's two participants, the customer first, with what their attendance stream recorded of them. */
export const attendanceEntries = (
  meeting: Pick<MeetingView, 'customerId' | 'instructorId'>,
  view: AttendanceView | undefined,
): ReadonlyArray<AttendanceEntry> =>
  (
    [
      [meeting.customerId, 'customer'],
      [meeting.instructorId, 'instructor'],
    ] as const
  ).map(([personId, role]) => {
    const recorded = view?.participants.find((p) => p.personId === personId);
    const visits = recorded?.visits ?? [];
    const last = visits[visits.length - 1];
    return {
      personId,
      role,
      status: recorded?.status ?? null,
      ...(recorded?.markedBy !== undefined ? { markedBy: recorded.markedBy } : {}),
      ...(recorded?.markedAt !== undefined ? { markedAt: recorded.markedAt } : {}),
      present: last !== undefined && last.leftAt === undefined,
      visits,
    };
  });

export interface AttendanceDeps {
  readonly readModels: Pick<ReadModels, 'getAttendance'>;
  readonly executor: Pick<Executor, 'execute' | 'stamp' | 'load'>;
}

/**
 * Marks a participant of a meeting the caller may change: decided on the meeting as its own stream says it is now
 * (read from the leader, so a cancellation on another node counts), answered once the read models show the mark.
 */
export const markAttendance = async (
  deps: AttendanceDeps,
  ctx: RequestContext,
  view: MeetingView,
  personId: string,
  status: AttendanceStatus,
): Promise<E.Either<AppError, AttendanceEntry>> => {
  const loaded = await deps.executor.load(meetings, view.id);
  if (E.isLeft(loaded)) return loaded;
  const meeting = loaded.right.state;
  if (meeting.status === 'none') return E.left(notFound('meeting'));
  const command: AttendanceCommand = {
    type: 'MarkAttendance',
    data: {
      meetingId: view.id,
      personId,
      status,
      meeting: {
        start: meeting.start,
        cancelled: meeting.status === 'cancelled',
        customerId: meeting.customerId,
        instructorId: meeting.instructorId,
      },
      ...deps.executor.stamp(ctx),
    },
  };
  const result = await deps.executor.execute(ctx, attendanceAggregate, view.id, [command]);
  if (E.isLeft(result)) return result;
  const entry = attendanceEntries(meeting, deps.readModels.getAttendance(view.id)).find((e) => e.personId === personId);
  return entry === undefined ? E.left(notFound('participant')) : E.right(entry);
};

/** What the signaling server tells of its rooms: a participant seated in a meeting's call, or gone from it. */
export interface AttendancePort {
  joined(meetingId: string, personId: string, role: ParticipantRole, at: Date): Promise<void>;
  left(meetingId: string, personId: string, role: ParticipantRole, at: Date): Promise<void>;
}

/**
 * Joins and leaves as the application's own writes (no request: neither refused while the read models are behind
 * nor waited for); the participant is the actor. A write that fails rejects, for the signaling server to log.
 */
export const createAttendanceRecorder = (recorder: Pick<Recorder, 'record'>): AttendancePort => {
  const record = async (
    type: 'RecordJoin' | 'RecordLeave',
    meetingId: string,
    personId: string,
    role: ParticipantRole,
    at: Date,
  ): Promise<void> => {
    const command: AttendanceCommand = {
      type,
      data: { meetingId, personId, role, at: at.toISOString(), by: { id: personId, roles: [role] } },
    };
    const result = await recorder.record(attendanceAggregate, meetingId, [command]);
    if (E.isLeft(result)) throw new Error(`attendance not recorded: ${result.left._tag}`);
  };
  return {
    joined: (meetingId, personId, role, at) => record('RecordJoin', meetingId, personId, role, at),
    left: (meetingId, personId, role, at) => record('RecordLeave', meetingId, personId, role, at),
  };
};
