import * as E from 'fp-ts/lib/Either.js';
import { MeetingEvent, evolve as evolveMeeting, initialState as initialMeeting } from '../../domain/meeting.ts';
import type { MeetingState } from '../../domain/meeting.ts';
import * as schedule from '../../domain/schedule.ts';
import type { Reservation } from '../../domain/schedule.ts';
import type { EventStore, RecordedEvent } from '../../application/ports/event-store.ts';
import { MultiStreamAppendUnsupportedError } from '../../application/ports/event-store.ts';

/**
 * What the event log says of bookings, read straight from a store: the active meetings, the double bookings among
 * them, and the active schedule reservations. Cross-node tests check these after the dust settles.
 */

export interface ActiveMeeting {
  readonly id: string;
  readonly customerId: string;
  readonly instructorId: string;
  readonly start: string;
  readonly end: string;
  readonly seriesId?: string;
}

export const allEvents = async (store: Pick<EventStore, 'readAll'>): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for (let after = 0; ;) {
    const batch = await store.readAll({ after, limit: 1000 });
    if (batch.length === 0) return events;
    events.push(...batch);
    after = batch[batch.length - 1]?.position ?? after;
  }
};

export const activeMeetings = (events: ReadonlyArray<RecordedEvent>): ActiveMeeting[] => {
  const states = new Map<string, MeetingState>();
  for (const r of events) {
    if (!r.streamName.startsWith('meeting-')) continue;
    const decoded = MeetingEvent.decode({ type: r.type, data: r.data });
    if (E.isLeft(decoded)) throw new Error(`undecodable ${r.type} in ${r.streamName}`);
    states.set(r.streamName, evolveMeeting(states.get(r.streamName) ?? initialMeeting(), decoded.right));
  }
  return [...states.values()].flatMap((m) =>
    m.status === 'planned' || m.status === 'scheduled'
      ? [
          {
            id: m.id,
            customerId: m.customerId,
            instructorId: m.instructorId,
            start: m.start,
            end: m.end,
            ...(m.seriesId !== undefined ? { seriesId: m.seriesId } : {}),
          },
        ]
      : [],
  );
};

/** Pairs of active meetings sharing a person and an instant. */
export const doubleBookings = (meetings: ReadonlyArray<ActiveMeeting>): Array<[string, string]> => {
  const pairs: Array<[string, string]> = [];
  for (const [i, a] of meetings.entries()) {
    for (const b of meetings.slice(i + 1)) {
      const shared = [a.customerId, a.instructorId].some((p) => p === b.customerId || p === b.instructorId);
      if (shared && schedule.overlaps(a, b)) pairs.push([a.id, b.id]);
    }
  }
  return pairs;
};

export const activeReservations = (events: ReadonlyArray<RecordedEvent>): Reservation[] => {
  const buckets = new Map<string, schedule.ScheduleState>();
  for (const r of events) {
    if (!r.streamName.startsWith(schedule.scheduleStreamPrefix)) continue;
    const decoded = schedule.ScheduleEvent.decode({ type: r.type, data: r.data });
    if (E.isLeft(decoded)) throw new Error(`undecodable ${r.type} in ${r.streamName}`);
    buckets.set(r.streamName, schedule.evolve(buckets.get(r.streamName) ?? schedule.initialState(), decoded.right));
  }
  return [...buckets.values()].flatMap(schedule.allReservations);
};

/**
 * Reservations and meetings agree: every active meeting holds its slot in each bucket of both its people, and
 * (with `exact`) nothing else is reserved. The keys of what is missing or extra, for a readable failure.
 */
export const scheduleMismatch = (
  events: ReadonlyArray<RecordedEvent>,
  exact = true,
): { missing: string[]; extra: string[] } => {
  const key = (meetingId: string, personId: string, month: string, start: string, end: string) =>
    `${meetingId} ${personId} ${month} ${new Date(start).toISOString()}-${new Date(end).toISOString()}`;
  const wanted = new Set(
    activeMeetings(events).flatMap((m) =>
      [...new Set([m.customerId, m.instructorId])].flatMap((p) =>
        schedule.bucketsOf(m).map((month) => key(m.id, p, month, m.start, m.end)),
      ),
    ),
  );
  const have = new Set(activeReservations(events).map((r) => key(r.meetingId, r.personId, r.month, r.start, r.end)));
  return {
    missing: [...wanted].filter((k) => !have.has(k)),
    extra: exact ? [...have].filter((k) => !wanted.has(k)) : [],
  };
};

/** A store as a KurrentDB server before 25.1 is: no atomic append across streams, so bookings run as a saga. */
export const withoutMultiStreamAppend = (inner: EventStore): EventStore => ({
  ...inner,
  appendToStreams: async () => {
    throw new MultiStreamAppendUnsupportedError('test');
  },
  supportsMultiStreamAppend: async () => false,
});
