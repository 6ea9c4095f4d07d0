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

const sessionFetch = async (input: Request): Promise<Response> => {
  const retry = input.clone();
  const token = session.token();
  const response = await fetch(authorized(input, token));
  if (response.status !== 401 || token === undefined) return response;
  if (!(await session.renew())) return response;
  return fetch(authorized(retry, session.token()));
};

export const api = createClient<paths>({ baseUrl: '', fetch: sessionFetch, credentials: 'same-origin' });

/** A fetch with the session's token for what the typed client does not cover (a CSV download, a raw body). */
export const authorizedFetch = (path: string, init: RequestInit = {}): Promise<Response> =>
  sessionFetch(new Request(path, { ...init, credentials: 'same-origin' }));

export type Schemas = paths;
