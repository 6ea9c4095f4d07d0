import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { parseIsoInstant } from './time.ts';

export const Role = t.keyof({ admin: null, instructor: null, customer: null });
export type Role = t.TypeOf<typeof Role>;

export const Actor = t.readonly(t.type({ id: t.string, roles: t.readonlyArray(Role) }));
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

/**
 * An instant: RFC 3339 with `Z` or an offset (local times are not instants), checked strictly by the time rules, so
 * `2030-02-30T10:00Z` is refused rather than rolled over to March; decoded to ISO UTC (`toISOString`).
 */
export const IsoInstant = new t.Type<string, string, unknown>(
  'IsoInstant',
  (u): u is string => typeof u === 'string' && E.isRight(parseIsoInstant(u)),
  (u, c) => {
    const parsed = typeof u === 'string' ? parseIsoInstant(u) : E.left('not a string');
    return E.isRight(parsed) ? t.success(parsed.right.toISOString()) : t.failure(u, c, 'must be an ISO 8601 instant with Z or an offset');
  },
  t.identity,
);

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
