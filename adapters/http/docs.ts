import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Context } from 'hono';

const require = createRequire(import.meta.url);
const assetDir = dirname(require.resolve('swagger-ui-dist/package.json'));
const assets: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
};
const cache = new Map<string, Buffer>();

/** The names `/docs/assets/{file}` serves: the package's files and the page's own start script. */
export const docsAssetNames: ReadonlyArray<string> = [...Object.keys(assets), 'init.js'];

/** Swagger UI served from the installed package, so the docs work offline and load nothing from a CDN. */
export const docsPage = (): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>1on1 Meetings API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>`;

const init = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });`;

/** The file's answer, or undefined when there is no such file (the caller answers 404). */
export const swaggerAsset = async (c: Context, file: string): Promise<Response | undefined> => {
  if (file === 'init.js') return c.body(init, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  const type = Object.hasOwn(assets, file) ? assets[file] : undefined;
  if (type === undefined) return undefined;
  let content = cache.get(file);
  if (content === undefined) {
    content = await readFile(join(assetDir, file));
    cache.set(file, content);
  }
  return c.body(new Uint8Array(content), 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' });
};
