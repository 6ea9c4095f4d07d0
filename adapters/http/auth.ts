import { createSecretKey } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { isEmailAddress } from '../../domain/email.ts';
import { Role, idProblem } from '../../domain/shared.ts';
import type { AuthUser } from '../../application/ports/access.ts';

const Claims = t.intersection([
  t.type({ sub: t.string, roles: t.array(Role) }),
  t.partial({ name: t.string, email: t.string, sid: t.string }),
]);

export interface AuthConfig {
  /** HS256 shared secret. */
  readonly secret?: Uint8Array;
  /** RS256/ES256 keys, fetched and cached by jose. */
  readonly jwksUrl?: string;
  readonly issuer?: string;
  readonly audience?: string;
  /**
   * The longest lifetime a token may have, in seconds (default DEFAULT_MAX_TOKEN_TTL_SECONDS): a token whose `exp` is
   * further than this from its `iat` (or from now, when it has no `iat` or one in the future) is refused, so a
   * leaked token is not good for years.
   */
  readonly maxTokenTtlSeconds?: number;
  /** A sign-in session's token carries its family's id (`sid`): refused once that family is revoked. */
  readonly isSessionRevoked?: (sessionId: string) => boolean;
}

export const DEFAULT_MAX_TOKEN_TTL_SECONDS = 24 * 3600;
/** Leeway for clocks that disagree a little, as for `exp` and `nbf`. */
const CLOCK_TOLERANCE_SECONDS = 5;

export type AuthFailure = { readonly reason: 'missing' | 'invalid' | 'expired'; readonly message: string };
export type AuthOutcome = E.Either<AuthFailure, AuthUser>;
/**
 * The user a bearer header stands for: at once (no promise) for a token already checked, so a request that needs
 * nothing else asynchronous is answered in the same turn; after the signature check for a new one.
 */
export type Authenticator = (header: string | undefined) => AuthOutcome | Promise<AuthOutcome>;

interface CachedUser {
  readonly user: AuthUser;
  readonly expiresAt: number;
  readonly sid?: string;
}

const revokedSession: AuthFailure = { reason: 'invalid', message: 'the session has ended; sign in again' };

const CACHE_LIMIT = 10_000;
/** `Bearer <token>`, the token captured. */
const BEARER = /^Bearer\s+(\S+)$/i;

/** The token of an `Authorization: Bearer <token>` header; undefined for none or another scheme. */
export const bearerToken = (header: string | undefined): string | undefined =>
  header === undefined ? undefined : BEARER.exec(header)?.[1];

/**
 * Verified tokens are remembered until they expire (keyed by the exact token, so the signature was checked once for
 * those very bytes): a client sends the same token on every request, and checking its signature each time was the
 * largest cost of a request after the database.
 */
export const createAuthenticator = (config: AuthConfig, now: () => number = Date.now): Authenticator => {
  const cache = new Map<string, CachedUser>();
  const verify = createVerifier(config, now);
  // Tokens without a `sid` (machine clients, printed dev tokens) need no lookup; a session's is asked every time.
  const ended = (sid: string | undefined) => sid !== undefined && config.isSessionRevoked?.(sid) === true;
  const verified = (token: string | undefined, result: E.Either<AuthFailure, CachedUser>): AuthOutcome => {
    if (E.isLeft(result)) return result;
    if (token !== undefined) {
      if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
      cache.set(token, result.right);
    }
    return ended(result.right.sid) ? E.left(revokedSession) : E.right(result.right.user);
  };
  return (header) => {
    const token = bearerToken(header);
    const cached = token === undefined ? undefined : cache.get(token);
    if (cached !== undefined) {
      if (cached.expiresAt > now()) return ended(cached.sid) ? E.left(revokedSession) : E.right(cached.user);
      cache.delete(token as string);
    }
    return verify(header).then((result) => verified(token, result));
  };
};

const createVerifier = (config: AuthConfig, now: () => number) => {
  const maxTtl = config.maxTokenTtlSeconds ?? DEFAULT_MAX_TOKEN_TTL_SECONDS;
  const jwks: JWTVerifyGetKey | undefined =
    config.jwksUrl !== undefined ? createRemoteJWKSet(new URL(config.jwksUrl)) : undefined;
  const options = {
    ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
    // A token without an expiry would be good forever once leaked.
    requiredClaims: ['exp'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
  };
  const secretKey = config.secret !== undefined ? createSecretKey(config.secret) : undefined;
  return async (header: string | undefined): Promise<E.Either<AuthFailure, CachedUser>> => {
    const token = bearerToken(header);
    if (token === undefined) {
      return E.left({ reason: 'missing', message: 'an Authorization: Bearer <token> header is required' });
    }
    if (token.length > 8192) return E.left({ reason: 'invalid', message: 'the token is too long' });
    try {
      const isHmac =
        token.startsWith('eyJ') &&
        (() => {
          try {
            const head = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
              alg?: string;
            };
            return head.alg === 'HS256';
          } catch {
            return false;
          }
        })();
      let payload: unknown;
      if (isHmac && secretKey !== undefined) {
        payload = (await jwtVerify(token, secretKey, { ...options, algorithms: ['HS256'] })).payload;
      } else if (!isHmac && jwks !== undefined) {
        payload = (await jwtVerify(token, jwks, { ...options, algorithms: ['RS256', 'ES256'] })).payload;
      } else {
        return E.left({
          reason: 'invalid',
          message: 'the token is signed with an algorithm this server does not accept',
        });
      }
      const claims = Claims.decode(payload);
      if (E.isLeft(claims)) {
        return E.left({
          reason: 'invalid',
          message: 'the token needs a string `sub` and `roles` from admin, instructor, customer, auditor',
        });
      }
      const { sub, roles, name, email, sid } = claims.right;
      const subProblem = idProblem(sub);
      if (subProblem !== undefined) return E.left({ reason: 'invalid', message: `the token \`sub\` ${subProblem}` });
      if (roles.length === 0)
        return E.left({
          reason: 'invalid',
          message: 'the token `roles` must name at least one of admin, instructor, customer, auditor',
        });
      // `exp` is required and checked by jose; what is left is its distance, from issue and from now.
      const { exp, iat } = payload as { exp: number; iat?: number };
      const nowSeconds = now() / 1000;
      const issued = typeof iat === 'number' ? Math.min(iat, nowSeconds) : nowSeconds;
      if (exp - issued > maxTtl + CLOCK_TOLERANCE_SECONDS) {
        return E.left({
          reason: 'invalid',
          message: `the token lives longer than this server accepts (at most ${maxTtl} seconds from iat to exp)`,
        });
      }
      const expiresAt = exp * 1000;
      return E.right({
        // An `email` claim the mail path could not use is left out rather than carried along (the directory's address
        // is the one emails go to; an identity provider's odd claim is no reason to refuse the login).
        user: {
          id: sub,
          roles: [...new Set(roles)],
          ...(name !== undefined ? { name } : {}),
          ...(email !== undefined && isEmailAddress(email) ? { email } : {}),
        },
        expiresAt,
        ...(sid !== undefined ? { sid } : {}),
      });
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        return E.left({ reason: 'expired', message: 'the token has expired' });
      return E.left({ reason: 'invalid', message: 'the token is not valid' });
    }
  };
};

export const mintToken = async (
  secret: Uint8Array,
  claims: { sub: string; roles: ReadonlyArray<string>; name?: string; email?: string; sid?: string },
  ttlSeconds = DEFAULT_MAX_TOKEN_TTL_SECONDS,
  now: Date = new Date(),
): Promise<string> => {
  const { SignJWT } = await import('jose');
  const issuedAt = Math.floor(now.getTime() / 1000);
  // JSON leaves out an absent name, email or sid.
  return new SignJWT({ roles: [...claims.roles], name: claims.name, email: claims.email, sid: claims.sid })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .sign(secret);
};
