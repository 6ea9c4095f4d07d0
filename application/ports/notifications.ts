import type {
  NotificationKind,
  NotificationStatus,
  NotificationTopic,
  RecipientRole,
} from '../../domain/notification.ts';

/** What admins see in the notification log; the email body itself stays in the event log. */
export interface NotificationView {
  readonly id: string;
  /** What it is about (a cancellation, a booking, a change, a reinstatement, a reminder). */
  readonly topic: NotificationTopic;
  readonly kind: NotificationKind;
  readonly status: NotificationStatus;
  readonly meetingIds: ReadonlyArray<string>;
  readonly seriesId?: string;
  readonly cancellationEventId: string;
  readonly recipient: { readonly personId: string; readonly role: RecipientRole; readonly email?: string };
  readonly subject?: string;
  /** Sessions the email announces (cancelled ones that had not ended). */
  readonly announcedMeetingIds: ReadonlyArray<string>;
  readonly attempts: number;
  readonly round: number;
  readonly nextAttemptAt?: string;
  readonly lastError?: string;
  /** Why it was skipped or is undeliverable. */
  readonly reason?: string;
  readonly providerMessageId?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly sentAt?: string;
  readonly revision: number;
}

export interface NotificationFilter {
  readonly meetingId?: string;
  readonly status?: NotificationStatus;
  readonly topic?: NotificationTopic;
  readonly limit: number;
}

export interface NotificationQueries {
  getNotification(id: string): NotificationView | undefined;
  /** Newest first. */
  listNotifications(filter: NotificationFilter): ReadonlyArray<NotificationView>;
  /** Every notification still waiting to be sent, oldest first. */
  pendingNotifications(): ReadonlyArray<NotificationView>;
}

/** A durable position in the event log for a reaction (not a projection: nothing is rebuilt from it). */
export interface CheckpointStore {
  get(name: string): number;
  set(name: string, position: number): void;
}
