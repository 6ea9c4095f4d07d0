/** Health and the documentation itself in the OpenAPI document. */

import { json, operation, reply, response, fileParameter } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import { docsAssetNames } from '../docs.ts';
import { HealthShape } from './shapes.ts';

const healthPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getHealth',
    summary: 'Liveness and readiness',
    description:
      'Per node: which node answers, the event store status and, per projection, its position and lag behind the log.',
    tags: ['system'],
    security: 'none',
    responses: {
      '200': reply(
        'Healthy.',
        json(schema(HealthShape), {
          status: 'ok',
          ready: true,
          catchingUp: false,
          node: { id: '6f1c2a7e-3b9d-4c55-8e21-0d4f7a9b1c33', caughtUp: true },
          store: { name: 'sqlite', status: 'ok' },
          projections: { meetings: { position: 131, lag: 0 } },
          signaling: { bus: 'redis', status: 'ok' },
          http: { clientAborts: 0 },
        }),
      ),
      '503': reply(
        'Degraded: the store is unreachable, a projection stopped, or the read models are still catching up (`ready: false`).',
        json(schema(HealthShape)),
      ),
    },
  }),
});

const openapiJsonPath = (): Json => ({
  get: operation({
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI 3.1 document',
    tags: ['system'],
    security: 'none',
    responses: { '200': reply('The document.', json({ type: 'object' })) },
  }),
});

const docsPath = (): Json => ({
  get: operation({
    operationId: 'getApiDocs',
    summary: 'Browsable API documentation (Swagger UI, served locally)',
    tags: ['system'],
    security: 'none',
    responses: { '200': reply('An HTML page.', { 'text/html': { schema: { type: 'string' } } }) },
  }),
});

const docsAssetsFilePath = (): Json => ({
  get: operation({
    operationId: 'getApiDocsAsset',
    summary: "A file of the docs page (Swagger UI's script and style sheet, served from the installed package)",
    tags: ['system'],
    security: 'none',
    parameters: [fileParameter(docsAssetNames)],
    responses: {
      '200': reply('The file.', {
        'text/css': { schema: { type: 'string' } },
        'text/javascript': { schema: { type: 'string' } },
      }),
      '404': { ...response('NotFound'), description: 'No such file.' },
    },
  }),
});

export const systemPaths: PathsOf = (schema) => ({
  '/health': healthPath(schema),
  '/openapi.json': openapiJsonPath(),
  '/docs': docsPath(),
  '/docs/assets/{file}': docsAssetsFilePath(),
});
