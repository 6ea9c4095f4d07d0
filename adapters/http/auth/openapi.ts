/** The sign-in operations (`/auth/*`, the sign-in page, invitations) in the OpenAPI document. */

import { body, json, operation, param, problemJson, reply, response, header } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import {
  DevPeopleShape,
  SignInMethods,
  DevSessionBody,
  EmailLinkAccepted,
  EmailLinkBody,
  InvitationAccepted,
  SessionBody,
  SessionShape,
} from './shapes.ts';

const sessionExample = {
  accessToken: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjdXN0LTQyIn0.c2lnbmF0dXJl',
  expiresIn: 300,
  person: { id: 'cust-42', name: 'Casey Customer', email: 'casey@example.com', roles: ['customer'] },
};

const setCookie = {
  'Set-Cookie': {
    description: 'The refresh cookie: `session_refresh=…; Max-Age=…; Path=/auth; HttpOnly; Secure; SameSite=Strict`.',
    schema: { type: 'string' },
  },
};

const csrf = (what: string): Json =>
  reply(
    `${what} Also when the request is not \`application/json\` or its \`Origin\` is not the site's (CSRF).`,
    problemJson({
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
      detail: 'this endpoint takes only requests whose Origin is the site itself',
    }),
  );

const tooMany = reply(
  'Too many sign-in requests from this client address; wait `Retry-After` seconds.',
  problemJson({
    type: 'about:blank',
    title: 'Too many requests',
    status: 429,
    detail: 'too many sign-in requests from this address; see Retry-After',
  }),
  { 'Retry-After': header('RetryAfter') },
);

const granted = (schema: SchemaOf, description: string) =>
  reply(description, json(schema(SessionShape), sessionExample), setCookie);

const emailLink = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'requestEmailLink',
    summary: 'Email a sign-in link',
    description:
      'Always 202 with the same body, answered before the address is looked up. For an active person of the directory ' +
      'with a role, emails `${PUBLIC_BASE_URL}/sign-in#code=<code>`: single use, valid 15 minutes. At most ' +
      '`SIGN_IN_LIMIT_PER_ADDRESS` (5) links per address per 15 minutes (more still answer 202).',
    tags: ['sign-in'],
    security: 'none',
    requestBody: body(schema(EmailLinkBody), 'The address.', { email: 'casey@example.com' }),
    responses: {
      '202': reply(
        'Taken; a link follows if the address may sign in.',
        json(schema(EmailLinkAccepted), {
          status: 'accepted',
          message: 'if this address belongs to someone who may sign in, a sign-in link is on its way',
        }),
      ),
      '429': tooMany,
    },
  }),
});

const session = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'startSession',
    summary: "Exchange an email link's code for a session",
    description:
      'A used, expired or unknown code, or one whose person may no longer sign in, answers the same 400. The access ' +
      'token is an HS256 JWT (`sub`, `roles` from the directory, `sid`, `exp` after `expiresIn` seconds).',
    tags: ['sign-in'],
    security: 'none',
    requestBody: body(schema(SessionBody), 'The code.', { code: '0193a0c4-7d1e-7c2a-9f00-3b1c2d4e5f60.k3Jx…' }),
    responses: {
      '200': granted(schema, 'Signed in.'),
      '400': reply(
        'The code does not sign anyone in (one message for every cause), or the body is invalid.',
        problemJson({
          type: 'about:blank',
          title: 'Sign-in failed',
          status: 400,
          detail: 'this sign-in link is not valid (used, expired or unknown); ask for a new one',
        }),
      ),
      '403': csrf('Refused.'),
      '429': tooMany,
    },
  }),
});

const refresh = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'refreshSession',
    summary: 'A new access token, with the refresh cookie rotated',
    description:
      'The cookie is good once: a used one presented again ends the whole session (every access token of it is ' +
      'refused from then on). The refresh lifetime (`SESSION_REFRESH_TTL_SECONDS`, 30 days) slides with each use.',
    tags: ['sign-in'],
    security: 'refreshCookie',
    responses: {
      '200': granted(schema, 'Refreshed; the new cookie replaces the old one.'),
      '401': reply(
        'No valid refresh cookie (missing, used, ended or expired); the cookie is cleared.',
        problemJson({
          type: 'about:blank',
          title: 'Unauthorized',
          status: 401,
          detail: 'the session is not valid; sign in again',
        }),
      ),
      '403': csrf('Refused.'),
    },
  }),
});

const signOut = (): Json => ({
  post: operation({
    operationId: 'signOut',
    summary: 'End the session of the refresh cookie',
    tags: ['sign-in'],
    security: 'refreshCookie',
    responses: {
      '204': { description: 'Signed out (also without a valid cookie); the cookie is cleared.', headers: setCookie },
      '403': csrf('Refused.'),
    },
  }),
});

const methods = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'signInMethods',
    summary: 'How one may sign in here',
    description: 'What the sign-in page offers: the emailed link, the identity provider when configured, dev mode.',
    tags: ['sign-in'],
    security: 'none',
    responses: {
      '200': reply('The methods.', json(schema(SignInMethods), { email: true, singleSignOn: false, dev: false })),
    },
  }),
});

const devPeople = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'listDevPeople',
    summary: 'Dev mode: the demo people one may sign in as',
    description: 'Only in dev mode (no `AUTH_JWT_SECRET`) and only for loopback clients; 404 otherwise.',
    tags: ['sign-in'],
    security: 'none',
    responses: {
      '200': reply(
        'The demo people of the directory.',
        json(schema(DevPeopleShape), { items: [sessionExample.person] }),
      ),
      '404': response('NotFound'),
    },
  }),
});

const devSession = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'startDevSession',
    summary: 'Dev mode: start a session as a person of the directory',
    description:
      'Only in dev mode and only for loopback clients (404 otherwise); same-origin JSON as the other cookie endpoints.',
    tags: ['sign-in'],
    security: 'none',
    requestBody: body(schema(DevSessionBody), 'Who.', { personId: 'customer-1' }),
    responses: {
      '200': granted(schema, 'Signed in.'),
      '403': csrf('The person may not sign in (unknown, deactivated or without a role).'),
      '404': response('NotFound'),
    },
  }),
});

const signInPage = (): Json => ({
  get: operation({
    operationId: 'getSignInPage',
    summary: 'The sign-in page (in the web app)',
    description:
      '302 to `/app/sign-in` with the same query string; browsers keep the fragment, so an emailed ' +
      '`/sign-in#code=…` link opens the app, which exchanges the code and goes to `?next=` (a path of this site; ' +
      'anything else goes to the start page). In dev mode, from this machine, it lists the demo people.',
    tags: ['sign-in'],
    security: 'none',
    responses: {
      '302': {
        description: "To the web app's sign-in page, `/app/sign-in` with the same query string.",
        headers: { Location: { description: 'Where the browser goes next.', schema: { type: 'string' } } },
      },
    },
  }),
});

const invite = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'invitePerson',
    summary: 'Email a person an invitation to sign in',
    description: 'Admins only. A sign-in link as from `POST /auth/email-link`, valid 7 days.',
    tags: ['people', 'sign-in'],
    idempotent: 'replay',
    parameters: [param('PersonId')],
    responses: {
      '202': reply('Sent.', json(schema(InvitationAccepted), { status: 'accepted', personId: 'cust-42' })),
      '403': response('Forbidden'),
      '404': response('NotFound'),
      '409': { ...response('Conflict'), description: 'The person is deactivated or has no role.' },
    },
  }),
});

export const authPaths: PathsOf = (schema) => ({
  '/sign-in': signInPage(),
  '/auth/email-link': emailLink(schema),
  '/auth/session': session(schema),
  '/auth/refresh': refresh(schema),
  '/auth/sign-out': signOut(),
  '/auth/methods': methods(schema),
  '/auth/dev-people': devPeople(schema),
  '/auth/dev-session': devSession(schema),
  '/people/{id}/invite': invite(schema),
});
