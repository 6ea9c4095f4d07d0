import { Hono } from 'hono';
import type { Service } from '../../../application/service.ts';
import { requestContext as ctx } from '../kit/context.ts';
import type { Env } from '../kit/context.ts';
import { historyAnswer } from '../kit/history.ts';
import { answer } from '../kit/problem.ts';
import { write } from '../kit/versioned.ts';
import { SettingsBody } from './shapes.ts';

/** `/settings`: read, replace, and the history of their changes. */
export const settingsRoutes = (service: Service): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.get('/settings', async (c) => answer(c, await service.getSettings(ctx(c))));
  routes.put(
    '/settings',
    write(SettingsBody, false, async (c, body) => answer(c, await service.putSettings(ctx(c), body))),
  );
  routes.get('/settings/history', (c) => historyAnswer(c, (page) => service.settingsHistory(ctx(c), page)));
  return routes;
};
