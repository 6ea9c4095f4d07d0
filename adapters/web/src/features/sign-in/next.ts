/**
 * Where to go after signing in, as a path of the app's router (`/sessions`), from a `next` that is either a router
 * path (the router's own redirect: `/sessions`) or a path of the site under the app (the server's, for example the
 * single sign-on callback's: `/app/sessions`). Only a same-site path is kept: `/…`, not `//…`, no backslash, no
 * control characters; anything else is the start page.
 */
export const appNext = (next: unknown): string => {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2048) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || /[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  const path = next === '/app' ? '/' : next.startsWith('/app/') ? next.slice('/app'.length) : next;
  if (path.startsWith('//')) return '/';
  try {
    const base = 'http://same.invalid';
    const url = new URL(path, base);
    // `/..//host` normalises to `//host`: a path that would leave the site once resolved is the start page too.
    if (url.origin !== base || url.pathname.startsWith('//')) return '/';
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return '/';
  }
};

/** The same place as a path of the site, for the single sign-on round trip (the server sends it back to `next`). */
export const siteNext = (next: unknown): string => `/app${appNext(next)}`;

/**
 * The one-time code of an emailed link (`…/sign-in#code=…`), taken out of the address bar at once so it is in no
 * history entry, bookmark or screenshot. Answers undefined when the address has none.
 */
export const takeCodeFromAddress = (): string | undefined => {
  const hash = window.location.hash;
  if (!hash.startsWith('#')) return undefined;
  const code = new URLSearchParams(hash.slice(1)).get('code');
  if (code === null) return undefined;
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${window.location.search}`);
  return code.length > 0 && code.length <= 512 ? code : '';
};
