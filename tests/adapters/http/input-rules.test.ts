import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../adapters/http/auth.ts';
import { aMeeting, aSeriesBody } from '../../support/builders.ts';
import { TEST_SECRET, client, requestEventsSince, startTestSystem, useSystem } from '../../support/system.ts';

// Input rules of the HTTP API, on the real server over a real port: what a body, a path or a token may hold.
const now = new Date('2030-03-01T00:00:00Z');
const sys = useSystem({
  system: { clock: () => now },
  people: [
    { id: 'ivan', name: 'Ivan Instructor' },
    { id: 'cora', name: 'Cora Customer' },
  ],
});
const admin = sys.client('ada', ['admin']);
let meetingId: string;
let seriesId: string;

const meeting = aMeeting();
const series = aSeriesBody({ startDate: '2030-04-01' });
const settings = {
  notifications: {
    cancellation: {
      enabled: true,
      subject: 'Cancelled',
      bodyTemplate: '<p>{{meetingTitle}}</p>',
      notifyInstructor: false,
    },
  },
  debugLevel: 0,
};

/** The JSON text of `body` with `extra` spliced in as raw members, so `__proto__` arrives as JSON.parse makes it: an own key. */
const withRaw = (body: object, extra: string): string => {
  const text = JSON.stringify(body);
  return text === '{}' ? `{${extra}}` : `${text.slice(0, -1)},${extra}}`;
};

beforeAll(async () => {
  const created = await admin.request('POST', '/meetings', meeting);
  expect(created.status).toBe(201);
  meetingId = created.body.id;
  const planned = await admin.request('POST', '/series', series);
  expect(planned.status).toBe(201);
  seriesId = planned.body.id;
});

describe('unknown fields', () => {
  const endpoints = (): Array<{
    method: string;
    path: string;
    body: object;
    nested?: { path: string; text: (extra: string) => string };
  }> => [
    { method: 'PUT', path: '/people/cora', body: { name: 'Cora Customer', email: 'cora@example.com' } },
    {
      method: 'POST',
      path: '/meetings',
      body: { ...meeting, start: '2030-03-09T15:00:00Z', end: '2030-03-09T16:00:00Z' },
    },
    { method: 'PATCH', path: `/meetings/${meetingId}`, body: { title: 'Renamed' } },
    { method: 'POST', path: `/meetings/${meetingId}/cancel`, body: { reason: 'ill' } },
    { method: 'POST', path: `/meetings/${meetingId}/confirm`, body: {} },
    { method: 'POST', path: `/meetings/${meetingId}/reinstate`, body: {} },
    { method: 'POST', path: '/series', body: { ...series, startDate: '2030-06-03' } },
    { method: 'PATCH', path: `/series/${seriesId}`, body: { title: 'Renamed' } },
    { method: 'POST', path: `/series/${seriesId}/cancel`, body: { reason: 'ill' } },
    { method: 'POST', path: '/calendar/feed', body: { userId: 'cora' } },
    {
      method: 'PUT',
      path: '/settings',
      body: settings,
      nested: {
        path: 'notifications.cancellation',
        text: (extra) =>
          withRaw(
            { debugLevel: 0 },
            `"notifications":{"cancellation":${withRaw(settings.notifications.cancellation, extra)}}`,
          ),
      },
    },
  ];
  const inherited = [
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '__defineGetter__',
    'isPrototypeOf',
  ];

  it('refuses inherited names (__proto__, constructor, toString, ...) on every body with a 400 naming the field, and appends nothing', async () => {
    for (const endpoint of endpoints()) {
      for (const name of inherited) {
        for (const value of ['{"polluted":true}', '"x"', '1']) {
          const extra = `"${name}":${value}`;
          const cases = [{ field: name, text: withRaw(endpoint.body, extra) }];
          if (endpoint.nested !== undefined)
            cases.push({ field: `${endpoint.nested.path}.${name}`, text: endpoint.nested.text(extra) });
          for (const { field, text } of cases) {
            const head = await sys.system.store.headPosition();
            const res = await admin.request(endpoint.method, endpoint.path, text);
            expect({ endpoint: `${endpoint.method} ${endpoint.path}`, text, status: res.status }).toEqual({
              endpoint: `${endpoint.method} ${endpoint.path}`,
              text,
              status: 400,
            });
            expect(res.body.errors).toContainEqual({ path: field, message: 'is not a known field' });
            expect(await requestEventsSince(sys.system.store, head)).toEqual([]);
          }
        }
      }
    }
    const stored = await admin.request('GET', '/settings/history');
    expect(JSON.stringify(stored.body)).not.toMatch(/polluted|__proto__|constructor/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('still accepts the same bodies without the extra member', async () => {
    expect((await admin.request('PUT', '/settings', settings)).status).toBe(200);
    expect((await admin.request('PATCH', `/meetings/${meetingId}`, { title: 'Renamed' })).status).toBe(200);
  });
});

// NUL, line breaks (CR, LF, NEL, U+2028/9), bidirectional controls and marks, invisible format characters, a lone surrogate.
const badIdCharacters = [
  '\u0000',
  '\n',
  '\r',
  '\t',
  '\u0085',
  '\u061C',
  '\u200B',
  '\u200E',
  '\u200F',
  '\u2028',
  '\u2029',
  '\u202A',
  '\u202B',
  '\u202C',
  '\u202D',
  '\u202E',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\uFEFF',
  '\uD800',
];
const visible = (s: string) =>
  [...s].map((ch) => `U+${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`).join(' ');

describe('ids', () => {
  it('refuses control, bidirectional and invisible characters in customerId, instructorId and person ids with a 400 naming the field', async () => {
    for (const ch of badIdCharacters) {
      const bad = `cora${ch}x`;
      const head = await sys.system.store.headPosition();
      const cases: Array<{ method: string; path: string; body: object; field: string }> = [
        {
          method: 'POST',
          path: '/meetings',
          body: { ...meeting, customerId: bad, start: '2030-05-01T10:00:00Z', end: '2030-05-01T11:00:00Z' },
          field: 'customerId',
        },
        {
          method: 'POST',
          path: '/meetings',
          body: { ...meeting, instructorId: bad, start: '2030-05-01T10:00:00Z', end: '2030-05-01T11:00:00Z' },
          field: 'instructorId',
        },
        {
          method: 'POST',
          path: '/series',
          body: { ...series, customerId: bad, startDate: '2030-07-01' },
          field: 'customerId',
        },
        {
          method: 'POST',
          path: '/series',
          body: { ...series, instructorId: bad, startDate: '2030-07-01' },
          field: 'instructorId',
        },
        { method: 'POST', path: '/calendar/feed', body: { userId: bad }, field: 'userId' },
      ];
      if (ch !== '\uD800')
        cases.push({
          method: 'PUT',
          path: `/people/${encodeURIComponent(bad)}`,
          body: { name: 'Ghost', email: 'ghost@example.com' },
          field: 'id',
        });
      for (const c of cases) {
        const res = await admin.request(c.method, c.path, c.body);
        expect({ ch: visible(ch), path: c.path, field: c.field, status: res.status }).toEqual({
          ch: visible(ch),
          path: c.path,
          field: c.field,
          status: 400,
        });
        expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(c.field);
      }
      expect(await requestEventsSince(sys.system.store, head)).toEqual([]);
    }
  });

  it('refuses such ids in paths and queries with a 400 naming `id` (or `userId`)', async () => {
    for (const ch of badIdCharacters.filter((c) => c !== '\uD800')) {
      const bad = encodeURIComponent(`${meetingId}${ch}`);
      for (const [method, path] of [
        ['GET', `/meetings/${bad}`],
        ['PATCH', `/meetings/${bad}`],
        ['GET', `/meetings/${bad}/history`],
        ['POST', `/meetings/${bad}/cancel`],
        ['GET', `/series/${bad}`],
        ['POST', `/series/${bad}/cancel`],
        ['GET', `/people/${bad}`],
        ['GET', `/notifications/${bad}`],
      ] as const) {
        const res = await admin.request(method, path, method === 'PATCH' ? { title: 'x' } : undefined);
        expect({ ch: visible(ch), method, path, status: res.status }).toEqual({
          ch: visible(ch),
          method,
          path,
          status: 400,
        });
        expect(res.body.errors).toEqual([expect.objectContaining({ path: 'id' })]);
      }
      const calendar = await admin.request(
        'GET',
        `/calendar?userId=${encodeURIComponent(`cora${ch}`)}&from=2030-03-01T00:00:00Z&to=2030-03-08T00:00:00Z`,
      );
      expect(calendar.status).toBe(400);
      expect(calendar.body.errors).toEqual([expect.objectContaining({ path: 'userId' })]);
    }
    expect((await admin.request('GET', `/meetings/${meetingId}`)).status).toBe(200);
  });
});

describe('tokens', () => {
  const secret = new TextEncoder().encode(TEST_SECRET);
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, times: { iat?: number; exp: number }) => {
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(times.exp);
    return (times.iat !== undefined ? jwt.setIssuedAt(times.iat) : jwt).sign(secret);
  };
  const status = async (token: string) => (await client(sys.url, token).request('GET', '/settings')).status;

  it('refuses a `sub` with control, bidirectional or invisible characters with 401', async () => {
    for (const ch of badIdCharacters) {
      const token = await sign({ sub: `ada${ch}`, roles: ['admin'] }, { iat: nowSeconds(), exp: nowSeconds() + 600 });
      expect({ ch: visible(ch), status: await status(token) }).toEqual({ ch: visible(ch), status: 401 });
    }
    expect(
      await status(await sign({ sub: 'ada', roles: ['admin'] }, { iat: nowSeconds(), exp: nowSeconds() + 600 })),
    ).toBe(200);
  });

  it('refuses an empty role list with 401', async () => {
    const res = await client(
      sys.url,
      await sign({ sub: 'ada', roles: [] }, { iat: nowSeconds(), exp: nowSeconds() + 600 }),
    ).request('GET', '/calendar?from=2030-03-01T00:00:00Z&to=2030-03-08T00:00:00Z');
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/roles/);
  });

  it('refuses a token that lives longer than AUTH_MAX_TOKEN_TTL_SECONDS (24 hours by default) with 401', async () => {
    const t0 = nowSeconds();
    // Years ahead, with or without iat; and an iat set in the future to make exp - iat look short.
    expect(await status(await sign({ sub: 'ada', roles: ['admin'] }, { iat: t0, exp: t0 + 10 * 365 * 86_400 }))).toBe(
      401,
    );
    expect(await status(await sign({ sub: 'ada', roles: ['admin'] }, { exp: t0 + 10 * 365 * 86_400 }))).toBe(401);
    expect(
      await status(await sign({ sub: 'ada', roles: ['admin'] }, { iat: t0 + 3 * 86_400, exp: t0 + 3 * 86_400 + 600 })),
    ).toBe(401);
    expect(await status(await sign({ sub: 'ada', roles: ['admin'] }, { iat: t0, exp: t0 + 86_400 + 60 }))).toBe(401);
    // Issued an hour ago for 25 hours: 24 hours left, but it lives longer than the cap all the same.
    expect(await status(await sign({ sub: 'ada', roles: ['admin'] }, { iat: t0 - 3600, exp: t0 + 86_400 }))).toBe(401);
    expect(await status(await sign({ sub: 'ada', roles: ['admin'] }, { iat: t0, exp: t0 + 86_400 }))).toBe(200);
    expect(await status(await sign({ sub: 'ada', roles: ['admin'] }, { exp: t0 + 3600 }))).toBe(200);
  });

  it('takes the cap from AUTH_MAX_TOKEN_TTL_SECONDS', async () => {
    const other = await startTestSystem({ env: { AUTH_MAX_TOKEN_TTL_SECONDS: '600' } });
    try {
      const t0 = nowSeconds();
      const ask = async (exp: number) =>
        (
          await client(other.url, await sign({ sub: 'ada', roles: ['admin'] }, { iat: t0, exp })).request(
            'GET',
            '/settings',
          )
        ).status;
      expect(await ask(t0 + 600)).toBe(200);
      expect(await ask(t0 + 3600)).toBe(401);
    } finally {
      await other.destroy();
    }
  });
});

describe('email addresses', () => {
  it('PUT /people refuses an address the mail and calendar path cannot use with a 400 naming `email`, and stores nothing', async () => {
    for (const email of [
      'ü@exämple.com',
      'a@b..com',
      'a@exämple.com',
      'a..b@example.com',
      '.cora@example.com',
      'cora@example',
      'cora@1.2.3.4',
      'Cora <cora@example.com>',
    ]) {
      const head = await sys.system.store.headPosition();
      const res = await admin.request('PUT', '/people/cora', { name: 'Cora Customer', email });
      expect({ email, status: res.status }).toEqual({ email, status: 400 });
      expect(res.body.errors).toEqual([expect.objectContaining({ path: 'email' })]);
      expect(await requestEventsSince(sys.system.store, head)).toEqual([]);
    }
    expect((await admin.request('GET', '/people/cora')).body.email).toBe('cora@example.com');
    const ok = await admin.request('PUT', '/people/cora', {
      name: 'Cora Customer',
      email: '  Cora.Customer+1on1@xn--exmple-cua.com ',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.email).toBe('Cora.Customer+1on1@xn--exmple-cua.com');
    expect(
      (await admin.request('PUT', '/people/cora', { name: 'Cora Customer', email: 'cora@example.com' })).status,
    ).toBe(200);
  });

  it('ignores a token `email` claim that is not a deliverable address, and keeps a good one', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    const sign = (email: string) =>
      new SignJWT({ roles: ['customer'], email })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('cora')
        .setIssuedAt(t0)
        .setExpirationTime(t0 + 600)
        .sign(new TextEncoder().encode(TEST_SECRET));
    const authenticate = createAuthenticator({ secret: new TextEncoder().encode(TEST_SECRET) });
    const bad = await authenticate(`Bearer ${await sign('ü@exämple.com')}`);
    expect(bad).toEqual({ _tag: 'Right', right: { id: 'cora', roles: ['customer'] } });
    const good = await authenticate(`Bearer ${await sign('cora@example.com')}`);
    expect(good).toEqual({ _tag: 'Right', right: { id: 'cora', roles: ['customer'], email: 'cora@example.com' } });
  });
});

describe('people in bookings', () => {
  it('refuses a meeting or a series for someone who is not in the people directory with a 400 naming the field, and stores nothing', async () => {
    const head = await sys.system.store.headPosition();
    const cases = [
      {
        path: '/meetings',
        body: { ...meeting, customerId: 'ghost-99', start: '2030-05-02T10:00:00Z', end: '2030-05-02T11:00:00Z' },
        fields: ['customerId'],
      },
      {
        path: '/meetings',
        body: { ...meeting, instructorId: 'ghost-98', start: '2030-05-02T10:00:00Z', end: '2030-05-02T11:00:00Z' },
        fields: ['instructorId'],
      },
      {
        path: '/meetings',
        body: {
          ...meeting,
          customerId: 'ghost-99',
          instructorId: 'ghost-98',
          start: '2030-05-02T10:00:00Z',
          end: '2030-05-02T11:00:00Z',
        },
        fields: ['customerId', 'instructorId'],
      },
      { path: '/series', body: { ...series, customerId: 'ghost-99', startDate: '2030-08-05' }, fields: ['customerId'] },
      {
        path: '/series',
        body: { ...series, instructorId: 'ghost-98', startDate: '2030-08-05' },
        fields: ['instructorId'],
      },
    ];
    for (const c of cases) {
      const res = await admin.request('POST', c.path, c.body);
      expect({ path: c.path, fields: c.fields, status: res.status }).toEqual({
        path: c.path,
        fields: c.fields,
        status: 400,
      });
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(c.fields);
      expect(res.body.detail).toMatch(/people directory/);
    }
    // An instructor booking for a customer the directory does not know is refused the same way.
    const ivan = await sys.as('ivan', ['instructor']);
    const own = await ivan.request('POST', '/meetings', {
      ...meeting,
      customerId: 'ghost-99',
      start: '2030-05-02T10:00:00Z',
      end: '2030-05-02T11:00:00Z',
    });
    expect(own.status).toBe(400);
    expect(await requestEventsSince(sys.system.store, head)).toEqual([]);

    // Once the person is in the directory, the same booking goes through.
    expect(
      (await admin.request('PUT', '/people/ghost-99', { name: 'Gus Ghost', email: 'gus@example.com' })).status,
    ).toBe(200);
    expect((await admin.request('POST', '/meetings', cases[0]?.body)).status).toBe(201);
  });
});
