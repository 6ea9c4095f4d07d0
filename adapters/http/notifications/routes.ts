import * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type { NotificationService } from '../../../application/notifications/service.ts';
import { pathId, requestContext as ctx } from '../kit/context.ts';
import type { Env } from '../kit/context.ts';
import { answer, appErrorResponse, validationProblem } from '../kit/problem.ts';
import { decodeBody } from '../validation.ts';
import { ListQuery } from './shapes.ts';

/** `GET /notifications` (the log, newest first) and `POST /notifications/:id/retry`; admins only. */
export const notificationRoutes = (service: NotificationService): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.get('/notifications', async (c) => {
    const query = decodeBody(ListQuery, c.req.query(), ['meetingId', 'status', 'topic', 'limit']);
    if (E.isLeft(query)) return validationProblem(c, query.left);
    const result = await service.list(ctx(c), query.right);
    return E.isLeft(result) ? appErrorResponse(c, result.left) : c.json({ items: result.right });
  });
  routes.get('/notifications/:id', async (c) => answer(c, await service.get(ctx(c), pathId(c))));
  routes.post('/notifications/:id/retry', async (c) => answer(c, await service.retry(ctx(c), pathId(c)), 202));
  return routes;
};
