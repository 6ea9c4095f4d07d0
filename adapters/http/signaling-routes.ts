import type { HttpDeps, HttpHelpers } from './app.ts';

type PublicApp = Parameters<NonNullable<HttpDeps['publicRoutes']>>[0];

const MAX_ORIGIN_LENGTH = 2048;

/** `http(s)://host[:port]` of a given origin, or why it is not one. */
const parseOrigin = (raw: string | undefined): { ok: true; origin: string } | { ok: false; message: string } => {
  if (raw === undefined || raw.trim() === '')
    return { ok: false, message: 'is required (the origin of the page, like http://localhost:8080)' };
  if (raw.length > MAX_ORIGIN_LENGTH) return { ok: false, message: `must be at most ${MAX_ORIGIN_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: 'must be an origin like http://localhost:8080' };
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin === 'null') {
    return { ok: false, message: 'must be an http or https origin' };
  }
  return { ok: true, origin: url.origin };
};

/**
 * `GET /signaling/origin-check?origin=…`: may a page on this origin open the signaling socket? A browser refuses to
 * tell a page why its WebSocket failed (a 403 for its Origin looks like any lost connection), so the call client asks
 * here after a socket that never opened, and can say so instead of reconnecting forever. It tells nothing secret:
 * which origins are allowed is visible to anyone who tries one.
 */
export const mountSignalingOriginCheck = (
  app: PublicApp,
  helpers: Pick<HttpHelpers, 'problem'>,
  deps: { readonly originAllowed: (origin: string) => boolean; readonly suggestedOrigin: () => string | undefined },
): void => {
  app.get('/signaling/origin-check', (c) => {
    const unknown = Object.keys(c.req.query()).filter((name) => name !== 'origin');
    const parsed = parseOrigin(c.req.query('origin'));
    const errors = [
      ...(parsed.ok ? [] : [{ path: 'origin', message: parsed.message }]),
      ...unknown.slice(0, 10).map((name) => ({ path: name.slice(0, 64), message: 'is not a known parameter' })),
    ];
    if (!parsed.ok || errors.length > 0) {
      return helpers.problem(c, 400, 'Validation failed', errors.map((e) => `${e.path} ${e.message}`).join('; '), {
        errors,
      });
    }
    const allowed = deps.originAllowed(parsed.origin);
    const suggested = allowed ? undefined : deps.suggestedOrigin();
    c.header('Cache-Control', 'no-store');
    return c.json({
      origin: parsed.origin,
      allowed,
      ...(suggested !== undefined ? { suggestedOrigin: suggested } : {}),
    });
  });
};
