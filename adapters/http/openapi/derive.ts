/**
 * JSON Schemas (2020-12, the dialect of OpenAPI 3.1) derived from io-ts codecs, so that the document says what the
 * codecs check instead of restating it. Objects are closed (`additionalProperties: false`): the server refuses
 * unknown fields in bodies and never answers fields its codecs do not name. Limits, formats and descriptions come
 * from the codecs' notes (domain/annotate.ts); a codec with a `name` note becomes a `components/schemas` entry and
 * is referred to by `$ref`. A codec kind this does not know throws: a schema must never pass anything just because a
 * rule was silently left out.
 */

import type * as t from 'io-ts';
import { namedBase, notesOf } from '../../../domain/annotate.ts';
import type { SchemaNotes } from '../../../domain/annotate.ts';

export type Json = Record<string, unknown>;

/** The parts of io-ts's codec classes the derivation reads (`_tag` tells which class it is). */
interface CodecNode {
  readonly _tag?: string;
  readonly name: string;
  readonly props?: t.Props;
  readonly types?: ReadonlyArray<t.Any>;
  readonly type?: t.Any;
  readonly value?: unknown;
  readonly keys?: Record<string, unknown>;
  readonly domain?: t.Any;
  readonly codomain?: t.Any;
}

export const schemaRef = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** The JSON Schema keywords of the notes (everything but the name). */
const keywordsOf = (notes: SchemaNotes | undefined): Json => {
  if (notes === undefined) return {};
  const { name: _name, ...keywords } = notes;
  return keywords;
};

const isClosedObject = (schema: Json): boolean =>
  schema.type === 'object' && schema.additionalProperties === false && typeof schema.properties === 'object';

/** One object with the properties of all: `allOf` of closed objects would refuse every value. */
const mergeObjects = (parts: ReadonlyArray<Json>, extra: Json): Json => {
  const properties: Json = {};
  const required: string[] = [];
  for (const part of parts) {
    Object.assign(properties, part.properties);
    required.push(...((part.required as string[] | undefined) ?? []));
  }
  return {
    type: 'object',
    ...extra,
    ...(required.length > 0 ? { required: [...new Set(required)] } : {}),
    properties,
    additionalProperties: false,
  };
};

const objectSchema = (props: t.Props, required: boolean, derive: (codec: t.Any) => Json): Json => {
  const names = Object.keys(props);
  return {
    type: 'object',
    ...(required && names.length > 0 ? { required: names } : {}),
    properties: Object.fromEntries(names.map((name) => [name, derive(props[name] as t.Any)])),
    additionalProperties: false,
  };
};

/** A literal property that tells the members of a union apart (`type`, `mode`), when there is one. */
const discriminatorOf = (members: ReadonlyArray<Json>): string | undefined => {
  const first = members[0];
  if (first === undefined || !isClosedObject(first)) return undefined;
  return Object.keys(first.properties as Json).find((key) => {
    const values = members.map((m) => ((m.properties as Json | undefined)?.[key] as Json | undefined)?.const);
    return values.every((v) => v !== undefined) && new Set(values).size === values.length;
  });
};

const typeOfValue = (value: unknown): string => {
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
};

export interface Deriver {
  /** The schema of a codec: a `$ref` for a named one (its schema joins the components). */
  readonly schema: (codec: t.Any) => Json;
  /** The named schemas met so far, by name. */
  readonly components: () => Record<string, Json>;
}

export const createDeriver = (): Deriver => {
  const named = new Map<string, { codec: t.Any; schema: Json | undefined }>();

  const register = (name: string, codec: t.Any): void => {
    const known = named.get(name);
    if (known !== undefined) {
      if (known.codec !== codec) throw new Error(`two different codecs are named ${name}`);
      return;
    }
    named.set(name, { codec, schema: undefined });
    named.set(name, { codec, schema: inline(codec) });
  };

  const schema = (codec: t.Any): Json => {
    const base = namedBase(codec);
    if (base !== undefined) {
      const name = notesOf(base)?.name as string;
      register(name, base);
      return { ...schemaRef(name), ...keywordsOf(notesOf(codec)) };
    }
    const name = notesOf(codec)?.name;
    if (name === undefined) return inline(codec);
    register(name, codec);
    return schemaRef(name);
  };

  /** The schema of the codec itself, never a `$ref` to it. */
  const inline = (codec: t.Any): Json => {
    const notes = keywordsOf(notesOf(codec));
    const body = kindSchema(codec as unknown as CodecNode, notes);
    return { ...body, ...notes };
  };

  const kindSchema = (c: CodecNode, notes: Json): Json => {
    switch (c._tag) {
      case 'StringType':
        return { type: 'string' };
      case 'NumberType':
        return { type: 'number' };
      case 'BooleanType':
        return { type: 'boolean' };
      case 'NullType':
        return { type: 'null' };
      case 'LiteralType':
        return { type: typeOfValue(c.value), const: c.value };
      case 'KeyofType':
        return { type: 'string', enum: Object.keys(c.keys ?? {}) };
      case 'InterfaceType':
        return objectSchema(c.props ?? {}, true, schema);
      case 'PartialType':
        return objectSchema(c.props ?? {}, false, schema);
      case 'ExactType':
      case 'StrictType':
      case 'ReadonlyType':
        return c._tag === 'StrictType' ? objectSchema(c.props ?? {}, true, schema) : schema(c.type as t.Any);
      case 'RefinementType':
        // A refinement's predicate is code; its notes say what it checks. `t.Int` says it by its name.
        return c.name === 'Int' ? { type: 'integer' } : inline(c.type as t.Any);
      case 'ArrayType':
      case 'ReadonlyArrayType':
        return { type: 'array', items: schema(c.type as t.Any) };
      case 'AnyArrayType':
        return { type: 'array' };
      case 'AnyDictionaryType':
        return { type: 'object' };
      case 'DictionaryType':
        return { type: 'object', additionalProperties: schema(c.codomain as t.Any) };
      case 'IntersectionType':
        return intersection(c.types ?? []);
      case 'UnionType':
        return union(c.types ?? []);
      case 'UnknownType':
      case 'AnyType':
        if (Object.keys(notes).length > 0) return {};
        break;
      default:
        // A hand-made `t.Type` (IsoInstant, EmailAddress): only its notes can say what it accepts.
        if (c._tag === undefined && typeof notes.type === 'string') return {};
    }
    throw new Error(`cannot derive a JSON Schema from the codec ${c.name} (${c._tag ?? 'a hand-made t.Type'})`);
  };

  const intersection = (types: ReadonlyArray<t.Any>): Json => {
    const parts = types.map(inline);
    return parts.every(isClosedObject) ? mergeObjects(parts, {}) : { allOf: types.map(schema) };
  };

  const union = (types: ReadonlyArray<t.Any>): Json => {
    const members = types.map(inline);
    if (members.every((m) => m.const !== undefined && Object.keys(m).length === 2)) {
      const kinds = new Set(members.map((m) => m.type));
      return { ...(kinds.size === 1 ? { type: members[0]?.type } : {}), enum: members.map((m) => m.const) };
    }
    const refs = types.map(schema);
    const discriminator = discriminatorOf(members);
    if (discriminator === undefined) return { anyOf: refs };
    const mapping = refs.every((r) => typeof r.$ref === 'string')
      ? Object.fromEntries(
          members.map((m, i) => [((m.properties as Json)[discriminator] as Json).const, refs[i]?.$ref]),
        )
      : undefined;
    return {
      oneOf: refs,
      ...(mapping !== undefined ? { discriminator: { propertyName: discriminator, mapping } } : {}),
    };
  };

  const components = (): Record<string, Json> =>
    Object.fromEntries([...named.entries()].map(([name, entry]) => [name, entry.schema as Json]));

  return { schema, components };
};
