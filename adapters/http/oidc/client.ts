import * as oidc from 'openid-client';
import type { IdentityClaims } from '../../../application/oidc.ts';

export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  /** A confidential client authenticates with it (client_secret_basic); without it the client is public (PKCE only). */
  readonly clientSecret?: string;
  readonly scopes: string;
  /** Where the provider sends the browser back: `<public base URL>/auth/oidc/callback`. */
  readonly redirectUri: () => string;
  /** Plain http to the provider: only for one on a loopback address (tests, a local provider). */
  readonly allowInsecureRequests?: boolean;
}

export class OidcUnavailable extends Error {}

/**
 * The relying party, through openid-client: the provider's discovery document is fetched on first use and kept (a
 * failed fetch is tried again on the next request, so the server starts while the provider is down).
 */
export const createOidcClient = (settings: OidcSettings) => {
  let configuration: Promise<oidc.Configuration> | undefined;
  const configured = (): Promise<oidc.Configuration> => {
    configuration ??= oidc
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        settings.clientSecret,
        settings.clientSecret !== undefined ? oidc.ClientSecretBasic(settings.clientSecret) : oidc.None(),
        { execute: settings.allowInsecureRequests === true ? [oidc.allowInsecureRequests] : [], timeout: 10 },
      )
      .catch((error: unknown) => {
        configuration = undefined;
        throw new OidcUnavailable(`the OpenID provider's discovery failed: ${(error as Error).message}`);
      });
    return configuration;
  };

  /** The provider's authorization endpoint for this flow: code, PKCE (S256), state and nonce. */
  const authorizationUrl = async (flow: { state: string; nonce: string; verifier: string }): Promise<URL> =>
    oidc.buildAuthorizationUrl(await configured(), {
      redirect_uri: settings.redirectUri(),
      response_type: 'code',
      scope: settings.scopes,
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
    });

  /**
   * The code exchanged for tokens, with the state, nonce and verifier this flow began with; openid-client validates
   * the ID token (signature by the provider's keys, issuer, audience, expiry, nonce). `query`: the callback's query.
   */
  const exchange = async (
    query: string,
    flow: { state: string; nonce: string; verifier: string },
  ): Promise<IdentityClaims> => {
    const config = await configured();
    const currentUrl = new URL(settings.redirectUri());
    currentUrl.search = query;
    const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (claims === undefined) throw new Error('the provider sent no ID token');
    return claims as IdentityClaims;
  };

  /** The issuer exactly as the discovery document names it, and its key set. */
  const metadata = async (): Promise<{ issuer: string; jwksUri: string }> => {
    const server = (await configured()).serverMetadata();
    if (server.jwks_uri === undefined) throw new OidcUnavailable('the OpenID provider publishes no jwks_uri');
    return { issuer: server.issuer, jwksUri: server.jwks_uri };
  };

  return { authorizationUrl, exchange, metadata };
};

export type OidcClient = ReturnType<typeof createOidcClient>;
