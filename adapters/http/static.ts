import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Context } from 'hono';

const require = createRequire(import.meta.url);

/** A fixed allow-list: nothing from the request ever becomes a path. */
const files: Record<string, { path: string; type: string }> = {
  'simplepeer.min.js': {
    path: join(dirname(require.resolve('simple-peer/package.json')), 'simplepeer.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
};

/** The names `/static/{file}` serves. */
export const staticFileNames: ReadonlyArray<string> = Object.keys(files);

const cache = new Map<string, Uint8Array<ArrayBuffer>>();

/** The file's answer, or undefined when there is no such file (the caller answers 404). */
export const staticAsset = async (c: Context, name: string): Promise<Response | undefined> => {
  // Own keys only: `constructor` or `__proto__` must not resolve to Object.prototype members.
  const file = Object.hasOwn(files, name) ? files[name] : undefined;
  if (file === undefined) return undefined;
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
