import { onBeforeUnmount, ref } from 'vue';
import type { Ref } from 'vue';
import { api } from '../../api/client';
import { asProblem } from '../../api/problems';
import type { Problem } from '../../api/problems';
import { tokenOfLink } from '../call/link';

/** The server's join window: from 15 minutes before the start to the end. */
export const JOIN_EARLY_MS = 15 * 60_000;

export type JoinPhase = 'before' | 'open' | 'over';

export const opensAt = (start: string): string => new Date(new Date(start).getTime() - JOIN_EARLY_MS).toISOString();

export const joinPhase = (start: string, end: string, now: number): JoinPhase => {
  if (now < new Date(start).getTime() - JOIN_EARLY_MS) return 'before';
  return now < new Date(end).getTime() ? 'open' : 'over';
};

/**
 * The current time as a ref that moves on by itself: every `everyMs`, and exactly at each of `moments()` (so a Join
 * button comes alive the second its window opens, without a reload).
 */
export const useNow = (moments: () => ReadonlyArray<string>, everyMs = 30_000): Ref<number> => {
  const now = ref(Date.now());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    clearTimeout(timer);
    now.value = Date.now();
    const upcoming = moments()
      .map((m) => new Date(m).getTime() - now.value)
      .filter((d) => d > 0);
    const wait = Math.min(everyMs, ...upcoming.map((d) => d + 50));
    timer = setTimeout(schedule, Math.max(50, wait));
  };
  schedule();
  onBeforeUnmount(() => clearTimeout(timer));
  return now;
};

export type JoinOutcome =
  | { readonly kind: 'link'; readonly url: string }
  | { readonly kind: 'native'; readonly callPage: string }
  | { readonly kind: 'refused'; readonly problem: Problem };

/**
 * Asks to join (`POST /meetings/:id/join`). A remote link answers its URL; a call here answers the call page's
 * address with the caller's own join link's token in the fragment (the call page signs in with it; it never reaches a server).
 */
export const requestJoin = async (meetingId: string): Promise<JoinOutcome> => {
  const { data, error, response } = await api.POST('/meetings/{id}/join', { params: { path: { id: meetingId } } });
  if (data === undefined) return { kind: 'refused', problem: asProblem(error, response.status) };
  if (data.mode === 'link') return { kind: 'link', url: data.url };
  return { kind: 'native', callPage: callPageOf(meetingId, data.link) };
};

/**
 * The app's call page on this origin (`/app/call/<id>`) for the caller's join link
 * (`<PUBLIC_BASE_URL>/call?meeting=…#link=<token>`): the token is taken from the link's fragment, so the page opens on
 * the origin the person is using, and leaves the address bar as soon as the page reads it.
 */
export const callPageOf = (meetingId: string, link: string): string => {
  const token = tokenOfLink(link);
  const page = `/app/call/${encodeURIComponent(meetingId)}`;
  return token === undefined ? page : `${page}#link=${encodeURIComponent(token)}`;
};
