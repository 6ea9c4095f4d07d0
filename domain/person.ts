import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { annotate } from './annotate.ts';
import { Actor, IsoInstant, Role, assertNever, checkId, validationFailed } from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';
import { EMAIL_PATTERN, MAX_EMAIL_LENGTH, emailProblem } from './email.ts';
import { isValidTimeZone } from './time.ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';

export const MAX_PERSON_NAME_LENGTH = 200;

/** A display name as a body gives it (trimmed by the rules below). */
export const PersonName = annotate(t.string, {
  minLength: 1,
  maxLength: MAX_PERSON_NAME_LENGTH,
  description: 'Display name; not blank.',
});

/** An address as a body gives it: emailProblem decides, after trimming. */
export const PersonEmail = annotate(t.string, {
  format: 'email',
  maxLength: MAX_EMAIL_LENGTH,
  pattern: EMAIL_PATTERN,
  description:
    'An address the mail and calendar path can deliver to, checked once here: ASCII only (an internationalised ' +
    'domain in its `xn--` form), a dot-atom of at most 64 characters before the `@` (no leading, trailing or ' +
    'doubled dot, no quotes, no display name), two or more hostname labels after it ending in a top-level domain ' +
    '(no IP address), 254 characters in all; surrounding whitespace is trimmed. `ü@exämple.com` and `a@b..com` ' +
    'answer 400 naming `email`.',
});

/** A preferred language: a BCP 47 tag such as `en`, `es-MX` or `zh-Hant-TW` (checked for form, not registry). */
export const MAX_LANGUAGE_LENGTH = 35;
export const LANGUAGE_PATTERN = '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$';
const languagePattern = new RegExp(LANGUAGE_PATTERN);
export const PersonLanguage = annotate(t.string, {
  maxLength: MAX_LANGUAGE_LENGTH,
  pattern: LANGUAGE_PATTERN,
  description: 'Preferred language, a BCP 47 tag (`en`, `es-MX`); emails and pages use it where they can.',
});

/**
 * What a site's CRM knows of a person, kept beside the directory entry: its own id for them and a flat map of
 * string fields (membership level, branch, ...). Bounded here, once: the HTTP body, the import and the decider
 * all go by these limits. Only admins and auditors ever see it.
 */
export const MAX_CRM_FIELDS = 50;
export const MAX_CRM_KEY_LENGTH = 64;
export const MAX_CRM_VALUE_LENGTH = 500;
export const MAX_CRM_EXTERNAL_ID_LENGTH = 200;
/** A field name: printable, starting with a letter or digit (`member level`, `branch_id`, `Home.Club`). */
export const CRM_KEY_PATTERN = `^[A-Za-z0-9][A-Za-z0-9 _.-]{0,${MAX_CRM_KEY_LENGTH - 1}}$`;
const crmKeyPattern = new RegExp(CRM_KEY_PATTERN);
export const PersonCrm = annotate(
  t.partial({
    externalId: annotate(t.string, {
      minLength: 1,
      maxLength: MAX_CRM_EXTERNAL_ID_LENGTH,
      description: "The person's id in the site's CRM.",
    }),
    fields: annotate(t.record(t.string, annotate(t.string, { maxLength: MAX_CRM_VALUE_LENGTH })), {
      maxProperties: MAX_CRM_FIELDS,
      propertyNames: { pattern: CRM_KEY_PATTERN },
      description:
        `At most ${MAX_CRM_FIELDS} string fields; names match \`${CRM_KEY_PATTERN}\`, values are one line of at ` +
        `most ${MAX_CRM_VALUE_LENGTH} characters.`,
    }),
  }),
  {
    name: 'PersonCrm',
    description:
      "What the site's CRM knows of the person. Given, it replaces what was kept (`{}` clears it); left out, it stays " +
      'as it is. Only admins and auditors see it.',
  },
);
export type PersonCrm = t.TypeOf<typeof PersonCrm>;

const oneLine = /[\u0000-\u001F\u007F]/;

/** The CRM record's field errors against the limits above, with paths like `crm.fields.branch`. */
export const crmProblems = (crm: PersonCrm): FieldError[] => {
  const errors: FieldError[] = [];
  if (crm.externalId !== undefined) {
    const id = crm.externalId;
    if (id.trim().length === 0 || id.length > MAX_CRM_EXTERNAL_ID_LENGTH || oneLine.test(id))
      errors.push({
        path: 'crm.externalId',
        message: `must be one line of 1 to ${MAX_CRM_EXTERNAL_ID_LENGTH} characters`,
      });
  }
  const fields = Object.entries(crm.fields ?? {});
  if (fields.length > MAX_CRM_FIELDS) errors.push({ path: 'crm.fields', message: `at most ${MAX_CRM_FIELDS} fields` });
  for (const [key, value] of fields) {
    if (!crmKeyPattern.test(key))
      errors.push({
        path: `crm.fields.${key.slice(0, MAX_CRM_KEY_LENGTH)}`,
        message: `a field name is 1 to ${MAX_CRM_KEY_LENGTH} letters, digits, spaces, '_', '.' or '-'`,
      });
    else if (value.length > MAX_CRM_VALUE_LENGTH || oneLine.test(value))
      errors.push({
        path: `crm.fields.${key}`,
        message: `must be one line of at most ${MAX_CRM_VALUE_LENGTH} characters`,
      });
  }
  return errors;
};

/** The CRM record in one spelling (trimmed id, fields by name, empty ones dropped), or undefined when it is empty. */
export const normalCrm = (crm: PersonCrm | undefined): PersonCrm | undefined => {
  if (crm === undefined) return undefined;
  const externalId = crm.externalId?.trim();
  const fields = Object.entries(crm.fields ?? {})
    .filter(([, value]) => value.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if ((externalId === undefined || externalId === '') && fields.length === 0) return undefined;
  return {
    ...(externalId !== undefined && externalId !== '' ? { externalId } : {}),
    ...(fields.length > 0 ? { fields: Object.fromEntries(fields) } : {}),
  };
};

export const sameCrm = (a: PersonCrm | undefined, b: PersonCrm | undefined): boolean =>
  JSON.stringify(normalCrm(a) ?? {}) === JSON.stringify(normalCrm(b) ?? {});

const details = {
  personId: t.string,
  name: t.string,
  email: t.string,
};
const stamp = { at: IsoInstant, by: Actor };
/** `crm` on an event is the record from then on (`{}`: none); events before it was kept have none and change none. */
const optionalDetails = { timezone: t.string, language: t.string, crm: PersonCrm };

export const PersonRegistered = t.type({
  type: t.literal('PersonRegistered'),
  data: t.intersection([t.type({ ...details, ...stamp }), t.partial(optionalDetails)]),
});
export const PersonUpdated = t.type({
  type: t.literal('PersonUpdated'),
  data: t.intersection([t.type({ ...details, ...stamp }), t.partial(optionalDetails)]),
});
/** The person's roles are now these (a person registered before roles were kept has none in the directory). */
export const PersonRolesChanged = t.type({
  type: t.literal('PersonRolesChanged'),
  data: t.type({ personId: t.string, roles: t.array(Role), previous: t.array(Role), ...stamp }),
});
/** The person may no longer sign in or book; nothing of theirs is deleted. */
export const PersonDeactivated = t.type({
  type: t.literal('PersonDeactivated'),
  data: t.type({ personId: t.string, ...stamp }),
});
export const PersonReactivated = t.type({
  type: t.literal('PersonReactivated'),
  data: t.type({ personId: t.string, ...stamp }),
});
export const PersonEvent = t.union([
  PersonRegistered,
  PersonUpdated,
  PersonRolesChanged,
  PersonDeactivated,
  PersonReactivated,
]);
export type PersonEvent = t.TypeOf<typeof PersonEvent>;
export const personEventTypes = eventTypesOf(PersonEvent);

/**
 * Records a person's details; `roles` and `active`, when given, set those too (each change its own event, so the
 * audit log names a role change or a deactivation as such). Left out, they stay as they are: a new person is active
 * and has no roles in the directory.
 */
export const RecordPerson = t.type({
  type: t.literal('RecordPerson'),
  data: t.intersection([
    t.type({ ...details, ...stamp }),
    t.partial({ ...optionalDetails, roles: t.array(Role), active: t.boolean }),
  ]),
});
export type PersonCommand = t.TypeOf<typeof RecordPerson>;

export interface Person {
  readonly status: 'known';
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly timezone?: string;
  readonly language?: string;
  /** What the site's CRM knows of them (normalCrm's spelling), if anything. */
  readonly crm?: PersonCrm;
  /** The roles the directory gives this person, in a fixed order; empty for one registered before roles were kept. */
  readonly roles: ReadonlyArray<Role>;
  readonly active: boolean;
}
export type PersonState = { readonly status: 'none' } | Person;

export const initialState = (): PersonState => ({ status: 'none' });

const ROLE_ORDER: ReadonlyArray<Role> = ['admin', 'instructor', 'customer', 'auditor'];
/** Roles once each, in a fixed order, so that equal sets compare equal. */
export const normalRoles = (roles: ReadonlyArray<Role>): Role[] => ROLE_ORDER.filter((r) => roles.includes(r));

const sameRoles = (a: ReadonlyArray<Role>, b: ReadonlyArray<Role>): boolean =>
  a.length === b.length && a.every((r, i) => b[i] === r);

const checkDetails = (c: PersonCommand['data'], name: string, email: string): FieldError[] => {
  const errors: FieldError[] = [];
  errors.push(...checkId('id', c.personId));
  if (name.length === 0 || name.length > MAX_PERSON_NAME_LENGTH)
    errors.push({ path: 'name', message: `must be 1 to ${MAX_PERSON_NAME_LENGTH} characters` });
  else if (/[\u0000-\u001F\u007F]/.test(name))
    errors.push({ path: 'name', message: 'must be one line without control characters' });
  const emailError = emailProblem(email);
  if (emailError !== undefined) errors.push({ path: 'email', message: emailError });
  if (c.timezone !== undefined && !isValidTimeZone(c.timezone)) {
    errors.push({ path: 'timezone', message: `unknown IANA time zone '${c.timezone}'` });
  }
  if (c.language !== undefined && (c.language.length > MAX_LANGUAGE_LENGTH || !languagePattern.test(c.language))) {
    errors.push({ path: 'language', message: 'must be a BCP 47 language tag such as en or es-MX' });
  }
  if (c.crm !== undefined) errors.push(...crmProblems(c.crm));
  return errors;
};

export const decide = (command: PersonCommand, state: PersonState): E.Either<ValidationFailed, PersonEvent[]> => {
  const c = command.data;
  const name = c.name.trim();
  const email = c.email.trim();
  const errors = checkDetails(c, name, email);
  if (errors.length > 0) return E.left(validationFailed(errors));
  const stamped = { personId: c.personId, at: c.at, by: c.by };
  const data = {
    ...stamped,
    name,
    email,
    timezone: c.timezone,
    ...(c.language !== undefined ? { language: c.language } : {}),
  };
  const events: PersonEvent[] = [];
  switch (state.status) {
    case 'none': {
      const crm = normalCrm(c.crm);
      events.push({ type: 'PersonRegistered', data: { ...data, ...(crm !== undefined ? { crm } : {}) } });
      break;
    }
    case 'known': {
      // A body without a language or a CRM record keeps the one the person has (older clients do not know them).
      const language = c.language ?? state.language;
      const changed = state.name !== name || state.email !== email || state.timezone !== c.timezone;
      const crmChanged = c.crm !== undefined && !sameCrm(c.crm, state.crm);
      if (changed || language !== state.language || crmChanged)
        events.push({
          type: 'PersonUpdated',
          data: {
            ...data,
            ...(language !== undefined ? { language } : {}),
            ...(crmChanged ? { crm: normalCrm(c.crm) ?? {} } : {}),
          },
        });
      break;
    }
    default:
      return assertNever(state);
  }
  const before = state.status === 'known' ? state : { roles: [], active: true };
  if (c.roles !== undefined) {
    const roles = normalRoles(c.roles);
    if (!sameRoles(roles, before.roles))
      events.push({ type: 'PersonRolesChanged', data: { ...stamped, roles, previous: [...before.roles] } });
  }
  if (c.active !== undefined && c.active !== before.active)
    events.push({ type: c.active ? 'PersonReactivated' : 'PersonDeactivated', data: stamped });
  return E.right(events);
};

export const evolve = (state: PersonState, event: PersonEvent): PersonState => {
  switch (event.type) {
    case 'PersonRegistered':
    case 'PersonUpdated': {
      const { personId, name, email, timezone, language } = event.data;
      const kept = state.status === 'known' ? state : { roles: [], active: true, crm: undefined };
      const crm = event.data.crm !== undefined ? normalCrm(event.data.crm) : kept.crm;
      return {
        status: 'known',
        id: personId,
        name,
        email,
        timezone,
        ...(language !== undefined ? { language } : {}),
        ...(crm !== undefined ? { crm } : {}),
        roles: kept.roles,
        active: kept.active,
      };
    }
    case 'PersonRolesChanged':
      return state.status === 'known' ? { ...state, roles: normalRoles(event.data.roles) } : state;
    case 'PersonDeactivated':
      return state.status === 'known' ? { ...state, active: false } : state;
    case 'PersonReactivated':
      return state.status === 'known' ? { ...state, active: true } : state;
    default:
      return assertNever(event);
  }
};

export const personStreamPrefix = 'person-';
export const personStreamName = (personId: string): string => `${personStreamPrefix}${personId}`;
export const personDecider: Decider<PersonCommand, PersonEvent, PersonState, ValidationFailed> = {
  decide,
  evolve,
  initialState,
};
