import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Env } from '../kit/context.ts';
import { problem } from '../kit/problem.ts';

/** Where `npm start` (apps/web-build.ts) puts the built web app. */
export const WEB_DIST = join(dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/**
 * The web app's pages: scripts only from this origin (no inline script, no eval), styles from this origin plus the
 * ones FullCalendar and Vue's transitions set on elements, API calls to this origin only, plus the call page's
 * signaling WebSocket, at the one origin the join answer names (`ws://…` or `wss://…` of PUBLIC_BASE_URL), and its
 * media streams (`blob:`).
 */
export const appCsp = (signalingOrigin: string | undefined): string =>
  `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'${
    signalingOrigin !== undefined ? ` ${signalingOrigin}` : ''
  }; img-src 'self' data:; media-src 'self' blob:; font-src 'self' data:; object-src 'none'; base-uri 'none'; ` +
  "form-action 'self'; frame-ancestors 'none'";

/** The origin of the signaling socket's URL (`wss://host:port`), or undefined when it is not a ws(s) URL. */
const originOf = (url: string): string | undefined => {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'ws:' || parsed.protocol === 'wss:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
};

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly type: string;
}

const walk = async (dir: string): Promise<string[]> => {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
};

/** Every file of the bundle, read once: the set of servable paths is fixed, nothing from a request becomes a path. */
const loadBundle = async (dist: string): Promise<Map<string, Asset> | undefined> => {
  const files = await walk(dist).catch(() => undefined);
  if (files === undefined) return undefined;
  const assets = new Map<string, Asset>();
  for (const file of files) {
    const type = types[extname(file)];
    if (type === undefined) continue;
    assets.set(relative(dist, file).split(sep).join('/'), { body: new Uint8Array(await readFile(file)), type });
  }
  return assets.has('index.html') ? assets : undefined;
};

const pageHeaders = (csp: string) => ({
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': csp,
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
});

/**
 * `/` opens the app; `/app/…` serves the bundle's files, and every other `/app/…` path the app's page (the router
 * shows the view). Hashed files under `/app/assets/` are cached for a year; the page itself is revalidated.
 */
export const webAppRoutes = (dist: string = WEB_DIST, signalingUrl?: () => string): Hono<Env> => {
  const routes = new Hono<Env>();
  // The signaling URL is known once the server listens (its port may be chosen then); the policy follows it.
  let policy: { readonly url: string | undefined; readonly csp: string } | undefined;
  const csp = () => {
    const url = signalingUrl?.();
    if (policy === undefined || policy.url !== url) {
      policy = { url, csp: appCsp(url !== undefined ? originOf(url) : undefined) };
    }
    return policy.csp;
  };
  let bundle: Promise<Map<string, Asset> | undefined> | undefined;
  const files = async () => {
    bundle ??= loadBundle(dist);
    const loaded = await bundle;
    if (loaded === undefined) bundle = undefined; // built later (npm run web:build): looked for again next time
    return loaded;
  };
  const notBuilt = (c: Context<Env>) =>
    problem(
      c,
      503,
      'Web app not built',
      'the web app has not been built yet; run `npm run web:build` (npm start does)',
    );

  routes.get('/', (c) => c.redirect('/app/', 302));
  routes.get('/app', (c) => c.redirect('/app/', 301));
  const serve = async (c: Context<Env>) => {
    const assets = await files();
    if (assets === undefined) return notBuilt(c);
    const path = c.req.path.slice('/app/'.length);
    const asset = path === '' ? undefined : assets.get(path);
    if (asset !== undefined && path !== 'index.html') {
      return c.body(asset.body, 200, {
        'Content-Type': asset.type,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': path.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
      });
    }
    // A missing bundle file is a 404, not the page: a stale tab asking for an old chunk must learn it is gone.
    if (path.startsWith('assets/')) return problem(c, 404, 'Not found', `no file ${path} in the web app`);
    return c.body((assets.get('index.html') as Asset).body, 200, pageHeaders(csp()));
  };
  routes.get('/app/', serve);
  routes.get('/app/:path{.+}', serve);
  return routes;
};
