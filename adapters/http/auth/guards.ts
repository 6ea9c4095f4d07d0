import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import type { RefreshCookie } from '../../../application/sessions.ts';
import type { Env } from '../kit/context.ts';
import { problem } from '../kit/problem.ts';

/** The refresh credential's cookie: sent only to /auth, only by this site, never readable by scripts. */
export const REFRESH_COOKIE = 'session_refresh';

// Appended, so that a response setting other cookies too (the OIDC callback clearing its flow cookie) keeps them.
export const setRefreshCookie = (c: Context, cookie: RefreshCookie): void => {
  c.header(
    'Set-Cookie',
    `${REFRESH_COOKIE}=${cookie.value}; Max-Age=${cookie.maxAgeSeconds}; Path=/auth; HttpOnly; Secure; SameSite=Strict`,
    { append: true },
  );
};

export const clearRefreshCookie = (c: Context): void => {
  c.header('Set-Cookie', `${REFRESH_COOKIE}=; Max-Age=0; Path=/auth; HttpOnly; Secure; SameSite=Strict`, {
    append: true,
  });
};

/** The refresh cookie's value, if the request carries exactly one that looks like one. */
export const refreshCookieOf = (c: Context): string | undefined => {
  const header = c.req.header('cookie');
  if (header === undefined || header.length > 8192) return undefined;
  const values = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(`${REFRESH_COOKIE}=`))
    .map((part) => part.slice(REFRESH_COOKIE.length + 1));
  return values.length === 1 ? values[0] : undefined;
};

/**
 * A request to a cookie endpoint must come from a page of this site: JSON (a form cannot send it without a CORS
 * preflight this server never answers) and an `Origin` that is the site's own. SameSite=Strict is the other layer.
 */
export const sameSiteJson = (c: Context<Env>, allowed: (origin: string) => boolean): Response | undefined => {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type))
    return problem(c, 403, 'Forbidden', 'this endpoint takes only application/json requests from the site itself');
  const origin = c.req.header('origin');
  if (origin === undefined || !allowed(origin))
    return problem(c, 403, 'Forbidden', 'this endpoint takes only requests whose Origin is the site itself');
  return undefined;
};

/** The connection's peer. */
const peerAddress = (c: Context): string => {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'unknown';
};

const ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;

/**
 * Where a request came from. With `trustedHops` proxies in front (TRUSTED_PROXY_HOPS), each appending the address it
 * was reached from to `X-Forwarded-For`, the client is the entry that many from the right: what the nearest trusted
 * proxy saw; anything left of it is the client's own say and never trusted. Without proxies, or with a header that is
 * short, malformed or not an address there, the connection's peer.
 */
export const clientAddress = (c: Context, trustedHops: number): string => {
  const peer = peerAddress(c);
  if (trustedHops <= 0) return peer;
  const header = c.req.header('x-forwarded-for');
  if (header === undefined || header.length > 2048) return peer;
  const hops = header.split(',').map((part) => part.trim());
  const entry = hops[hops.length - trustedHops];
  return entry !== undefined && ADDRESS.test(entry) ? entry : peer;
};

/** Where the request came from, as the request log settled it before the route (else the connection's peer). */
export const clientIp = (c: Context<Env>): string => c.get('clientAddress') ?? peerAddress(c);

export const isLoopback = (ip: string): boolean => /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/i.test(ip);

/**
 * Where to go after signing in: a path of this site (`/`, `/calendar?x=1`), never another origin. `//evil`, `/\evil`,
 * `https://…` and anything with control characters fall back to `/`.
 */
export const safeNext = (next: string | undefined): string => {
  if (next === undefined || next.length === 0 || next.length > 2048) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  try {
    const base = 'http://same.invalid';
    const url = new URL(next, base);
    return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : '/';
  } catch {
    return '/';
  }
};
