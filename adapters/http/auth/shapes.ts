import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import { MAX_EMAIL_LENGTH } from '../../../domain/email.ts';
import { MAX_PERSON_NAME_LENGTH, PersonEmail, PersonLanguage } from '../../../domain/person.ts';
import { Id, Role } from '../../../domain/shared.ts';
import { TimeZoneName } from '../../../domain/time.ts';
import type { SessionGrant } from '../../../application/sessions.ts';

export const EmailLinkBody = annotate(t.type({ email: PersonEmail }), { name: 'EmailLinkInput' });

export const EmailLinkAccepted = annotate(
  t.type({
    status: t.literal('accepted'),
    message: annotate(t.string, { description: 'The same for every address, known or not.' }),
  }),
  { name: 'EmailLinkAccepted' },
);

export const MAX_CODE_LENGTH = 200;
export const SessionBody = annotate(
  t.type({
    code: annotate(t.string, {
      minLength: 1,
      maxLength: MAX_CODE_LENGTH,
      description: 'The `code` of the emailed link (its fragment, `#code=…`).',
    }),
  }),
  { name: 'SessionInput' },
);

export const DevSessionBody = annotate(t.type({ personId: Id }), { name: 'DevSessionInput' });

export const SignedInPersonShape = annotate(
  t.intersection([
    t.type({
      id: t.string,
      name: annotate(t.string, { minLength: 1, maxLength: MAX_PERSON_NAME_LENGTH }),
      email: annotate(t.string, { format: 'email', maxLength: MAX_EMAIL_LENGTH }),
      roles: annotate(t.array(Role), { description: 'The roles the directory gives this person now.' }),
    }),
    t.partial({ timezone: TimeZoneName, language: PersonLanguage }),
  ]),
  { name: 'SignedInPerson' },
);

export const SessionShape = annotate(
  t.type({
    accessToken: annotate(t.string, {
      description:
        'A bearer token for the API (HS256 JWT with `sub`, `roles`, `sid`, `exp`); refused once the session ends.',
    }),
    expiresIn: annotate(t.number, { type: 'integer', minimum: 1, description: 'Seconds the access token lives.' }),
    person: SignedInPersonShape,
  }),
  { name: 'Session' },
);

export const SignInMethods = annotate(
  t.type({
    email: annotate(t.boolean, { description: 'Sign-in by emailed link (always).' }),
    singleSignOn: annotate(t.boolean, { description: "The site's identity provider: `GET /auth/oidc/start`." }),
    dev: annotate(t.boolean, { description: 'Dev mode: demo people to sign in as, for loopback clients.' }),
  }),
  { name: 'SignInMethods' },
);

export const DevPeopleShape = annotate(t.type({ items: t.array(SignedInPersonShape) }), { name: 'DevPeople' });

export const InvitationAccepted = annotate(t.type({ status: t.literal('accepted'), personId: t.string }), {
  name: 'InvitationAccepted',
});

/** The answer of a sign-in or refresh: the grant without its cookie (that goes in Set-Cookie). */
export const sessionAnswer = (grant: SessionGrant): t.TypeOf<typeof SessionShape> => ({
  accessToken: grant.accessToken,
  expiresIn: grant.expiresIn,
  person: { ...grant.person, roles: [...grant.person.roles] },
});
