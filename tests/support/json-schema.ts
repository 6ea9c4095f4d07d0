/**
 * JSON Schema (2020-12, the dialect of OpenAPI 3.1) checks against the OpenAPI document, with Ajv: strict, so that an
 * unknown keyword or format fails loudly instead of being skipped, and with every format it names checked.
 */

import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

export type Obj = Record<string, unknown>;
export const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// ajv-formats is CommonJS: its default export is the plugin (or holds it, depending on the loader).
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv2020,
) => Ajv2020;

export interface SchemaChecker {
  /** Every way `value` breaks `schema`, as `path: problem` lines; empty when it fits. */
  validate(schema: unknown, value: unknown, at?: string): string[];
  /** The node a local JSON pointer (`#/components/schemas/X`) names, or undefined. */
  resolvePointer(pointer: string): unknown;
  /** Follows `$ref`s until a node without one. */
  deref(value: unknown): unknown;
}

const DOC_ID = 'https://openapi.invalid/document';

const COMPONENT = '#/components/schemas/';

/** The document's schema references made absolute (into its schemas, kept as `$defs`), so a schema compiled apart finds them. */
const absolute = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(absolute);
  if (!isObj(node)) return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT)
        ? `${DOC_ID}#/$defs/${value.slice(COMPONENT.length)}`
        : absolute(value),
    ]),
  );
};

const describe = (error: ErrorObject, at: string): string => {
  const where = `${at}${error.instancePath.replace(/\//g, '.')}`;
  const extra =
    error.keyword === 'additionalProperties'
      ? ` (${String((error.params as { additionalProperty?: string }).additionalProperty)})`
      : '';
  return `${where}: ${error.message ?? error.keyword}${extra}`;
};

/** A checker whose `$ref`s resolve within `root` (the OpenAPI document). */
export const createSchemaChecker = (root: unknown): SchemaChecker => {
  // Strict about keywords and formats; not about style (a `then: {required}` naming properties declared beside it).
  const ajv = new Ajv2020({
    strict: true,
    strictTypes: false,
    strictRequired: false,
    allErrors: true,
    validateFormats: true,
  });
  addFormats(ajv);
  // OpenAPI's annotation for tooling; it asserts nothing (oneOf does).
  ajv.addKeyword({ keyword: 'discriminator' });
  const components = isObj(root) && isObj(root.components) ? root.components : {};
  const schemas = isObj(components.schemas) ? components.schemas : {};
  // Only the schemas of the document are schemas: the rest of it (paths, examples) is not, and strict Ajv says so.
  ajv.addSchema({ $id: DOC_ID, $defs: absolute(schemas) as Obj });

  const resolvePointer = (pointer: string): unknown => {
    if (!pointer.startsWith('#/')) return undefined;
    let node: unknown = root;
    for (const raw of pointer.slice(2).split('/')) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isObj(node) || !Object.hasOwn(node, key)) return undefined;
      node = node[key];
    }
    return node;
  };

  const deref = (value: unknown): unknown => {
    let node = value;
    for (let hops = 0; isObj(node) && typeof node.$ref === 'string'; hops++) {
      if (hops > 20) throw new Error('reference cycle');
      node = resolvePointer(node.$ref);
    }
    return node;
  };

  const compiled = new Map<string, ValidateFunction>();
  const compile = (schema: unknown): ValidateFunction => {
    const key = JSON.stringify(schema);
    const known = compiled.get(key);
    if (known !== undefined) return known;
    const fn = ajv.compile(absolute(schema) as object);
    compiled.set(key, fn);
    return fn;
  };

  const validate = (schema: unknown, value: unknown, at = '$'): string[] => {
    const fn = compile(schema);
    return fn(value) ? [] : (fn.errors ?? []).map((e) => describe(e, at));
  };

  return { validate, resolvePointer, deref };
};
