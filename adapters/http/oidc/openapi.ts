/** OIDC single sign-on's browser routes in the OpenAPI document (present when AUTH_OIDC_ISSUER is set). */

import { operation, reply } from '../openapi/builder.ts';
import type { Json, PathsOf } from '../openapi/builder.ts';

const html = (description: string): Json => reply(description, { 'text/html': { schema: { type: 'string' } } });
const redirect = (description: string): Json => ({
  description,
  headers: { Location: { description: 'Where the browser goes next.', schema: { type: 'string' } } },
});

const startPath = (): Json => ({
  get: operation({
    operationId: 'startOidcSignIn',
    summary: 'Sign in through the OpenID provider',
    description: [
      'Only when the server is configured with `AUTH_OIDC_ISSUER` and `AUTH_OIDC_CLIENT_ID` (404 otherwise). A browser',
      "navigation: redirects to the provider's authorization endpoint (from its discovery document) with the",
      'authorization code flow, PKCE (S256), `state` and `nonce`. These are kept in the `oidc_flow` cookie (HttpOnly,',
      'Secure, SameSite=Lax, Path=/auth/oidc, ten minutes), encrypted with a key derived from the bearer secret, so',
      'any node can finish the flow.',
    ].join('\n'),
    tags: ['oidc'],
    security: 'none',
    parameters: [
      {
        name: 'next',
        in: 'query',
        required: false,
        description:
          'Where to go once signed in: a path of this site (`/calendar?view=week`). Anything else (another origin, ' +
          '`//host`, a backslash, control characters) goes to `/`.',
        schema: { type: 'string', maxLength: 2048 },
      },
    ],
    responses: {
      '302': redirect("To the provider's authorization endpoint."),
      '503': html('The provider cannot be reached (its discovery document failed).'),
    },
  }),
});

const callbackPath = (): Json => ({
  get: operation({
    operationId: 'finishOidcSignIn',
    summary: 'The redirect URI the provider sends the browser back to',
    description: [
      'Exchanges the code (with the PKCE verifier; state and nonce checked, the ID token validated), then finds the',
      'person: by the identity linked earlier (issuer and `sub`), else by the `email` the provider marks',
      '`email_verified`, which links the identity. No account is ever created. Roles come from the claim',
      '`AUTH_OIDC_ROLES_CLAIM` names, else from the directory. On success a session starts: the `session_refresh`',
      'cookie is set (as after `POST /auth/session`) and the browser goes to `next`, where the page takes its access',
      'token from `POST /auth/refresh`. The flow cookie is single use and cleared on every answer.',
    ].join('\n'),
    tags: ['oidc'],
    security: 'none',
    parameters: [
      { name: 'code', in: 'query', required: false, schema: { type: 'string' }, description: "The provider's code." },
      { name: 'state', in: 'query', required: false, schema: { type: 'string' }, description: 'The flow’s state.' },
      {
        name: 'error',
        in: 'query',
        required: false,
        schema: { type: 'string' },
        description: 'The provider refused (the page says so).',
      },
    ],
    responses: {
      '302': redirect('Signed in: to `next`, with the `session_refresh` cookie set.'),
      '400': html(
        'An HTML page: no flow cookie (expired, another browser), a state that does not match, a used code, or an ID ' +
          'token that does not validate.',
      ),
      '403': html(
        'An HTML page: no person here matches (unknown, or an unverified address), the person is deactivated or has ' +
          'no role, or the provider refused. Recorded as `IdentitySignInFailed`.',
      ),
    },
  }),
});

export const oidcPaths: PathsOf = () => ({
  '/auth/oidc/start': startPath(),
  '/auth/oidc/callback': callbackPath(),
});
