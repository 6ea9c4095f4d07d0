import { describe, expect, it } from 'vitest';
import { client, startTestSystem, useSystem } from '../../support/system.ts';

const sys = useSystem();

const csv = [
  'id,name,email,roles,external id,branch',
  'imp-1,Ivo Import,ivo@example.com,customer,CRM-1,north',
  'imp-2,Ina Import,not-an-address,customer,,',
  'imp-3,"Ada, Admin",ada@example.com,instructor;customer,CRM-3,south',
  'imp-1,Ivo Again,ivo2@example.com,customer,,',
].join('\r\n');

const post = (who: Awaited<ReturnType<typeof sys.as>>, body: string, type: string, query = '', headers = {}) =>
  who.request('POST', `/people/import${query}`, body, { 'content-type': type, ...headers });

describe('POST /people/import', { timeout: 120_000 }, () => {
  it('is for admins only', async () => {
    expect((await post(client(sys.url, undefined) as never, csv, 'text/csv')).status).toBe(401);
    const instructor = await sys.as('ivan', ['instructor']);
    const refused = await post(instructor, csv, 'text/csv');
    expect(refused.status).toBe(403);
    const auditor = await sys.as('audrey', ['auditor']);
    expect((await post(auditor, csv, 'text/csv')).status).toBe(403);
    const admin = await sys.as('ada-admin', ['admin']);
    expect((await admin.request('GET', '/people/imp-1')).status).toBe(404);
  });

  it('tries a file (dry run), imports it, and changes nothing the second time', async () => {
    const admin = await sys.as('ada-admin', ['admin']);
    const before = await sys.system.store.headPosition();
    const dry = await post(admin, csv, 'text/csv', '?dryRun=true');
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({
      dryRun: true,
      lines: 4,
      created: 2,
      updated: 0,
      unchanged: 0,
      bad: [
        { line: 3, id: 'imp-2', errors: [expect.objectContaining({ path: 'email' })] },
        { line: 5, id: 'imp-1', errors: [{ path: 'id', message: 'repeats the id of line 2' }] },
      ],
    });
    expect(await sys.system.store.headPosition()).toBe(before);
    expect((await admin.request('GET', '/people/imp-1')).status).toBe(404);

    const done = await post(admin, csv, 'text/csv; charset=utf-8');
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ dryRun: false, lines: 4, created: 2, updated: 0, unchanged: 0 });
    expect(done.body.bad.map((b: { line: number }) => b.line)).toEqual([3, 5]);
    const ivo = await admin.request('GET', '/people/imp-1');
    expect(ivo.body).toMatchObject({
      name: 'Ivo Import',
      roles: ['customer'],
      crm: { externalId: 'CRM-1', fields: { branch: 'north' } },
    });
    const written = await sys.system.store.headPosition();

    const again = await post(admin, csv, 'text/csv');
    expect(again.body).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    expect(await sys.system.store.headPosition()).toBe(written);

    // JSON, the same people: unchanged; one more CRM field: updated.
    const json = [
      {
        id: 'imp-1',
        name: 'Ivo Import',
        email: 'ivo@example.com',
        crm: { externalId: 'CRM-1', fields: { branch: 'north' } },
      },
      {
        id: 'imp-3',
        name: 'Ada, Admin',
        email: 'ada@example.com',
        crm: { externalId: 'CRM-3', fields: { branch: 'south', level: 'gold' } },
      },
    ];
    const viaJson = await post(admin, JSON.stringify({ people: json }), 'application/json');
    expect(viaJson.body).toMatchObject({ lines: 2, created: 0, updated: 1, unchanged: 1, bad: [] });

    // The CRM record is for admins and auditors: never in the name look-up, nor for the person themselves.
    const names = await (await sys.as('ivan', ['instructor'])).request('GET', '/directory/names?query=ivo');
    expect(names.body.items).toEqual([{ id: 'imp-1', name: 'Ivo Import' }]);
    const self = await (await sys.as('imp-1', ['customer'])).request('GET', '/people/imp-1');
    expect(self.status).toBe(200);
    expect(self.body.crm).toBeUndefined();
    const me = await (await sys.as('imp-1', ['customer'])).request('GET', '/me');
    expect(me.body.crm).toBeUndefined();
    const audited = await (await sys.as('audrey', ['auditor'])).request('GET', '/people/imp-3');
    expect(audited.body.crm).toEqual({ externalId: 'CRM-3', fields: { branch: 'south', level: 'gold' } });
  });

  it('answers a repeat with its key from the first answer, and refuses what it cannot read', async () => {
    const admin = await sys.as('ada-admin', ['admin']);
    const body = 'id,name,email\nkey-1,Kim Key,kim@example.com\n';
    const first = await post(admin, body, 'text/csv', '', { 'idempotency-key': 'import-1' });
    expect(first.body).toMatchObject({ created: 1 });
    const repeat = await post(admin, body, 'text/csv', '', { 'idempotency-key': 'import-1' });
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.body).toEqual(first.body);
    const other = await post(admin, `${body}key-2,Kit Key,kit@example.com\n`, 'text/csv', '', {
      'idempotency-key': 'import-1',
    });
    expect(other.status).toBe(422);

    const noHeader = await post(admin, 'id,name\nx,y\n', 'text/csv');
    expect(noHeader.status).toBe(400);
    expect(noHeader.body.errors).toEqual([{ path: '(body)', message: 'the header has no email column' }]);
    expect((await post(admin, '{"people": 3}', 'application/json')).status).toBe(400);
    expect((await post(admin, body, 'text/plain')).status).toBe(415);
    const badQuery = await post(admin, body, 'text/csv', '?dryRun=maybe&x=1');
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['dryRun', 'x']);
    // Above the 64 KiB of other bodies, below the import's 1 MiB: read; above it: 413, with a key or without.
    const rows = Array.from({ length: 1500 }, (_, i) => `big-${i},Big ${i},big-${i}@example.com`);
    const large = await post(admin, ['id,name,email', ...rows].join('\n'), 'text/csv', '?dryRun=true', {
      'idempotency-key': 'import-large',
    });
    expect(large.status).toBe(200);
    expect(large.body).toMatchObject({ lines: 1500, created: 1500 });
    const huge = 'id,name,email\n' + 'x'.repeat(1024 * 1024);
    expect((await post(admin, huge, 'text/csv')).status).toBe(413);
    expect((await post(admin, huge, 'text/csv', '', { 'idempotency-key': 'import-huge' })).status).toBe(413);
  });
  it('keeps what a line leaves out or empty, and merges the CRM record per column', async () => {
    const admin = await sys.as('ada-admin', ['admin']);
    const full = [
      'id,name,email,timezone,language,roles,active,external id,branch,level',
      'keep-1,Kai Keep,kai@example.com,Europe/Madrid,es,customer,yes,CRM-K,north,gold',
    ].join('\n');
    expect((await post(admin, full, 'text/csv')).body).toMatchObject({ created: 1, bad: [] });
    const stored = (await admin.request('GET', '/people/keep-1')).body;
    expect(stored).toMatchObject({
      timezone: 'Europe/Madrid',
      language: 'es',
      roles: ['customer'],
      active: true,
      crm: { externalId: 'CRM-K', fields: { branch: 'north', level: 'gold' } },
    });
    const head = await sys.system.store.headPosition();
    const same = async (body: string, type = 'text/csv') => {
      const answer = await post(admin, body, type);
      expect(answer.body).toMatchObject({ created: 0, updated: 0, unchanged: 1, bad: [] });
      expect(await sys.system.store.headPosition()).toBe(head);
      expect((await admin.request('GET', '/people/keep-1')).body).toEqual(stored);
    };
    // Columns missing from this file, and empty cells, change nothing: no event at all.
    await same('id,name,email\nkeep-1,Kai Keep,kai@example.com\n');
    await same('id,name,email,timezone,language,roles,active,external id,branch,level\nkeep-1,,,,,,,,,\n');
    await same('id,email,name,other\nkeep-1,kai@example.com,Kai Keep,\n');
    await same(
      JSON.stringify([{ id: 'keep-1', name: 'Kai Keep', email: 'kai@example.com', crm: { fields: {} } }]),
      'application/json',
    );

    // A changed value changes that value only: one event, the rest as it was.
    const changed = await post(admin, 'id,name,email,branch\nkeep-1,Kai Keep,kai@example.com,south\n', 'text/csv');
    expect(changed.body).toMatchObject({ updated: 1, unchanged: 0, bad: [] });
    expect(await sys.system.store.headPosition()).toBe(head + 1);
    const after = (await admin.request('GET', '/people/keep-1')).body;
    const { updatedAt: _before, ...rest } = stored;
    expect(after).toMatchObject({ ...rest, crm: { externalId: 'CRM-K', fields: { branch: 'south', level: 'gold' } } });

    // PUT /people/:id keeps its own meaning: its body is the whole entry (no time zone: none), `crm` replaces.
    const put = await admin.request('PUT', '/people/keep-1', { name: 'Kai Keep', email: 'kai@example.com', crm: {} });
    expect(put.status).toBe(200);
    expect(put.body.timezone).toBeUndefined();
    expect(put.body.crm).toBeUndefined();
    expect(put.body.language).toBe('es');
  });
  it('refuses a non-admin before reading the body, with a key or without', async () => {
    const instructor = await sys.as('ivan', ['instructor']);
    const huge = 'id,name,email\n' + 'x'.repeat(1024 * 1024);
    for (const headers of [{}, { 'idempotency-key': 'import-not-admin' }]) {
      const refused = await post(instructor, huge, 'text/csv', '', headers);
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toBe('only admins may import people');
    }
  });

  it('answers one 503 while the read models are not ready, and writes nothing', async () => {
    const admin = await sys.as('ada-admin', ['admin']);
    const rows = Array.from({ length: 5000 }, (_, i) => `ready-${i},Ready ${i},ready-${i}@example.com`);
    const body = ['id,name,email', ...rows].join('\n');
    const projections = sys.system.projections;
    const head = await sys.system.store.headPosition();
    Object.defineProperty(projections, 'healthy', { get: () => false, configurable: true });
    Object.defineProperty(projections, 'catchingUp', { get: () => true, configurable: true });
    try {
      for (const headers of [{}, { 'idempotency-key': 'import-not-ready' }]) {
        const refused = await post(admin, body, 'text/csv', '', headers);
        expect(refused.status).toBe(503);
        expect(refused.headers.get('content-type')).toContain('application/problem+json');
        expect(refused.body.detail).toContain('catching up');
      }
    } finally {
      delete (projections as unknown as Record<string, unknown>).healthy;
      delete (projections as unknown as Record<string, unknown>).catchingUp;
    }
    expect(await sys.system.store.headPosition()).toBe(head);
    expect((await post(admin, body, 'text/csv', '?dryRun=true')).body).toMatchObject({ lines: 5000, created: 5000 });
  });

  it('charges the rate limit more for an import than for a read', async () => {
    const limited = await startTestSystem({ env: { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '60' } });
    try {
      const admin = await limited.as('ada-admin', ['admin']);
      const body = 'id,name,email\nrl-1,Rae Limit,rae@example.com\n';
      expect((await post(admin, body, 'text/csv', '?dryRun=true')).status).toBe(200);
      const second = await post(admin, body, 'text/csv', '?dryRun=true');
      expect(second.status).toBe(429);
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await admin.request('GET', '/me')).status).toBe(200);
    } finally {
      await limited.destroy();
    }
  });
});
