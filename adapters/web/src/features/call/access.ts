import { api } from '../../api/client';
import { asProblem } from '../../api/problems';
import type { Problem } from '../../api/problems';
import type { components } from '../../api/schema';
import { session } from '../../session';
import { callClient } from './call-client';
import type { CallClient } from './call-client';
import { forgetAllLinks, forgetLink, storedLink, storeLink, tokenOfLink } from './link';

export type Meeting = components['schemas']['MeetingView'];
export type Role = 'customer' | 'instructor';

export type Access =
  | {
      readonly kind: 'ready';
      readonly client: CallClient;
      readonly meeting: Meeting;
      readonly myRole: Role | undefined;
    }
  | { readonly kind: 'sign-in' }
  | { readonly kind: 'refused'; readonly problem: Problem };

// A sign-out (this tab or another) forgets every kept join link: the next person here never acts as the last one.
session.onSignedOut(forgetAllLinks);

/** The meeting and the caller's place in it, read with the join link (or the session's own client). */
const readWith = async (meetingId: string, client: CallClient): Promise<Access> => {
  const [meeting, me] = await Promise.all([
    client.GET('/meetings/{id}', { params: { path: { id: meetingId } } }),
    client.GET('/me'),
  ]);
  if (meeting.data === undefined) {
    return { kind: 'refused', problem: asProblem(meeting.error, meeting.response.status) };
  }
  const id = me.data?.id;
  const myRole: Role | undefined =
    id === meeting.data.customerId ? 'customer' : id === meeting.data.instructorId ? 'instructor' : undefined;
  return { kind: 'ready', client, meeting: meeting.data, myRole };
};

/**
 * Signed in: the person's own join link from the join answer, whatever link this tab kept (a kept link may be
 * someone else's: a crafted `#link=`, or the last person's). Joining closed (too early, cancelled, over): the
 * session itself, so the lobby can still say why.
 */
const throughSession = async (meetingId: string): Promise<Access> => {
  const { data, error, response } = await api.POST('/meetings/{id}/join', { params: { path: { id: meetingId } } });
  const own = data === undefined ? undefined : tokenOfLink(data.link);
  if (own !== undefined) {
    storeLink(meetingId, own);
    return readWith(meetingId, callClient(own));
  }
  forgetLink(meetingId);
  if (data !== undefined) return { kind: 'refused', problem: asProblem({ detail: 'no join link' }, 500) };
  if (response.status === 409) return readWith(meetingId, api);
  return { kind: 'refused', problem: asProblem(error, response.status) };
};

/**
 * Who the page acts as: signed in, the person themself (their own link); else the join link kept for this meeting;
 * else sign-in. A kept link the server no longer takes (401: rotated, expired; 403) is forgotten.
 */
export const resolveAccess = async (meetingId: string): Promise<Access> => {
  if (await session.start()) return throughSession(meetingId);
  const kept = storedLink(meetingId);
  if (kept === undefined) return { kind: 'sign-in' };
  const access = await readWith(meetingId, callClient(kept));
  if (access.kind === 'refused' && (access.problem.status === 401 || access.problem.status === 403)) {
    forgetLink(meetingId);
    return { kind: 'sign-in' };
  }
  return access;
};
