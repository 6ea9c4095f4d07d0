import { Hono } from 'hono';
import type { SeriesService } from '../../../application/series-service.ts';
import type { SeriesView } from '../../../application/ports/read-models.ts';
import { pathId, requestContext as ctx } from '../kit/context.ts';
import type { Env } from '../kit/context.ts';
import { historyAnswer, presentedHistory } from '../kit/history.ts';
import { readJson } from '../kit/body.ts';
import { answer } from '../kit/problem.ts';
import { sendVersioned, write } from '../kit/versioned.ts';
import { SeriesBody, SeriesCancelBody, SeriesPatchBody, presentSeries } from './shapes.ts';

const sendSeries = sendVersioned<SeriesView>('series', presentSeries);

/** `/series`: schedule, read, change, cancel (from an instant on), and the history. */
export const seriesRoutes = (series: SeriesService): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.post(
    '/series',
    write(SeriesBody, false, async (c, body) => sendSeries(c, await series.scheduleSeries(ctx(c), body), 201)),
  );
  // Writes nothing: the occurrences POST /series would create for the same body, and what each would clash with.
  routes.post('/series/preview', async (c) => {
    const body = await readJson(c, SeriesBody);
    if (!body.ok) return body.response;
    return answer(c, await series.previewSeries(ctx(c), body.value));
  });
  routes.get('/series/:id', async (c) => sendSeries(c, await series.getSeries(ctx(c), pathId(c))));
  routes.patch(
    '/series/:id',
    write(SeriesPatchBody, false, async (c, body, revision) =>
      sendSeries(c, await series.changeSeries(ctx(c), pathId(c), body, revision)),
    ),
  );
  routes.post(
    '/series/:id/cancel',
    write(SeriesCancelBody, true, async (c, body, revision) =>
      sendSeries(c, await series.cancelSeries(ctx(c), pathId(c), body, revision)),
    ),
  );
  routes.get('/series/:id/history', (c) =>
    historyAnswer(c, async (page) => presentedHistory(c, await series.seriesHistory(ctx(c), pathId(c), page))),
  );
  return routes;
};
