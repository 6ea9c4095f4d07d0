import { Hono } from 'hono';
import type { Service } from '../../../application/service.ts';
import type { SettingsPreview } from '../../../application/settings-preview.ts';
import { readJson } from '../kit/body.ts';
import { requestContext as ctx } from '../kit/context.ts';
import type { Env } from '../kit/context.ts';
import { historyAnswer } from '../kit/history.ts';
import { answer } from '../kit/problem.ts';
import { write } from '../kit/versioned.ts';
import { SettingsBody, SettingsPreviewBody } from './shapes.ts';

/**
 * `/settings`: read, replace, and the history of their changes; with a previewer, the template tokens and a preview
 * of the cancellation email (rendered, never saved or sent).
 */
export const settingsRoutes = (service: Service, previewer?: SettingsPreview): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.get('/settings', async (c) => answer(c, await service.getSettings(ctx(c))));
  routes.put(
    '/settings',
    write(SettingsBody, false, async (c, body) => answer(c, await service.putSettings(ctx(c), body))),
  );
  if (previewer !== undefined) {
    routes.get('/settings/template-tokens', (c) => answer(c, previewer.tokens(ctx(c))));
    routes.post('/settings/preview', async (c) => {
      const body = await readJson(c, SettingsPreviewBody);
      if (!body.ok) return body.response;
      return answer(c, previewer.preview(ctx(c), body.value));
    });
  }
  routes.get('/settings/history', (c) => historyAnswer(c, (page) => service.settingsHistory(ctx(c), page)));
  return routes;
};
