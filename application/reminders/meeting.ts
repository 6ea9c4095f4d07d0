import * as E from 'fp-ts/lib/Either.js';
import {
  MeetingEvent,
  evolve as evolveMeeting,
  initialState as initialMeeting,
  meetingStreamName,
} from '../../domain/meeting.ts';
import type { Meeting, MeetingState } from '../../domain/meeting.ts';
import { decodeRecorded } from '../decode.ts';
import type { EventStore } from '../ports/event-store.ts';

/** A meeting now, from its own stream (never behind, unlike a read model), and when its time or status last changed. */
export interface MeetingNow {
  readonly meeting: Meeting;
  /** The instant of the last booking, move or reinstatement: what the reminders are planned as of. */
  readonly changedAt: string;
}

const PLANNING_EVENTS: ReadonlySet<string> = new Set<MeetingEvent['type']>([
  'MeetingScheduled',
  'MeetingRescheduled',
  'MeetingReinstated',
]);

export const readMeetingNow = async (
  store: EventStore,
  meetingId: string,
): Promise<E.Either<string, MeetingNow | undefined>> => {
  const recorded = await store.readStream(meetingStreamName(meetingId));
  let state: MeetingState = initialMeeting();
  let changedAt: string | undefined;
  for (const r of recorded) {
    const decoded = decodeRecorded(MeetingEvent, r);
    if (E.isLeft(decoded)) return E.left(decoded.left.message);
    state = evolveMeeting(state, decoded.right);
    if (PLANNING_EVENTS.has(decoded.right.type)) changedAt = decoded.right.data.at;
  }
  if (state.status === 'none' || changedAt === undefined) return E.right(undefined);
  return E.right({ meeting: state, changedAt });
};

/** The meeting is still held at `start` (not cancelled, not moved) and has not started at `now`. */
export const stillAhead = (meeting: Meeting, start: string, now: Date): boolean =>
  meeting.status !== 'cancelled' &&
  Date.parse(meeting.start) === Date.parse(start) &&
  Date.parse(meeting.start) > now.getTime();
