import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { Actor, IsoInstant, assertNever } from './shared.ts';
import { emailProblem } from './email.ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';

/**
 * One email to one person about sessions: a cancellation, a booking, a change, a reinstatement or a reminder (its
 * `topic`). The stream is claimed with its first append (`no_stream`), so a replay, a rebuild or a second API node
 * never creates a second notification for the same cause and recipient.
 */

export const RecipientRole = t.keyof({ customer: null, instructor: null });
export type RecipientRole = t.TypeOf<typeof RecipientRole>;

export const NotificationKind = t.keyof({ meeting: null, series: null });
export type NotificationKind = t.TypeOf<typeof NotificationKind>;

/**
 * What the email is about. Notifications recorded before topics existed are cancellations (`topic` absent).
 * `changed`: the training type or the remote link changed.
 */
export const NotificationTopic = t.keyof({
  cancelled: null,
  booked: null,
  rescheduled: null,
  changed: null,
  reinstated: null,
  reminder: null,
});
export type NotificationTopic = t.TypeOf<typeof NotificationTopic>;
export const notificationTopics = Object.keys(NotificationTopic.keys) as ReadonlyArray<NotificationTopic>;
/** The topic of a recorded notification: absent in those recorded before topics, which were all cancellations. */
export const topicOf = (data: { readonly topic?: NotificationTopic }): NotificationTopic => data.topic ?? 'cancelled';

/**
 * `reinstated`: a cancellation whose sessions are all back on. `superseded`: any other topic whose sessions are no
 * longer as the email would announce them (cancelled, moved again: a later email says so).
 */
export const SkipReason = t.keyof({ disabled: null, ended: null, reinstated: null, superseded: null });
export type SkipReason = t.TypeOf<typeof SkipReason>;

export const Recipient = t.intersection([
  t.type({ personId: t.string, role: RecipientRole }),
  t.partial({ email: t.string, timezone: t.string }),
]);
export type Recipient = t.TypeOf<typeof Recipient>;

/**
 * A session as the cause left it (for a cancellation: as it was when cancelled); `sequence` is the RFC 5545 SEQUENCE
 * the cause produced, which the email's calendar object carries.
 */
export const CancelledSession = t.intersection([
  t.type({ meetingId: t.string, start: IsoInstant, end: IsoInstant, sequence: t.number }),
  /** A moved session's start before the change the email announces; `planned`: not confirmed yet (TENTATIVE). */
  t.partial({ previousStart: IsoInstant, state: t.keyof({ planned: null, scheduled: null }) }),
]);
export type CancelledSession = t.TypeOf<typeof CancelledSession>;

/**
 * What the cause said, kept with the notification so that a later retry renders the same facts. The name is the
 * cancellation's, which came first; for other topics `cancelledAt` is when the cause happened and `reason` is absent.
 */
export const CancellationSnapshot = t.intersection([
  t.type({
    title: t.string,
    timezone: t.string,
    customerId: t.string,
    instructorId: t.string,
    cancelledAt: IsoInstant,
    sessions: t.array(CancelledSession),
  }),
  t.partial({
    reason: t.string,
    seriesCancellationId: t.string,
    /** How the sessions are joined (changes, bookings): a native call (`1-1`) or an outside link. */
    trainingType: t.keyof({ '1-1': null, link: null }),
    /** The outside link of a `link` session (not a credential: every participant has the same). */
    remoteLink: t.string,
  }),
]);
export type CancellationSnapshot = t.TypeOf<typeof CancellationSnapshot>;

export const MessageAttachment = t.type({ filename: t.string, content: t.string, contentType: t.string });
/**
 * What the recipient's join links are made from when the email is sent (the links themselves are credentials, never
 * recorded): the site's address and the recipient's calendar-feed epoch at preparation, so every attempt of a round,
 * on any node and after a restart, sends the very same links.
 */
export const JoinLinkFacts = t.intersection([
  t.type({ baseUrl: t.string, epoch: t.number }),
  // The language of the email, so the block the links are added in reads as the rest of it (absent: English).
  t.partial({ language: t.string }),
]);
export type JoinLinkFacts = t.TypeOf<typeof JoinLinkFacts>;
export const PreparedMessage = t.intersection([
  t.type({
    from: t.string,
    to: t.string,
    subject: t.string,
    html: t.string,
    text: t.string,
    attachments: t.array(MessageAttachment),
  }),
  t.partial({ joinLinks: JoinLinkFacts }),
]);
export type PreparedMessage = t.TypeOf<typeof PreparedMessage>;

// ---------- events ----------

export const NotificationRequested = t.type({
  type: t.literal('NotificationRequested'),
  data: t.intersection([
    t.type({
      notificationId: t.string,
      key: t.string,
      kind: NotificationKind,
      meetingIds: t.array(t.string),
      recipient: Recipient,
      cancellationEventId: t.string,
      cancellation: CancellationSnapshot,
      at: IsoInstant,
    }),
    t.partial({ seriesId: t.string, topic: NotificationTopic }),
  ]),
});

/** The rendered email of one round (the first, or one per admin retry): every attempt of the round sends it unchanged. */
export const NotificationPrepared = t.type({
  type: t.literal('NotificationPrepared'),
  data: t.type({
    round: t.number,
    meetingIds: t.array(t.string),
    endsAt: IsoInstant,
    message: PreparedMessage,
    at: IsoInstant,
  }),
});

export const NotificationSent = t.type({
  type: t.literal('NotificationSent'),
  data: t.type({ attempt: t.number, providerMessageId: t.string, at: IsoInstant }),
});

export const NotificationAttemptFailed = t.type({
  type: t.literal('NotificationAttemptFailed'),
  data: t.intersection([
    t.type({ attempt: t.number, error: t.string, retryable: t.boolean, at: IsoInstant }),
    t.partial({ status: t.number, nextAttemptAt: IsoInstant }),
  ]),
});

export const NotificationFailed = t.type({
  type: t.literal('NotificationFailed'),
  data: t.type({ error: t.string, attempts: t.number, at: IsoInstant }),
});

export const NotificationSkipped = t.type({
  type: t.literal('NotificationSkipped'),
  data: t.type({ reason: SkipReason, at: IsoInstant }),
});

export const NotificationUndeliverable = t.type({
  type: t.literal('NotificationUndeliverable'),
  data: t.type({ reason: t.string, at: IsoInstant }),
});

export const NotificationRetryRequested = t.type({
  type: t.literal('NotificationRetryRequested'),
  data: t.type({ round: t.number, recipient: Recipient, by: Actor, at: IsoInstant }),
});

export const NotificationEvent = t.union([
  NotificationRequested,
  NotificationPrepared,
  NotificationSent,
  NotificationAttemptFailed,
  NotificationFailed,
  NotificationSkipped,
  NotificationUndeliverable,
  NotificationRetryRequested,
]);
export type NotificationEvent = t.TypeOf<typeof NotificationEvent>;
export type NotificationEventType = NotificationEvent['type'];
export const notificationEventTypes = eventTypesOf(NotificationEvent);

// ---------- commands ----------

/**
 * Facts gathered when a round starts: the settings switch, which sessions are still as the notice announces them
 * (`current`: for a cancellation, still cancelled), the recipient's address now, and the email rendered for the
 * sessions `announcedSessions` picks (or why it could not be rendered).
 */
export interface RoundFacts {
  readonly enabled: boolean;
  readonly current: ReadonlyArray<string>;
  readonly recipient: Recipient;
  readonly message?: PreparedMessage;
  readonly renderError?: string;
  readonly at: string;
}

/** What a notification is about: fixed when it is requested, kept in its state. */
interface NotificationSubject {
  readonly topic: NotificationTopic;
  readonly key: string;
  readonly kind: NotificationKind;
  readonly meetingIds: ReadonlyArray<string>;
  readonly seriesId?: string;
  readonly cancellationEventId: string;
  readonly cancellation: CancellationSnapshot;
}

export interface RequestNotification {
  readonly type: 'RequestNotification';
  readonly data: RoundFacts & NotificationSubject & { readonly notificationId: string };
}

export interface RecordSent {
  readonly type: 'RecordSent';
  readonly data: { readonly attempt: number; readonly providerMessageId: string; readonly at: string };
}

export interface RecordAttemptFailed {
  readonly type: 'RecordAttemptFailed';
  readonly data: {
    readonly attempt: number;
    readonly error: string;
    readonly retryable: boolean;
    readonly status?: number;
    /** When to try again if another attempt is allowed. */
    readonly nextAttemptAt: string;
    /** Attempts allowed per round. */
    readonly maxAttempts: number;
    readonly at: string;
  };
}

export interface SkipEndedNotification {
  readonly type: 'SkipEndedNotification';
  readonly data: { readonly at: string };
}

/**
 * No announced session is still as announced: a cancellation's were reinstated (a CANCEL would wrongly delete a live
 * event), another topic's were cancelled or changed again (a later email tells the final state).
 */
export interface SkipSupersededNotification {
  readonly type: 'SkipSupersededNotification';
  readonly data: { readonly at: string };
}

export interface RetryNotification {
  readonly type: 'RetryNotification';
  readonly data: RoundFacts & { readonly by: Actor };
}

export type NotificationCommand =
  | RequestNotification
  | RecordSent
  | RecordAttemptFailed
  | SkipEndedNotification
  | SkipSupersededNotification
  | RetryNotification;

// ---------- state ----------

export type NotificationStatus = 'pending' | 'sent' | 'failed' | 'skipped' | 'undeliverable';
export const notificationStatuses: ReadonlyArray<NotificationStatus> = [
  'pending',
  'sent',
  'failed',
  'skipped',
  'undeliverable',
];

export interface Notification extends NotificationSubject {
  readonly status: NotificationStatus;
  readonly id: string;
  readonly recipient: Recipient;
  readonly round: number;
  /** Attempts over all rounds; attempt numbers keep counting across admin retries. */
  readonly attempts: number;
  readonly roundAttempts: number;
  readonly message?: PreparedMessage;
  /** Sessions the prepared email announces, and when the last of them ends. */
  readonly announced: ReadonlyArray<string>;
  readonly endsAt?: string;
  readonly nextAttemptAt?: string;
  readonly providerMessageId?: string;
  readonly lastError?: string;
  readonly reason?: string;
}

export type NotificationState = { readonly status: 'none' } | Notification;

export const initialState = (): NotificationState => ({ status: 'none' });

// ---------- errors ----------

export type NotificationError =
  | { readonly _tag: 'NotificationAlreadyRequested' }
  | { readonly _tag: 'NotificationNotFound' }
  | { readonly _tag: 'NotificationNotPending'; readonly status: NotificationStatus }
  | { readonly _tag: 'NotificationNotRetryable'; readonly status: NotificationStatus }
  | { readonly _tag: 'SessionsNotEnded' }
  | { readonly _tag: 'MessageMissing' };

// ---------- rules ----------

/**
 * Bytes one notification append may take: 640 KiB, well under KurrentDB's default limit of 1 MiB per append, so that
 * every store takes it with room to spare, and enough for a 500-session series cancellation with ordinary texts and
 * one calendar object per session. Counted as KurrentDB counts an append: the JSON of each event's data, its
 * metadata (a fixed allowance here: actor, correlation and causation ids) and two bytes per character of its type.
 */
export const MAX_NOTIFICATION_APPEND_BYTES = 640 * 1024;
const METADATA_ALLOWANCE_BYTES = 1024;

/** UTF-8 length of a string, without encoding it. */
export const utf8Length = (value: string): number => {
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
};

/** Size of one append of these events, as the event store counts it (see MAX_NOTIFICATION_APPEND_BYTES). */
export const appendBytes = (events: ReadonlyArray<NotificationEvent>): number =>
  events.reduce(
    (sum, event) => sum + utf8Length(JSON.stringify(event.data)) + 2 * event.type.length + METADATA_ALLOWANCE_BYTES,
    0,
  );

/**
 * Keeps an append within MAX_NOTIFICATION_APPEND_BYTES: a rendered email that would take it over is not kept, and
 * the round fails with the reason instead (visible in the notification log; a retry renders again). Without the
 * email the append is small: the request holds at most MAX_OCCURRENCES sessions of bounded fields.
 */
const withinAppendLimit = (
  events: ReadonlyArray<NotificationEvent>,
  attempts: number,
  at: string,
): NotificationEvent[] => {
  const bytes = appendBytes(events);
  if (bytes <= MAX_NOTIFICATION_APPEND_BYTES) return [...events];
  return events.map((event): NotificationEvent => {
    if (event.type !== 'NotificationPrepared') return event;
    const message = utf8Length(JSON.stringify(event.data.message));
    return {
      type: 'NotificationFailed',
      data: {
        error:
          `the rendered email (${message} bytes for ${event.data.meetingIds.length} session(s)) would make the notification record ` +
          `${bytes} bytes, more than the ${MAX_NOTIFICATION_APPEND_BYTES} allowed; shorten the body template or what it repeats`,
        attempts,
        at,
      },
    };
  });
};

/** Sessions an email announces: those still current that have not ended at `at`. Ended ones are never announced. */
export const announcedSessions = (
  cancellation: CancellationSnapshot,
  current: ReadonlyArray<string>,
  at: string,
): ReadonlyArray<CancelledSession> => {
  const now = Date.parse(at);
  return cancellation.sessions.filter((s) => current.includes(s.meetingId) && Date.parse(s.end) > now);
};

const supersededReason = (topic: NotificationTopic): SkipReason =>
  topic === 'cancelled' ? 'reinstated' : 'superseded';

const latestEnd = (sessions: ReadonlyArray<CancelledSession>): string =>
  new Date(Math.max(...sessions.map((s) => Date.parse(s.end)))).toISOString();

const roundOutcome = (
  facts: RoundFacts,
  topic: NotificationTopic,
  cancellation: CancellationSnapshot,
  round: number,
  attempts: number,
): E.Either<NotificationError, NotificationEvent[]> => {
  const { at } = facts;
  if (!facts.enabled) return E.right([{ type: 'NotificationSkipped', data: { reason: 'disabled', at } }]);
  if (!cancellation.sessions.some((s) => facts.current.includes(s.meetingId))) {
    return E.right([{ type: 'NotificationSkipped', data: { reason: supersededReason(topic), at } }]);
  }
  const announced = announcedSessions(cancellation, facts.current, at);
  if (announced.length === 0) return E.right([{ type: 'NotificationSkipped', data: { reason: 'ended', at } }]);
  const email = facts.recipient.email;
  if (email === undefined || email.trim() === '') {
    return E.right([
      {
        type: 'NotificationUndeliverable',
        data: { reason: `no email address in the people directory for '${facts.recipient.personId}'`, at },
      },
    ]);
  }
  // An address stored before the directory checked addresses: no retry can deliver it until it is corrected.
  const emailError = emailProblem(email.trim());
  if (emailError !== undefined) {
    return E.right([
      {
        type: 'NotificationUndeliverable',
        data: {
          reason: `the email address in the people directory for '${facts.recipient.personId}' ${emailError}`,
          at,
        },
      },
    ]);
  }
  if (facts.renderError !== undefined) {
    return E.right([{ type: 'NotificationFailed', data: { error: facts.renderError, attempts, at } }]);
  }
  if (facts.message === undefined) return E.left({ _tag: 'MessageMissing' });
  return E.right([
    {
      type: 'NotificationPrepared',
      data: {
        round,
        meetingIds: announced.map((s) => s.meetingId),
        endsAt: latestEnd(announced),
        message: facts.message,
        at,
      },
    },
  ]);
};

// ---------- decide ----------

export const decide = (
  command: NotificationCommand,
  state: NotificationState,
): E.Either<NotificationError, NotificationEvent[]> => {
  if (command.type === 'RequestNotification') {
    if (state.status !== 'none') return E.left({ _tag: 'NotificationAlreadyRequested' });
    const c = command.data;
    const requested: NotificationEvent = {
      type: 'NotificationRequested',
      data: {
        notificationId: c.notificationId,
        key: c.key,
        kind: c.kind,
        meetingIds: [...c.meetingIds],
        ...(c.seriesId !== undefined ? { seriesId: c.seriesId } : {}),
        // Cancellations were recorded without a topic before topics existed, and still are: one shape for one cause.
        ...(c.topic !== 'cancelled' ? { topic: c.topic } : {}),
        recipient: c.recipient,
        cancellationEventId: c.cancellationEventId,
        cancellation: c.cancellation,
        at: c.at,
      },
    };
    return E.map((rest: NotificationEvent[]) => withinAppendLimit([requested, ...rest], 0, c.at))(
      roundOutcome(c, c.topic, c.cancellation, 0, 0),
    );
  }
  if (state.status === 'none') return E.left({ _tag: 'NotificationNotFound' });
  switch (command.type) {
    case 'RecordSent':
      if (state.status !== 'pending') return E.left({ _tag: 'NotificationNotPending', status: state.status });
      return E.right([{ type: 'NotificationSent', data: command.data }]);
    case 'RecordAttemptFailed': {
      if (state.status !== 'pending') return E.left({ _tag: 'NotificationNotPending', status: state.status });
      const { attempt, error, retryable, status, nextAttemptAt, maxAttempts, at } = command.data;
      const again = retryable && state.roundAttempts + 1 < maxAttempts;
      const failed: NotificationEvent = {
        type: 'NotificationAttemptFailed',
        data: {
          attempt,
          error,
          retryable,
          ...(status !== undefined ? { status } : {}),
          ...(again ? { nextAttemptAt } : {}),
          at,
        },
      };
      if (again) return E.right([failed]);
      const why = retryable ? `gave up after ${state.roundAttempts + 1} attempts: ${error}` : error;
      return E.right([failed, { type: 'NotificationFailed', data: { error: why, attempts: attempt, at } }]);
    }
    case 'SkipEndedNotification':
      if (state.status !== 'pending') return E.left({ _tag: 'NotificationNotPending', status: state.status });
      if (state.endsAt === undefined || Date.parse(state.endsAt) > Date.parse(command.data.at))
        return E.left({ _tag: 'SessionsNotEnded' });
      return E.right([{ type: 'NotificationSkipped', data: { reason: 'ended', at: command.data.at } }]);
    case 'SkipSupersededNotification':
      if (state.status !== 'pending') return E.left({ _tag: 'NotificationNotPending', status: state.status });
      return E.right([
        { type: 'NotificationSkipped', data: { reason: supersededReason(state.topic), at: command.data.at } },
      ]);
    case 'RetryNotification': {
      if (state.status !== 'failed' && state.status !== 'undeliverable') {
        return E.left({ _tag: 'NotificationNotRetryable', status: state.status });
      }
      const round = state.round + 1;
      const retry: NotificationEvent = {
        type: 'NotificationRetryRequested',
        data: { round, recipient: command.data.recipient, by: command.data.by, at: command.data.at },
      };
      return E.map((rest: NotificationEvent[]) => withinAppendLimit([retry, ...rest], state.attempts, command.data.at))(
        roundOutcome(command.data, state.topic, state.cancellation, round, state.attempts),
      );
    }
    default:
      return assertNever(command);
  }
};

// ---------- evolve ----------

export const evolve = (state: NotificationState, event: NotificationEvent): NotificationState => {
  if (event.type === 'NotificationRequested') {
    const d = event.data;
    return {
      status: 'pending',
      id: d.notificationId,
      topic: topicOf(d),
      key: d.key,
      kind: d.kind,
      meetingIds: d.meetingIds,
      ...(d.seriesId !== undefined ? { seriesId: d.seriesId } : {}),
      cancellationEventId: d.cancellationEventId,
      cancellation: d.cancellation,
      recipient: d.recipient,
      round: 0,
      attempts: 0,
      roundAttempts: 0,
      announced: [],
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'NotificationPrepared': {
      const { nextAttemptAt: _next, ...rest } = state;
      return {
        ...rest,
        message: event.data.message,
        announced: event.data.meetingIds,
        endsAt: event.data.endsAt,
        roundAttempts: 0,
      };
    }
    case 'NotificationSent': {
      const { nextAttemptAt: _next, ...rest } = state;
      return { ...rest, status: 'sent', attempts: event.data.attempt, providerMessageId: event.data.providerMessageId };
    }
    case 'NotificationAttemptFailed': {
      const { nextAttemptAt: _next, ...rest } = state;
      return {
        ...rest,
        attempts: event.data.attempt,
        roundAttempts: state.roundAttempts + 1,
        lastError: event.data.error,
        ...(event.data.nextAttemptAt !== undefined ? { nextAttemptAt: event.data.nextAttemptAt } : {}),
      };
    }
    case 'NotificationFailed': {
      const { nextAttemptAt: _next, ...rest } = state;
      return { ...rest, status: 'failed', lastError: event.data.error };
    }
    case 'NotificationSkipped': {
      const { nextAttemptAt: _next, ...rest } = state;
      return { ...rest, status: 'skipped', reason: event.data.reason };
    }
    case 'NotificationUndeliverable': {
      const { nextAttemptAt: _next, ...rest } = state;
      return { ...rest, status: 'undeliverable', reason: event.data.reason };
    }
    case 'NotificationRetryRequested': {
      const { nextAttemptAt: _next, reason: _reason, message: _message, endsAt: _ends, ...rest } = state;
      return {
        ...rest,
        status: 'pending',
        round: event.data.round,
        roundAttempts: 0,
        recipient: event.data.recipient,
        announced: [],
      };
    }
    default:
      return assertNever(event);
  }
};

export const notificationStreamPrefix = 'notification-';
export const notificationStreamName = (notificationId: string): string =>
  `${notificationStreamPrefix}${notificationId}`;

export const notificationDecider: Decider<
  NotificationCommand,
  NotificationEvent,
  NotificationState,
  NotificationError
> = { decide, evolve, initialState };
