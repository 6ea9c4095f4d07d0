import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { notificationStatuses } from '../../domain/notification.ts';
import type { NotificationStatus } from '../../domain/notification.ts';
import type { NotificationService } from '../../application/notifications/service.ts';
import { MAX_NOTIFICATION_LIST } from '../../application/notifications/service.ts';
import type { HttpDeps, HttpHelpers } from './app.ts';
import { decodeBody } from './validation.ts';

type Api = Parameters<NonNullable<HttpDeps['extend']>>[0];

const StatusParam = t.keyof(
  Object.fromEntries(notificationStatuses.map((s) => [s, null])) as Record<NotificationStatus, null>,
);

const LimitParam = new t.Type<number, string, unknown>(
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

const ListQuery = t.partial({ meetingId: t.string, status: StatusParam, limit: LimitParam });

/** `GET /notifications` (the log, newest first) and `POST /notifications/:id/retry`; admins only. */
export const mountNotificationRoutes = (api: Api, helpers: HttpHelpers, service: NotificationService): void => {
  api.get('/notifications', async (c) => {
    const query = decodeBody(ListQuery, c.req.query(), ['meetingId', 'status', 'limit']);
    if (E.isLeft(query)) {
      return helpers.problem(c, 400, 'Validation failed', query.left.map((e) => `${e.path} ${e.message}`).join('; '), {
        errors: query.left,
      });
    }
    const result = await service.list(helpers.ctx(c), query.right);
    return E.isLeft(result) ? helpers.appError(c, result.left) : c.json({ items: result.right });
  });

  api.get('/notifications/:id', async (c) => {
    const result = await service.get(helpers.ctx(c), c.req.param('id'));
    return E.isLeft(result) ? helpers.appError(c, result.left) : c.json(result.right);
  });

  api.post('/notifications/:id/retry', async (c) => {
    const result = await service.retry(helpers.ctx(c), c.req.param('id'));
    return E.isLeft(result) ? helpers.appError(c, result.left) : c.json(result.right, 202);
  });
};
