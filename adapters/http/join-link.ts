import { isJoinLinkToken } from '../../application/join-links.ts';
import type { JoinLinks } from '../../application/join-links.ts';
import { bearerToken } from './auth.ts';
import type { Authenticator } from './auth.ts';
import type { GateStep } from './kit/pipeline.ts';
import { problem } from './kit/problem.ts';

/**
 * Join links as bearer tokens: one shaped like a link (`jl1.…`) is checked by the join links alone, on every request
 * (no cache, so a rotated feed or a deactivation holds at once); every other token goes to `fallback`, untouched.
 */
export const joinLinkAuthenticator =
  (links: Pick<JoinLinks, 'authenticate'>, fallback: Authenticator): Authenticator =>
  (header) => {
    const token = bearerToken(header);
    return token !== undefined && isJoinLinkToken(token) ? links.authenticate(token) : fallback(header);
  };

/** What a join link may do: read its meeting and who is in its call, join it, and read `GET /me`. */
const allowed = (method: string, path: string, meetingId: string): boolean =>
  (method === 'GET' && path === `/meetings/${meetingId}`) ||
  (method === 'GET' && path === `/meetings/${meetingId}/room`) ||
  (method === 'POST' && path === `/meetings/${meetingId}/join`) ||
  (method === 'GET' && path === '/me');

/** Mounted right after bearer auth: a user signed in by a join link gets 403 for anything but its own meeting. */
export const joinLinkScope: GateStep = (c) => {
  const scope = c.get('user').scope;
  if (scope === undefined || allowed(c.req.method, c.req.path, scope.meetingId)) return undefined;
  return problem(c, 403, 'Forbidden', 'a join link may only read and join its own meeting');
};
