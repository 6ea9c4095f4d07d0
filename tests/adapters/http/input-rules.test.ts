import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem } from '../../support/system.ts';
import type { Client, TestSystem } from '../../support/system.ts';

// Input rules of the HTTP API, on the real server over a real port: what a body, a path or a token may hold.
let now = new Date('2030-03-01T00:00:00Z');
let sys: TestSystem;
let admin: Client;
let meetingId: string;
let seriesId: string;

const meeting = {
  title: 'Strength basics',
  customerId: 'cora',
  instructorId: 'ivan',
  start: '2030-03-02T15:00:00Z',
  end: '2030-03-02T16:00:00Z',
  trainingType: '1-1',
};
const series = {
  title: 'Spring strength',
  customerId: 'cora',
  instructorId: 'ivan',
  trainingType: '1-1',
  timezone: 'America/New_York',
  startDate: '2030-04-01',
  startTime: '10:00',
  durationMinutes: 60,
  rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=3',
};
const settings = {
  notifications: { cancellation: { enabled: true, subject: 'Cancelled', bodyTemplate: '<p>{{meetingTitle}}</p>', notifyInstructor: false } },
  debugLevel: 0,
};

/** The JSON text of `body` with `extra` spliced in as raw members, so `__proto__` arrives as JSON.parse makes it: an own key. */
const withRaw = (body: object, extra: string): string => {
  const text = JSON.stringify(body);
  return text === '{}' ? `{${extra}}` : `${text.slice(0, -1)},${extra}}`;
};

beforeAll(async () => {
  sys = await startTestSystem({ system: { clock: () => now } });
  admin = await sys.as('ada', ['admin']);
  for (const [id, name] of [
    ['ivan', 'Ivan Instructor'],
    ['cora', 'Cora Customer'],
  ] as const) {
    expect((await admin.request('PUT', `/people/${id}`, { name, email: `${id}@example.com` })).status).toBe(200);
  }
  const created = await admin.request('POST', '/meetings', meeting);
  expect(created.status).toBe(201);
  meetingId = created.body.id;
  const planned = await admin.request('POST', '/series', series);
  expect(planned.status).toBe(201);
  seriesId = planned.body.id;
});

afterAll(async () => {
  await sys?.destroy();
});

describe('unknown fields', () => {
  const endpoints = (): Array<{ method: string; path: string; body: object; nested?: { path: string; text: (extra: string) => string } }> => [
    { method: 'PUT', path: '/people/cora', body: { name: 'Cora Customer', email: 'cora@example.com' } },
    { method: 'POST', path: '/meetings', body: { ...meeting, start: '2030-03-09T15:00:00Z', end: '2030-03-09T16:00:00Z' } },
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
        text: (extra) => withRaw({ debugLevel: 0 }, `"notifications":{"cancellation":${withRaw(settings.notifications.cancellation, extra)}}`),
      },
    },
  ];
  const inherited = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];

  it('refuses inherited names (__proto__, constructor, toString, ...) on every body with a 400 naming the field, and appends nothing', async () => {
    for (const endpoint of endpoints()) {
      for (const name of inherited) {
        for (const value of ['{"polluted":true}', '"x"', '1']) {
          const extra = `"${name}":${value}`;
          const cases = [{ field: name, text: withRaw(endpoint.body, extra) }];
          if (endpoint.nested !== undefined) cases.push({ field: `${endpoint.nested.path}.${name}`, text: endpoint.nested.text(extra) });
          for (const { field, text } of cases) {
            const head = await sys.system.store.headPosition();
            const res = await admin.request(endpoint.method, endpoint.path, text);
            expect({ endpoint: `${endpoint.method} ${endpoint.path}`, text, status: res.status }).toEqual({ endpoint: `${endpoint.method} ${endpoint.path}`, text, status: 400 });
            expect(res.body.errors).toContainEqual({ path: field, message: 'is not a known field' });
            expect(await sys.system.store.headPosition()).toBe(head);
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
