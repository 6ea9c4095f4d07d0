import * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type { Service } from '../../../application/service.ts';
import { pathId, requestContext as ctx } from '../kit/context.ts';
import type { Env } from '../kit/context.ts';
import { historyAnswer, presentedHistory } from '../kit/history.ts';
import { etag, write } from '../kit/versioned.ts';
import { appErrorResponse } from '../kit/problem.ts';
import type { MeetingView } from '../../../application/ports/read-models.ts';
import type { AppError } from '../../../application/service.ts';
import type { Context } from 'hono';
import { CancelBody, MeetingBody, MeetingPatchBody, NoBody, presentMeeting } from './shapes.ts';

/** `/meetings`: schedule, read (with `If-None-Match`), change, cancel, confirm, reinstate, and the history. */
export const meetingRoutes = (service: Service): Hono<Env> => {
  const routes = new Hono<Env>();
  /** The meeting with its attendance, read once: the ETag carries both revisions. */
  const sendMeeting = (
    c: Context<Env>,
    result: E.Either<AppError, MeetingView>,
    status: 200 | 201 = 200,
    read?: ReturnType<Service['attendanceOf']>,
  ) => {
    if (E.isLeft(result)) return appErrorResponse(c, result.left);
    const view = result.right;
    const attendance = read ?? service.attendanceOf(view);
    c.header('ETag', etag(view.revision, attendance.revision));
    if (status === 201) c.header('Location', `/meetings/${encodeURIComponent(view.id)}`);
    return c.json(presentMeeting(c.get('user'), view, attendance.entries), status);
  };
  routes.post(
    '/meetings',
    write(MeetingBody, false, async (c, body) => sendMeeting(c, await service.scheduleMeeting(ctx(c), body), 201)),
  );
  routes.get('/meetings/:id', async (c) => {
    const result = await service.getMeeting(ctx(c), pathId(c));
    if (E.isLeft(result)) return sendMeeting(c, result);
    const attendance = service.attendanceOf(result.right);
    const tag = etag(result.right.revision, attendance.revision);
    if (c.req.header('if-none-match') === tag) {
      c.header('ETag', tag);
      return c.body(null, 304);
    }
    return sendMeeting(c, result, 200, attendance);
  });
  routes.patch(
    '/meetings/:id',
    write(MeetingPatchBody, false, async (c, body, revision) =>
      sendMeeting(c, await service.changeMeeting(ctx(c), pathId(c), body, revision)),
    ),
  );
  routes.post(
    '/meetings/:id/cancel',
    write(CancelBody, true, async (c, body, revision) =>
      sendMeeting(c, await service.cancelMeeting(ctx(c), pathId(c), body.reason, revision)),
    ),
  );
  routes.post(
    '/meetings/:id/confirm',
    write(NoBody, true, async (c, _body, revision) =>
      sendMeeting(c, await service.confirmMeeting(ctx(c), pathId(c), revision)),
    ),
  );
  routes.post(
    '/meetings/:id/reinstate',
    write(NoBody, true, async (c, _body, revision) =>
      sendMeeting(c, await service.reinstateMeeting(ctx(c), pathId(c), revision)),
    ),
  );
  routes.get('/meetings/:id/history', (c) =>
    historyAnswer(c, async (page) => presentedHistory(c, await service.meetingHistory(ctx(c), pathId(c), page)), true),
  );
  return routes;
};
