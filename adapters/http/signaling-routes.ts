import type { HttpDeps, HttpHelpers } from './app.ts';
import { parseOrigin } from './calls/shapes.ts';

type PublicApp = Parameters<NonNullable<HttpDeps['publicRoutes']>>[0];

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
