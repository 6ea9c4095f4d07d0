import * as t from 'io-ts';
import { notificationStatuses } from '../../../domain/notification.ts';
import type { NotificationStatus } from '../../../domain/notification.ts';
import { MAX_NOTIFICATION_LIST } from '../../../application/notifications/service.ts';

export const StatusParam = t.keyof(
  Object.fromEntries(notificationStatuses.map((s) => [s, null])) as Record<NotificationStatus, null>,
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

export const ListQuery = t.partial({ meetingId: t.string, status: StatusParam, limit: LimitParam });
