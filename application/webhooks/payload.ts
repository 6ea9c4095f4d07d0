import * as E from 'fp-ts/lib/Either.js';
import { AttendanceEvent, attendanceStreamPrefix } from '../../domain/attendance.ts';
import { MeetingEvent, meetingStreamPrefix } from '../../domain/meeting.ts';
import { PersonEvent, personStreamPrefix } from '../../domain/person.ts';
import { SeriesEvent, seriesStreamPrefix } from '../../domain/series.ts';
import { assertNever } from '../../domain/shared.ts';
import type { WebhookEventType } from '../../domain/webhook.ts';
import { decodeRecorded } from '../decode.ts';
import type { RecordedEvent } from '../ports/event-store.ts';

/**
 * What a webhook says about an event of the log: `{type, timestamp, data}`, where `data` holds the ids and the public
 * fields of what changed. Never the free-text metadata about the customer or the instructor (admins' notes), never a
 * meeting's remote link (it may hold a passcode), and about people in a meeting only their ids; a person's own events
 * (`person.*`, the directory an admin keeps) carry that person's name and address, as a CRM needs to match them.
 * Events with nothing public to say (a change of metadata alone) make no webhook.
 */

export interface WebhookPayload {
  readonly type: WebhookEventType;
  /** When it happened (the event's own time). */
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
}

/** Who a meeting is between: participants never change, so the read model's answer holds for any of its events. */
export type ParticipantsOf = (
  meetingId: string,
) => { readonly customerId: string; readonly instructorId: string; readonly seriesId?: string } | undefined;

type Mapped = { readonly type: WebhookEventType; readonly data: Record<string, unknown> } | undefined;

const defined = (fields: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));

const meetingPayload = (event: MeetingEvent, participants: ParticipantsOf): Mapped => {
  const known = participants(event.data.meetingId);
  const who = defined({
    meetingId: event.data.meetingId,
    customerId: known?.customerId,
    instructorId: known?.instructorId,
    seriesId: known?.seriesId,
  });
  switch (event.type) {
    case 'MeetingScheduled': {
      const d = event.data;
      return {
        type: 'meeting.scheduled',
        data: defined({
          meetingId: d.meetingId,
          customerId: d.customerId,
          instructorId: d.instructorId,
          seriesId: d.seriesId,
          title: d.title,
          description: d.description,
          start: d.start,
          end: d.end,
          timezone: d.timezone,
          trainingType: d.trainingType,
        }),
      };
    }
    case 'MeetingRescheduled': {
      const { start, end, timezone, previous } = event.data;
      return { type: 'meeting.rescheduled', data: { ...who, start, end, timezone, previous } };
    }
    case 'MeetingDetailsChanged': {
      const { title, description } = event.data.changes;
      const changes = defined({ title, description });
      return Object.keys(changes).length === 0 ? undefined : { type: 'meeting.updated', data: { ...who, changes } };
    }
    case 'TrainingTypeChanged':
      return { type: 'meeting.updated', data: { ...who, changes: { trainingType: event.data.trainingType } } };
    case 'MeetingConfirmed':
      return { type: 'meeting.confirmed', data: who };
    case 'SessionCancelled':
      return {
        type: 'meeting.cancelled',
        data: {
          ...who,
          ...defined({ reason: event.data.reason, seriesCancellationId: event.data.seriesCancellationId }),
        },
      };
    case 'MeetingReinstated':
      return { type: 'meeting.reinstated', data: who };
    default:
      return assertNever(event);
  }
};

const seriesPayload = (event: SeriesEvent): Mapped => {
  switch (event.type) {
    case 'SeriesScheduled': {
      const d = event.data;
      return {
        type: 'series.scheduled',
        data: {
          seriesId: d.seriesId,
          title: d.title,
          description: d.description,
          customerId: d.customerId,
          instructorId: d.instructorId,
          trainingType: d.trainingType,
          recurrence: d.recurrence,
          occurrences: d.occurrences.map(({ meetingId, start, end }) => ({ meetingId, start, end })),
        },
      };
    }
    case 'SeriesRecurrenceChanged': {
      const d = event.data;
      const ids = (slots: ReadonlyArray<{ meetingId: string }>) => slots.map((s) => s.meetingId);
      return {
        type: 'series.updated',
        data: {
          seriesId: d.seriesId,
          changes: { recurrence: d.recurrence },
          addedMeetingIds: ids(d.added),
          movedMeetingIds: ids(d.moved),
          removedMeetingIds: ids(d.removed),
        },
      };
    }
    case 'SeriesDetailsChanged': {
      const { title, description, trainingType } = event.data.changes;
      const changes = defined({ title, description, trainingType });
      if (Object.keys(changes).length === 0) return undefined;
      return { type: 'series.updated', data: { seriesId: event.data.seriesId, changes } };
    }
    case 'SeriesCancelled': {
      const d = event.data;
      return {
        type: 'series.cancelled',
        data: defined({
          seriesId: d.seriesId,
          from: d.from,
          reason: d.reason,
          cancelledMeetingIds: d.cancelled.map((c) => c.meetingId),
        }),
      };
    }
    // Each session it cancelled says so itself (`meeting.cancelled`), and the pattern change (`series.updated`).
    case 'SeriesOccurrencesCancelled':
      return undefined;
    default:
      return assertNever(event);
  }
};

const attendancePayload = (event: AttendanceEvent): Mapped => {
  switch (event.type) {
    case 'ParticipantJoined':
    case 'ParticipantLeft': {
      const { meetingId, personId, role } = event.data;
      return {
        type: event.type === 'ParticipantJoined' ? 'attendance.joined' : 'attendance.left',
        data: { meetingId, personId, role },
      };
    }
    case 'AttendanceMarked': {
      const { meetingId, personId, status, previous, role } = event.data;
      return { type: 'attendance.marked', data: defined({ meetingId, personId, status, previous, role }) };
    }
    default:
      return assertNever(event);
  }
};

const personPayload = (event: PersonEvent): Mapped => {
  switch (event.type) {
    case 'PersonRegistered':
    case 'PersonUpdated': {
      const { personId, name, email, timezone, language } = event.data;
      return {
        type: event.type === 'PersonRegistered' ? 'person.registered' : 'person.updated',
        data: defined({ personId, name, email, timezone, language }),
      };
    }
    case 'PersonRolesChanged': {
      const { personId, roles, previous } = event.data;
      return { type: 'person.roles_changed', data: { personId, roles, previous } };
    }
    case 'PersonDeactivated':
      return { type: 'person.deactivated', data: { personId: event.data.personId } };
    case 'PersonReactivated':
      return { type: 'person.reactivated', data: { personId: event.data.personId } };
    default:
      return assertNever(event);
  }
};

/** The streams whose events may make a webhook. */
export const webhookSourcePrefixes = [
  meetingStreamPrefix,
  seriesStreamPrefix,
  attendanceStreamPrefix,
  personStreamPrefix,
];

const mapRecorded = (recorded: RecordedEvent, participants: ParticipantsOf): E.Either<string, Mapped> => {
  const decode = <A>(codec: Parameters<typeof decodeRecorded<A>>[0], map: (event: A) => Mapped) => {
    const decoded = decodeRecorded(codec, recorded);
    return E.isLeft(decoded) ? E.left(decoded.left.message) : E.right(map(decoded.right));
  };
  const stream = recorded.streamName;
  if (stream.startsWith(meetingStreamPrefix)) return decode(MeetingEvent, (e) => meetingPayload(e, participants));
  if (stream.startsWith(seriesStreamPrefix)) return decode(SeriesEvent, seriesPayload);
  if (stream.startsWith(attendanceStreamPrefix)) return decode(AttendanceEvent, attendancePayload);
  if (stream.startsWith(personStreamPrefix)) return decode(PersonEvent, personPayload);
  return E.right(undefined);
};

/** The webhook an event makes, if any; a Left says why an event that should make one cannot be read. */
export const webhookPayloadOf = (
  recorded: RecordedEvent,
  participants: ParticipantsOf,
): E.Either<string, WebhookPayload | undefined> => {
  const mapped = mapRecorded(recorded, participants);
  if (E.isLeft(mapped) || mapped.right === undefined) return mapped as E.Either<string, undefined>;
  const own = (recorded.data as { at?: unknown } | null)?.at;
  const when = typeof own === 'string' && !Number.isNaN(Date.parse(own)) ? own : recorded.recordedAt;
  return E.right({ ...mapped.right, timestamp: new Date(when).toISOString() });
};
