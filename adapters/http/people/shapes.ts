import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import { MAX_EMAIL_LENGTH } from '../../../domain/email.ts';
import { MAX_PERSON_NAME_LENGTH, PersonCrm, PersonEmail, PersonLanguage, PersonName } from '../../../domain/person.ts';
import { IsoInstant, Role } from '../../../domain/shared.ts';
import { TimeZoneName } from '../../../domain/time.ts';
import type { PersonView } from '../../../application/ports/read-models.ts';

export const PersonResource = annotate(
  t.intersection([
    t.type({
      id: t.string,
      name: annotate(t.string, {
        minLength: 1,
        maxLength: MAX_PERSON_NAME_LENGTH,
        description: 'Display name, trimmed.',
      }),
      email: annotate(t.string, { format: 'email', maxLength: MAX_EMAIL_LENGTH }),
      roles: annotate(t.array(Role), {
        description: 'The roles the directory gives this person; empty for one registered before roles were kept.',
      }),
      active: annotate(t.boolean, { description: 'False once deactivated: no sign-in and no new bookings.' }),
      updatedAt: annotate(IsoInstant, { description: 'When it last changed.' }),
    }),
    t.partial({
      timezone: TimeZoneName,
      language: PersonLanguage,
      crm: annotate(PersonCrm, { description: 'What the site’s CRM knows of the person: admins and auditors only.' }),
    }),
  ]),
  { name: 'Person' },
);

/** Roles as a body gives them: each at most once (so at most four). */
export const RoleSet = annotate(
  t.refinement(t.array(Role), (roles) => new Set(roles).size === roles.length, 'roles, each at most once'),
  {
    maxItems: 4,
    uniqueItems: true,
    description:
      'The roles the directory gives this person, each at most once. Left out, they stay as they are. Nobody changes ' +
      'their own (403 naming `roles`).',
  },
);

export const PersonBody = annotate(
  t.intersection([
    t.type({ name: PersonName, email: PersonEmail }),
    t.partial({
      timezone: TimeZoneName,
      language: PersonLanguage,
      crm: PersonCrm,
      roles: RoleSet,
      active: annotate(t.boolean, {
        description:
          '`false` deactivates the person (no sign-in, no new bookings; nothing is deleted), `true` reactivates. ' +
          'Left out, it stays as it is. Nobody changes their own (403 naming `active`).',
      }),
    }),
  ]),
  { name: 'PersonInput' },
);

export type PersonInput = t.TypeOf<typeof PersonBody>;

export const MAX_PEOPLE_QUERY_LENGTH = 200;
export const MAX_PEOPLE_PAGE = 200;
export const DEFAULT_PEOPLE_PAGE = 50;

/** The list's page: the items in (name, id) order and, when there are more, the cursor that continues after them. */
export const PersonList = annotate(
  t.intersection([
    t.type({ items: t.array(PersonResource) }),
    t.partial({ next: annotate(t.string, { description: 'Pass as `cursor` for the next page; opaque.' }) }),
  ]),
  { name: 'PersonList' },
);

/** `GET /me`: the caller as their token says, and their directory entry when they have one. */
export const MeResource = annotate(
  t.intersection([
    t.type({
      id: annotate(t.string, { description: 'The token `sub`.' }),
      roles: annotate(t.array(Role), { description: 'The roles the token gives (what the API lets the caller do).' }),
      inDirectory: annotate(t.boolean, { description: 'Whether the people directory has an entry for this id.' }),
    }),
    t.partial({
      name: t.string,
      email: t.string,
      timezone: TimeZoneName,
      language: PersonLanguage,
      active: annotate(t.boolean, { description: 'The directory entry is active (present with `inDirectory`).' }),
      scope: annotate(t.type({ meetingId: t.string }), {
        description: 'A join link signed the caller in for this meeting only.',
      }),
    }),
  ]),
  { name: 'Me' },
);

// The application's person view is answered as it is: the compiler holds it to the documented shape.
const _personAnswerFits = (view: PersonView): t.TypeOf<typeof PersonResource> => ({
  ...view,
  roles: [...view.roles],
});

export const MAX_NAME_LOOKUP = 50;
export const DEFAULT_NAME_LOOKUP = 20;

/** `GET /directory/names`: active people by name, with only what a booking form shows. */
export const PersonNameList = annotate(
  t.type({
    items: t.array(
      annotate(t.intersection([t.type({ id: t.string, name: t.string }), t.partial({ timezone: TimeZoneName })]), {
        name: 'PersonName',
        description: 'A person as a picker shows them: no address, no roles.',
      }),
    ),
  }),
  { name: 'PersonNameList' },
);
