import * as E from 'fp-ts/lib/Either.js';
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import type { AuthUser } from '../../../application/ports/access.ts';
import type { IdentityClaims, Identities } from '../../../application/oidc.ts';
import { bearerToken } from '../auth.ts';
import type { AuthFailure, Authenticator } from '../auth.ts';
import type { OidcClient } from './client.ts';

const MAX_TOKEN_LENGTH = 8192;
/** Leeway for clocks that disagree a little, as the server's own authenticator allows. */
const CLOCK_TOLERANCE_SECONDS = 5;
/** Asymmetric only: an HS256 token claiming the issuer would be checked against a key anyone could guess. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

const sameIssuer = (a: string, b: string): boolean => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** The token's `iss`, unverified: only to choose which verifier checks it. */
const claimedIssuer = (token: string): string | undefined => {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The provider's own JWTs (ID tokens, and access tokens issued as JWTs for this client) as bearer tokens: verified
 * against the provider's JWKS (from discovery), `iss` the provider and `aud` this client, then mapped to the person by
 * the identity link or verified email. Nothing is cached: the directory is asked on every request, so a person
 * deactivated there is refused at once.
 */
export const createOidcBearerVerifier = (deps: {
  readonly client: Pick<OidcClient, 'metadata'>;
  readonly clientId: string;
  readonly identities: Identities;
  readonly now: () => number;
}) => {
  let keys: { issuer: string; jwks: JWTVerifyGetKey } | undefined;
  const keySet = async () => {
    if (keys === undefined) {
      const { issuer, jwksUri } = await deps.client.metadata();
      keys = { issuer, jwks: createRemoteJWKSet(new URL(jwksUri)) };
    }
    return keys;
  };
  return async (token: string): Promise<E.Either<AuthFailure, AuthUser>> => {
    if (token.length > MAX_TOKEN_LENGTH) return E.left({ reason: 'invalid', message: 'the token is too long' });
    let claims: IdentityClaims;
    try {
      const { issuer, jwks } = await keySet();
      const { payload } = await jwtVerify(token, jwks, {
        issuer,
        audience: deps.clientId,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(deps.now()),
      });
      claims = payload as IdentityClaims;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        return E.left({ reason: 'expired', message: 'the token has expired' });
      return E.left({ reason: 'invalid', message: 'the token is not valid' });
    }
    const identified = await deps.identities.identify(claims, false);
    if (E.isLeft(identified)) return E.left({ reason: 'invalid', message: identified.left.message });
    const { person, roles } = identified.right;
    return E.right({ id: person.id, roles, name: person.name, email: person.email });
  };
};

/**
 * The server's authenticator, and the provider's verifier for tokens whose (unverified) `iss` is the provider:
 * either one decides, never both, so a token is checked against exactly the keys its issuer would sign with.
 */
export const withOidcTokens = (
  authenticate: Authenticator,
  issuer: string,
  verifyOidc: ReturnType<typeof createOidcBearerVerifier>,
): Authenticator => {
  return (header) => {
    const token = bearerToken(header);
    const iss = token === undefined ? undefined : claimedIssuer(token);
    if (token === undefined || iss === undefined || !sameIssuer(iss, issuer)) return authenticate(header);
    return verifyOidc(token);
  };
};
