import { Hono } from 'hono';
import { docsPage, swaggerAsset } from '../docs.ts';
import type { Env } from '../kit/context.ts';
import { noFile } from '../kit/problem.ts';
import { openApiDocument } from '../openapi.ts';

export interface HealthSource {
  (): Promise<{ status: 'ok' | 'degraded'; body: Record<string, unknown> }>;
}

export interface SystemDeps {
  readonly health: HealthSource;
  readonly publicBaseUrl: string;
  /** Requests whose client went away before its body had arrived (counted by the access log). */
  readonly clientAborts: () => number;
}

/** `/health`, the API description (`/openapi.json`) and its browsable page (`/docs`): no bearer token. */
export const systemRoutes = (deps: SystemDeps): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.get('/health', async (c) => {
    const health = await deps.health();
    return c.json({ ...health.body, http: { clientAborts: deps.clientAborts() } }, health.status === 'ok' ? 200 : 503);
  });
  let openApiJson: string | undefined;
  routes.get('/openapi.json', (c) => {
    openApiJson ??= JSON.stringify(openApiDocument(deps.publicBaseUrl));
    return c.body(openApiJson, 200, { 'Content-Type': 'application/json; charset=utf-8' });
  });
  routes.get('/docs', (c) => c.html(docsPage()));
  routes.get(
    '/docs/assets/:file',
    async (c) => (await swaggerAsset(c, c.req.param('file'))) ?? noFile(c, c.req.param('file')),
  );
  return routes;
};
