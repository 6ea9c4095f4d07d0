import type { MeetingEventType } from '../domain/meeting.ts';
import type { RecordedEvent } from './ports/event-store.ts';
import type { Log } from './ports/logger.ts';
import type { ProjectionRunner } from './projections/runner.ts';

/** The live calls, by meeting: told when a meeting changes so that each room re-checks who may stay. */
export interface CallRooms {
  meetingChanged(meetingId: string): Promise<void>;
}

/** The meeting events after which a call may no longer go on: cancelled, moved, or no longer held natively. */
const CALL_ENDING_EVENTS: ReadonlySet<string> = new Set<MeetingEventType>([
  'SessionCancelled',
  'MeetingRescheduled',
  'TrainingTypeChanged',
]);

/** The meeting a call-ending event concerns, if it is one. */
export const callEndingMeeting = (event: Pick<RecordedEvent, 'type' | 'data'>): string | undefined => {
  if (!CALL_ENDING_EVENTS.has(event.type)) return undefined;
  const meetingId = (event.data as { meetingId?: unknown } | null)?.meetingId;
  return typeof meetingId === 'string' ? meetingId : undefined;
};

/**
 * A cancelled or moved meeting ends its call. The rooms are told once the read models show the change (so that
 * their access check reads it); a failed re-check is logged, and the next change or join checks again.
 */
export const closeCallsOnMeetingChange = (
  projections: Pick<ProjectionRunner, 'onProjected'>,
  rooms: CallRooms,
  log: Pick<Log, 'warn'>,
): void => {
  projections.onProjected((event) => {
    const meetingId = callEndingMeeting(event);
    if (meetingId === undefined) return;
    rooms
      .meetingChanged(meetingId)
      .catch((error: unknown) => log.warn({ err: error, meetingId }, 'signaling re-check failed'));
  });
};
