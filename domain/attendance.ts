import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { annotate } from './annotate.ts';
import { CallRole } from './call-ticket.ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';
import { Actor, RecordedAt, assertNever, checkId, validationFailed } from './shared.ts';
import type { ValidationFailed } from './shared.ts';

/**
 * Who came to a meeting: the signaling server records each participant's joins and leaves of the call, and the
 * meeting's instructor (or an admin) marks each participant attended or no-show once the session has started. One
 * stream per meeting, beside the meeting's own, so that a call's comings and goings never contend with its edits.
 */

export const ParticipantRole = annotate(CallRole, {
  name: 'ParticipantRole',
  description: "The person's part in the meeting.",
});
export type ParticipantRole = t.TypeOf<typeof ParticipantRole>;

export const AttendanceStatus = annotate(t.keyof({ attended: null, 'no-show': null }), {
  name: 'AttendanceStatus',
  description: '`attended`: the participant took part; `no-show`: they did not come.',
});
export type AttendanceStatus = t.TypeOf<typeof AttendanceStatus>;

const MeetingId = annotate(t.string, { description: 'The meeting.' });
const PersonId = annotate(t.string, { description: 'The participant (user id).' });
const stamp = { at: RecordedAt, by: Actor };
/** Who came or went, and when: the data of a join or a leave, as recorded and as commanded. */
const Presence = t.type({ meetingId: MeetingId, personId: PersonId, role: ParticipantRole, ...stamp });

// ---------- events ----------

export const ParticipantJoined = t.type({
  type: t.literal('ParticipantJoined'),
  data: annotate(Presence, {
    description: "A participant joined the meeting's call (recorded by the signaling server; `by` is the participant).",
  }),
});

export const ParticipantLeft = t.type({
  type: t.literal('ParticipantLeft'),
  data: annotate(Presence, {
    description: "A participant left the meeting's call (or the server shut down while they were in it).",
  }),
});

export const AttendanceMarked = t.type({
  type: t.literal('AttendanceMarked'),
  data: annotate(
    t.intersection([
      t.type({ meetingId: MeetingId, personId: PersonId, status: AttendanceStatus, ...stamp }),
      t.partial({
        previous: annotate(AttendanceStatus, { description: 'The mark it replaced, if there was one.' }),
        role: annotate(ParticipantRole, { description: "The marked person's part in the meeting." }),
      }),
    ]),
    { description: 'The instructor or an admin marked a participant attended or no-show.' },
  ),
});

export const AttendanceEvent = t.union([ParticipantJoined, ParticipantLeft, AttendanceMarked]);
export type AttendanceEvent = t.TypeOf<typeof AttendanceEvent>;
export const attendanceEventTypes = eventTypesOf(AttendanceEvent);

// ---------- commands ----------

/** What the meeting says, as the application read it from the meeting's own stream when deciding a mark. */
export interface MeetingFacts {
  readonly start: string;
  readonly cancelled: boolean;
  readonly customerId: string;
  readonly instructorId: string;
}

export const RecordJoin = t.type({ type: t.literal('RecordJoin'), data: Presence });
export const RecordLeave = t.type({ type: t.literal('RecordLeave'), data: Presence });

export interface MarkAttendance {
  readonly type: 'MarkAttendance';
  readonly data: {
    readonly meetingId: string;
    readonly personId: string;
    readonly status: AttendanceStatus;
    readonly meeting: MeetingFacts;
    readonly at: string;
    readonly by: Actor;
  };
}

export type AttendanceCommand = t.TypeOf<typeof RecordJoin> | t.TypeOf<typeof RecordLeave> | MarkAttendance;

// ---------- state ----------

export interface AttendanceState {
  /** The participants in the call now (joined and not left). */
  readonly present: ReadonlyArray<string>;
  /** Each participant's mark; a Map, so that no id can be mistaken for an inherited property. */
  readonly marks: ReadonlyMap<string, AttendanceStatus>;
  /** How many joins each participant has on record. */
  readonly visits: ReadonlyMap<string, number>;
}

/**
 * The joins recorded per participant and meeting: beyond it a participant's further comings and goings are not
 * recorded (the signaling server already folds reconnects into one visit; this bounds a client that loops).
 */
export const MAX_RECORDED_VISITS = 100;

export const initialState = (): AttendanceState => ({ present: [], marks: new Map(), visits: new Map() });

// ---------- errors ----------

export interface TooEarly {
  readonly _tag: 'TooEarly';
  readonly start: string;
}
export interface MeetingIsCancelled {
  readonly _tag: 'MeetingIsCancelled';
}
export interface NotAParticipant {
  readonly _tag: 'NotAParticipant';
  readonly personId: string;
}
export type AttendanceError = ValidationFailed | TooEarly | MeetingIsCancelled | NotAParticipant;

// ---------- decide ----------

const mark = (c: MarkAttendance['data'], state: AttendanceState): E.Either<AttendanceError, AttendanceEvent[]> => {
  const badId = checkId('personId', c.personId);
  if (badId.length > 0) return E.left(validationFailed(badId));
  if (c.personId !== c.meeting.customerId && c.personId !== c.meeting.instructorId)
    return E.left({ _tag: 'NotAParticipant', personId: c.personId });
  if (c.meeting.cancelled) return E.left({ _tag: 'MeetingIsCancelled' });
  if (Date.parse(c.at) < Date.parse(c.meeting.start)) return E.left({ _tag: 'TooEarly', start: c.meeting.start });
  const previous = state.marks.get(c.personId);
  if (previous === c.status) return E.right([]);
  return E.right([
    {
      type: 'AttendanceMarked',
      data: {
        meetingId: c.meetingId,
        personId: c.personId,
        status: c.status,
        role: c.personId === c.meeting.customerId ? 'customer' : 'instructor',
        at: c.at,
        by: c.by,
        ...(previous !== undefined ? { previous } : {}),
      },
    },
  ]);
};

export const decide = (
  command: AttendanceCommand,
  state: AttendanceState,
): E.Either<AttendanceError, AttendanceEvent[]> => {
  switch (command.type) {
    case 'RecordJoin':
      // A second connection of someone already in the call (it replaced the first) is no new visit.
      return E.right(
        state.present.includes(command.data.personId) ||
          (state.visits.get(command.data.personId) ?? 0) >= MAX_RECORDED_VISITS
          ? []
          : [{ type: 'ParticipantJoined', data: command.data }],
      );
    case 'RecordLeave':
      return E.right(
        state.present.includes(command.data.personId) ? [{ type: 'ParticipantLeft', data: command.data }] : [],
      );
    case 'MarkAttendance':
      return mark(command.data, state);
    default:
      return assertNever(command);
  }
};

// ---------- evolve ----------

export const evolve = (state: AttendanceState, event: AttendanceEvent): AttendanceState => {
  switch (event.type) {
    case 'ParticipantJoined':
      return state.present.includes(event.data.personId)
        ? state
        : {
            ...state,
            present: [...state.present, event.data.personId],
            visits: new Map(state.visits).set(event.data.personId, (state.visits.get(event.data.personId) ?? 0) + 1),
          };
    case 'ParticipantLeft':
      return { ...state, present: state.present.filter((id) => id !== event.data.personId) };
    case 'AttendanceMarked':
      return { ...state, marks: new Map(state.marks).set(event.data.personId, event.data.status) };
    default:
      return assertNever(event);
  }
};

export const attendanceStreamPrefix = 'attendance-';
export const attendanceStreamName = (meetingId: string): string => `${attendanceStreamPrefix}${meetingId}`;

export const attendanceDecider: Decider<AttendanceCommand, AttendanceEvent, AttendanceState, AttendanceError> = {
  decide,
  evolve,
  initialState,
};
