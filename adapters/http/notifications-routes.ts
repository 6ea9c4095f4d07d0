import * as E from 'fp-ts/lib/Either.js';
import type { NotificationService } from '../../application/notifications/service.ts';
import type { HttpDeps, HttpHelpers } from './app.ts';
import { decodeBody } from './validation.ts';
import { ListQuery } from './notifications/shapes.ts';

type Api = Parameters<NonNullable<HttpDeps['extend']>>[0];

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
