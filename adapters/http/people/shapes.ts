import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import { MAX_EMAIL_LENGTH } from '../../../domain/email.ts';
import { MAX_PERSON_NAME_LENGTH, PersonCrm, PersonEmail, PersonLanguage, PersonName } from '../../../domain/person.ts';
import { IsoInstant, Role } from '../../../domain/shared.ts';
import { TimeZoneName } from '../../../domain/time.ts';
import type { PersonView } from '../../../application/ports/read-models.ts';
import { FieldErrorShape } from '../problems/shapes.ts';

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

const personRequired = { name: PersonName, email: PersonEmail };
const personOptional = {
  timezone: TimeZoneName,
  language: PersonLanguage,
  crm: PersonCrm,
  roles: RoleSet,
  active: annotate(t.boolean, {
    description:
      '`false` deactivates the person (no sign-in, no new bookings; nothing is deleted), `true` reactivates. ' +
      'Left out, it stays as it is. Nobody changes their own (403 naming `active`).',
  }),
};

export const PersonBody = annotate(t.intersection([t.type(personRequired), t.partial(personOptional)]), {
  name: 'PersonInput',
});

/** A person in a JSON import: `PUT /people/{id}`'s body with the `id`. */
export const PeopleImportItem = annotate(
  t.intersection([t.type({ id: annotate(t.string, { minLength: 1 }), ...personRequired }), t.partial(personOptional)]),
  { name: 'PeopleImportItem' },
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

/** `POST /people/import`: a site's export in one request, at most this large and this many people (more: the CLI). */
export const MAX_IMPORT_BODY_BYTES = 1024 * 1024;
export const MAX_IMPORT_LINES = 5000;

const count = (description: string) => annotate(t.number, { type: 'integer', minimum: 0, description });

/** The import's answer: what it did (or would do, on a dry run), and every line it did not import, with why. */
export const PeopleImportReport = annotate(
  t.type({
    dryRun: annotate(t.boolean, { description: 'True when nothing was written (`dryRun=true`).' }),
    lines: count('People lines read, good and bad (the header and blank lines not counted).'),
    created: count('People new to the directory.'),
    updated: count('People whose entry changed.'),
    unchanged: count('People whose entry the line would not change (nothing recorded).'),
    bad: annotate(
      t.array(
        annotate(
          t.intersection([
            t.type({
              line: annotate(t.number, {
                type: 'integer',
                minimum: 1,
                description:
                  "CSV: the line's physical line number (the header is line 1). JSON: the item's place, from 1.",
              }),
              errors: t.array(FieldErrorShape),
            }),
            t.partial({ id: annotate(t.string, { description: 'The id the line gives, when it gives one.' }) }),
          ]),
          { name: 'PeopleImportBadLine' },
        ),
      ),
      { description: 'Every line not imported, in file order; the other lines were imported all the same.' },
    ),
  }),
  { name: 'PeopleImportReport' },
);
