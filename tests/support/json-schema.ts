/**
 * A small JSON Schema (2020-12) checker for the keywords the OpenAPI document uses. It refuses keywords and formats it
 * does not know, so a schema can never pass here just because a rule in it was silently skipped.
 */

export type Obj = Record<string, unknown>;
export const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Annotations and assertions the checker understands; anything else in a schema is reported. */
const KNOWN_KEYWORDS = new Set([
  '$ref',
  'type',
  'title',
  'description',
  'examples',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
  'format',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'enum',
  'const',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  'discriminator',
]);

const daysIn = (year: number, month: number): number =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;

const isFullDate = (s: string): boolean => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m === null) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month);
};

/** RFC 3339 `date-time`: seconds required, `Z` or a numeric offset. */
const isDateTime = (s: string): boolean => {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/.exec(s);
  if (m === null || !isFullDate(m[1] ?? '')) return false;
  const [hour, minute, second] = [Number(m[2]), Number(m[3]), Number(m[4])];
  if (hour > 23 || minute > 59 || second > 60) return false;
  if (m[7] !== undefined && (Number(m[8]) > 23 || Number(m[9]) > 59)) return false;
  return true;
};

const FORMATS: Record<string, (s: string) => boolean> = {
  'date-time': isDateTime,
  date: isFullDate,
  uri: (s) => {
    try {
      return /^[a-z][a-z0-9+.-]*:/i.test(s) && new URL(s).protocol.length > 0;
    } catch {
      return false;
    }
  },
  // Any string is a relative reference once percent-encoded; only whitespace and control characters are not.
  'uri-reference': (s) => !/[\s\u0000-\u001f]/.test(s),
  email: (s) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s),
};

const typeOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export interface SchemaChecker {
  /** Every way `value` breaks `schema`, as `path: problem` lines; empty when it fits. */
  validate(schema: unknown, value: unknown, at?: string): string[];
  /** The node a local JSON pointer (`#/components/schemas/X`) names, or undefined. */
  resolvePointer(pointer: string): unknown;
  /** Follows `$ref`s until a node without one. */
  deref(value: unknown): unknown;
}

/** A checker whose `$ref`s resolve within `root` (the OpenAPI document). */
export const createSchemaChecker = (root: unknown): SchemaChecker => {
  const resolvePointer = (pointer: string): unknown => {
    if (!pointer.startsWith('#/')) return undefined;
    let node: unknown = root;
    for (const raw of pointer.slice(2).split('/')) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isObj(node) || !(key in node)) return undefined;
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

  const validate = (schema: unknown, value: unknown, at = '$', depth = 0): string[] => {
    if (depth > 200) return [`${at}: schema nesting too deep (a reference cycle?)`];
    if (schema === true) return [];
    if (schema === false) return [`${at}: nothing is allowed here`];
    if (!isObj(schema)) return [`${at}: the schema is not an object or a boolean`];
    const s = schema;
    const errors: string[] = [];
    for (const key of Object.keys(s))
      if (!KNOWN_KEYWORDS.has(key)) errors.push(`${at}: the checker does not know keyword '${key}'`);

    // 2020-12: `$ref` applies alongside its sibling keywords, not instead of them.
    if (s.$ref !== undefined) {
      const target = typeof s.$ref === 'string' ? resolvePointer(s.$ref) : undefined;
      if (target === undefined) errors.push(`${at}: unresolvable $ref ${String(s.$ref)}`);
      else errors.push(...validate(target, value, at, depth + 1));
    }

    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      const actual = typeOf(value);
      if (!types.some((t) => t === actual || (t === 'number' && actual === 'integer'))) {
        return [...errors, `${at}: expected ${types.join('|')}, got ${actual}`];
      }
    }
    if (s.const !== undefined && !same(s.const, value))
      errors.push(`${at}: must be ${JSON.stringify(s.const)}, got ${JSON.stringify(value)}`);
    if (Array.isArray(s.enum) && !s.enum.some((e) => same(e, value))) {
      errors.push(`${at}: ${JSON.stringify(value)} is not one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`);
    }

    if (typeof value === 'string') {
      const length = [...value].length;
      if (typeof s.minLength === 'number' && length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
      if (typeof s.maxLength === 'number' && length > s.maxLength) errors.push(`${at}: longer than ${s.maxLength}`);
      if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value))
        errors.push(`${at}: ${JSON.stringify(value)} does not match ${s.pattern}`);
      if (typeof s.format === 'string') {
        const check = FORMATS[s.format];
        if (check === undefined) errors.push(`${at}: the checker does not know format '${s.format}'`);
        else if (!check(value)) errors.push(`${at}: ${JSON.stringify(value)} is not a ${s.format}`);
      }
    }
    if (typeof value === 'number') {
      if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${at}: ${value} is below ${s.minimum}`);
      if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${at}: ${value} is above ${s.maximum}`);
    }
    if (Array.isArray(value)) {
      if (typeof s.minItems === 'number' && value.length < s.minItems)
        errors.push(`${at}: fewer than ${s.minItems} items`);
      if (typeof s.maxItems === 'number' && value.length > s.maxItems)
        errors.push(`${at}: more than ${s.maxItems} items`);
      if (s.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size !== value.length)
        errors.push(`${at}: items repeat`);
      if (s.items !== undefined)
        value.forEach((item, i) => errors.push(...validate(s.items, item, `${at}[${i}]`, depth + 1)));
    }
    if (isObj(value)) {
      const properties = isObj(s.properties) ? s.properties : {};
      for (const key of Array.isArray(s.required) ? (s.required as string[]) : []) {
        if (!Object.prototype.hasOwnProperty.call(value, key)) errors.push(`${at}.${key}: is required`);
      }
      for (const [key, v] of Object.entries(value)) {
        if (Object.prototype.hasOwnProperty.call(properties, key))
          errors.push(...validate(properties[key], v, `${at}.${key}`, depth + 1));
        else if (s.additionalProperties === false) errors.push(`${at}.${key}: is not a documented property`);
        else if (s.additionalProperties !== undefined)
          errors.push(...validate(s.additionalProperties, v, `${at}.${key}`, depth + 1));
      }
    }

    if (Array.isArray(s.allOf)) for (const part of s.allOf) errors.push(...validate(part, value, at, depth + 1));
    if (Array.isArray(s.anyOf)) {
      const results = s.anyOf.map((part) => validate(part, value, at, depth + 1));
      if (!results.some((r) => r.length === 0))
        errors.push(`${at}: matches none of the anyOf alternatives (${results.map((r) => r.join('; ')).join(' | ')})`);
    }
    if (Array.isArray(s.oneOf)) {
      const results = s.oneOf.map((part) => validate(part, value, at, depth + 1));
      const passing = results.filter((r) => r.length === 0).length;
      if (passing === 0)
        errors.push(`${at}: matches none of the oneOf alternatives (${results.map((r) => r.join('; ')).join(' | ')})`);
      else if (passing > 1) errors.push(`${at}: matches ${passing} of the oneOf alternatives, not exactly 1`);
    }
    if (s.not !== undefined && validate(s.not, value, at, depth + 1).length === 0)
      errors.push(`${at}: matches a 'not' schema`);
    if (s.if !== undefined) {
      const branch = validate(s.if, value, at, depth + 1).length === 0 ? s.then : s.else;
      if (branch !== undefined) errors.push(...validate(branch, value, at, depth + 1));
    }
    return errors;
  };

  return { validate: (schema, value, at = '$') => validate(schema, value, at), resolvePointer, deref };
};
