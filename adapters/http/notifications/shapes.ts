import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import {
  NotificationKind,
  NotificationTopic,
  RecipientRole,
  SkipReason,
  notificationStatuses,
} from '../../../domain/notification.ts';
import type { NotificationStatus } from '../../../domain/notification.ts';
import { IsoInstant } from '../../../domain/shared.ts';
import { MAX_NOTIFICATION_LIST } from '../../../application/notifications/service.ts';
import { Revision } from '../meetings/shapes.ts';
import type { NotificationView } from '../../../application/ports/notifications.ts';

export const StatusParam = annotate(
  t.keyof(Object.fromEntries(notificationStatuses.map((s) => [s, null])) as Record<NotificationStatus, null>),
  {
    name: 'NotificationStatus',
    description:
      '`pending`: to be sent (attempts may be under way). `sent`: the provider took it. `failed`: every attempt of the ' +
      'round failed, or it could not be rendered. `skipped`: nothing to send (see `reason`). `undeliverable`: no address.',
  },
);

export const LimitParam = new t.Type<number, string, unknown>(
  `integer from 1 to ${MAX_NOTIFICATION_LIST}`,
  (u): u is number => typeof u === 'number',
  (u, c) => {
    if (typeof u !== 'string' || !/^\d{1,4}$/.test(u))
      return t.failure(u, c, `must be an integer from 1 to ${MAX_NOTIFICATION_LIST}`);
    const n = Number(u);
    return n >= 1 && n <= MAX_NOTIFICATION_LIST
      ? t.success(n)
      : t.failure(u, c, `must be an integer from 1 to ${MAX_NOTIFICATION_LIST}`);
  },
  String,
);

export const ListQuery = t.partial({
  meetingId: t.string,
  status: StatusParam,
  topic: NotificationTopic,
  limit: LimitParam,
});

// ---------- answers ----------

const When = (description: string) => annotate(IsoInstant, { description });
const Count = (description: string) => annotate(t.number, { type: 'integer', minimum: 0, description });

export const CallRoleShape = annotate(RecipientRole, { name: 'CallRole' });

const statusRule = (status: NotificationStatus, then: Record<string, unknown>) => ({
  if: { properties: { status: { const: status } }, required: ['status'] },
  then,
});

export const NotificationResource = annotate(
  t.intersection([
    t.type({
      id: annotate(t.string, {
        pattern: '^[0-9a-f]{32}$',
        description: 'Derived from the cancellation and the recipient: one cause never mails one person twice.',
      }),
      topic: annotate(NotificationTopic, {
        description:
          'What the email is about: `cancelled`, `booked` (one email for a whole series), `rescheduled`, `changed` ' +
          '(training type or link), `reinstated`, `reminder`.',
      }),
      kind: annotate(NotificationKind, {
        description: '`series`: one email covering the sessions a series cancellation or edit cancelled.',
      }),
      status: StatusParam,
      meetingIds: annotate(t.readonlyArray(t.string), {
        minItems: 1,
        description: 'The cancelled sessions, sorted by start.',
      }),
      cancellationEventId: annotate(t.string, {
        description:
          'The event that caused it (`SessionCancelled`, `SeriesCancelled` or `SeriesOccurrencesCancelled`).',
      }),
      recipient: annotate(
        t.intersection([
          t.type({ personId: t.string, role: CallRoleShape }),
          t.partial({
            email: annotate(t.string, {
              format: 'email',
              description: 'From the people directory; absent when it has no address (then `undeliverable`).',
            }),
          }),
        ]),
        { name: 'NotificationRecipient' },
      ),
      announcedMeetingIds: annotate(t.readonlyArray(t.string), {
        description: 'The sessions the email announces: those still cancelled that had not ended when it was rendered.',
      }),
      attempts: Count('Send attempts over all rounds.'),
      round: Count('0, plus one per admin retry.'),
      createdAt: When('When it was requested.'),
      updatedAt: When('When it last changed.'),
      revision: Revision,
    }),
    t.partial({
      seriesId: annotate(t.string, { description: 'Set for `series` notifications.' }),
      subject: annotate(t.string, {
        description: 'The rendered subject, once the email of the current round is rendered.',
      }),
      nextAttemptAt: When('When the next attempt is due, while one is scheduled after a failed attempt.'),
      lastError: annotate(t.string, { description: 'Why the last attempt failed.' }),
      reason: annotate(t.string, {
        description: 'Why it was skipped (a SkipReason) or is undeliverable (free text).',
      }),
      providerMessageId: annotate(t.string, {
        description: "The mail provider's id (`outbox:<id>` for the dev outbox), once sent.",
      }),
      sentAt: When('When it was sent.'),
    }),
  ]),
  {
    name: 'Notification',
    description:
      'One email owed to one recipient for one cause (a cancellation, a booking, a change, a reminder), with its delivery record.',
    allOf: [
      statusRule('sent', { required: ['providerMessageId', 'sentAt'] }),
      statusRule('failed', { required: ['lastError'] }),
      statusRule('skipped', {
        required: ['reason'],
        properties: { reason: { $ref: '#/components/schemas/SkipReason' } },
      }),
      statusRule('undeliverable', { required: ['reason'] }),
    ],
  },
);

/** Named for the skipped rule above, which refers to it by name. */
export const SkipReasonShape = annotate(SkipReason, {
  name: 'SkipReason',
  description:
    '`disabled`: emails of this topic are switched off; `ended`: every announced session had ended; `reinstated`: the ' +
    'cancelled sessions were reinstated; `superseded`: the sessions changed again before it went out (a later email tells the final state).',
});

export const NotificationList = annotate(
  t.type({ items: annotate(t.readonlyArray(NotificationResource), { description: 'Newest first.' }) }),
  { name: 'NotificationList' },
);

// The notification view is answered as it is: the compiler holds it to the documented shape.
const _notificationAnswerFits = (view: NotificationView): t.TypeOf<typeof NotificationResource> => view;
