import { createSecretKey } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { Role } from '../../domain/shared.ts';
import type { AuthUser } from '../../application/ports/access.ts';

const Claims = t.intersection([
  t.type({ sub: t.string, roles: t.array(Role) }),
  t.partial({ name: t.string, email: t.string }),
]);

export interface AuthConfig {
  /** HS256 shared secret. */
  readonly secret?: Uint8Array;
  /** RS256/ES256 keys, fetched and cached by jose. */
  readonly jwksUrl?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

export type AuthFailure = { readonly reason: 'missing' | 'invalid' | 'expired'; readonly message: string };

interface CachedUser {
  readonly user: AuthUser;
  readonly expiresAt: number;
}

const CACHE_LIMIT = 10_000;

/**
 * Verified tokens are remembered until they expire (keyed by the exact token, so the signature was checked once for
 * those very bytes): a client sends the same token on every request, and checking its signature each time was the
 * largest cost of a request after the database.
 */
export const createAuthenticator = (config: AuthConfig, now: () => number = Date.now) => {
  const cache = new Map<string, CachedUser>();
  const verify = createVerifier(config);
  return async (header: string | undefined): Promise<E.Either<AuthFailure, AuthUser>> => {
    const token = header !== undefined && /^Bearer\s+\S+$/i.test(header) ? header.replace(/^Bearer\s+/i, '') : undefined;
    const cached = token === undefined ? undefined : cache.get(token);
    if (cached !== undefined) {
      if (cached.expiresAt > now()) return E.right(cached.user);
      cache.delete(token as string);
    }
    const result = await verify(header);
    if (E.isRight(result) && token !== undefined) {
      if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
      cache.set(token, { user: result.right.user, expiresAt: result.right.expiresAt });
    }
    return E.isRight(result) ? E.right(result.right.user) : result;
  };
};

const createVerifier = (config: AuthConfig) => {
  const jwks: JWTVerifyGetKey | undefined = config.jwksUrl !== undefined ? createRemoteJWKSet(new URL(config.jwksUrl)) : undefined;
  const options = {
    ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
    // A token without an expiry would be good forever once leaked.
    requiredClaims: ['exp'],
    clockTolerance: 5,
  };
  const secretKey = config.secret !== undefined ? createSecretKey(config.secret) : undefined;
  return async (header: string | undefined): Promise<E.Either<AuthFailure, { user: AuthUser; expiresAt: number }>> => {
    if (header === undefined || !/^Bearer\s+\S+$/i.test(header)) {
      return E.left({ reason: 'missing', message: 'an Authorization: Bearer <token> header is required' });
    }
    const token = header.replace(/^Bearer\s+/i, '');
    if (token.length > 8192) return E.left({ reason: 'invalid', message: 'the token is too long' });
    try {
      const isHmac = token.startsWith('eyJ') && (() => {
        try {
          const head = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: string };
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
        return E.left({ reason: 'invalid', message: 'the token is signed with an algorithm this server does not accept' });
      }
      const claims = Claims.decode(payload);
      if (E.isLeft(claims)) {
        return E.left({ reason: 'invalid', message: 'the token needs a string `sub` and `roles` from admin, instructor, customer' });
      }
      const { sub, roles, name, email } = claims.right;
      if (sub.length === 0 || sub.length > 128) return E.left({ reason: 'invalid', message: 'the token `sub` must be 1 to 128 characters' });
      const exp = (payload as { exp?: unknown }).exp;
      const expiresAt = typeof exp === 'number' ? exp * 1000 : Date.now();
      return E.right({
        user: { id: sub, roles: [...new Set(roles)], ...(name !== undefined ? { name } : {}), ...(email !== undefined ? { email } : {}) },
        expiresAt,
      });
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return E.left({ reason: 'expired', message: 'the token has expired' });
      return E.left({ reason: 'invalid', message: 'the token is not valid' });
    }
  };
};

export type Authenticator = ReturnType<typeof createAuthenticator>;

export const mintToken = async (
  secret: Uint8Array,
  claims: { sub: string; roles: ReadonlyArray<string>; name?: string; email?: string },
  ttlSeconds = 30 * 24 * 3600,
  now: Date = new Date(),
): Promise<string> => {
  const { SignJWT } = await import('jose');
  const issuedAt = Math.floor(now.getTime() / 1000);
  return new SignJWT({ roles: [...claims.roles], ...(claims.name !== undefined ? { name: claims.name } : {}), ...(claims.email !== undefined ? { email: claims.email } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .sign(secret);
};
