import * as t from 'io-ts';

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

/** A string that parses to an instant and names its offset (`Z` or `+hh:mm`); local times are not instants. */
const instantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export const parseInstant = (value: string): Date | undefined => {
  if (!instantPattern.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
};

export const IsoInstant = new t.Type<string, string, unknown>(
  'IsoInstant',
  (u): u is string => typeof u === 'string' && parseInstant(u) !== undefined,
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c, 'must be an ISO 8601 instant with Z or an offset');
    const date = parseInstant(u);
    return date === undefined
      ? t.failure(u, c, 'must be an ISO 8601 instant with Z or an offset')
      : t.success(date.toISOString());
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
