import { assertNever } from '../../domain/shared.ts';
import { topicOf } from '../../domain/notification.ts';
import type { NotificationEvent } from '../../domain/notification.ts';
import type { RecordedEvent } from '../ports/event-store.ts';
import type { NotificationView } from '../ports/notifications.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const without = <K extends keyof NotificationView>(view: NotificationView, ...keys: K[]): Mutable<NotificationView> => {
  const copy: Mutable<NotificationView> = { ...view };
  for (const key of keys) delete copy[key];
  return copy;
};

/** The admin's view of one notification after one more of its events. */
export const projectNotificationView = (
  view: NotificationView | undefined,
  event: NotificationEvent,
  recorded: RecordedEvent,
): NotificationView | undefined => {
  const stamp = { updatedAt: event.data.at, revision: recorded.revision };
  if (event.type === 'NotificationRequested') {
    const d = event.data;
    return {
      id: d.notificationId,
      topic: topicOf(d),
      kind: d.kind,
      status: 'pending',
      meetingIds: d.meetingIds,
      ...(d.seriesId !== undefined ? { seriesId: d.seriesId } : {}),
      cancellationEventId: d.cancellationEventId,
      recipient: {
        personId: d.recipient.personId,
        role: d.recipient.role,
        ...(d.recipient.email !== undefined ? { email: d.recipient.email } : {}),
      },
      announcedMeetingIds: [],
      attempts: 0,
      round: 0,
      createdAt: d.at,
      ...stamp,
    };
  }
  if (view === undefined) return undefined;
  switch (event.type) {
    case 'NotificationPrepared':
      return {
        ...without(view, 'nextAttemptAt'),
        subject: event.data.message.subject,
        announcedMeetingIds: event.data.meetingIds,
        ...stamp,
      };
    case 'NotificationSent':
      return {
        ...without(view, 'nextAttemptAt'),
        status: 'sent',
        attempts: event.data.attempt,
        providerMessageId: event.data.providerMessageId,
        sentAt: event.data.at,
        ...stamp,
      };
    case 'NotificationAttemptFailed':
      return {
        ...without(view, 'nextAttemptAt'),
        attempts: event.data.attempt,
        lastError: event.data.error,
        ...(event.data.nextAttemptAt !== undefined ? { nextAttemptAt: event.data.nextAttemptAt } : {}),
        ...stamp,
      };
    case 'NotificationFailed':
      return { ...without(view, 'nextAttemptAt'), status: 'failed', lastError: event.data.error, ...stamp };
    case 'NotificationSkipped':
      return { ...without(view, 'nextAttemptAt'), status: 'skipped', reason: event.data.reason, ...stamp };
    case 'NotificationUndeliverable':
      return { ...without(view, 'nextAttemptAt'), status: 'undeliverable', reason: event.data.reason, ...stamp };
    case 'NotificationRetryRequested': {
      const { personId, role, email } = event.data.recipient;
      return {
        ...without(view, 'nextAttemptAt', 'reason', 'subject'),
        status: 'pending',
        round: event.data.round,
        recipient: { personId, role, ...(email !== undefined ? { email } : {}) },
        announcedMeetingIds: [],
        ...stamp,
      };
    }
    default:
      return assertNever(event);
  }
};
