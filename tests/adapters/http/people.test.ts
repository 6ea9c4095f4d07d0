import { describe, expect, it } from 'vitest';
import { eventually } from '../../support/fake-resend.ts';
import { useSystem } from '../../support/system.ts';
import type { Client } from '../../support/system.ts';
import { aMeeting, aSeriesBody } from '../../support/builders.ts';

const sys = useSystem({ people: ['ivan', 'cora'] });
const admin = sys.client('boss', ['admin']);

const paths = (res: { body: { errors?: Array<{ path: string }> } }) =>
  (res.body.errors ?? []).map((e) => e.path).sort();
const put = (who: Client, id: string, body: Record<string, unknown>) =>
  who.request('PUT', `/people/${encodeURIComponent(id)}`, body);
const ids = (res: { body: { items: Array<{ id: string }> } }) => res.body.items.map((p) => p.id);

describe('PUT /people/:id with roles, active and language', () => {
  it('sets them, answers the person, and keeps them when a body leaves them out', async () => {
    const created = await put(admin, 'rita', {
      name: 'Rita',
      email: 'rita@example.com',
      roles: ['instructor', 'customer'],
      language: 'es-MX',
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      id: 'rita',
      roles: ['instructor', 'customer'],
      active: true,
      language: 'es-MX',
    });
    const renamed = await put(admin, 'rita', { name: 'Rita R', email: 'rita@example.com' });
    expect(renamed.body).toMatchObject({
      name: 'Rita R',
      roles: ['instructor', 'customer'],
      active: true,
      language: 'es-MX',
    });
    const off = await put(admin, 'rita', { name: 'Rita R', email: 'rita@example.com', active: false, roles: [] });
    expect(off.body).toMatchObject({ roles: [], active: false });
    const history = await admin.request('GET', '/people/rita');
    expect(history.body).toMatchObject({ roles: [], active: false });
  });

  it('refuses roles named twice or unknown, naming `roles`, and a bad language naming `language`', async () => {
    const twice = await put(admin, 'tess', { name: 'Tess', email: 'tess@example.com', roles: ['admin', 'admin'] });
    expect(twice.status).toBe(400);
    expect(paths(twice)).toEqual(['roles']);
    const unknown = await put(admin, 'tess', { name: 'Tess', email: 'tess@example.com', roles: ['root'] });
    expect(unknown.status).toBe(400);
    expect(paths(unknown)[0]).toMatch(/^roles/);
    const language = await put(admin, 'tess', { name: 'Tess', email: 'tess@example.com', language: 'not a tag' });
    expect(language.status).toBe(400);
    expect(paths(language)).toEqual(['language']);
    expect((await admin.request('GET', '/people/tess')).status).toBe(404);
  });

  it('lets nobody change their own roles or active flag (403 naming the field), but their own details', async () => {
    const self = await sys.as('ada', ['admin']);
    expect((await put(admin, 'ada', { name: 'Ada', email: 'ada@example.com', roles: ['admin'] })).status).toBe(200);
    const roles = await put(self, 'ada', { name: 'Ada', email: 'ada@example.com', roles: ['admin', 'auditor'] });
    expect(roles.status).toBe(403);
    expect(roles.body.detail).toContain('`roles`');
    const active = await put(self, 'ada', { name: 'Ada', email: 'ada@example.com', active: false });
    expect(active.status).toBe(403);
    expect(active.body.detail).toContain('`active`');
    // The same roles and flag are no change; the name is hers to change.
    const same = await put(self, 'ada', { name: 'Ada L', email: 'ada@example.com', roles: ['admin'], active: true });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ name: 'Ada L', roles: ['admin'], active: true });
  });

  it('refuses an address another person has, case folded, with 409 naming `email`', async () => {
    expect((await put(admin, 'una', { name: 'Una', email: 'una@example.com' })).status).toBe(200);
    const taken = await put(admin, 'uma', { name: 'Uma', email: 'UNA@Example.com' });
    expect(taken.status).toBe(409);
    expect(taken.body.detail).toContain('`email`');
    expect((await admin.request('GET', '/people/uma')).status).toBe(404);
    // Her own address, in another case, is hers to keep.
    expect((await put(admin, 'una', { name: 'Una', email: 'Una@example.com' })).status).toBe(200);
  });

  it('stays admin only', async () => {
    const ivan = await sys.as('ivan', ['instructor']);
    expect((await put(ivan, 'x1', { name: 'X', email: 'x1@example.com' })).status).toBe(403);
    const auditor = await sys.as('audrey', ['auditor']);
    expect((await put(auditor, 'x1', { name: 'X', email: 'x1@example.com' })).status).toBe(403);
  });
});

describe('GET /people', () => {
  const seed = async () => {
    for (const [id, name, email, roles, active] of [
      ['l-1', 'Lena Lind', 'lena@list.example', ['customer'], true],
      ['l-2', 'leo Lamb', 'leo@list.example', ['instructor'], true],
      ['l-3', 'Lena Lind', 'other@list.example', ['customer', 'auditor'], false],
      ['l-4', '100% Lara', 'pct@list.example', ['customer'], true],
      ['l-5', '1000 Lars', 'zzz@list.example', ['customer'], true],
    ] as const)
      expect((await put(admin, id, { name, email, roles: [...roles], active })).status).toBe(200);
  };

  it('searches a prefix of the name or the address, any case, wildcards literally, in (name, id) order', async () => {
    await seed();
    expect(ids(await admin.request('GET', '/people?query=LE'))).toEqual(['l-1', 'l-3', 'l-2']);
    expect(ids(await admin.request('GET', '/people?query=OTHER%40'))).toEqual(['l-3']);
    expect(ids(await admin.request('GET', '/people?query=100%25'))).toEqual(['l-4']);
    expect(ids(await admin.request('GET', '/people?query=_'))).toEqual([]);
    expect(ids(await admin.request('GET', '/people?query=lind&role=auditor'))).toEqual([]);
    expect(ids(await admin.request('GET', '/people?query=le&role=customer'))).toEqual(['l-1', 'l-3']);
    expect(ids(await admin.request('GET', '/people?query=le&active=false'))).toEqual(['l-3']);
    expect(ids(await admin.request('GET', '/people?query=le&active=true'))).toEqual(['l-1', 'l-2']);
  });

  it('pages with an opaque cursor until the end', async () => {
    await seed();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await admin.request(
        'GET',
        `/people?limit=2${cursor !== undefined ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...ids(res));
      cursor = res.body.next;
      pages++;
    } while (cursor !== undefined && pages < 50);
    const all = await admin.request('GET', '/people?limit=200');
    expect(all.body.next).toBeUndefined();
    expect(seen).toEqual(ids(all));
    expect(new Set(seen).size).toBe(seen.length);
    const keys = all.body.items.map((p: { name: string; id: string }) => [p.name.toLowerCase(), p.id]);
    expect(keys).toEqual([...keys].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1)));
  });

  it('refuses bad parameters, naming each', async () => {
    const bad = await admin.request(
      'GET',
      `/people?role=boss&active=yes&limit=0&cursor=nope!&query=${'a'.repeat(201)}&page=2`,
    );
    expect(bad.status).toBe(400);
    expect(paths(bad)).toEqual(['active', 'cursor', 'limit', 'page', 'query', 'role']);
    expect(paths(await admin.request('GET', '/people?limit=201'))).toEqual(['limit']);
    expect(paths(await admin.request('GET', '/people?role=admin&role=customer'))).toEqual(['role']);
  });

  it('is for admins and auditors only', async () => {
    expect((await (await sys.as('audrey', ['auditor'])).request('GET', '/people')).status).toBe(200);
    expect((await (await sys.as('ivan', ['instructor'])).request('GET', '/people')).status).toBe(403);
    expect((await (await sys.as('cora', ['customer'])).request('GET', '/people')).status).toBe(403);
  });
});

describe('GET /me', () => {
  it('is the token, with the directory entry when there is one', async () => {
    const cora = await sys.as('cora', ['customer']);
    const me = await cora.request('GET', '/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: 'cora',
      roles: ['customer'],
      inDirectory: true,
      name: 'Cora',
      email: 'cora@example.com',
      active: true,
    });
    const machine = await sys.as('billing-bot', ['admin', 'auditor']);
    expect((await machine.request('GET', '/me')).body).toEqual({
      id: 'billing-bot',
      roles: ['admin', 'auditor'],
      inDirectory: false,
    });
    expect(
      (await (await sys.as('x', ['customer'])).request('GET', '/me', undefined, { authorization: '' })).status,
    ).toBe(401);
  });
});

describe('the directory guard', () => {
  it('refuses a deactivated person on every bearer route with 401, until reactivated', async () => {
    expect((await put(admin, 'dora', { name: 'Dora', email: 'dora@example.com', roles: ['customer'] })).status).toBe(
      200,
    );
    const dora = await sys.as('dora', ['customer']);
    expect((await dora.request('GET', '/me')).status).toBe(200);
    expect((await put(admin, 'dora', { name: 'Dora', email: 'dora@example.com', active: false })).status).toBe(200);
    for (const [method, path] of [
      ['GET', '/me'],
      ['GET', '/people/dora'],
      ['GET', '/calendar?from=2030-01-01T00:00:00Z&to=2030-02-01T00:00:00Z'],
      ['POST', '/calendar/feed'],
    ] as const) {
      const res = await dora.request(method, path);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.detail).toBe('the account is deactivated');
    }
    expect((await put(admin, 'dora', { name: 'Dora', email: 'dora@example.com', active: true })).status).toBe(200);
    expect((await dora.request('GET', '/me')).status).toBe(200);
  });

  it('leaves machine tokens for ids outside the directory alone', async () => {
    const bot = await sys.as('sync-bot', ['admin']);
    expect((await bot.request('GET', '/people/ivan')).status).toBe(200);
    expect((await put(bot, 'bot-made', { name: 'Made', email: 'made@example.com' })).status).toBe(200);
  });

  it('answers 403 to every write of a caller who is only an auditor; other roles beside it keep theirs', async () => {
    const auditor = await sys.as('audrey', ['auditor']);
    for (const [method, path] of [
      ['POST', '/meetings'],
      ['PUT', '/settings'],
      ['DELETE', '/calendar/feed'],
      ['PATCH', '/meetings/anything'],
    ] as const) {
      const res = await auditor.request(method, path, {});
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    const both = await sys.as('ivan', ['instructor', 'auditor']);
    const booked = await both.request(
      'POST',
      '/meetings',
      aMeeting({ start: '2031-01-06T10:00:00Z', end: '2031-01-06T11:00:00Z' }),
    );
    expect(booked.status).toBe(201);
  });
});

describe('an auditor', () => {
  it('reads every meeting, series, history, calendar, person, the settings and the notification log; writes none', async () => {
    const ivan = await sys.as('ivan', ['instructor']);
    const meeting = await ivan.request(
      'POST',
      '/meetings',
      aMeeting({ start: '2031-02-03T10:00:00Z', end: '2031-02-03T11:00:00Z' }),
    );
    expect(meeting.status).toBe(201);
    const m = meeting.body.id as string;
    const series = await ivan.request('POST', '/series', aSeriesBody({ startDate: '2031-03-03' }));
    expect(series.status).toBe(201);
    const s = series.body.id as string;
    const cancelled = await ivan.request(
      'POST',
      '/meetings',
      aMeeting({ start: '2031-02-04T10:00:00Z', end: '2031-02-04T11:00:00Z' }),
    );
    expect((await ivan.request('POST', `/meetings/${cancelled.body.id}/cancel`, {})).status).toBe(200);
    const notices = await eventually(async () => {
      const res = await admin.request('GET', `/notifications?meetingId=${cancelled.body.id}`);
      return res.body.items.length > 0 ? (res.body.items as Array<{ id: string }>) : undefined;
    }, 'a notification of the cancellation');

    const auditor = await sys.as('audrey', ['auditor']);
    const reads = [
      `/meetings/${m}`,
      `/meetings/${m}/history`,
      `/series/${s}`,
      `/series/${s}/history`,
      '/calendar?from=2031-01-01T00:00:00Z&to=2031-12-01T00:00:00Z&userId=cora',
      '/people/ivan',
      '/people',
      '/settings',
      '/settings/history',
      '/notifications',
      `/notifications/${notices[0]!.id}`,
    ];
    for (const path of reads) expect((await auditor.request('GET', path)).status, `GET ${path}`).toBe(200);
    const calendar = await auditor.request(
      'GET',
      '/calendar?from=2031-01-01T00:00:00Z&to=2031-12-01T00:00:00Z&userId=cora',
    );
    expect(calendar.body.items.map((i: { id?: string; meetingId?: string }) => i.id ?? i.meetingId)).toContain(m);

    const writes: Array<[string, string, unknown]> = [
      ['POST', '/meetings', aMeeting({ start: '2031-05-01T10:00:00Z', end: '2031-05-01T11:00:00Z' })],
      ['PATCH', `/meetings/${m}`, { title: 'Audited' }],
      ['POST', `/meetings/${m}/cancel`, {}],
      ['POST', `/meetings/${m}/confirm`, {}],
      ['POST', `/meetings/${cancelled.body.id}/reinstate`, {}],
      ['POST', `/meetings/${m}/join`, {}],
      ['POST', '/series', aSeriesBody({ startDate: '2031-06-02' })],
      ['PATCH', `/series/${s}`, { title: 'Audited' }],
      ['POST', `/series/${s}/cancel`, {}],
      ['PUT', '/people/ivan', { name: 'Ivan', email: 'ivan@example.com' }],
      ['PUT', '/settings', {}],
      ['POST', `/notifications/${notices[0]!.id}/retry`, {}],
      ['POST', '/calendar/feed', {}],
      ['DELETE', '/calendar/feed', undefined],
    ];
    for (const [method, path, body] of writes)
      expect((await auditor.request(method, path, body)).status, `${method} ${path}`).toBe(403);
    expect((await admin.request('GET', `/meetings/${m}`)).body).toMatchObject({ title: 'Strength basics' });
  });

  it('with other roles, gets no more write rights from auditing: not over meetings or others’ calendar feeds', async () => {
    const ivan = await sys.as('ivan', ['instructor']);
    const meeting = await ivan.request(
      'POST',
      '/meetings',
      aMeeting({ start: '2031-04-07T10:00:00Z', end: '2031-04-07T11:00:00Z' }),
    );
    const customerAuditor = await sys.as('audra', ['customer', 'auditor']);
    expect((await customerAuditor.request('GET', `/meetings/${meeting.body.id}`)).status).toBe(200);
    expect((await customerAuditor.request('PATCH', `/meetings/${meeting.body.id}`, { title: 'x' })).status).toBe(403);
    expect((await customerAuditor.request('POST', '/calendar/feed', { userId: 'cora' })).status).toBe(403);
    expect((await customerAuditor.request('DELETE', '/calendar/feed?userId=cora')).status).toBe(403);
    expect((await customerAuditor.request('POST', '/calendar/feed', {})).status).toBe(201);
  });
});

describe('deactivated people get no new bookings', () => {
  it('refuses a meeting, a series, a move and a reinstatement naming them; their meetings stay', async () => {
    await sys.people('dex', 'ike');
    const ike = await sys.as('ike', ['instructor']);
    const slot = (day: string) => ({ start: `2031-07-${day}T10:00:00Z`, end: `2031-07-${day}T11:00:00Z` });
    const kept = await ike.request(
      'POST',
      '/meetings',
      aMeeting({ customerId: 'dex', instructorId: 'ike', ...slot('01') }),
    );
    expect(kept.status).toBe(201);
    const toReinstate = await ike.request(
      'POST',
      '/meetings',
      aMeeting({ customerId: 'dex', instructorId: 'ike', ...slot('02') }),
    );
    expect((await ike.request('POST', `/meetings/${toReinstate.body.id}/cancel`, {})).status).toBe(200);
    expect((await put(admin, 'dex', { name: 'Dex', email: 'dex@example.com', active: false })).status).toBe(200);

    const refusals = [
      await ike.request('POST', '/meetings', aMeeting({ customerId: 'dex', instructorId: 'ike', ...slot('03') })),
      await ike.request(
        'POST',
        '/series',
        aSeriesBody({ customerId: 'dex', instructorId: 'ike', startDate: '2031-08-04' }),
      ),
      await ike.request('PATCH', `/meetings/${kept.body.id}`, slot('05')),
      await ike.request('POST', `/meetings/${toReinstate.body.id}/reinstate`, {}),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ path: 'customerId', message: expect.stringContaining('deactivated') }]);
    }
    const still = await admin.request('GET', `/meetings/${kept.body.id}`);
    expect(still.body).toMatchObject({ start: '2031-07-01T10:00:00.000Z', customerId: 'dex' });
    // Changing what books nothing, and cancelling, still work.
    expect((await ike.request('PATCH', `/meetings/${kept.body.id}`, { title: 'Last one' })).status).toBe(200);
    expect((await ike.request('POST', `/meetings/${kept.body.id}/cancel`, {})).status).toBe(200);
    // An unknown person is refused as before, the same shape.
    const ghost = await ike.request(
      'POST',
      '/meetings',
      aMeeting({ customerId: 'ghost', instructorId: 'ike', ...slot('06') }),
    );
    expect(ghost.status).toBe(400);
    expect(paths(ghost)).toEqual(['customerId']);
  });

  it('refuses a series change that books sessions anew for them, not one that books nothing', async () => {
    await sys.people('sid', 'sal');
    const sal = await sys.as('sal', ['instructor']);
    const created = await sal.request(
      'POST',
      '/series',
      aSeriesBody({ customerId: 'sid', instructorId: 'sal', startDate: '2032-01-05' }),
    );
    expect(created.status).toBe(201);
    expect((await put(admin, 'sid', { name: 'Sid', email: 'sid@example.com', active: false })).status).toBe(200);
    const moved = await sal.request('PATCH', `/series/${created.body.id}`, { startTime: '12:00' });
    expect(moved.status).toBe(400);
    expect(moved.body.errors).toEqual([{ path: 'customerId', message: expect.stringContaining('deactivated') }]);
    expect((await sal.request('PATCH', `/series/${created.body.id}`, { title: 'Wind-down' })).status).toBe(200);
    expect(
      (await sal.request('POST', `/series/${created.body.id}/cancel`, { from: '2032-01-01T00:00:00Z' })).status,
    ).toBe(200);
  });

  it('refuses a deactivated instructor too, naming `instructorId`', async () => {
    await sys.people('cy', 'ina');
    expect((await put(admin, 'ina', { name: 'Ina', email: 'ina@example.com', active: false })).status).toBe(200);
    const res = await admin.request(
      'POST',
      '/meetings',
      aMeeting({ customerId: 'cy', instructorId: 'ina', start: '2031-09-01T10:00:00Z', end: '2031-09-01T11:00:00Z' }),
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'instructorId', message: expect.stringContaining('deactivated') }]);
  });
});
