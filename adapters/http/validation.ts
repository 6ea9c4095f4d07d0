import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { FieldError } from '../../domain/shared.ts';

const containerTags = new Set([
  'InterfaceType',
  'PartialType',
  'StrictType',
  'ArrayType',
  'ReadonlyArrayType',
  'DictionaryType',
]);

const describeExpected = (type: t.Decoder<unknown, unknown>): string => {
  const name = type.name;
  if (name === 'string') return 'must be a string';
  if (name === 'number') return 'must be a number';
  if (name === 'boolean') return 'must be a boolean';
  if (name === 'IsoInstant') return 'must be an ISO 8601 instant with Z or an offset';
  if (name.startsWith('{') || name.startsWith('Partial<')) return 'must be an object';
  if (name.includes('|')) return `must be one of ${name}`;
  return `must be ${name}`;
};

/** io-ts errors as `{path, message}`, one per bad field, with paths like `notifications.cancellation.subject`. */
export const fieldErrors = (errors: t.Errors): FieldError[] => {
  const seen = new Map<string, FieldError>();
  for (const error of errors) {
    const parts: string[] = [];
    for (let i = 1; i < error.context.length; i++) {
      const parent = error.context[i - 1]?.type as { _tag?: string } | undefined;
      const entry = error.context[i];
      if (entry !== undefined && parent?._tag !== undefined && containerTags.has(parent._tag)) parts.push(entry.key);
    }
    const path = parts.join('.') || '(body)';
    if (seen.has(path)) continue;
    const leaf = error.context[error.context.length - 1];
    const message =
      error.message ??
      (error.value === undefined ? 'is required' : leaf !== undefined ? describeExpected(leaf.type) : 'is invalid');
    seen.set(path, { path, message });
  }
  return [...seen.values()];
};

/**
 * Unknown fields are refused rather than ignored: a misspelt `strat` must not silently keep the old start. Only own
 * keys count on both sides: JSON.parse makes `__proto__` an own key, and `constructor` or `toString` must not be
 * found on Object.prototype and taken for known fields.
 */
export const unknownFields = (value: unknown, allowed: ReadonlyArray<string>, prefix = ''): FieldError[] => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => ({ path: `${prefix}${key}`, message: 'is not a known field' }));
};

type Shape =
  | { readonly kind: 'object'; readonly props: Record<string, t.Mixed> }
  | { readonly kind: 'array'; readonly item: t.Mixed }
  | { readonly kind: 'leaf' };

/** What a codec expects at this level, seen through intersections, readonly and exact wrappers. */
const shapeOf = (codec: t.Mixed): Shape => {
  const c = codec as unknown as { _tag?: string; props?: t.Props; types?: t.Mixed[]; type?: t.Mixed };
  switch (c._tag) {
    case 'InterfaceType':
    case 'PartialType':
    case 'StrictType':
      return { kind: 'object', props: { ...(c.props as Record<string, t.Mixed>) } };
    case 'IntersectionType': {
      const props: Record<string, t.Mixed> = {};
      for (const part of c.types ?? []) {
        const shape = shapeOf(part);
        if (shape.kind === 'object') Object.assign(props, shape.props);
      }
      return { kind: 'object', props };
    }
    case 'ReadonlyType':
    case 'ExactType':
    case 'RefinementType':
      return c.type !== undefined ? shapeOf(c.type) : { kind: 'leaf' };
    case 'ArrayType':
    case 'ReadonlyArrayType':
      return c.type !== undefined ? { kind: 'array', item: c.type } : { kind: 'leaf' };
    default:
      return { kind: 'leaf' };
  }
};

/** Every field the codec does not know, at any depth: `notifications.cancellation.colour`. */
export const unknownFieldsDeep = (codec: t.Mixed, value: unknown, prefix = ''): FieldError[] => {
  const shape = shapeOf(codec);
  if (shape.kind === 'array') {
    return Array.isArray(value)
      ? value.flatMap((item, i) => unknownFieldsDeep(shape.item, item, `${prefix}${prefix === '' ? '' : '.'}${i}`))
      : [];
  }
  if (shape.kind !== 'object' || typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, field]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const inner = Object.hasOwn(shape.props, key) ? shape.props[key] : undefined;
    return inner === undefined ? [{ path, message: 'is not a known field' }] : unknownFieldsDeep(inner, field, path);
  });
};

export const decodeBody = <A>(
  codec: t.Decoder<unknown, A>,
  value: unknown,
  allowed?: ReadonlyArray<string>,
): E.Either<FieldError[], A> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return E.left([{ path: '(body)', message: 'must be a JSON object' }]);
  }
  const extra =
    allowed === undefined ? unknownFieldsDeep(codec as unknown as t.Mixed, value) : unknownFields(value, allowed);
  const decoded = codec.decode(value);
  const errors = [...(E.isLeft(decoded) ? fieldErrors(decoded.left) : []), ...extra];
  if (errors.length > 0 || E.isLeft(decoded)) return E.left(errors);
  return E.right(decoded.right);
};
