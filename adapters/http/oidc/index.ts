import { createIdentities } from '../../../application/oidc.ts';
import type { IdentityDeps } from '../../../application/oidc.ts';
import type { Logger } from '../../../application/ports/logger.ts';
import type { Authenticator } from '../auth.ts';
import { createOidcBearerVerifier, withOidcTokens } from './bearer.ts';
import { createOidcClient } from './client.ts';
import type { OidcSettings } from './client.ts';
import { flowKey } from './flow-cookie.ts';
import type { OidcRouteDeps } from './routes.ts';

export interface OidcSignOnDeps {
  readonly settings: OidcSettings & { readonly rolesClaim?: string };
  /** The bearer secret: the flow cookie's key is derived from it, so every node shares it. */
  readonly bearerSecret: Uint8Array;
  readonly recorder: IdentityDeps['recorder'];
  readonly queries: IdentityDeps['queries'];
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly siteName: string;
  readonly startSession: OidcRouteDeps['startSession'];
}

/** Single sign-on with one OpenID provider: its browser routes, and its tokens accepted beside the server's own. */
export const createOidcSignOn = (deps: OidcSignOnDeps) => {
  const { settings } = deps;
  const client = createOidcClient(settings);
  const identities = createIdentities({
    recorder: deps.recorder,
    queries: deps.queries,
    clock: deps.clock,
    issuer: settings.issuer,
    ...(settings.rolesClaim !== undefined ? { rolesClaim: settings.rolesClaim } : {}),
  });
  const verifier = createOidcBearerVerifier({
    client,
    clientId: settings.clientId,
    identities,
    now: () => deps.clock().getTime(),
  });
  const routes: OidcRouteDeps = {
    client,
    identities,
    flowKey: flowKey(deps.bearerSecret),
    clock: deps.clock,
    logger: deps.logger,
    siteName: deps.siteName,
    startSession: deps.startSession,
  };
  return {
    routes,
    authenticate: (inner: Authenticator): Authenticator => withOidcTokens(inner, settings.issuer, verifier),
  };
};
