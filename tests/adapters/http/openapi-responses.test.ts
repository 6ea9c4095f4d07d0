import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../adapters/http/openapi.ts';
import { eventually } from '../../support/fake-resend.ts';
import { createSchemaChecker, isObj } from '../../support/json-schema.ts';
import type { Obj } from '../../support/json-schema.ts';
import { defaultAccessProvider } from '../../../application/default-access.ts';
import { client, startTestSystem } from '../../support/system.ts';
import type { Client, TestSystem } from '../../support/system.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordPerson } from '../../support/directory.ts';
import { startWebhookReceiver } from '../../support/webhook-receiver.ts';

/**
 * Real answers of the running system (real SQLite, real sockets, the dev outbox mailer) checked against the OpenAPI
 * document: the status must be documented for the operation, and the media type, the body and the headers must fit
 * what the document says about that status.
 */

const doc = openApiDocument('http://127.0.0.1');
const checker = createSchemaChecker(doc);
const paths = doc.paths as Obj;

type Answer = { status: number; body: unknown; headers: Headers };

const operationOf = (method: string, template: string): Obj | undefined => {
  const item = paths[template];
  const op = isObj(item) ? item[method.toLowerCase()] : undefined;
  return isObj(op) ? op : undefined;
};

/** Every way a real answer departs from the document; empty when it conforms. */
const conformance = (method: string, template: string, res: Answer): string[] => {
  const where = `${method} ${template} → ${res.status}`;
  const op = operationOf(method, template);
  if (op === undefined) return [`${method} ${template} is not documented`];
  const documented = checker.deref((op.responses as Obj)[String(res.status)]);
  if (!isObj(documented)) return [`${where}: the status is not documented for this operation`];
  const errors: string[] = [];
  for (const [name, h] of Object.entries(isObj(documented.headers) ? documented.headers : {})) {
    const header = checker.deref(h) as Obj;
    const value = res.headers.get(name);
    if (value === null) {
      if (header.required === true) errors.push(`${where}: header ${name} is missing`);
      continue;
    }
    const s = checker.deref(header.schema) as Obj;
    const typed = s.type === 'integer' || s.type === 'number' ? Number(value) : value;
    errors.push(...checker.validate(header.schema, typed, `${where} header ${name}`));
  }
  const content = documented.content;
  if (!isObj(content)) {
    if (res.body !== undefined) errors.push(`${where}: a body was sent but the document describes none`);
    return errors;
  }
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const media = content[mediaType];
  if (!isObj(media))
    return [...errors, `${where}: media type '${mediaType}' is not documented (${Object.keys(content).join(', ')})`];
  errors.push(...checker.validate(media.schema, res.body, `${where} body`));
  return errors;
};

/** `METHOD /template STATUS` of every answer checked so far. */
const checked = new Set<string>();

interface Send {
  readonly path?: Record<string, string>;
  readonly query?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** Calls `route` (`GET /meetings/{id}`), expects `status`, and checks the answer against the document. */
const send = async (
  who: Client,
  route: string,
  status: number,
  options: Send = {},
): Promise<{ status: number; body: any; headers: Headers }> => {
  const [method = '', template = ''] = route.split(' ');
  const url =
    template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = options.path?.[name];
      if (value === undefined) throw new Error(`${route}: no value for {${name}}`);
      return encodeURIComponent(value);
    }) + (options.query !== undefined ? `?${options.query}` : '');
  const res = await who.request(method, url, options.body, options.headers);
  expect(res.status, `${route} answered ${JSON.stringify(res.body)}`).toBe(status);
  expect(conformance(method, template, res)).toEqual([]);
  checked.add(`${route} ${status}`);
  return res;
};

const NOW = new Date('2030-03-01T12:00:00Z');
const at = (iso: string) => new Date(iso).toISOString();
const minutesFromNow = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();

let sys: TestSystem;
let anonymous: Client;
let admin: Client;
let ivan: Client;
let olga: Client;
let cora: Client;
let cam: Client;
let oscar: Client;

const meeting = (overrides: Record<string, unknown> = {}) => ({
  title: 'Strength basics',
  customerId: 'cora',
  instructorId: 'ivan',
  start: at('2030-03-10T10:00:00Z'),
  end: at('2030-03-10T11:00:00Z'),
  trainingType: '1-1',
  ...overrides,
});

type Notice = {
  id: string;
  status: string;
  kind: string;
  reason?: string;
  recipient: { personId: string; role: string };
};

/** The `count` notifications of a meeting, customer's first, once none is pending any more. */
const settledNotices = (meetingId: string, count: number): Promise<Notice[]> =>
  eventually(async () => {
    const res = await admin.request('GET', `/notifications?meetingId=${encodeURIComponent(meetingId)}`);
    const items = res.status === 200 ? (res.body.items as Notice[]) : [];
    if (items.length !== count || items.some((n) => n.status === 'pending')) return undefined;
    return [...items].sort((a, b) =>
      a.recipient.role === b.recipient.role ? 0 : a.recipient.role === 'customer' ? -1 : 1,
    );
  }, `${count} notifications of ${meetingId} to settle`);

beforeAll(async () => {
  sys = await startTestSystem({
    system: {
      clock: () => NOW,
      notifications: { baseDelayMs: 20, maxDelayMs: 100 },
      // A site's provider that knows cam and olga before the people directory does (so their notices start undeliverable).
      access: (queries) => {
        const base = defaultAccessProvider(queries);
        return { ...base, personExists: async (id) => id === 'cam' || id === 'olga' || base.personExists(id) };
      },
    },
  });
  anonymous = client(sys.url, undefined);
  admin = await sys.as('ada', ['admin']);
  ivan = await sys.as('ivan', ['instructor']);
  olga = await sys.as('olga', ['instructor']);
  cora = await sys.as('cora', ['customer']);
  cam = await sys.as('cam', ['customer']);
  oscar = await sys.as('oscar', ['customer']);
  await send(admin, 'PUT /people/{id}', 200, {
    path: { id: 'cora' },
    body: { name: 'Cora Customer', email: 'cora@example.com', timezone: 'America/Chicago' },
  });
  await send(admin, 'PUT /people/{id}', 200, {
    path: { id: 'ivan' },
    body: { name: 'Ivan Instructor', email: 'ivan@example.com' },
  });
});

afterAll(async () => {
  await sys.destroy();
});

describe('real answers fit the OpenAPI document', () => {
  it('health and the document itself', async () => {
    const health = await send(anonymous, 'GET /health', 200);
    expect(health.body.store).toEqual({ name: 'sqlite', status: 'ok' });
    expect(Object.keys(health.body.projections)).toEqual(expect.arrayContaining(['meetings', 'cancellation-notices']));
    await send(anonymous, 'GET /openapi.json', 200);
  });

  // Pages and files outside the JSON API are part of the document too, and so is the signaling path asked without
  // a WebSocket upgrade (it answered an undocumented 401, or 404 with a token, where the document said 400 text/plain).
  it('the docs page, the call page, their files, and the signaling path without an upgrade', async () => {
    await send(anonymous, 'GET /docs', 200);
    const toApp = await fetch(`${sys.url}/call?meeting=m-1`, { redirect: 'manual' });
    expect(toApp.status).toBe(302);
    expect(toApp.headers.get('location')).toBe('/app/call/m-1');
    await send(anonymous, 'GET /call', 400, { query: 'meeting=' });
    const css = await send(anonymous, 'GET /docs/assets/{file}', 200, { path: { file: 'swagger-ui.css' } });
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    await send(anonymous, 'GET /docs/assets/{file}', 200, { path: { file: 'init.js' } });
    await send(anonymous, 'GET /docs/assets/{file}', 404, { path: { file: 'constructor' } });
    const script = await send(anonymous, 'GET /static/{file}', 200, { path: { file: 'simplepeer.min.js' } });
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    await send(anonymous, 'GET /static/{file}', 404, { path: { file: 'call.html' } });
    await send(anonymous, 'GET /static/{file}', 404, { path: { file: '../package.json' } });
    for (const who of [anonymous, cora]) {
      const plain = await send(who, 'GET /signaling', 426, { query: 'ticket=abc' });
      expect(plain.headers.get('upgrade')).toBe('websocket');
    }
    // Not dev mode here (a configured secret): only the public origin is allowed, and it is the one suggested.
    const own = new URL(sys.system.publicBaseUrl).origin;
    const refused = await send(anonymous, 'GET /signaling/origin-check', 200, {
      query: `origin=${encodeURIComponent('http://evil.example')}`,
    });
    expect(refused.body).toEqual({ origin: 'http://evil.example', allowed: false, suggestedOrigin: own });
    const allowed = await send(anonymous, 'GET /signaling/origin-check', 200, {
      query: `origin=${encodeURIComponent(`${own}/call?x=1`)}`,
    });
    expect(allowed.body).toEqual({ origin: own, allowed: true });
    for (const query of [
      '',
      'origin=javascript%3Aalert(1)',
      `origin=http://${'a'.repeat(2100)}.example`,
      'origin=http://a.example&extra=1',
    ]) {
      await send(anonymous, 'GET /signaling/origin-check', 400, { query });
    }
  });

  it('people', async () => {
    const self = await send(cora, 'GET /people/{id}', 200, { path: { id: 'cora' } });
    expect(self.body).toEqual({
      id: 'cora',
      name: 'Cora Customer',
      email: 'cora@example.com',
      timezone: 'America/Chicago',
      roles: [],
      active: true,
      updatedAt: NOW.toISOString(),
    });
    await send(admin, 'GET /people/{id}', 200, { path: { id: 'ivan' } });
    const listed = await send(admin, 'GET /people', 200, { query: 'query=co&limit=1' });
    expect(listed.body.items.map((p: { id: string }) => p.id)).toEqual(['cora']);
    const me = await send(cora, 'GET /me', 200);
    expect(me.body).toMatchObject({ id: 'cora', roles: ['customer'], inDirectory: true, active: true });
    await send(cora, 'GET /people', 403);
    const names = await send(admin, 'GET /directory/names', 200, { query: 'query=co' });
    expect(names.body.items).toEqual([{ id: 'cora', name: 'Cora Customer', timezone: 'America/Chicago' }]);
    await send(cora, 'GET /directory/names', 403);
    await send(ivan, 'GET /directory/names', 403, { query: 'role=admin' });
    await send(admin, 'GET /directory/names', 400, { query: 'limit=0' });
    const badList = await send(admin, 'GET /people', 400, { query: 'role=boss&limit=500' });
    expect(badList.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['limit', 'role']);
    await send(cora, 'GET /people/{id}', 403, { path: { id: 'ivan' } });
    await send(ivan, 'PUT /people/{id}', 403, {
      path: { id: 'ivan' },
      body: { name: 'Ivan', email: 'ivan@example.com' },
    });
    const invalid = await send(admin, 'PUT /people/{id}', 400, {
      path: { id: 'x' },
      body: { name: ' ', email: 'not-an-address', nickname: 'x' },
    });
    expect(invalid.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['nickname']);
    const domainInvalid = await send(admin, 'PUT /people/{id}', 400, {
      path: { id: 'x' },
      body: { name: ' ', email: 'not-an-address' },
    });
    expect(domainInvalid.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['email', 'name']);
    await send(admin, 'PUT /people/{id}', 400, { path: { id: 'x' } });
    const imported = await send(admin, 'POST /people/import', 200, {
      query: 'dryRun=true',
      body: 'id,name,email,branch\nimp-1,Ivo Import,ivo@example.com,north\nimp-2,Ina,not-an-address,\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(imported.body).toMatchObject({ dryRun: true, created: 1, bad: [{ line: 3, id: 'imp-2' }] });
    await send(cora, 'POST /people/import', 403, {
      body: [{ id: 'imp-1', name: 'Ivo', email: 'ivo@example.com' }],
    });
    await send(admin, 'POST /people/import', 415, { body: 'x', headers: { 'content-type': 'text/plain' } });
  });

  it('a meeting through its whole life cycle, with its history', async () => {
    const created = await send(ivan, 'POST /meetings', 201, {
      body: meeting({
        timezone: 'Europe/Amsterdam',
        description: 'Bring a towel.',
        customerMetadata: 'crm:1',
        instructorMetadata: 'payroll:2',
        trainingType: 'link',
        remoteLink: 'https://meet.example.com/abc',
      }),
    });
    const id = created.body.id as string;
    const path = { id };
    expect(created.headers.get('location')).toBe(`/meetings/${id}`);
    expect((await send(admin, 'GET /meetings/{id}', 200, { path })).body).toMatchObject({
      customerMetadata: 'crm:1',
      instructorMetadata: 'payroll:2',
    });
    expect((await send(ivan, 'GET /meetings/{id}', 200, { path })).body).not.toHaveProperty('instructorMetadata');
    expect((await send(cora, 'GET /meetings/{id}', 200, { path })).body).not.toHaveProperty('customerMetadata');
    await send(cora, 'GET /meetings/{id}', 304, { path, headers: { 'if-none-match': '"0"' } });
    await send(oscar, 'GET /meetings/{id}', 404, { path });

    await send(ivan, 'PATCH /meetings/{id}', 200, {
      path,
      body: { title: 'Strength II', description: 'Mat too.', customerMetadata: 'crm:3' },
      headers: { 'if-match': '"0"' },
    });
    await send(ivan, 'PATCH /meetings/{id}', 200, {
      path,
      body: { start: '2030-03-10T12:00:00+01:00', end: '2030-03-10T13:30:00+01:00', timezone: 'Europe/Berlin' },
    });
    const native = await send(admin, 'PATCH /meetings/{id}', 200, { path, body: { trainingType: '1-1' } });
    expect(native.body).not.toHaveProperty('remoteLink');
    const stale = await send(ivan, 'PATCH /meetings/{id}', 412, {
      path,
      body: { title: 'x' },
      headers: { 'if-match': '"0"' },
    });
    expect(stale.body.currentRevision).toBe(3);
    await send(ivan, 'PATCH /meetings/{id}', 400, { path, body: { title: 'x' }, headers: { 'if-match': 'three' } });
    await send(ivan, 'PATCH /meetings/{id}', 400, { path, body: { strat: '2030-03-10T10:00:00Z', customerId: 'cam' } });
    await send(cora, 'PATCH /meetings/{id}', 403, { path, body: { title: 'x' } });

    await send(ivan, 'POST /meetings/{id}/confirm', 200, { path });
    await send(ivan, 'POST /meetings/{id}/confirm', 409, { path });
    const cancelled = await send(ivan, 'POST /meetings/{id}/cancel', 200, {
      path,
      body: { reason: 'Instructor is ill' },
    });
    expect(cancelled.body).toMatchObject({ state: 'cancelled', cancellationReason: 'Instructor is ill' });
    await send(ivan, 'POST /meetings/{id}/cancel', 409, { path });
    await send(ivan, 'PATCH /meetings/{id}', 409, { path, body: { title: 'x' } });
    await send(cora, 'POST /meetings/{id}/cancel', 403, { path });
    await send(ivan, 'POST /meetings/{id}/reinstate', 200, { path });
    await send(ivan, 'POST /meetings/{id}/reinstate', 409, { path });

    const history = await send(cora, 'GET /meetings/{id}/history', 200, { path });
    expect(history.body.events.map((e: { type: string }) => e.type)).toEqual([
      'MeetingScheduled',
      'MeetingDetailsChanged',
      'MeetingRescheduled',
      'TrainingTypeChanged',
      'MeetingConfirmed',
      'SessionCancelled',
      'MeetingReinstated',
    ]);
    await send(oscar, 'GET /meetings/{id}/history', 404, { path });
    await send(admin, 'GET /meetings/{id}', 404, { path: { id: 'no-such-meeting' } });
  });

  it('refused meetings: forbidden, double booked, invalid, and bodies the server will not read', async () => {
    await send(cora, 'POST /meetings', 403, {
      body: meeting({ start: at('2030-03-11T10:00:00Z'), end: at('2030-03-11T11:00:00Z') }),
    });
    await send(olga, 'POST /meetings', 403, {
      body: meeting({ start: at('2030-03-11T10:00:00Z'), end: at('2030-03-11T11:00:00Z') }),
    });
    const first = await send(admin, 'POST /meetings', 201, {
      body: meeting({ start: at('2030-03-11T10:00:00Z'), end: at('2030-03-11T11:00:00Z') }),
    });
    const clash = await send(admin, 'POST /meetings', 409, {
      body: meeting({ customerId: 'cam', start: at('2030-03-11T10:30:00Z'), end: at('2030-03-11T11:30:00Z') }),
    });
    expect(clash.body.conflicts).toEqual([
      {
        meetingId: first.body.id,
        start: '2030-03-11T10:00:00.000Z',
        end: '2030-03-11T11:00:00.000Z',
        participant: 'instructor',
        userId: 'ivan',
        slot: { start: '2030-03-11T10:30:00.000Z', end: '2030-03-11T11:30:00.000Z' },
      },
    ]);
    const invalid = await send(admin, 'POST /meetings', 400, {
      body: meeting({
        end: at('2030-03-10T09:00:00Z'),
        trainingType: 'link',
        remoteLink: 'http://insecure.example.com',
      }),
    });
    expect(invalid.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['end', 'remoteLink']);
    await send(admin, 'POST /meetings', 400, { body: '{"title": ', headers: { 'content-type': 'application/json' } });
    await send(admin, 'POST /meetings', 415, {
      body: 'title=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    await send(admin, 'POST /meetings', 413, { body: JSON.stringify({ title: 'x'.repeat(70_000) }) });
  });

  it('no token, or a bad one: 401 with WWW-Authenticate', async () => {
    const missing = await send(anonymous, 'GET /meetings/{id}', 401, { path: { id: 'x' } });
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    await send(client(sys.url, 'not.a.token'), 'GET /calendar', 401, {
      query: 'from=2030-03-01T00:00:00Z&to=2030-04-01T00:00:00Z',
    });
  });

  it('calendars', async () => {
    const own = await send(cora, 'GET /calendar', 200, { query: 'from=2030-03-01T00:00:00Z&to=2030-04-01T00:00:00Z' });
    expect(own.body.items.length).toBeGreaterThanOrEqual(2);
    expect(own.body.items[0]).toMatchObject({ role: 'customer', counterpartName: 'Ivan Instructor' });
    await send(admin, 'GET /calendar', 200, { query: 'from=2030-03-01T00:00:00Z&to=2030-04-01T00:00:00Z&userId=ivan' });
    await send(cora, 'GET /calendar', 403, { query: 'from=2030-03-01T00:00:00Z&to=2030-04-01T00:00:00Z&userId=ivan' });
    const backwards = await send(cora, 'GET /calendar', 400, {
      query: 'from=2030-04-01T00:00:00Z&to=2030-03-01T00:00:00Z',
    });
    expect(backwards.body.errors).toEqual([{ path: 'to', message: 'must be after from' }]);
    await send(cora, 'GET /calendar', 400, { query: 'from=yesterday&sort=start' });
  });

  it('the calendar feed: subscribe, fetch without a bearer token, revoke', async () => {
    const own = await send(cora, 'POST /calendar/feed', 201);
    expect(own.headers.get('cache-control')).toBe('no-store');
    const forIvan = await send(admin, 'POST /calendar/feed', 201, { body: { userId: 'ivan' } });
    await send(cora, 'POST /calendar/feed', 403, { body: { userId: 'ivan' } });
    await send(cora, 'POST /calendar/feed', 400, { body: { userId: 'cora', nickname: 'x' } });
    const ics = await send(anonymous, 'GET /calendar.ics', 200, {
      query: `token=${encodeURIComponent(own.body.token)}`,
    });
    expect(ics.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    expect(ics.body).toMatch(/^BEGIN:VCALENDAR\r\n[\s\S]*BEGIN:VEVENT\r\n[\s\S]*END:VCALENDAR\r\n$/);
    await send(ivan, 'DELETE /calendar/feed', 204);
    await send(anonymous, 'GET /calendar.ics', 401, { query: `token=${encodeURIComponent(forIvan.body.token)}` });
    await send(cora, 'DELETE /calendar/feed', 403, { query: 'userId=ivan' });
    await send(cora, 'DELETE /calendar/feed', 400, { query: 'user=cora' });
    await send(admin, 'DELETE /calendar/feed', 204, { query: 'userId=cora' });
    await send(anonymous, 'GET /calendar.ics', 401, { query: `token=${encodeURIComponent(own.body.token)}` });
  });

  it('settings and their history', async () => {
    const current = await send(admin, 'GET /settings', 200);
    await send(cora, 'GET /settings', 403);
    const cancellation = {
      ...current.body.notifications.cancellation,
      subject: 'Cancelled: {{meetingTitle}}',
      notifyInstructor: true,
    };
    const next = { ...current.body, notifications: { cancellation } };
    expect((await send(admin, 'PUT /settings', 200, { body: next })).body).toMatchObject(next);
    await send(ivan, 'PUT /settings', 403, { body: next });
    const bad = await send(admin, 'PUT /settings', 400, {
      body: { ...next, notifications: { cancellation: { ...cancellation, bodyTemplate: '{{meetingTitel}}' } } },
    });
    expect(bad.body.errors[0].path).toBe('notifications.cancellation.bodyTemplate');
    await send(admin, 'PUT /settings', 400, { body: { ...next, debugLevel: 10 } });
    const history = await send(admin, 'GET /settings/history', 200);
    expect(history.body.events.map((e: { type: string }) => e.type)).toEqual(['SettingsChanged']);
    await send(ivan, 'GET /settings/history', 403);
    const tokens = await send(admin, 'GET /settings/template-tokens', 200);
    expect(tokens.body.series).toContain('sessionList');
    await send(cora, 'GET /settings/template-tokens', 403);
    const preview = await send(admin, 'POST /settings/preview', 200, {
      body: { subject: cancellation.subject, bodyTemplate: cancellation.bodyTemplate },
    });
    expect(preview.body.subject).toContain('Cancelled:');
    await send(admin, 'POST /settings/preview', 400, { body: { subject: '{{nope}}', bodyTemplate: '' } });
    await send(ivan, 'POST /settings/preview', 403, { body: { subject: 'x', bodyTemplate: 'y' } });
  });

  it('a series: create, read, change, cancel from an instant, cancel the rest, history', async () => {
    const body = {
      title: 'Weekly yoga',
      customerId: 'cora',
      instructorId: 'ivan',
      trainingType: 'link',
      remoteLink: 'https://meet.example.com/yoga',
      description: 'Mat required.',
      customerMetadata: 'crm:9',
      instructorMetadata: 'payroll:9',
      timezone: 'Europe/Amsterdam',
      startDate: '2030-04-01',
      startTime: '10:00',
      durationMinutes: 45,
      rrule: 'rrule:freq=weekly;byday=MO,WE;count=6',
      exclusions: ['2030-04-08'],
    };
    await send(cora, 'POST /series', 403, { body });
    const preview = await send(ivan, 'POST /series/preview', 200, { body });
    expect(preview.body.occurrences).toHaveLength(5);
    await send(cora, 'POST /series/preview', 403, { body });
    await send(ivan, 'POST /series/preview', 400, { body: { ...body, startTime: '25:00' } });
    const invalid = await send(ivan, 'POST /series', 400, {
      body: { ...body, rrule: 'FREQ=WEEKLY;BYDAY=MO', startTime: '25:00' },
    });
    expect(invalid.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['rrule', 'startTime']);
    const created = await send(ivan, 'POST /series', 201, { body });
    expect(created.body).toMatchObject({
      rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6',
      state: 'active',
      customerMetadata: 'crm:9',
    });
    expect(created.body).not.toHaveProperty('instructorMetadata');
    const id = created.body.id as string;
    const path = { id };
    const occurrences = created.body.occurrences as Array<{ meetingId: string; localDate: string; start: string }>;
    expect(occurrences.map((o) => o.localDate)).not.toContain('2030-04-08');

    await send(admin, 'GET /series/{id}', 200, { path });
    expect((await send(cora, 'GET /series/{id}', 200, { path })).body).not.toHaveProperty('customerMetadata');
    await send(oscar, 'GET /series/{id}', 404, { path });

    await send(ivan, 'PATCH /series/{id}', 200, { path, body: { title: 'Yoga', description: 'Bring water.' } });
    const mondays = await send(ivan, 'PATCH /series/{id}', 200, {
      path,
      body: { rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=4' },
    });
    expect(mondays.body.occurrences.filter((o: { state: string }) => o.state === 'cancelled').length).toBeGreaterThan(
      0,
    );
    await send(ivan, 'PATCH /series/{id}', 412, { path, body: { title: 'x' }, headers: { 'if-match': '"0"' } });
    await send(ivan, 'PATCH /series/{id}', 400, { path, body: { customerId: 'cam' } });
    await send(cora, 'PATCH /series/{id}', 403, { path, body: { title: 'x' } });

    const active = (mondays.body.occurrences as Array<{ start: string; state: string }>).filter(
      (o) => o.state !== 'cancelled',
    );
    const from = active[1]!.start;
    const partly = await send(ivan, 'POST /series/{id}/cancel', 200, { path, body: { from, reason: 'Studio closed' } });
    expect(partly.body).toMatchObject({ state: 'active', cancelledFrom: from });
    const all = await send(ivan, 'POST /series/{id}/cancel', 200, { path });
    expect(all.body.state).toBe('cancelled');
    await send(ivan, 'POST /series/{id}/cancel', 409, { path, body: {} });
    await send(ivan, 'PATCH /series/{id}', 409, { path, body: { title: 'x' } });
    await send(cora, 'POST /series/{id}/cancel', 403, { path });

    const history = await send(cora, 'GET /series/{id}/history', 200, { path });
    expect(history.body.events.map((e: { type: string }) => e.type)).toEqual([
      'SeriesScheduled',
      'SeriesDetailsChanged',
      'SeriesRecurrenceChanged',
      'SeriesOccurrencesCancelled',
      'SeriesCancelled',
      'SeriesCancelled',
    ]);
    await send(oscar, 'GET /series/{id}/history', 404, { path });
    const occurrence = await send(cora, 'GET /meetings/{id}/history', 200, { path: { id: occurrences[0]!.meetingId } });
    expect(occurrence.body.events.at(-1)).toMatchObject({
      type: 'SessionCancelled',
      data: { origin: 'series', seriesId: id },
    });
    await send(admin, 'GET /meetings/{id}', 200, { path: { id: occurrences[0]!.meetingId } });
  });

  it('a series that would double book is refused with its conflicts', async () => {
    const taken = await send(admin, 'POST /meetings', 201, {
      body: meeting({ customerId: 'cam', start: at('2030-06-03T08:00:00Z'), end: at('2030-06-03T09:00:00Z') }),
    });
    const clash = await send(admin, 'POST /series', 409, {
      body: {
        title: 'Clash',
        customerId: 'cora',
        instructorId: 'ivan',
        trainingType: '1-1',
        timezone: 'UTC',
        startDate: '2030-06-03',
        startTime: '08:30',
        durationMinutes: 60,
        rrule: 'FREQ=DAILY;COUNT=3',
      },
    });
    expect(clash.body.conflicts).toEqual([
      expect.objectContaining({ meetingId: taken.body.id, participant: 'instructor', userId: 'ivan' }),
    ]);
  });

  it('joining: an outside link, a native call, and the refusals', async () => {
    const link = await send(admin, 'POST /meetings', 201, {
      body: meeting({
        customerId: 'cam',
        instructorId: 'olga',
        trainingType: 'link',
        remoteLink: 'https://meet.example.com/now',
        start: minutesFromNow(-5),
        end: minutesFromNow(55),
      }),
    });
    const linkAnswer = await send(cam, 'POST /meetings/{id}/join', 200, { path: { id: link.body.id } });
    expect(linkAnswer.body).toEqual({
      mode: 'link',
      url: 'https://meet.example.com/now',
      role: 'customer',
      link: expect.stringMatching(/\/call\?meeting=[^#]+#link=jl1\./),
    });
    await send(olga, 'POST /meetings/{id}/join', 200, { path: { id: link.body.id } });

    const native = await send(admin, 'POST /meetings', 201, {
      body: meeting({ start: minutesFromNow(-5), end: minutesFromNow(25) }),
    });
    const nativeAnswer = await send(cora, 'POST /meetings/{id}/join', 200, { path: { id: native.body.id } });
    expect(nativeAnswer.body).toMatchObject({ mode: 'native', role: 'customer', expiresAt: minutesFromNow(1) });
    expect(nativeAnswer.body.signalingUrl).toMatch(/^ws:\/\/localhost:\d+\/signaling$/);
    await send(ivan, 'POST /meetings/{id}/join', 200, { path: { id: native.body.id } });
    const room = await send(cora, 'GET /meetings/{id}/room', 200, { path: { id: native.body.id } });
    expect(room.body).toEqual({ participants: [] });
    await send(oscar, 'GET /meetings/{id}/room', 404, { path: { id: native.body.id } });

    await send(admin, 'POST /meetings/{id}/join', 403, { path: { id: native.body.id } });
    await send(oscar, 'POST /meetings/{id}/join', 404, { path: { id: native.body.id } });
    const later = await send(admin, 'POST /meetings', 201, {
      body: meeting({ customerId: 'cam', start: at('2030-07-01T10:00:00Z'), end: at('2030-07-01T11:00:00Z') }),
    });
    await send(cam, 'POST /meetings/{id}/join', 409, { path: { id: later.body.id } });
    await send(ivan, 'POST /meetings/{id}/cancel', 200, { path: { id: native.body.id } });
    await send(ivan, 'POST /meetings/{id}/join', 409, { path: { id: native.body.id } });
  });

  it('attendance: a mark, read back with the meeting and the calendar, and the refusals', async () => {
    const past = await send(admin, 'POST /meetings', 201, {
      body: meeting({
        customerId: 'cam',
        instructorId: 'olga',
        start: minutesFromNow(-300),
        end: minutesFromNow(-240),
      }),
    });
    const path = { id: past.body.id, personId: 'cam' };
    const marked = await send(olga, 'PUT /meetings/{id}/attendance/{personId}', 200, {
      path,
      body: { status: 'no-show' },
    });
    expect(marked.body).toMatchObject({ personId: 'cam', status: 'no-show', markedBy: { id: 'olga' } });
    const read = await send(cam, 'GET /meetings/{id}', 200, { path: { id: past.body.id } });
    expect(read.body.attendance[0].status).toBe('no-show');
    const range = `from=${encodeURIComponent(minutesFromNow(-360))}&to=${encodeURIComponent(minutesFromNow(-200))}`;
    const calendar = await send(cam, 'GET /calendar', 200, { query: range });
    expect(calendar.body.items).toEqual([expect.objectContaining({ meetingId: past.body.id, attendance: 'no-show' })]);
    await send(cam, 'PUT /meetings/{id}/attendance/{personId}', 403, { path, body: { status: 'attended' } });
    await send(ivan, 'PUT /meetings/{id}/attendance/{personId}', 404, { path, body: { status: 'attended' } });
    await send(olga, 'PUT /meetings/{id}/attendance/{personId}', 400, { path, body: { status: 'maybe' } });
    const later = await send(admin, 'POST /meetings', 201, {
      body: meeting({
        customerId: 'cam',
        instructorId: 'olga',
        start: at('2030-08-01T10:00:00Z'),
        end: at('2030-08-01T11:00:00Z'),
      }),
    });
    await send(olga, 'PUT /meetings/{id}/attendance/{personId}', 409, {
      path: { id: later.body.id, personId: 'olga' },
      body: { status: 'attended' },
    });
  });

  it('notifications: sent, skipped, undeliverable, retried, and the refusals', async () => {
    const cancel = async (body: Record<string, unknown>) => {
      const created = await send(admin, 'POST /meetings', 201, { body });
      await send(admin, 'POST /meetings/{id}/cancel', 200, {
        path: { id: created.body.id },
        body: { reason: 'Closed' },
      });
      return created.body.id as string;
    };

    // Settings now mail the instructor too: one notice per recipient.
    const mailed = await cancel(meeting({ start: at('2030-05-06T10:00:00Z'), end: at('2030-05-06T11:00:00Z') }));
    const notices = await settledNotices(mailed, 2);
    expect(notices.map((n) => n.status)).toEqual(['sent', 'sent']);
    const sent = await send(admin, 'GET /notifications/{id}', 200, { path: { id: notices[0]!.id } });
    expect(sent.body.providerMessageId).toBe(`outbox:${notices[0]!.id}`);
    const notRetryable = await send(admin, 'POST /notifications/{id}/retry', 409, { path: { id: notices[0]!.id } });
    expect(notRetryable.body.detail).toContain('this one is sent');

    const ended = await cancel(meeting({ start: at('2030-02-01T10:00:00Z'), end: at('2030-02-01T11:00:00Z') }));
    const skipped = await settledNotices(ended, 2);
    expect(skipped.map((n) => [n.status, n.reason])).toEqual([
      ['skipped', 'ended'],
      ['skipped', 'ended'],
    ]);
    await send(admin, 'GET /notifications/{id}', 200, { path: { id: skipped[0]!.id } });

    const nomad = await cancel(
      meeting({
        customerId: 'cam',
        instructorId: 'olga',
        start: at('2030-05-07T10:00:00Z'),
        end: at('2030-05-07T11:00:00Z'),
      }),
    );
    const undeliverable = await settledNotices(nomad, 2);
    expect(undeliverable.map((n) => n.status)).toEqual(['undeliverable', 'undeliverable']);
    const camNotice = undeliverable[0]!;
    expect(camNotice.recipient.personId).toBe('cam');
    const again = await send(admin, 'POST /notifications/{id}/retry', 202, { path: { id: camNotice.id } });
    expect(again.body).toMatchObject({ status: 'undeliverable', round: 1 });
    await send(admin, 'PUT /people/{id}', 200, {
      path: { id: 'cam' },
      body: { name: 'Cam Customer', email: 'cam@example.com' },
    });
    await send(admin, 'PUT /people/{id}', 200, {
      path: { id: 'olga' },
      body: { name: 'Olga Instructor', email: 'olga@example.com' },
    });
    const retried = await send(admin, 'POST /notifications/{id}/retry', 202, { path: { id: camNotice.id } });
    expect(retried.body).toMatchObject({
      status: 'pending',
      round: 2,
      recipient: { email: expect.stringMatching(/@example\.com$/) },
    });
    const delivered = await eventually(async () => {
      const res = await admin.request('GET', `/notifications/${camNotice.id}`);
      return res.body.status === 'sent' ? res : undefined;
    }, 'the retried notification to be sent');
    expect(conformance('GET', '/notifications/{id}', delivered)).toEqual([]);

    // The whole log, once nothing is pending: every notice of every test above, series ones included.
    await eventually(async () => {
      const res = await admin.request('GET', '/notifications');
      return (res.body.items as Notice[]).every((n) => n.status !== 'pending');
    }, 'every notification to settle');
    const all = await send(admin, 'GET /notifications', 200);
    const kinds = new Set((all.body.items as Notice[]).map((n) => `${n.kind} ${n.status}`));
    expect([...kinds]).toEqual(
      expect.arrayContaining(['meeting sent', 'meeting skipped', 'meeting undeliverable', 'series sent']),
    );
    await send(admin, 'GET /notifications', 200, { query: 'status=sent&limit=2' });
    await send(admin, 'GET /notifications', 200, { query: `meetingId=${encodeURIComponent(mailed)}&status=sent` });
    const badQuery = await send(admin, 'GET /notifications', 400, { query: 'status=lost&limit=0&page=2' });
    expect(badQuery.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['limit', 'page', 'status']);
    await send(cora, 'GET /notifications', 403);
    await send(ivan, 'GET /notifications/{id}', 403, { path: { id: notices[0]!.id } });
    await send(ivan, 'POST /notifications/{id}/retry', 403, { path: { id: notices[0]!.id } });
    await send(admin, 'GET /notifications/{id}', 404, { path: { id: '0'.repeat(32) } });
    await send(admin, 'POST /notifications/{id}/retry', 404, { path: { id: '0'.repeat(32) } });
  });

  it('audit: a page of the log as an auditor sees it, and the refusals', async () => {
    const auditor = await sys.as('audrey', ['auditor']);
    const page = await send(auditor, 'GET /audit', 200, { query: 'limit=2' });
    expect(page.body.items).toHaveLength(2);
    await send(admin, 'GET /audit', 200, {
      query: `cursor=${encodeURIComponent(page.body.next as string)}&type=PersonUpdated`,
    });
    await send(admin, 'GET /audit', 400, { query: 'from=soon&limit=0' });
    await send(cora, 'GET /audit', 403);
  });

  it('sign-in: an email link, its code for a session, a refresh, sign-out, an invitation, and the dev sign-in', async () => {
    await recordPerson(sys.system, { id: 'sid', roles: ['customer'], email: 'sid@example.com', name: 'Sid' });
    const origin = { origin: new URL(sys.system.publicBaseUrl).origin };
    await send(anonymous, 'POST /auth/email-link', 202, { body: { email: 'sid@example.com' } });
    await sys.system.signIn?.idle();
    const outbox = join(sys.dataDir, 'outbox');
    const code = await eventually(() => {
      for (const file of readdirSync(outbox).filter((f) => f.startsWith('signin-') && f.endsWith('.txt'))) {
        const match = /#code=(\S+)/.exec(readFileSync(join(outbox, file), 'utf8'));
        if (match?.[1] !== undefined) return decodeURIComponent(match[1]);
      }
      return undefined;
    }, 'a sign-in link in the outbox');
    const session = await send(anonymous, 'POST /auth/session', 200, { body: { code }, headers: origin });
    const cookie = /session_refresh=([^;]*)/.exec(session.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const refreshed = await send(anonymous, 'POST /auth/refresh', 200, {
      headers: { ...origin, 'content-type': 'application/json', cookie: `session_refresh=${cookie}` },
    });
    const next = /session_refresh=([^;]*)/.exec(refreshed.headers.get('set-cookie') ?? '')?.[1] ?? '';
    await send(anonymous, 'POST /auth/sign-out', 204, {
      headers: { ...origin, 'content-type': 'application/json', cookie: `session_refresh=${next}` },
    });
    await send(admin, 'POST /people/{id}/invite', 202, { path: { id: 'sid' } });
    await send(anonymous, 'POST /auth/session', 400, { body: { code }, headers: origin });
    await send(anonymous, 'POST /auth/refresh', 401, {
      headers: { ...origin, 'content-type': 'application/json', cookie: `session_refresh=${cookie}` },
    });
    await send(anonymous, 'POST /auth/refresh', 403, { body: {} });
    await send(anonymous, 'GET /auth/dev-people', 404);
    const methods = await send(anonymous, 'GET /auth/methods', 200);
    expect(methods.body).toEqual({ email: true, singleSignOn: false, dev: false });

    const dev = await startTestSystem({ env: { AUTH_JWT_SECRET: '' } });
    try {
      const local = client(dev.url, undefined);
      const devOrigin = { origin: new URL(dev.system.publicBaseUrl).origin };
      expect((await local.request('GET', '/auth/methods')).body).toEqual({
        email: true,
        singleSignOn: false,
        dev: true,
      });
      const people = await local.request('GET', '/auth/dev-people');
      expect(conformance('GET', '/auth/dev-people', people)).toEqual([]);
      checked.add('GET /auth/dev-people 200');
      const started = await local.request('POST', '/auth/dev-session', { personId: 'customer-1' }, devOrigin);
      expect(started.status).toBe(200);
      expect(conformance('POST', '/auth/dev-session', started)).toEqual([]);
      checked.add('POST /auth/dev-session 200');
    } finally {
      await dev.destroy();
    }
  });

  it('webhooks: register, read, change, rotate, the delivery log, a redelivery, delete, and the refusals', async () => {
    const receiver = await startWebhookReceiver();
    const hooks = await startTestSystem({
      env: { WEBHOOKS_ALLOW_INSECURE_TARGETS: 'true' },
      system: { webhooks: { retryDelaysMs: [50, 50], timeoutMs: 2_000 } },
    });
    try {
      await hooks.people('cora', 'ivan');
      const boss = await hooks.as('ada', ['admin']);
      const made = await send(boss, 'POST /webhooks', 201, {
        body: { url: `${receiver.url}/doc`, events: ['meeting.*'], description: 'The CRM' },
      });
      const path = { id: made.body.id as string };
      await send(boss, 'GET /webhooks', 200);
      await send(boss, 'GET /webhooks/{id}', 200, { path });
      await send(boss, 'PATCH /webhooks/{id}', 200, { path, body: { events: ['meeting.scheduled'] } });
      await send(boss, 'POST /webhooks/{id}/rotate-secret', 200, { path });
      const created = await boss.request('POST', '/meetings', meeting());
      expect(created.status).toBe(201);
      const log = await eventually(async () => {
        const res = await send(boss, 'GET /webhooks/{id}/deliveries', 200, { path, query: 'limit=10' });
        return res.body.items.length === 1 && res.body.items[0].status === 'delivered' ? res : undefined;
      }, 'the delivery');
      const deliveryId = log.body.items[0].id as string;
      await send(boss, 'POST /webhooks/{id}/deliveries/{deliveryId}/redeliver', 202, { path: { ...path, deliveryId } });
      await send(boss, 'POST /webhooks', 400, { body: { url: 'ftp://x', events: ['meeting.*'] } });
      await send(boss, 'GET /webhooks/{id}/deliveries', 400, { path, query: 'limit=0' });
      await send(boss, 'GET /webhooks/{id}', 404, { path: { id: 'nope' } });
      await send(await hooks.as('cora', ['customer']), 'GET /webhooks', 403);
      await send(boss, 'DELETE /webhooks/{id}', 204, { path });
    } finally {
      await hooks.destroy();
      await receiver.close();
    }
  });

  it('every documented operation with a JSON success answer was checked against a real one', () => {
    const expected: string[] = [];
    for (const [template, item] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(item as Obj)) {
        const success = Object.entries((op as Obj).responses as Obj).filter(([status]) => /^2\d\d$/.test(status));
        for (const [status, r] of success) {
          const content = (checker.deref(r) as Obj).content;
          if (isObj(content) && Object.keys(content).some((type) => type.includes('json')))
            expected.push(`${method.toUpperCase()} ${template} ${status}`);
        }
      }
    }
    expect(expected.length).toBeGreaterThan(20);
    expect(expected.filter((key) => !checked.has(key))).toEqual([]);
    const problems = [...checked].map((key) => key.split(' ')[2]).filter((status) => Number(status) >= 400);
    expect(new Set(problems)).toEqual(new Set(['400', '401', '403', '404', '409', '412', '413', '415', '426']));
  });
});
