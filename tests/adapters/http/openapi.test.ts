import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../adapters/http/openapi.ts';
import { defaultSettings } from '../../../domain/settings.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const contractPath = resolve(repoRoot, '../shared/api.md');
const serverUrl = 'https://coaching.example.com';

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const obj = (value: unknown, what: string): Obj => {
  if (!isObj(value)) throw new Error(`${what} is not an object`);
  return value;
};

const doc = openApiDocument(serverUrl);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const resolvePointer = (pointer: string): unknown => {
  if (!pointer.startsWith('#/')) return undefined;
  let node: unknown = doc;
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
    if (hops > 10) throw new Error('reference cycle');
    node = resolvePointer(node.$ref);
  }
  return node;
};

const operations = (): Array<{ path: string; method: string; op: Obj; pathItem: Obj }> => {
  const result: Array<{ path: string; method: string; op: Obj; pathItem: Obj }> = [];
  for (const [path, item] of Object.entries(obj(doc.paths, 'paths'))) {
    const pathItem = obj(item, path);
    for (const method of METHODS) {
      if (pathItem[method] !== undefined) result.push({ path, method, op: obj(pathItem[method], `${method} ${path}`), pathItem });
    }
  }
  return result;
};

const routeKeys = (): Set<string> => new Set(operations().map(({ method, path }) => `${method.toUpperCase()} ${path}`));

const toTemplate = (path: string): string => path.replace(/:([A-Za-z_]\w*)/g, '{$1}');

/** `METHOD /path` pairs named in the first cell of the markdown tables of the contract. */
const contractRoutes = (markdown: string): string[] => {
  const routes: string[] = [];
  for (const line of markdown.split('\n')) {
    if (!line.trimStart().startsWith('|')) continue;
    const firstCell = line.split('|')[1] ?? '';
    for (const match of firstCell.matchAll(/`(GET|PUT|POST|PATCH|DELETE) (\/[^`?\s[]*)[^`]*`/g)) {
      routes.push(`${match[1]} ${toTemplate(match[2] ?? '')}`);
    }
  }
  return routes;
};

// ---------- a small JSON Schema (2020-12 subset) checker, enough for the keywords the document uses ----------

const FORMATS: Record<string, (s: string) => boolean> = {
  'date-time': (s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)),
  uri: (s) => {
    try {
      return new URL(s).protocol.length > 0;
    } catch {
      return false;
    }
  },
  'uri-reference': () => true,
  email: (s) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s),
};

const typeOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;

const validate = (schemaIn: unknown, value: unknown, at = '$'): string[] => {
  const schema = deref(schemaIn);
  if (schema === true || schema === undefined) return [];
  if (schema === false) return [`${at}: nothing is allowed`];
  const s = obj(schema, `schema at ${at}`);
  const errors: string[] = [];
  const known = new Set([
    '$ref', 'type', 'description', 'examples', 'default', 'format', 'properties', 'required', 'additionalProperties',
    'items', 'minItems', 'maxItems', 'uniqueItems', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'enum', 'const',
    'allOf', 'oneOf', 'not', 'if', 'then', 'else', 'discriminator',
  ]);
  for (const key of Object.keys(s)) if (!known.has(key)) errors.push(`${at}: the checker does not know keyword '${key}'`);
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    const actual = typeOf(value);
    if (!types.some((t) => t === actual || (t === 'number' && actual === 'integer'))) return [`${at}: expected ${types.join('|')}, got ${actual}`];
  }
  if (s.const !== undefined && JSON.stringify(s.const) !== JSON.stringify(value)) errors.push(`${at}: must be ${JSON.stringify(s.const)}`);
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) errors.push(`${at}: not one of ${s.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (typeof s.minLength === 'number' && value.length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
    if (typeof s.maxLength === 'number' && value.length > s.maxLength) errors.push(`${at}: longer than ${s.maxLength}`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) errors.push(`${at}: does not match ${s.pattern}`);
    if (typeof s.format === 'string') {
      const check = FORMATS[s.format];
      if (check === undefined) errors.push(`${at}: the checker does not know format '${s.format}'`);
      else if (!check(value)) errors.push(`${at}: not a ${s.format}`);
    }
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${at}: below ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${at}: above ${s.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) errors.push(`${at}: fewer than ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) errors.push(`${at}: more than ${s.maxItems} items`);
    if (s.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) errors.push(`${at}: items repeat`);
    if (s.items !== undefined) value.forEach((item, i) => errors.push(...validate(s.items, item, `${at}[${i}]`)));
  }
  if (isObj(value)) {
    const properties = isObj(s.properties) ? s.properties : {};
    for (const key of Array.isArray(s.required) ? (s.required as string[]) : []) if (!(key in value)) errors.push(`${at}.${key}: is required`);
    for (const [key, v] of Object.entries(value)) {
      if (key in properties) errors.push(...validate(properties[key], v, `${at}.${key}`));
      else if (s.additionalProperties !== undefined) errors.push(...validate(s.additionalProperties, v, `${at}.${key}`));
    }
  }
  if (Array.isArray(s.allOf)) for (const part of s.allOf) errors.push(...validate(part, value, at));
  if (Array.isArray(s.oneOf)) {
    const passing = s.oneOf.filter((part) => validate(part, value, at).length === 0).length;
    if (passing !== 1) errors.push(`${at}: matches ${passing} of the oneOf alternatives, not exactly 1`);
  }
  if (s.not !== undefined && validate(s.not, value, at).length === 0) errors.push(`${at}: matches a 'not' schema`);
  if (s.if !== undefined) {
    const branch = validate(s.if, value, at).length === 0 ? s.then : s.else;
    if (branch !== undefined) errors.push(...validate(branch, value, at));
  }
  return errors;
};

const componentSchema = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Every media type with a schema and an example or examples, anywhere requests or responses are described. */
const examplesInDocument = (): Array<{ where: string; schema: unknown; value: unknown }> => {
  const found: Array<{ where: string; schema: unknown; value: unknown }> = [];
  const fromContent = (content: unknown, where: string) => {
    if (!isObj(content)) return;
    for (const [mediaType, media] of Object.entries(content)) {
      if (!isObj(media) || media.schema === undefined || !mediaType.includes('json')) continue;
      if (media.example !== undefined) found.push({ where: `${where} ${mediaType}`, schema: media.schema, value: media.example });
      if (isObj(media.examples)) {
        for (const [name, example] of Object.entries(media.examples)) {
          found.push({ where: `${where} ${mediaType} (${name})`, schema: media.schema, value: obj(deref(example), name).value });
        }
      }
    }
  };
  for (const { path, method, op } of operations()) {
    const where = `${method.toUpperCase()} ${path}`;
    if (op.requestBody !== undefined) fromContent(obj(deref(op.requestBody), `${where} body`).content, `${where} request`);
    for (const [status, r] of Object.entries(obj(op.responses, `${where} responses`))) fromContent(obj(deref(r), status).content, `${where} ${status}`);
  }
  return found;
};

describe('openApiDocument', () => {
  it('is an OpenAPI 3.1 document for the given server that survives JSON', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    const info = obj(doc.info, 'info');
    expect(typeof info.title).toBe('string');
    expect(typeof info.version).toBe('string');
    expect(doc.servers).toEqual([{ url: serverUrl }]);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    expect(openApiDocument('http://127.0.0.1:8080').servers).toEqual([{ url: 'http://127.0.0.1:8080' }]);
  });

  it('resolves every $ref and discriminator mapping within the document', () => {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!isObj(node)) return;
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') refs.push(value);
        else if (key === 'mapping' && isObj(value)) refs.push(...Object.values(value).map(String));
        else walk(value);
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(100);
    const broken = refs.filter((ref) => resolvePointer(ref) === undefined);
    expect(broken).toEqual([]);
  });

  it('gives every operation a unique operationId, a summary, tags, security and responses', () => {
    const ids = new Map<string, string>();
    const schemes = Object.keys(obj(obj(doc.components, 'components').securitySchemes, 'securitySchemes'));
    const publicRoutes = ['GET /health', 'GET /openapi.json', 'GET /docs', 'GET /call'];
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(typeof op.operationId, where).toBe('string');
      expect(ids.has(op.operationId as string), `${where} repeats ${String(op.operationId)} of ${ids.get(op.operationId as string)}`).toBe(false);
      ids.set(op.operationId as string, where);
      expect(typeof op.summary, where).toBe('string');
      expect(Array.isArray(op.tags) && op.tags.length > 0, where).toBe(true);
      const responses = obj(op.responses, `${where} responses`);
      expect(Object.keys(responses).length, where).toBeGreaterThan(0);
      expect(Object.keys(responses).some((status) => /^[23]\d\d$/.test(status) || status === '101'), `${where} has a success answer`).toBe(true);
      for (const [status, r] of Object.entries(responses)) {
        expect(status, where).toMatch(/^([1-5]\d\d|default)$/);
        expect(typeof obj(deref(r), `${where} ${status}`).description, `${where} ${status}`).toBe('string');
      }
      expect(Array.isArray(op.security), `${where} declares security`).toBe(true);
      const security = op.security as Obj[];
      if (publicRoutes.includes(where)) {
        expect(security, where).toEqual([]);
      } else {
        expect(security.length, `${where} is protected`).toBeGreaterThan(0);
        for (const requirement of security) for (const name of Object.keys(requirement)) expect(schemes, where).toContain(name);
      }
    }
    expect(ids.size).toBe(operations().length);
  });

  it('declares every path parameter of every template, and no others', () => {
    for (const { path, method, op, pathItem } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      const inTemplate = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = [...((pathItem.parameters as unknown[] | undefined) ?? []), ...((op.parameters as unknown[] | undefined) ?? [])]
        .map((p) => obj(deref(p), `${where} parameter`))
        .filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), where).toEqual(inTemplate);
      for (const p of declared) expect(p.required, `${where} ${String(p.name)}`).toBe(true);
    }
  });

  it('covers every route in the contract table of shared/api.md', () => {
    expect(existsSync(contractPath), `the contract should be at ${contractPath}`).toBe(true);
    const routes = contractRoutes(readFileSync(contractPath, 'utf8'));
    expect(routes).toContain('GET /meetings/{id}');
    expect(routes).toContain('GET /docs');
    expect(routes).toContain('PUT /settings');
    expect(routes).toContain('GET /calendar');
    expect(routes.length).toBeGreaterThanOrEqual(21);
    const documented = routeKeys();
    expect(routes.filter((route) => !documented.has(route))).toEqual([]);
  });

  it('covers the routes that later capabilities add', () => {
    const documented = routeKeys();
    const later = [
      'POST /meetings/{id}/join',
      'GET /signaling',
      'GET /notifications',
      'POST /notifications/{id}/retry',
      'GET /calendar.ics',
      'GET /settings/history',
      'POST /series',
      'GET /series/{id}',
      'PATCH /series/{id}',
      'POST /series/{id}/cancel',
      'GET /series/{id}/history',
    ];
    expect(later.filter((route) => !documented.has(route))).toEqual([]);
  });

  it('has examples that fit their schemas', () => {
    const examples = examplesInDocument();
    expect(examples.length).toBeGreaterThan(25);
    const failures = examples.flatMap(({ where, schema, value }) => validate(schema, value).map((e) => `${where}: ${e}`));
    expect(failures).toEqual([]);
    const parameters = obj(obj(doc.components, 'components').parameters, 'parameters');
    for (const [name, p] of Object.entries(parameters)) {
      const parameter = obj(p, name);
      if (parameter.example !== undefined) expect(validate(parameter.schema, parameter.example), name).toEqual([]);
    }
  });

  it('describes the default settings of the domain', () => {
    expect(validate(componentSchema('Settings'), defaultSettings)).toEqual([]);
    expect(validate(componentSchema('Settings'), { ...defaultSettings, debugLevel: 10 })).not.toEqual([]);
  });

  it('states the body rules of the contract', () => {
    const valid = {
      title: 'Intro',
      customerId: 'c1',
      instructorId: 'i1',
      start: '2026-03-02T10:00:00+01:00',
      end: '2026-03-02T11:00:00Z',
      trainingType: 'link',
      remoteLink: 'https://meet.example.com/x',
    };
    const meeting = componentSchema('MeetingInput');
    expect(validate(meeting, valid)).toEqual([]);
    const { remoteLink: _link, ...withoutLink } = valid;
    expect(validate(meeting, withoutLink)).not.toEqual([]);
    expect(validate(meeting, { ...valid, trainingType: '1-1' })).not.toEqual([]);
    expect(validate(meeting, { ...withoutLink, trainingType: '1-1' })).toEqual([]);
    expect(validate(meeting, { ...valid, remoteLink: 'http://meet.example.com/x' })).not.toEqual([]);
    expect(validate(meeting, { ...valid, title: 'x'.repeat(201) })).not.toEqual([]);
    expect(validate(meeting, { ...valid, description: 'x'.repeat(5001) })).not.toEqual([]);
    expect(validate(meeting, { ...valid, customerMetadata: 'x'.repeat(10_001) })).not.toEqual([]);
    expect(validate(meeting, { ...valid, start: '2026-03-02T10:00:00' })).not.toEqual([]);
    expect(validate(meeting, { ...valid, strat: '2026-03-02T10:00:00Z' })).not.toEqual([]);
    const { title: _title, ...untitled } = valid;
    expect(validate(meeting, untitled)).not.toEqual([]);
    expect(validate(componentSchema('MeetingPatch'), {})).toEqual([]);
    expect(validate(componentSchema('CancelInput'), { reason: 'x'.repeat(1001) })).not.toEqual([]);

    const series = componentSchema('SeriesInput');
    const validSeries = {
      title: 'Weekly',
      customerId: 'c1',
      instructorId: 'i1',
      trainingType: '1-1',
      timezone: 'Europe/Amsterdam',
      startDate: '2026-03-02',
      startTime: '09:30',
      durationMinutes: 45,
      rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10',
      exclusions: ['2026-03-04'],
    };
    expect(validate(series, validSeries)).toEqual([]);
    expect(validate(series, { ...validSeries, startTime: '24:00' })).not.toEqual([]);
    expect(validate(series, { ...validSeries, startTime: '9:30' })).not.toEqual([]);
    expect(validate(series, { ...validSeries, startDate: '02/03/2026' })).not.toEqual([]);
    expect(validate(series, { ...validSeries, exclusions: ['2026-03-04', '2026-03-04'] })).not.toEqual([]);
    expect(validate(series, { ...validSeries, durationMinutes: 1441 })).not.toEqual([]);
    expect(validate(series, { ...validSeries, durationMinutes: 30.5 })).not.toEqual([]);
    expect(validate(series, { ...validSeries, rrule: `FREQ=WEEKLY;COUNT=2;${'X'.repeat(256)}` })).not.toEqual([]);
    const { timezone: _tz, ...noZone } = validSeries;
    expect(validate(series, noZone)).not.toEqual([]);

    const problem = obj(obj(obj(doc.components, 'components').schemas, 'schemas').Problem, 'Problem');
    expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail']));
    expect(validate(componentSchema('Problem'), { type: 'about:blank', title: 'Validation failed', status: 400, detail: 'x', errors: [{ path: 'end' }] })).not.toEqual([]);
  });
});

describe('the running app', () => {
  const loadApp = async () => {
    const [{ createHttpApp }, E, { default: pino }] = await Promise.all([
      import('../../../adapters/http/app.ts'),
      import('fp-ts/lib/Either.js'),
      import('pino'),
    ]);
    type Deps = Parameters<typeof createHttpApp>[0];
    return createHttpApp({
      // Route registration never touches the service; requests below stay on unauthenticated routes.
      service: {} as Deps['service'],
      authenticate: async () => E.left({ reason: 'missing' as const, message: 'no token' }),
      logger: pino({ level: 'silent' }),
      health: async () => ({ status: 'ok', body: {} }),
      publicBaseUrl: 'http://127.0.0.1:8080',
    });
  };

  it('documents every route the HTTP app registers', async () => {
    const app = await loadApp();
    // Static files (the docs page's and the call page's scripts) are not API.
    const isAsset = (path: string) => path.startsWith('/docs/assets/') || path.startsWith('/static/');
    const served = app.routes
      .filter((route) => route.method !== 'ALL' && !isAsset(route.path))
      .map((route) => `${route.method} ${toTemplate(route.path)}`);
    expect(served.length).toBeGreaterThan(10);
    const documented = routeKeys();
    expect([...new Set(served)].filter((route) => !documented.has(route))).toEqual([]);
  });

  it('serves this document at /openapi.json', async () => {
    const app = await loadApp();
    const res = await app.request('/openapi.json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(openApiDocument('http://127.0.0.1:8080'));
  });
});
