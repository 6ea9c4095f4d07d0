import * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { WebhookService } from '../../../application/webhooks/service.ts';
import { idProblem } from '../../../domain/shared.ts';
import { readJson } from '../kit/body.ts';
import { pathId, requestContext as ctx } from '../kit/context.ts';
import type { Env } from '../kit/context.ts';
import { answer, appErrorResponse, validationProblem } from '../kit/problem.ts';
import { etag, write } from '../kit/versioned.ts';
import { decodeBody } from '../validation.ts';
import { DeliveriesQuery, WebhookCreateBody, WebhookPatchBody } from './shapes.ts';

/** Secrets are answered once: never cached, never kept by a proxy. */
const secretAnswer = (c: Context<Env>, body: object, status: 200 | 201) => {
  c.header('Cache-Control', 'no-store');
  return c.json(body, status);
};

/**
 * `/webhooks`: register, list, change, delete, rotate the secret, read the delivery log and send a delivery again;
 * admins only, except that auditors read the endpoints and their delivery logs.
 */
export const webhookRoutes = (service: WebhookService): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.get('/webhooks', async (c) => {
    const result = await service.list(ctx(c));
    return E.isLeft(result) ? appErrorResponse(c, result.left) : c.json({ items: result.right });
  });
  routes.post('/webhooks', async (c) => {
    const body = await readJson(c, WebhookCreateBody);
    if (!body.ok) return body.response;
    const result = await service.register(ctx(c), body.value);
    if (E.isLeft(result)) return appErrorResponse(c, result.left);
    c.header('Location', `/webhooks/${encodeURIComponent(result.right.id)}`);
    c.header('ETag', etag(result.right.revision));
    return secretAnswer(c, result.right, 201);
  });
  routes.get('/webhooks/:id', async (c) => {
    const result = await service.get(ctx(c), pathId(c));
    if (E.isRight(result)) c.header('ETag', etag(result.right.revision));
    return answer(c, result);
  });
  routes.patch(
    '/webhooks/:id',
    write(WebhookPatchBody, false, async (c, body, revision) => {
      const result = await service.update(ctx(c), pathId(c), body, revision);
      if (E.isRight(result)) c.header('ETag', etag(result.right.revision));
      return answer(c, result);
    }),
  );
  routes.delete('/webhooks/:id', async (c) => {
    const result = await service.remove(ctx(c), pathId(c));
    return E.isLeft(result) ? appErrorResponse(c, result.left) : c.body(null, 204);
  });
  routes.post('/webhooks/:id/rotate-secret', async (c) => {
    const result = await service.rotate(ctx(c), pathId(c));
    return E.isLeft(result) ? appErrorResponse(c, result.left) : secretAnswer(c, result.right, 200);
  });
  routes.get('/webhooks/:id/deliveries', async (c) => {
    const query = decodeBody(DeliveriesQuery, c.req.query(), ['status', 'limit', 'before']);
    if (E.isLeft(query)) return validationProblem(c, query.left);
    return answer(c, await service.deliveries(ctx(c), pathId(c), query.right));
  });
  routes.post('/webhooks/:id/deliveries/:deliveryId/redeliver', async (c) => {
    const deliveryId = c.req.param('deliveryId');
    const problem = idProblem(deliveryId);
    if (problem !== undefined) return validationProblem(c, [{ path: 'deliveryId', message: problem }]);
    return answer(c, await service.redeliver(ctx(c), pathId(c), deliveryId), 202);
  });
  return routes;
};
