/**
 * The call page's credential: the person's join link for this meeting (`jl1.…`, from `#link=` of an emailed or feed
 * link, or from the join answer), or a legacy bearer token (`#token=`). It leaves the address bar at once and lives in
 * this tab's sessionStorage under the meeting's id only, so a reload keeps it and no other meeting sees it.
 */
const key = (meetingId: string) => `oneonone.call.link.${meetingId}`;
const memory = new Map<string, string>();

/** Every link this tab keeps (a sign-out: the next person must not act with them). */
/** At sign-out: the links this page holds in memory (the session has cleared the tab's storage of them already). */
export const forgetAllLinks = (): void => {
  memory.clear();
};

export const storedLink = (meetingId: string): string | undefined => {
  try {
    return window.sessionStorage.getItem(key(meetingId)) ?? memory.get(meetingId);
  } catch {
    return memory.get(meetingId);
  }
};

export const storeLink = (meetingId: string, token: string): void => {
  memory.set(meetingId, token);
  try {
    window.sessionStorage.setItem(key(meetingId), token);
  } catch {
    // private mode: kept in memory for this page
  }
};

export const forgetLink = (meetingId: string): void => {
  memory.delete(meetingId);
  try {
    window.sessionStorage.removeItem(key(meetingId));
  } catch {
    // nothing stored
  }
};

/** Tokens are a few hundred characters of base64url and dots; anything else in a fragment is ignored. */
const TOKEN_SHAPE = /^[A-Za-z0-9._~+/=-]{1,4096}$/;

/** The token of a fragment (`#link=…` or `#token=…`), or undefined. */
export const tokenOfFragment = (hash: string): string | undefined => {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = (params.get('link') ?? params.get('token') ?? '').trim();
  return TOKEN_SHAPE.test(token) ? token : undefined;
};

/** The token of a join link (`https://…/call?meeting=…#link=<token>`), or undefined. */
export const tokenOfLink = (link: string): string | undefined => {
  try {
    return tokenOfFragment(new URL(link).hash);
  } catch {
    return undefined;
  }
};
