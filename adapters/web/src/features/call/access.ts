import { api } from '../../api/client';
import { asProblem } from '../../api/problems';
import type { Problem } from '../../api/problems';
import type { components } from '../../api/schema';
import { session } from '../../session';
import { callClient } from './call-client';
import type { CallClient } from './call-client';
import { forgetLink, storedLink, storeLink, tokenOfLink } from './link';

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

/** The signed-in person's own join link for the meeting (from the join answer), or why there is none. */
const linkThroughSession = async (meetingId: string): Promise<string | Problem | undefined> => {
  if (!(await session.start())) return undefined;
  const { data, error, response } = await api.POST('/meetings/{id}/join', { params: { path: { id: meetingId } } });
  if (data === undefined) return asProblem(error, response.status);
  return tokenOfLink(data.link) ?? asProblem({ detail: 'no join link' }, 500);
};

/** The meeting and the caller's place in it, read with the join link (or the session's own client). */
const readWith = async (meetingId: string, client: CallClient) => {
  const [meeting, me] = await Promise.all([
    client.GET('/meetings/{id}', { params: { path: { id: meetingId } } }),
    client.GET('/me'),
  ]);
  return { meeting, me };
};

/**
 * Who the page acts as: the join link kept for this meeting, else (signed in) the person's own link from the join
 * answer, else sign-in. Signed in while joining is closed (too early, cancelled): the session itself, so the lobby
 * can still say why. A kept link the server no longer takes (401: rotated, expired) is forgotten and the next way
 * tried.
 */
export const resolveAccess = async (meetingId: string): Promise<Access> => {
  for (let round = 0; round < 2; round++) {
    let client: CallClient;
    const kept = storedLink(meetingId);
    if (kept !== undefined) client = callClient(kept);
    else {
      const fromSession = await linkThroughSession(meetingId);
      if (fromSession === undefined) return { kind: 'sign-in' };
      if (typeof fromSession === 'string') {
        storeLink(meetingId, fromSession);
        client = callClient(fromSession);
      } else if (fromSession.status === 409) client = api;
      else return { kind: 'refused', problem: fromSession };
    }
    const { meeting, me } = await readWith(meetingId, client);
    if (meeting.data !== undefined) {
      const id = me.data?.id;
      const myRole: Role | undefined =
        id === meeting.data.customerId ? 'customer' : id === meeting.data.instructorId ? 'instructor' : undefined;
      return { kind: 'ready', client, meeting: meeting.data, myRole };
    }
    if (meeting.response.status !== 401 || kept === undefined) {
      return { kind: 'refused', problem: asProblem(meeting.error, meeting.response.status) };
    }
    forgetLink(meetingId);
  }
  return { kind: 'sign-in' };
};
