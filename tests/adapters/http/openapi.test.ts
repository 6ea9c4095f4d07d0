import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../adapters/http/openapi.ts';
import { meetingEventTypes } from '../../../domain/meeting.ts';
import { seriesEventTypes } from '../../../domain/series.ts';
import { completeSettings, defaultSettings } from '../../../domain/settings.ts';
import { createSchemaChecker, isObj } from '../../support/json-schema.ts';
import type { Obj } from '../../support/json-schema.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// The public contract, kept in the repo so a clone tests on its own.
const contractPath = resolve(repoRoot, 'docs/api-contract.md');
const serverUrl = 'https://coaching.example.com';

const obj = (value: unknown, what: string): Obj => {
  if (!isObj(value)) throw new Error(`${what} is not an object`);
  return value;
};

const doc = openApiDocument(serverUrl);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const { validate, resolvePointer, deref } = createSchemaChecker(doc);

const operations = (): Array<{ path: string; method: string; op: Obj; pathItem: Obj }> => {
  const result: Array<{ path: string; method: string; op: Obj; pathItem: Obj }> = [];
  for (const [path, item] of Object.entries(obj(doc.paths, 'paths'))) {
    const pathItem = obj(item, path);
    for (const method of METHODS) {
      if (pathItem[method] !== undefined)
        result.push({ path, method, op: obj(pathItem[method], `${method} ${path}`), pathItem });
    }
  }
  return result;
};

const routeKeys = (): Set<string> => new Set(operations().map(({ method, path }) => `${method.toUpperCase()} ${path}`));

// `:name` and Hono's `:name{regex}` are both the template `{name}`.
const toTemplate = (path: string): string => path.replace(/:([A-Za-z_]\w*)(\{[^}]*\})?/g, '{$1}');

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

const componentSchema = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Every media type with a schema and an example or examples, anywhere requests or responses are described. */
const examplesInDocument = (): Array<{ where: string; schema: unknown; value: unknown }> => {
  const found: Array<{ where: string; schema: unknown; value: unknown }> = [];
  const fromContent = (content: unknown, where: string) => {
    if (!isObj(content)) return;
    for (const [mediaType, media] of Object.entries(content)) {
      if (!isObj(media) || media.schema === undefined || !mediaType.includes('json')) continue;
      if (media.example !== undefined)
        found.push({ where: `${where} ${mediaType}`, schema: media.schema, value: media.example });
      if (isObj(media.examples)) {
        for (const [name, example] of Object.entries(media.examples)) {
          found.push({
            where: `${where} ${mediaType} (${name})`,
            schema: media.schema,
            value: obj(deref(example), name).value,
          });
        }
      }
    }
  };
  for (const { path, method, op } of operations()) {
    const where = `${method.toUpperCase()} ${path}`;
    if (op.requestBody !== undefined)
      fromContent(obj(deref(op.requestBody), `${where} body`).content, `${where} request`);
    for (const [status, r] of Object.entries(obj(op.responses, `${where} responses`)))
      fromContent(obj(deref(r), status).content, `${where} ${status}`);
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
    const publicRoutes = [
      'GET /health',
      'GET /openapi.json',
      'GET /docs',
      'GET /call',
      'GET /docs/assets/{file}',
      'GET /static/{file}',
      'GET /signaling/origin-check',
      // The web app's page and files: it signs in with the refresh cookie, in the browser.
      'GET /',
      'GET /app',
      'GET /app/',
      'GET /app/{path}',
      // Sign-in: no credential yet (the cookie endpoints are refreshCookie).
      'GET /sign-in',
      'POST /auth/email-link',
      'POST /auth/session',
      'GET /auth/methods',
      'GET /auth/dev-people',
      'POST /auth/dev-session',
      // The browser's single sign-on: the provider and the flow cookie are its credentials.
      'GET /auth/oidc/start',
      'GET /auth/oidc/callback',
    ];
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(typeof op.operationId, where).toBe('string');
      expect(
        ids.has(op.operationId as string),
        `${where} repeats ${String(op.operationId)} of ${ids.get(op.operationId as string)}`,
      ).toBe(false);
      ids.set(op.operationId as string, where);
      expect(typeof op.summary, where).toBe('string');
      expect(Array.isArray(op.tags) && op.tags.length > 0, where).toBe(true);
      const responses = obj(op.responses, `${where} responses`);
      expect(Object.keys(responses).length, where).toBeGreaterThan(0);
      expect(
        Object.keys(responses).some((status) => /^[23]\d\d$/.test(status) || status === '101'),
        `${where} has a success answer`,
      ).toBe(true);
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
        for (const requirement of security)
          for (const name of Object.keys(requirement)) expect(schemes, where).toContain(name);
      }
    }
    expect(ids.size).toBe(operations().length);
  });

  it('declares every path parameter of every template, and no others', () => {
    for (const { path, method, op, pathItem } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      const inTemplate = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = [
        ...((pathItem.parameters as unknown[] | undefined) ?? []),
        ...((op.parameters as unknown[] | undefined) ?? []),
      ]
        .map((p) => obj(deref(p), `${where} parameter`))
        .filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), where).toEqual(inTemplate);
      for (const p of declared) expect(p.required, `${where} ${String(p.name)}`).toBe(true);
    }
  });

  // The contract is the project's own from v1.1 on (the shared original stays behind as the record of v1): every
  // operation of the document is in its table, so nothing reaches clients undocumented there.
  it('names every operation of the OpenAPI document in the contract table of docs/api-contract.md', () => {
    const routes = new Set(contractRoutes(readFileSync(contractPath, 'utf8')));
    expect([...routeKeys()].filter((route) => !routes.has(route))).toEqual([]);
  });

  it('covers every route in the contract table of docs/api-contract.md', () => {
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
      'GET /meetings/{id}/room',
      'GET /signaling',
      'GET /notifications',
      'POST /notifications/{id}/retry',
      'GET /calendar.ics',
      'POST /calendar/feed',
      'DELETE /calendar/feed',
      'GET /settings/history',
      'POST /series',
      'GET /series/{id}',
      'PATCH /series/{id}',
      'POST /series/{id}/cancel',
      'GET /series/{id}/history',
      'PUT /meetings/{id}/attendance/{personId}',
    ];
    expect(later.filter((route) => !documented.has(route))).toEqual([]);
  });

  it('has examples that fit their schemas', () => {
    const examples = examplesInDocument();
    expect(examples.length).toBeGreaterThan(25);
    const failures = examples.flatMap(({ where, schema, value }) =>
      validate(schema, value).map((e) => `${where}: ${e}`),
    );
    expect(failures).toEqual([]);
    const parameters = obj(obj(doc.components, 'components').parameters, 'parameters');
    for (const [name, p] of Object.entries(parameters)) {
      const parameter = obj(p, name);
      if (parameter.example !== undefined) expect(validate(parameter.schema, parameter.example), name).toEqual([]);
    }
  });

  // Swagger UI pre-fills a header parameter with its example or default and sends it: an `If-Match: "3"` made every
  // edit from the docs page a 412 unless the meeting happened to be at revision 3. A header's value is always the
  // caller's own (an ETag it was sent, its own idempotency key), so no header carries a value to copy.
  it('pre-fills no header with a value: no example, examples or default on any header parameter or response header', () => {
    // A request header's schema may not fix a value either (`const`, `enum`: Swagger UI offers them as the choice);
    // a response header may (`Cache-Control: no-store` is what the server sends).
    const prefilled = (where: string, thing: unknown, request = true): string[] => {
      const found: string[] = [];
      const item = obj(deref(thing), where);
      for (const key of ['example', 'examples', 'default'])
        if (item[key] !== undefined) found.push(`${where} has ${key}`);
      if (item.schema !== undefined) {
        const schemaObj = obj(deref(item.schema), `${where} schema`);
        for (const key of ['example', 'examples', 'default', ...(request ? ['const', 'enum'] : [])]) {
          if (schemaObj[key] !== undefined) found.push(`${where} schema has ${key}`);
        }
      }
      if (isObj(item.content)) {
        for (const [type, media] of Object.entries(item.content)) {
          for (const key of ['example', 'examples'])
            if (isObj(media) && media[key] !== undefined) found.push(`${where} ${type} has ${key}`);
        }
      }
      return found;
    };
    const failures: string[] = [];
    let headerParameters = 0;
    for (const { path, method, op, pathItem } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      const parameters = [
        ...(Array.isArray(pathItem.parameters) ? pathItem.parameters : []),
        ...(Array.isArray(op.parameters) ? op.parameters : []),
      ];
      for (const p of parameters) {
        const parameter = obj(deref(p), where);
        if (parameter.in !== 'header') continue;
        headerParameters += 1;
        failures.push(...prefilled(`${where} header ${String(parameter.name)}`, parameter));
      }
      for (const [status, r] of Object.entries(obj(op.responses, `${where} responses`))) {
        const headers = obj(deref(r), status).headers;
        if (isObj(headers))
          for (const [name, h] of Object.entries(headers))
            failures.push(...prefilled(`${where} ${status} header ${name}`, h, false));
      }
    }
    expect(headerParameters).toBeGreaterThan(10);
    expect(failures).toEqual([]);
  });

  it('describes the default settings of the domain', () => {
    expect(validate(componentSchema('Settings'), completeSettings(defaultSettings))).toEqual([]);
    expect(validate(componentSchema('Settings'), { ...completeSettings(defaultSettings), debugLevel: 10 })).not.toEqual(
      [],
    );
    // A body from before the instructor templates existed is still a valid PUT body, and GET always shows them.
    const {
      instructorSubject: _subject,
      instructorBodyTemplate: _body,
      ...today
    } = defaultSettings.notifications.cancellation;
    const todaysBody = { ...defaultSettings, notifications: { cancellation: today } };
    expect(validate(componentSchema('SettingsInput'), todaysBody)).toEqual([]);
    expect(validate(componentSchema('SettingsInput'), defaultSettings)).toEqual([]);
    expect(validate(componentSchema('Settings'), todaysBody)).not.toEqual([]);
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
    expect(
      validate(componentSchema('Problem'), {
        type: 'about:blank',
        title: 'Validation failed',
        status: 400,
        detail: 'x',
        errors: [{ path: 'end' }],
      }),
    ).not.toEqual([]);
  });
});

describe('the schemas of answers', () => {
  it('describe the payload of every event type a history can show', () => {
    const schemas = obj(obj(doc.components, 'components').schemas, 'schemas');
    for (const type of [...meetingEventTypes, ...seriesEventTypes, 'SettingsChanged'])
      expect(schemas, type).toHaveProperty(`${type}Event`);
    const entry = (type: string, data: unknown) => ({
      revision: 0,
      position: 1,
      type,
      at: '2026-03-02T10:00:00.000Z',
      actor: { id: 'a', roles: ['admin'] },
      data,
    });
    const by = { id: 'a', roles: ['admin'] };
    const confirmed = { meetingId: 'm', at: '2026-03-02T10:00:00.000Z', by };
    expect(validate(componentSchema('HistoryEntry'), entry('MeetingConfirmed', confirmed))).toEqual([]);
    expect(
      validate(componentSchema('HistoryEntry'), entry('MeetingConfirmed', { ...confirmed, extra: 1 })),
    ).not.toEqual([]);
    expect(validate(componentSchema('HistoryEntry'), entry('MeetingConfirmed', { at: confirmed.at, by }))).not.toEqual(
      [],
    );
    // Types this document does not know yet pass with any payload object.
    expect(validate(componentSchema('HistoryEntry'), entry('SomethingLater', { anything: true }))).toEqual([]);
  });

  it('tie notification fields to the status', () => {
    const base = {
      id: 'a'.repeat(32),
      topic: 'cancelled',
      kind: 'meeting',
      meetingIds: ['m'],
      cancellationEventId: 'e',
      recipient: { personId: 'p', role: 'customer' },
      announcedMeetingIds: [],
      attempts: 0,
      round: 0,
      createdAt: '2026-03-02T10:00:00.000Z',
      updatedAt: '2026-03-02T10:00:00.000Z',
      revision: 1,
    };
    const notification = componentSchema('Notification');
    expect(validate(notification, { ...base, status: 'pending' })).toEqual([]);
    expect(validate(notification, { ...base, status: 'skipped', reason: 'ended' })).toEqual([]);
    expect(validate(notification, { ...base, status: 'skipped', reason: 'no address' })).not.toEqual([]);
    expect(validate(notification, { ...base, status: 'skipped' })).not.toEqual([]);
    expect(validate(notification, { ...base, status: 'undeliverable', reason: 'no address' })).toEqual([]);
    expect(validate(notification, { ...base, status: 'sent' })).not.toEqual([]);
    expect(validate(notification, { ...base, status: 'sent', providerMessageId: 'x', sentAt: base.createdAt })).toEqual(
      [],
    );
    expect(validate(notification, { ...base, status: 'failed' })).not.toEqual([]);
    expect(validate(notification, { ...base, status: 'pending', key: 'old field' })).not.toEqual([]);
  });

  it('describe double-booking conflicts as the booking guard reports them', () => {
    const slot = { start: '2026-03-02T10:30:00.000Z', end: '2026-03-02T11:30:00.000Z' };
    const conflict = {
      meetingId: 'm',
      start: '2026-03-02T10:00:00.000Z',
      end: '2026-03-02T11:00:00.000Z',
      participant: 'customer',
      userId: 'c',
      slot,
    };
    const problem = { type: 'about:blank', title: 'Conflict', status: 409, detail: 'x', conflicts: [conflict] };
    expect(validate(componentSchema('Problem'), problem)).toEqual([]);
    // A meeting the caller may not see is reported by the blocked slot alone.
    expect(
      validate(componentSchema('Problem'), { ...problem, conflicts: [{ participant: 'customer', userId: 'c', slot }] }),
    ).toEqual([]);
    expect(
      validate(componentSchema('Problem'), { ...problem, conflicts: [{ participant: 'customer', userId: 'c' }] }),
    ).not.toEqual([]);
    expect(
      validate(componentSchema('Problem'), { ...problem, conflicts: [{ ...conflict, participant: 'admin' }] }),
    ).not.toEqual([]);
    expect(
      validate(componentSchema('Problem'), {
        type: 'about:blank',
        title: 'Precondition failed',
        status: 412,
        detail: 'x',
      }),
    ).not.toEqual([]);
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
      // Route registration never touches the services; requests below stay on unauthenticated routes.
      service: {} as Deps['service'],
      authenticate: async () => E.left({ reason: 'missing' as const, message: 'no token' }),
      logger: pino({ level: 'silent' }),
      health: async () => ({ status: 'ok', body: {} }),
      publicBaseUrl: 'http://127.0.0.1:8080',
      series: {} as Deps['series'],
      join: {} as Deps['join'],
      notifications: {} as Deps['notifications'],
      webhooks: {} as Deps['webhooks'],
      audit: {} as Deps['audit'],
      calendarFeeds: { service: {} as Deps['calendarFeeds']['service'], render: () => E.left('unused') },
      readVersion: () => undefined,
      idempotency: {} as Deps['idempotency'],
      signaling: { originAllowed: () => false, suggestedOrigin: () => undefined },
    });
  };

  it('documents every route the HTTP app registers', async () => {
    const app = await loadApp();
    // Static files (the docs page's and the call page's scripts) included: a client may ask for them too.
    const served = app.routes
      .filter((route) => route.method !== 'ALL')
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
