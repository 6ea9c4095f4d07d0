import type { Context, Hono } from 'hono';
import type { Env } from './context.ts';

/**
 * How a request goes through the app: every route is registered with what runs before it (request id and log, then
 * for the bearer API the checks of its gate) wrapped around its handler as plain function calls, not as Hono
 * middleware. Hono then matches one handler per request and calls it directly, and an answer that needs nothing
 * asynchronous (a cached calendar for a token already checked) is returned in the same turn: @hono/node-server
 * writes it at once. Each middleware layer instead costs a few promises and microtask turns per request, which
 * was most of what a cached answer cost.
 */

/** What a route answers: at once, or later. */
export type Answer = Response | Promise<Response>;

/** A route's handler, as the pipeline calls it. */
export type Route = (c: Context<Env>) => Answer;

/**
 * One check the bearer API's requests pass before their route: the answer that ends the request there, or undefined
 * to go on.
 */
export type GateStep = (c: Context<Env>) => Response | undefined | Promise<Response | undefined>;

/** A step that runs the rest of the pipeline itself (the idempotency layer: it claims, runs, then records). */
export type AroundStep = (c: Context<Env>, run: Route) => Answer;

const noNext = async (): Promise<void> => undefined;

/** The routes of `sub` registered on `target`, each handler wrapped by `wrap` (its own function, so Hono sees one). */
export const mountRoutes = (target: Hono<Env>, sub: Hono<Env>, wrap: (route: Route) => Route): void => {
  for (const { method, path, handler } of sub.routes) {
    const route: Route = (c) => handler(c, noNext) as Answer;
    target.on(method, path, wrap(route));
  }
};

/**
 * The gate's steps from `first` on, then `around` and the route. A function of the module, not a closure made per
 * request: under tsx (esbuild's keepNames) every named closure costs a property definition each time it is made.
 */
const passGate = (
  steps: ReadonlyArray<GateStep>,
  around: AroundStep,
  route: Route,
  c: Context<Env>,
  first: number,
): Answer => {
  for (let i = first; i < steps.length; i++) {
    const answer = (steps[i] as GateStep)(c);
    if (answer instanceof Promise) return answer.then((settled) => settled ?? passGate(steps, around, route, c, i + 1));
    if (answer !== undefined) return answer;
  }
  return around(c, route);
};

/** `steps` in order, then `around` (the last word before the route) and the route; async only where a step is. */
export const gated =
  (steps: ReadonlyArray<GateStep>, around: AroundStep) =>
  (route: Route): Route =>
  (c) =>
    passGate(steps, around, route, c, 0);

/**
 * An answer with every header in one plain record: the route's own (names in lower case) written into the request's
 * defaults, which are this request's alone. Nothing is added to it as it leaves, and @hono/node-server writes the
 * record as it is, with no `Headers` built, set or sorted. For the hot cached answers; other routes answer through
 * Hono's context as usual. Headers set through the context (`c.header`) are not part of it: pass them in `own`.
 */
export const plainAnswer = (
  c: Context<Env>,
  body: Uint8Array<ArrayBuffer> | null,
  status: number,
  own: Readonly<Record<string, string>>,
): Response => {
  const headers = c.get('defaultHeaders');
  for (const name in own) headers[name] = own[name] as string;
  const res = new Response(body, { status, headers });
  c.set('completeAnswer', res);
  return res;
};

/** The request's default headers on its answer, where the route set none of that name (none on a plainAnswer). */
export const withDefaultHeaders = (c: Context<Env>, res: Response): Response => {
  if (c.get('completeAnswer') === res) return res;
  const defaults = c.get('defaultHeaders');
  for (const name in defaults) if (!res.headers.has(name)) res.headers.set(name, defaults[name] as string);
  return res;
};
