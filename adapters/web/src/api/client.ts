import createClient from 'openapi-fetch';
import type { paths } from './schema';
import { session } from '../session';

/**
 * The typed API client: every path, parameter and answer comes from the server's OpenAPI document (schema.d.ts is
 * generated from it at build time), so a contract change fails the build. Requests carry the session's access token;
 * a 401 on a signed-in request renews the session once and tries again.
 */
const authorized = (request: Request, token: string | undefined): Request => {
  const copy = new Request(request);
  if (token !== undefined) copy.headers.set('Authorization', `Bearer ${token}`);
  return copy;
};

/**
 * A request the network refused (offline, the server restarting) answers as a problem like any other, marked
 * `network`, so every page shows the sentence for it and clears its busy state instead of waiting forever.
 */
const unreachable = (): Response =>
  new Response(JSON.stringify({ status: 0, network: true, title: 'Network error' }), {
    status: 599,
    headers: { 'Content-Type': 'application/problem+json' },
  });

const send = (request: Request): Promise<Response> => fetch(request).catch(() => unreachable());

const sessionFetch = async (input: Request): Promise<Response> => {
  const retry = input.clone();
  const token = session.token();
  const response = await send(authorized(input, token));
  if (response.status !== 401 || token === undefined) return response;
  if (!(await session.renew())) return response;
  return send(authorized(retry, session.token()));
};

export const api = createClient<paths>({ baseUrl: '', fetch: sessionFetch, credentials: 'same-origin' });

/** A fetch with the session's token for what the typed client does not cover (a CSV download, a raw body). */
export const authorizedFetch = (path: string, init: RequestInit = {}): Promise<Response> =>
  sessionFetch(new Request(path, { ...init, credentials: 'same-origin' }));

export type Schemas = paths;
