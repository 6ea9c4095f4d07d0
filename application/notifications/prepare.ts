import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  MeetingEvent,
  SessionCancelled,
  evolve as evolveMeeting,
  initialState as initialMeeting,
  meetingStreamName,
} from '../../domain/meeting.ts';
import type { Meeting, MeetingState } from '../../domain/meeting.ts';
import { announcedSessions } from '../../domain/notification.ts';
import type {
  CancellationSnapshot,
  CancelledSession,
  NotificationKind,
  NotificationTopic,
  PreparedMessage,
  RecipientRole,
  RoundFacts,
} from '../../domain/notification.ts';
import type { SeriesEvent } from '../../domain/series.ts';
import { emailLanguageOf, emailTemplatesFor, kindEnabled } from '../../domain/settings.ts';
import { trainingTypeNames } from '../../domain/email-defaults.ts';
import { IsoInstant } from '../../domain/shared.ts';
import { decodeRecorded } from '../decode.ts';
import type { EventStore, RecordedEvent } from '../ports/event-store.ts';
import type { CalendarCancellationBuilder } from '../ports/mailer.ts';
import type { MeetingQueries } from '../ports/read-models.ts';
import { renderCancellationEmail } from './render.ts';
import type { EmailJoinLinks } from './join-links.ts';

/**
 * The series feature's event on `series-<id>`: `cancelled` lists exactly the occurrences this cancellation
 * cancelled. Decoded here rather than imported, so notifications depend only on the event's published shape.
 */
export const SeriesCancelled = t.type({
  type: t.union([t.literal('SeriesCancelled'), t.literal('SeriesOccurrencesCancelled')]),
  data: t.intersection([
    t.type({
      seriesId: t.string,
      cancellationId: t.string,
      cancelled: t.array(t.type({ meetingId: t.string, start: IsoInstant, end: IsoInstant })),
      at: IsoInstant,
    }),
    t.partial({ reason: t.string, from: t.string }),
  ]),
});

/** The events that cancel sessions: each is one of its aggregate's event types, which the compiler checks. */
export const cancellationEventTypes: ReadonlySet<string> = new Set<MeetingEvent['type'] | SeriesEvent['type']>([
  'SessionCancelled',
  'SeriesCancelled',
  'SeriesOccurrencesCancelled',
]);

/** A cancellation read from the log, with what the email needs to say about it. */
export interface Cancellation {
  readonly cancellationEventId: string;
  readonly kind: NotificationKind;
  readonly meetingIds: ReadonlyArray<string>;
  readonly seriesId?: string;
  readonly snapshot: CancellationSnapshot;
  readonly stillCancelled: ReadonlyArray<string>;
}

/** Deterministic per cancellation and recipient: the same on every node and every replay. */
export const notificationKey = (cancellationEventId: string, personId: string): string =>
  `${cancellationEventId}:${personId}`;
export const notificationIdFor = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 32);

interface MeetingAtCancellation {
  readonly meeting: Meeting;
  /** SEQUENCE after the cancel: counted from the stream, or one more than now if the cancel is not in it yet. */
  readonly sequence: number;
  readonly stillCancelled: boolean;
}

/**
 * The meeting as the cancel left it, from its own stream (never behind, unlike a read model). A series event may be
 * written before its occurrences' own cancels; then the cancel is still to come and the meeting counts as cancelled.
 */
const meetingAtCancellation = async (
  store: EventStore,
  meetingId: string,
  isTheCancel: (recorded: RecordedEvent, event: MeetingEvent) => boolean,
): Promise<E.Either<string, MeetingAtCancellation | undefined>> => {
  const recorded = await store.readStream(meetingStreamName(meetingId));
  let state: MeetingState = initialMeeting();
  let atCancel: Meeting | undefined;
  let reinstatedAfter = false;
  for (const r of recorded) {
    const decoded = decodeRecorded(MeetingEvent, r);
    if (E.isLeft(decoded)) return E.left(decoded.left.message);
    state = evolveMeeting(state, decoded.right);
    if (atCancel === undefined && state.status !== 'none' && isTheCancel(r, decoded.right)) atCancel = state;
    else if (atCancel !== undefined && decoded.right.type === 'MeetingReinstated') reinstatedAfter = true;
  }
  if (atCancel !== undefined)
    return E.right({ meeting: atCancel, sequence: atCancel.sequence, stillCancelled: !reinstatedAfter });
  if (state.status === 'none') return E.right(undefined);
  return E.right({
    meeting: state,
    sequence: state.status === 'cancelled' ? state.sequence : state.sequence + 1,
    stillCancelled: true,
  });
};

const byStart = (a: { readonly start: string }, b: { readonly start: string }): number =>
  Date.parse(a.start) - Date.parse(b.start);

/** Reads a cancellation event; Right(undefined) for events that announce nothing (a series' own occurrences). */
export const readCancellation = async (
  store: EventStore,
  recorded: RecordedEvent,
): Promise<E.Either<string, Cancellation | undefined>> => {
  if (recorded.type === 'SessionCancelled') {
    const decoded = decodeRecorded(SessionCancelled, recorded);
    if (E.isLeft(decoded)) return E.left(decoded.left.message);
    const data = decoded.right.data;
    // The series' own event announces these, once for the whole series.
    if (data.seriesCancellationId !== undefined) return E.right(undefined);
    const found = await meetingAtCancellation(store, data.meetingId, (r) => r.id === recorded.id);
    if (E.isLeft(found)) return found;
    if (found.right === undefined)
      return E.left(`meeting ${data.meetingId} of cancellation ${recorded.id} does not exist`);
    const { meeting, sequence, stillCancelled } = found.right;
    return E.right({
      cancellationEventId: recorded.id,
      kind: 'meeting',
      meetingIds: [meeting.id],
      ...(meeting.seriesId !== undefined ? { seriesId: meeting.seriesId } : {}),
      snapshot: {
        title: meeting.title,
        timezone: meeting.timezone,
        customerId: meeting.customerId,
        instructorId: meeting.instructorId,
        cancelledAt: data.at,
        ...(data.reason !== undefined ? { reason: data.reason } : {}),
        sessions: [{ meetingId: meeting.id, start: meeting.start, end: meeting.end, sequence }],
      },
      stillCancelled: stillCancelled ? [meeting.id] : [],
    });
  }
  if (recorded.type === 'SeriesCancelled' || recorded.type === 'SeriesOccurrencesCancelled') {
    const decoded = decodeRecorded(SeriesCancelled, recorded);
    if (E.isLeft(decoded)) return E.left(decoded.left.message);
    const data = decoded.right.data;
    const sessions: CancelledSession[] = [];
    const still: string[] = [];
    let first: Meeting | undefined;
    for (const occurrence of [...data.cancelled].sort(byStart)) {
      const found = await meetingAtCancellation(
        store,
        occurrence.meetingId,
        (_r, event) => event.type === 'SessionCancelled' && event.data.seriesCancellationId === data.cancellationId,
      );
      if (E.isLeft(found)) return found;
      if (found.right === undefined) continue;
      first ??= found.right.meeting;
      sessions.push({
        meetingId: occurrence.meetingId,
        start: occurrence.start,
        end: occurrence.end,
        sequence: found.right.sequence,
      });
      if (found.right.stillCancelled) still.push(occurrence.meetingId);
    }
    if (first === undefined) return E.right(undefined);
    return E.right({
      cancellationEventId: recorded.id,
      kind: 'series',
      meetingIds: sessions.map((s) => s.meetingId),
      seriesId: data.seriesId,
      snapshot: {
        title: first.title,
        timezone: first.timezone,
        customerId: first.customerId,
        instructorId: first.instructorId,
        cancelledAt: data.at,
        ...(data.reason !== undefined && data.reason.trim() !== '' ? { reason: data.reason.trim() } : {}),
        seriesCancellationId: data.cancellationId,
        sessions,
      },
      stillCancelled: still,
    });
  }
  return E.right(undefined);
};

/** Which of the snapshot's sessions are still cancelled now (a retry may come after a reinstatement). */
export const stillCancelledNow = async (
  store: EventStore,
  cancellationEventId: string,
  snapshot: CancellationSnapshot,
): Promise<E.Either<string, ReadonlyArray<string>>> => {
  const still: string[] = [];
  for (const session of snapshot.sessions) {
    const seriesCancellationId = snapshot.seriesCancellationId;
    const found = await meetingAtCancellation(store, session.meetingId, (r, event) =>
      seriesCancellationId !== undefined
        ? event.type === 'SessionCancelled' && event.data.seriesCancellationId === seriesCancellationId
        : r.id === cancellationEventId,
    );
    if (E.isLeft(found)) return found;
    // A session whose stream cannot be found is not known to be reinstated: it still counts as cancelled.
    if (found.right === undefined || found.right.stillCancelled) still.push(session.meetingId);
  }
  return E.right(still);
};

export interface PrepareConfig {
  readonly siteName: string;
  readonly mailFrom: string;
  /** The site's address: `{{location}}` of a native call is its call page. */
  readonly publicBaseUrl?: () => string;
}

/** Where a session takes place: its outside link, else the site's call page (which asks for the reader's own link). */
export const sessionLocation = (
  snapshot: Pick<CancellationSnapshot, 'trainingType' | 'remoteLink'>,
  meetingId: string,
  publicBaseUrl: (() => string) | undefined,
): string | undefined => {
  if (snapshot.trainingType === 'link' && snapshot.remoteLink !== undefined) return snapshot.remoteLink;
  if (publicBaseUrl === undefined) return undefined;
  return `${publicBaseUrl().replace(/\/+$/, '')}/call?meeting=${encodeURIComponent(meetingId)}`;
};

/** An outside link is where the session takes place (LOCATION); the app's call page is the session's page (URL). */
const requestPlace = (
  snapshot: Pick<CancellationSnapshot, 'trainingType' | 'remoteLink'>,
  place: string | undefined,
): { location?: string; url?: string } => {
  if (place === undefined) return {};
  return snapshot.trainingType === 'link' && snapshot.remoteLink === place ? { location: place } : { url: place };
};

const attachmentName = (topic: NotificationTopic, index: number, count: number): string => {
  const stem = topic === 'cancelled' ? 'cancellation' : 'invitation';
  return count === 1 ? `${stem}.ics` : `${stem}-${String(index + 1).padStart(String(count).length, '0')}.ics`;
};

/** What one round of one notification is prepared from, whatever its topic. */
export interface RoundRequest {
  readonly topic: NotificationTopic;
  readonly kind: NotificationKind;
  readonly snapshot: CancellationSnapshot;
  /** The snapshot's sessions still as the notice announces them (for a cancellation: still cancelled). */
  readonly current: ReadonlyArray<string>;
  readonly personId: string;
  readonly role: RecipientRole;
  readonly at: string;
}

/**
 * A round's facts, whatever its topic: the topic's settings switch, the recipient's address, zone and language from
 * the people directory, and the email (HTML, text, one .ics per session: `METHOD:CANCEL` for a cancellation,
 * `METHOD:REQUEST` for a booking or a change) for the sessions that will be announced, in the recipient's language.
 * Nothing is rendered when nothing will be sent.
 */
export const createRoundPreparer =
  (deps: {
    readonly queries: Pick<MeetingQueries, 'getSettings' | 'getPerson'>;
    readonly buildCalendar: CalendarCancellationBuilder;
    readonly config: PrepareConfig;
    /** The facts the recipient's join links are made from at send time, recorded with the email. */
    readonly joinLinks?: Pick<EmailJoinLinks, 'factsFor'>;
  }) =>
  (request: RoundRequest): RoundFacts => {
    const { queries, buildCalendar, config } = deps;
    const allSettings = queries.getSettings();
    const enabled = kindEnabled(allSettings, request.topic);
    const person = queries.getPerson(request.personId);
    const email = person?.email !== undefined && person.email.trim() !== '' ? person.email.trim() : undefined;
    const recipient = {
      personId: request.personId,
      role: request.role,
      ...(email !== undefined ? { email } : {}),
      ...(person?.timezone !== undefined ? { timezone: person.timezone } : {}),
    };
    const base = { enabled, current: request.current, recipient, at: request.at };
    const announced = announcedSessions(request.snapshot, request.current, request.at);
    if (!enabled || announced.length === 0 || email === undefined) return base;
    const { snapshot } = request;
    const nameOf = (id: string) => queries.getPerson(id)?.name ?? id;
    const language = emailLanguageOf(person?.language);
    const firstSession = announced[0];
    const location =
      firstSession !== undefined ? sessionLocation(snapshot, firstSession.meetingId, config.publicBaseUrl) : undefined;
    const method = request.topic === 'cancelled' ? 'CANCEL' : 'REQUEST';
    const rendered = renderCancellationEmail({
      templates: emailTemplatesFor(allSettings, request.topic, request.role, person?.language),
      ...(snapshot.trainingType !== undefined
        ? { trainingType: trainingTypeNames[language][snapshot.trainingType] }
        : {}),
      ...(location !== undefined ? { location } : {}),
      recipientRole: request.role,
      siteName: config.siteName,
      kind: request.kind,
      title: snapshot.title,
      ...(snapshot.reason !== undefined ? { reason: snapshot.reason } : {}),
      customerName: nameOf(snapshot.customerId),
      instructorName: nameOf(snapshot.instructorId),
      timezone: person?.timezone ?? snapshot.timezone,
      ...(person?.language !== undefined ? { language: person.language } : {}),
      sessions: announced,
    });
    if (E.isLeft(rendered)) return { ...base, renderError: rendered.left };
    const instructor = queries.getPerson(snapshot.instructorId);
    // RFC 5546 §3.2.5 cancels the components of one UID per iTIP object; a VCALENDAR with several UIDs is outside
    // iTIP, and mail clients (Outlook, Gmail, Apple Mail) are built to act on one scheduling object per calendar part.
    // Exchange itself sends one cancellation per occurrence it cancels ([MS-OXOCAL] §3.1.4.9.1.2). So each announced
    // session gets its own `METHOD:CANCEL` object (its UID, its SEQUENCE), one text/calendar attachment each, in the
    // one email the recipient gets: one notification per recipient and cancellation, as the exactly-once rules need.
    const attachments: Array<PreparedMessage['attachments'][number]> = [];
    for (const [index, session] of announced.entries()) {
      const sessionPlace = sessionLocation(snapshot, session.meetingId, config.publicBaseUrl);
      const calendar = buildCalendar({
        method,
        event: {
          ...(method === 'REQUEST' ? requestPlace(snapshot, sessionPlace) : {}),
          ...(method === 'REQUEST' && session.state !== undefined ? { state: session.state } : {}),
          meetingId: session.meetingId,
          sequence: session.sequence,
          start: session.start,
          end: session.end,
          title: snapshot.title,
          // One session: the reason travels with its calendar object. Several: the email says it once, and each of
          // their objects stays small (DESCRIPTION is optional in an iTIP CANCEL, RFC 5546 §3.2.5).
          ...(method === 'CANCEL' && announced.length === 1
            ? { description: snapshot.reason !== undefined ? `Cancelled: ${snapshot.reason}` : 'Cancelled' }
            : {}),
        },
        instructor: instructor === undefined ? {} : { name: instructor.name, email: instructor.email },
        attendee: { name: person?.name ?? request.personId, email },
        stamp: request.at,
      });
      if (E.isLeft(calendar)) return { ...base, renderError: calendar.left };
      attachments.push({
        filename: attachmentName(request.topic, index, announced.length),
        content: calendar.right,
        contentType: `text/calendar; charset=utf-8; method=${method}`,
      });
    }
    // A cancellation carries no join links: the sessions it announces are not held any more.
    const links = request.topic === 'cancelled' ? undefined : deps.joinLinks?.factsFor(request.personId);
    const joinLinks = links === undefined ? undefined : { ...links, language };
    return {
      ...base,
      message: {
        from: config.mailFrom,
        to: email,
        ...rendered.right,
        attachments,
        ...(joinLinks !== undefined ? { joinLinks } : {}),
      },
    };
  };

export type RoundPreparer = ReturnType<typeof createRoundPreparer>;
