import { operation, reply } from '../openapi/builder.ts';
import type { Json, PathsOf } from '../openapi/builder.ts';

const page = (operationId: string, summary: string, description: string, parameters: Json[] = []): Json => ({
  get: operation({
    operationId,
    summary,
    description,
    tags: ['web'],
    security: 'none',
    parameters,
    responses: {
      '200': reply('The app (HTML), or one of its files.', {
        'text/html': { schema: { type: 'string' } },
        'text/javascript': { schema: { type: 'string' } },
        'text/css': { schema: { type: 'string' } },
      }),
      '404': reply('A file under `assets/` the bundle does not have (a stale tab asking for an old chunk).'),
      '503': reply('The web app has not been built (`npm run web:build`; `npm start` builds it).'),
    },
  }),
});

const redirect = (operationId: string, summary: string, status: '301' | '302'): Json => ({
  get: operation({
    operationId,
    summary,
    tags: ['web'],
    security: 'none',
    responses: { [status]: reply('To `/app/`.', undefined, { Location: { schema: { type: 'string' } } }) },
  }),
});

/**
 * The web app (adapters/web, built into adapters/web/dist): its pages sign in with the refresh cookie and call this
 * API with the access token; none of these routes takes a credential.
 */
export const webPaths: PathsOf = () => ({
  '/': redirect('openWebApp', 'Opens the web app', '302'),
  '/app': redirect('openWebAppFolder', 'Opens the web app (with its trailing slash)', '301'),
  '/app/': page(
    'getWebApp',
    'The web app',
    'The single-page app for members, trainers, staff and auditors. Served with a Content-Security-Policy that allows scripts from this origin only.',
  ),
  '/app/{path}': page(
    'getWebAppPath',
    'A page or file of the web app',
    'A file of the bundle (`assets/…`, cached for a year: their names carry a hash), else the app itself, whose router shows the view for `path` (`sessions/…`, `schedule`, `people`, …).',
    [
      {
        name: 'path',
        in: 'path',
        required: true,
        description: 'A view or a file of the app.',
        schema: { type: 'string' },
      },
    ],
  ),
});
