import type * as t from 'io-ts';

/**
 * What a codec says about its values beyond its kind, written once next to the rule it documents: the domain's
 * checks use the same constants, and the HTTP adapter turns these notes into the OpenAPI document's schemas. The
 * keywords are JSON Schema's (2020-12); `type` is only for codecs io-ts cannot describe itself (a hand-made
 * `t.Type` such as IsoInstant, or `t.number` that must be whole), and `name` makes the codec a named schema.
 */
export interface SchemaNotes {
  readonly name?: string;
  readonly type?: 'string' | 'number' | 'integer' | 'boolean' | 'object';
  readonly description?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly maxProperties?: number;
  readonly propertyNames?: Record<string, unknown>;
  readonly examples?: ReadonlyArray<unknown>;
  readonly default?: unknown;
  /** Rules across fields (`remoteLink` goes with `link`), as JSON Schema conditionals. */
  readonly if?: Record<string, unknown>;
  readonly then?: Record<string, unknown>;
  readonly else?: Record<string, unknown>;
  readonly allOf?: ReadonlyArray<Record<string, unknown>>;
}

const notes = new WeakMap<t.Any, SchemaNotes>();
/** Copies of a named codec, annotated where they are used (a field's own description): they refer to the named one. */
const bases = new WeakMap<t.Any, t.Any>();

/**
 * The codec with these notes added to the ones it has. It returns a copy that decodes, encodes and names itself
 * exactly as the original (same kind, same name, same error messages): `t.string` is one shared value, so notes are
 * kept per copy, never on the original.
 */
export const annotate = <C extends t.Any>(codec: C, more: SchemaNotes): C => {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(codec) as object) as C, codec);
  const base =
    bases.get(codec) ?? (notes.get(codec)?.name !== undefined && more.name === undefined ? codec : undefined);
  if (base !== undefined) {
    bases.set(copy, base);
    notes.set(copy, { ...(bases.has(codec) ? notes.get(codec) : {}), ...more });
  } else notes.set(copy, { ...notes.get(codec), ...more });
  return copy;
};

/** The named codec that this one is an annotated use of, if it is one. */
export const namedBase = (codec: t.Any): t.Any | undefined => bases.get(codec);

/** The notes of a codec, or undefined when it has none. */
export const notesOf = (codec: t.Any): SchemaNotes | undefined => notes.get(codec);
