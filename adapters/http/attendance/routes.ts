import * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type { Service } from '../../../application/service.ts';
import { pathId, requestContext as ctx } from '../kit/context.ts';
import type { Env } from '../kit/context.ts';
import { readJson } from '../kit/body.ts';
import { appErrorResponse } from '../kit/problem.ts';
import { AttendanceBody } from './shapes.ts';

/** `PUT /meetings/:id/attendance/:personId`: the instructor or an admin marks a participant; the same mark again is no change. */
export const attendanceRoutes = (service: Service): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.put('/meetings/:id/attendance/:personId', async (c) => {
    const body = await readJson(c, AttendanceBody);
    if (!body.ok) return body.response;
    const personId = c.req.param('personId');
    const result = await service.markAttendance(ctx(c), pathId(c), personId, body.value.status);
    if (E.isLeft(result)) return appErrorResponse(c, result.left);
    return c.json(result.right, 200);
  });
  return routes;
};
