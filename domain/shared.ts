import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { annotate } from './annotate.ts';
import { parseIsoInstant } from './time.ts';

/**
 * What a person may do: `admin` runs the site, `instructor` coaches, `customer` is coached, `auditor` reads everything
 * and changes nothing.
 */
export const Role = annotate(t.keyof({ admin: null, instructor: null, customer: null, auditor: null }), {
  name: 'Role',
});
export type Role = t.TypeOf<typeof Role>;

export const Actor = annotate(t.readonly(t.type({ id: t.string, roles: t.readonlyArray(Role) })), {
  name: 'Actor',
  description: 'Who did something, as their token said at the time (`unknown` with no roles when not recorded).',
});
export type Actor = t.TypeOf<typeof Actor>;

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export interface ValidationFailed {
  readonly _tag: 'ValidationFailed';
  readonly errors: ReadonlyArray<FieldError>;
}

export const validationFailed = (errors: ReadonlyArray<FieldError>): ValidationFailed => ({
  _tag: 'ValidationFailed',
  errors,
});

/** What an instant field's description says of its form. */
export const INSTANT_NOTE = ' An ISO 8601 instant with `Z` or an offset; answers use UTC with `Z`.';

/** The form of an instant as a JSON Schema pattern (the calendar fields are checked by the time rules). */
export const INSTANT_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$';

/**
 * An instant: RFC 3339 with `Z` or an offset (local times are not instants), checked strictly by the time rules, so
 * `2030-02-30T10:00Z` is refused rather than rolled over to March; decoded to ISO UTC (`toISOString`).
 */
export const IsoInstant = annotate(
  new t.Type<string, string, unknown>(
    'IsoInstant',
    (u): u is string => typeof u === 'string' && E.isRight(parseIsoInstant(u)),
    (u, c) => {
      const parsed = typeof u === 'string' ? parseIsoInstant(u) : E.left('not a string');
      return E.isRight(parsed)
        ? t.success(parsed.right.toISOString())
        : t.failure(u, c, 'must be an ISO 8601 instant with Z or an offset');
    },
    t.identity,
  ),
  {
    type: 'string',
    format: 'date-time',
    pattern: INSTANT_PATTERN,
    description: INSTANT_NOTE.trim(),
  },
);

/** When an event happened, as the server clock said. */
export const RecordedAt = annotate(IsoInstant, { description: 'When it happened (the server clock).' });

export const assertNever = (value: never): never => {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
};

export const isHttpsUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname.length > 0;
  } catch {
    return false;
  }
};

export const MAX_ID_LENGTH = 128;

/**
 * Characters an id may not hold: C0 and C1 controls (NUL, line breaks, NEL), the bidirectional controls and marks
 * (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069) that make a log line or a page read differently from what it
 * holds, zero-width and invisible format characters, line and paragraph separators, the BOM, and lone surrogates.
 */
const ID_FORBIDDEN =
  '\\u0000-\\u001F\\u007F-\\u009F\\u00AD\\u061C\\u180E\\u200B-\\u200F\\u2028-\\u202E\\u2060-\\u206F\\uFEFF\\uFFF9-\\uFFFB\\uD800-\\uDFFF';
const forbiddenInId = new RegExp(`[${ID_FORBIDDEN}]`, 'u');
/** The same rule as a JSON Schema pattern (ECMA-262, read with the `u` flag), for the OpenAPI document. */
export const ID_PATTERN = `^[^${ID_FORBIDDEN}]*$`;

/** Ids of people, meetings and series (400 naming the field otherwise, see idProblem). */
export const Id = annotate(t.string, { minLength: 1, maxLength: MAX_ID_LENGTH, pattern: ID_PATTERN });

/** Why `value` is not a usable id (of a person, meeting, series or token subject), or undefined when it is. */
export const idProblem = (value: string): string | undefined => {
  if (value.length === 0 || value.length > MAX_ID_LENGTH) return `must be 1 to ${MAX_ID_LENGTH} characters`;
  if (forbiddenInId.test(value)) return 'must not contain control, bidirectional or invisible formatting characters';
  return undefined;
};

/** The id rule as field errors: one for `path` when `value` breaks it. */
export const checkId = (path: string, value: string): FieldError[] => {
  const problem = idProblem(value);
  return problem === undefined ? [] : [{ path, message: problem }];
};
