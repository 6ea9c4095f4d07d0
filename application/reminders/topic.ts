import { emailLanguageOf } from '../../domain/settings.ts';
import * as E from 'fp-ts/lib/Either.js';
import { announcedSessions } from '../../domain/notification.ts';
import type { RecipientRole, RoundFacts } from '../../domain/notification.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { MeetingQueries } from '../ports/read-models.ts';
import type { EmailJoinLinks } from '../notifications/join-links.ts';
import type { PrepareConfig, RoundRequest } from '../notifications/prepare.ts';
import type { RenderedEmail } from '../notifications/render.ts';
import type { NoticeTopic } from '../notifications/topics.ts';
import { readMeetingNow, stillAhead } from './meeting.ts';

/** What a reminder email is rendered from: who reads it, in which language and zone, and the session. */
export interface ReminderEmailInput {
  readonly recipientRole: RecipientRole;
  /** The reader's language from the people directory (BCP 47), when it has one. */
  readonly language?: string;
  /** The reader's zone (people directory), else the meeting's: times are shown there, with the zone named. */
  readonly timezone: string;
  readonly siteName: string;
  readonly title: string;
  readonly customerName: string;
  readonly instructorName: string;
  readonly session: { readonly start: string; readonly end: string };
  /**
   * The reader's own join link is not part of the rendered email: it is a credential, added to the body as the email
   * is sent and never recorded (notifications/join-links.ts `withJoinLinks`).
   */
}

export type ReminderRender = (input: ReminderEmailInput) => E.Either<string, RenderedEmail>;

export interface ReminderTopicDeps {
  readonly store: EventStore;
  readonly queries: Pick<MeetingQueries, 'getPerson'>;
  /** Whether reminders are mailed at all (the settings' switch for the `reminder` kind). */
  readonly enabled: () => boolean;
  readonly render: ReminderRender;
  readonly config: PrepareConfig;
  /** The facts the reader's join link is made from at send time, recorded with the email. */
  readonly joinLinks?: Pick<EmailJoinLinks, 'factsFor'>;
  readonly clock: () => Date;
}

/**
 * The `reminder` topic of the notification log: a round renders the reminder for the recipient, and the notice is
 * current only while its session is still held at the reminded start and has not started, so that an attempt after
 * a cancellation, a move or the start (a retry, a resume after an outage) is skipped instead of sent.
 */
export const reminderTopic = (deps: ReminderTopicDeps): NoticeTopic => ({
  prepare: (request: RoundRequest): RoundFacts => {
    const person = deps.queries.getPerson(request.personId);
    const email = person?.email !== undefined && person.email.trim() !== '' ? person.email.trim() : undefined;
    const recipient = {
      personId: request.personId,
      role: request.role,
      ...(email !== undefined ? { email } : {}),
      ...(person?.timezone !== undefined ? { timezone: person.timezone } : {}),
    };
    const enabled = deps.enabled();
    const base = { enabled, current: request.current, recipient, at: request.at };
    const [session] = announcedSessions(request.snapshot, request.current, request.at);
    if (!enabled || session === undefined || email === undefined) return base;
    const { snapshot } = request;
    const nameOf = (id: string) => deps.queries.getPerson(id)?.name ?? id;
    const rendered = deps.render({
      recipientRole: request.role,
      ...(person?.language !== undefined ? { language: person.language } : {}),
      timezone: person?.timezone ?? snapshot.timezone,
      siteName: deps.config.siteName,
      title: snapshot.title,
      customerName: nameOf(snapshot.customerId),
      instructorName: nameOf(snapshot.instructorId),
      session: { start: session.start, end: session.end },
    });
    if (E.isLeft(rendered)) return { ...base, renderError: rendered.left };
    const links = deps.joinLinks?.factsFor(request.personId);
    const joinLinks = links === undefined ? undefined : { ...links, language: emailLanguageOf(person?.language) };
    return {
      ...base,
      message: {
        from: deps.config.mailFrom,
        to: email,
        subject: rendered.right.subject,
        html: rendered.right.html,
        text: rendered.right.text,
        attachments: [],
        ...(joinLinks !== undefined ? { joinLinks } : {}),
      },
    };
  },
  current: async (notice) => {
    const session = notice.cancellation.sessions[0];
    if (session === undefined) return E.right([]);
    const found = await readMeetingNow(deps.store, session.meetingId);
    if (E.isLeft(found)) return found;
    if (found.right === undefined) return E.right([]);
    return E.right(stillAhead(found.right.meeting, session.start, deps.clock()) ? [session.meetingId] : []);
  },
});
