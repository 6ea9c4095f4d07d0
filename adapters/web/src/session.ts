import { reactive, readonly } from 'vue';

export type Role = 'admin' | 'instructor' | 'customer' | 'auditor';

/** Who is signed in, as `/auth/session` and `/auth/refresh` answer it. */
export interface Person {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly roles: ReadonlyArray<Role>;
  readonly timezone?: string;
  readonly language?: string;
}

interface Grant {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly person: Person;
}

type Status = 'unknown' | 'signed-in' | 'signed-out';

/**
 * The sign-in session of this tab. The access token lives in this module's memory only (never in web storage, so no
 * other script or origin can read it); the refresh credential is the HttpOnly `session_refresh` cookie, which no
 * script sees. Renewal runs under a Web Lock shared by every tab of the site: the credential rotates on every
 * refresh, and two tabs presenting the same one at once would look like a replay and end the session.
 * Signing out in one tab signs every tab out (BroadcastChannel).
 */
const state = reactive<{ status: Status; person: Person | undefined }>({ status: 'unknown', person: undefined });
let accessToken: string | undefined;
let renewalTimer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<boolean> | undefined;
const channel = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel('session');

const postJson = (path: string, body: unknown = {}): Promise<Response> =>
  fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });

const clear = (status: Status = 'signed-out') => {
  accessToken = undefined;
  clearTimeout(renewalTimer);
  state.person = undefined;
  state.status = status;
};

const keep = (grant: Grant) => {
  accessToken = grant.accessToken;
  state.person = grant.person;
  state.status = 'signed-in';
  clearTimeout(renewalTimer);
  // Renewed half a minute before it expires, for as long as the tab is open.
  renewalTimer = setTimeout(() => void renew(), Math.max(10, grant.expiresIn - 30) * 1000);
};

/** Bumped by every granted sign-in: a refresh that was already under way when one arrived must not undo it. */
let grants = 0;

const refreshNow = async (): Promise<boolean> => {
  const before = grants;
  const response = await postJson('/auth/refresh').catch(() => undefined);
  if (response === undefined) return accessToken !== undefined; // offline: keep what we have until it is refused
  if (response.status !== 200) await response.text().catch(() => ''); // read to the end: the request is finished
  if (grants !== before) return true; // signed in meanwhile (a code exchange): that session stands
  // A server that is down or busy ends nothing: the session is kept until the server itself refuses it.
  if (response.status === 429 || response.status >= 500) return accessToken !== undefined;
  if (response.status !== 200) {
    ended();
    return false;
  }
  keep((await response.json()) as Grant);
  return true;
};

/** Renews the access token from the refresh cookie (once at a time across tabs). Answers whether signed in. */
const renew = (): Promise<boolean> => {
  inFlight ??= (async () => {
    try {
      const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
      return locks === undefined ? await refreshNow() : await locks.request('session-refresh', refreshNow);
    } finally {
      inFlight = undefined;
    }
  })();
  return inFlight;
};

let started: Promise<boolean> | undefined;

/** Signed out for good (this tab or another): a later `start` must not answer the old session's `true`. */
const ended = () => {
  clear();
  started = Promise.resolve(false);
};

/**
 * What a sign-out (here or in another tab) must take away besides the session: credentials a feature keeps for this
 * tab, such as the call page's join links (`oneonone.call.link.*` in sessionStorage), so the next person to sign in
 * here never acts as the last one. Cleared here, whether or not the feature that kept them was loaded.
 */
const TAB_CREDENTIALS = 'oneonone.call.link.';
const signedOutHooks = new Set<() => void>();
const signedOut = () => {
  try {
    const storage = window.sessionStorage;
    const keys = Array.from({ length: storage.length }, (_, i) => storage.key(i)).filter(
      (k): k is string => k !== null && k.startsWith(TAB_CREDENTIALS),
    );
    for (const k of keys) storage.removeItem(k);
  } catch {
    // no storage (private mode): nothing kept there
  }
  for (const hook of signedOutHooks) hook();
};

channel?.addEventListener('message', (event: MessageEvent) => {
  if (event.data !== 'signed-out') return;
  ended();
  signedOut();
});

export const session = {
  state: readonly(state),
  token: (): string | undefined => accessToken,
  /** Resumes the session from the cookie, once per page load. */
  start: (): Promise<boolean> => (started ??= renew()),
  renew,
  /** Takes a session the sign-in endpoints granted (`/auth/session`, `/auth/dev-session`). */
  accept: (grant: Grant): void => {
    grants += 1;
    started = Promise.resolve(true);
    keep(grant);
  },
  /** Replaces the person after the directory changed it (a new language or zone). */
  update: (person: Person): void => {
    state.person = person;
  },
  /**
   * Ends the session on the server (which clears the cookie), then in every tab. Answers false when the server could
   * not be told: the cookie would sign the person straight back in, so the page must say so rather than pretend.
   */
  signOut: async (): Promise<boolean> => {
    const response = await postJson('/auth/sign-out').catch(() => undefined);
    await response?.text().catch(() => '');
    // 401: there was no session left to end (already signed out elsewhere): signed out all the same.
    if (response === undefined || (response.status !== 204 && response.status !== 401)) return false;
    ended();
    signedOut();
    channel?.postMessage('signed-out');
    return true;
  },
  /** Runs `hook` on every sign-out, of this tab or of another; answers how to stop. */
  onSignedOut: (hook: () => void): (() => void) => {
    signedOutHooks.add(hook);
    return () => signedOutHooks.delete(hook);
  },
  hasRole: (...roles: ReadonlyArray<Role>): boolean =>
    roles.some((role) => state.person?.roles.includes(role) ?? false),
};
