import { hkdfSync } from 'node:crypto';
import * as t from 'io-ts';
import { EncryptJWT, jwtDecrypt } from 'jose';

/**
 * The sign-in in progress between `/auth/oidc/start` and the callback: PKCE verifier, state, nonce and where to go
 * after. It lives in the browser, in a cookie encrypted (A256GCM) with a key derived from the bearer secret, so any
 * node can finish a flow another began, and nothing of it is stored or logged.
 */
export const FLOW_COOKIE = 'oidc_flow';
export const FLOW_TTL_SECONDS = 600;
/** Scoped to the callback's path, so it travels on no other request. */
export const FLOW_COOKIE_PATH = '/auth/oidc';

const Flow = t.type({ state: t.string, nonce: t.string, verifier: t.string, next: t.string });
export type Flow = t.TypeOf<typeof Flow>;

export const flowKey = (bearerSecret: Uint8Array): Uint8Array =>
  new Uint8Array(hkdfSync('sha256', bearerSecret, new Uint8Array(0), 'oidc flow cookie v1', 32));

export const sealFlow = (key: Uint8Array, flow: Flow, now: Date): Promise<string> => {
  const issuedAt = Math.floor(now.getTime() / 1000);
  return new EncryptJWT({ ...flow })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + FLOW_TTL_SECONDS)
    .encrypt(key);
};

/** The flow, or undefined when the cookie is missing, tampered with, of another key, or expired by `now`. */
export const openFlow = async (key: Uint8Array, sealed: string | undefined, now: Date): Promise<Flow | undefined> => {
  if (sealed === undefined || sealed.length > 4096) return undefined;
  try {
    const { payload } = await jwtDecrypt(sealed, key, { currentDate: now, requiredClaims: ['exp'] });
    const flow = Flow.decode(payload);
    if (flow._tag === 'Left') return undefined;
    const { state, nonce, verifier, next } = flow.right;
    return { state, nonce, verifier, next };
  } catch {
    return undefined;
  }
};

export { safeNext } from '../auth/guards.ts';
