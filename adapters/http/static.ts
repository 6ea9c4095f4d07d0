import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

/** A fixed allow-list: nothing from the request ever becomes a path. */
const files: Record<string, { path: string; type: string }> = {
  'call-client.js': { path: join(here, '../signaling/client/call-client.js'), type: 'text/javascript; charset=utf-8' },
  'simplepeer.min.js': { path: join(dirname(require.resolve('simple-peer/package.json')), 'simplepeer.min.js'), type: 'text/javascript; charset=utf-8' },
  'call.html': { path: join(here, 'pages/call.html'), type: 'text/html; charset=utf-8' },
};
const cache = new Map<string, Uint8Array<ArrayBuffer>>();

export const staticAsset = async (c: Context, name: string) => {
  const file = files[name];
  if (file === undefined) return c.body('not found', 404);
  let content = cache.get(name);
  if (content === undefined) {
    content = new Uint8Array(await readFile(file.path));
    cache.set(name, content);
  }
  return c.body(content, 200, {
    'Content-Type': file.type,
    'Cache-Control': 'public, max-age=300',
    'X-Content-Type-Options': 'nosniff',
  });
};
