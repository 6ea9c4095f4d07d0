import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { annotate } from './annotate.ts';
import { Actor, IsoInstant, assertNever, checkId, validationFailed } from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';
import { EMAIL_PATTERN, MAX_EMAIL_LENGTH, emailProblem } from './email.ts';
import { isValidTimeZone } from './time.ts';

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

const details = {
  personId: t.string,
  name: t.string,
  email: t.string,
};
const stamp = { at: IsoInstant, by: Actor };

export const PersonRegistered = t.type({
  type: t.literal('PersonRegistered'),
  data: t.intersection([t.type({ ...details, ...stamp }), t.partial({ timezone: t.string })]),
});
export const PersonUpdated = t.type({
  type: t.literal('PersonUpdated'),
  data: t.intersection([t.type({ ...details, ...stamp }), t.partial({ timezone: t.string })]),
});
export const PersonEvent = t.union([PersonRegistered, PersonUpdated]);
export type PersonEvent = t.TypeOf<typeof PersonEvent>;

export const RecordPerson = t.type({
  type: t.literal('RecordPerson'),
  data: t.intersection([t.type({ ...details, ...stamp }), t.partial({ timezone: t.string })]),
});
export type PersonCommand = t.TypeOf<typeof RecordPerson>;

export interface Person {
  readonly status: 'known';
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly timezone?: string;
}
export type PersonState = { readonly status: 'none' } | Person;

export const initialState = (): PersonState => ({ status: 'none' });

export const decide = (command: PersonCommand, state: PersonState): E.Either<ValidationFailed, PersonEvent[]> => {
  const c = command.data;
  const name = c.name.trim();
  const email = c.email.trim();
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
  if (errors.length > 0) return E.left(validationFailed(errors));
  const data = {
    personId: c.personId,
    name,
    email,
    timezone: c.timezone,
    at: c.at,
    by: c.by,
  };
  switch (state.status) {
    case 'none':
      return E.right([{ type: 'PersonRegistered', data }]);
    case 'known':
      if (state.name === name && state.email === email && state.timezone === c.timezone) return E.right([]);
      return E.right([{ type: 'PersonUpdated', data }]);
    default:
      return assertNever(state);
  }
};

export const evolve = (_state: PersonState, event: PersonEvent): PersonState => {
  switch (event.type) {
    case 'PersonRegistered':
    case 'PersonUpdated': {
      const { personId, name, email, timezone } = event.data;
      return { status: 'known', id: personId, name, email, timezone };
    }
    default:
      return assertNever(event);
  }
};

export const personStreamName = (personId: string): string => `person-${personId}`;
export const personDecider = { decide, evolve, initialState } as const;
