import createClient from 'openapi-fetch';
import type { paths } from '../../api/schema';

/** A request the network refused answers as a problem marked `network`, like the app's own client. */
const unreachable = (): Response =>
  new Response(JSON.stringify({ status: 0, network: true, title: 'Network error' }), {
    status: 599,
    headers: { 'Content-Type': 'application/problem+json' },
  });

/**
 * The call page's own API client: the join link as bearer, never the session's cookie or token (a join link may only
 * read its meeting, join it, read `GET /me` and the room).
 */
export const callClient = (token: string) =>
  createClient<paths>({
    baseUrl: '',
    credentials: 'omit',
    fetch: (request: Request) => {
      const copy = new Request(request, { cache: 'no-store' });
      copy.headers.set('Authorization', `Bearer ${token}`);
      return fetch(copy).catch(unreachable);
    },
  });

export type CallClient = ReturnType<typeof callClient>;
