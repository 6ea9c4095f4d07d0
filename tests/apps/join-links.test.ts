import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/fake-resend.ts';
import { startFakeKurrentDb } from '../support/fake-kurrentdb.ts';
import { aMeeting, aPerson, aSeriesBody } from '../support/builders.ts';
import { parseCalendar } from '../support/ical.ts';
import { client, startTestSystem, tempDir, useSystem } from '../support/system.ts';
import type { Client } from '../support/system.ts';

const NOW = new Date('2030-03-02T14:50:00Z');
let clockNow = NOW;
const sys = useSystem({
  system: { clock: () => clockNow, notifications: { baseDelayMs: 20, maxDelayMs: 100 } },
  people: [
    { id: 'cora', name: 'Cora Customer' },
    { id: 'ivan', name: 'Ivan Instructor' },
    { id: 'cam', name: 'Cam Customer' },
  ],
});
const admin = sys.client('ada', ['admin']);
const cora = sys.client('cora', ['customer']);
const ivan = sys.client('ivan', ['instructor']);

/** The token in a join link's fragment, checked to be the call page of that meeting. */
const tokenOf = (link: string, meetingId: string): string => {
  const url = new URL(link);
  expect(`${url.origin}${url.pathname}${url.search}`).toBe(`${sys.system.publicBaseUrl}/call?meeting=${meetingId}`);
  expect(url.hash).toMatch(/^#link=jl1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  return url.hash.slice('#link='.length);
};

const book = async (body: Record<string, unknown>): Promise<string> => {
  const res = await admin.request('POST', '/meetings', aMeeting(body));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
};

/** The caller's own link, from the join answer. */
const linkFrom = async (who: Client, meetingId: string): Promise<string> => {
  const res = await who.request('POST', `/meetings/${meetingId}/join`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return tokenOf(res.body.link as string, meetingId);
};

// A feed may get a new address once a minute: each enabling moves the clock on by two.
const enableFeed = async (who: Client): Promise<string> => {
  clockNow = new Date(clockNow.getTime() + 120_000);
  const res = await who.request('POST', '/calendar/feed');
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.token as string;
};

const inAnHour = { start: '2030-03-02T15:00:00Z', end: '2030-03-02T16:00:00Z' };

/** A session starting in ten minutes between a customer and an instructor of their own (no overlaps between tests). */
let pairs = 0;
const session = async (): Promise<{ id: string; customer: Client; instructor: Client; customerId: string }> => {
  pairs += 1;
  const customerId = `cust${pairs}`;
  const instructorId = `inst${pairs}`;
  await sys.people(customerId, instructorId);
  const id = await book({ ...inAnHour, customerId, instructorId });
  return {
    id,
    customerId,
    customer: sys.client(customerId, ['customer']),
    instructor: sys.client(instructorId, ['instructor']),
  };
};

describe('a join link', () => {
  it('reads its meeting and joins it, in the role of its person', async () => {
    const { id, customer, instructor, customerId } = await session();
    const asCora = client(sys.url, await linkFrom(customer, id));
    const read = await asCora.request('GET', `/meetings/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, customerId });
    const joined = await asCora.request('POST', `/meetings/${id}/join`);
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({ mode: 'native', role: 'customer' });
    expect(tokenOf(joined.body.link as string, id)).toBeTruthy();
    const asIvan = client(sys.url, await linkFrom(instructor, id));
    expect((await asIvan.request('POST', `/meetings/${id}/join`)).body).toMatchObject({ role: 'instructor' });
  });

  it('reads GET /me: its person, scoped to its meeting', async () => {
    const { id, customer, customerId } = await session();
    const me = await client(sys.url, await linkFrom(customer, id)).request('GET', '/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: customerId, roles: ['customer'], inDirectory: true, scope: { meetingId: id } });
  });

  it('is refused once its person is deactivated (401), and works again once reactivated', async () => {
    const { id, customer, customerId } = await session();
    const linked = client(sys.url, await linkFrom(customer, id));
    const put = (active: boolean) =>
      admin.request('PUT', `/people/${customerId}`, { ...aPerson(customerId), roles: ['customer'], active });
    expect((await put(false)).status).toBe(200);
    const refused = await linked.request('GET', `/meetings/${id}`);
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toBe('the account is deactivated');
    expect((await put(true)).status).toBe(200);
    expect((await linked.request('GET', `/meetings/${id}`)).status).toBe(200);
  });

  it('cannot read another meeting, list a calendar, change or cancel anything (403)', async () => {
    const { id, customer } = await session();
    const other = await book({ start: '2030-03-03T15:00:00Z', end: '2030-03-03T16:00:00Z' });
    const asCora = client(sys.url, await linkFrom(customer, id));
    const refused = [
      ['GET', `/meetings/${other}`],
      ['POST', `/meetings/${other}/join`],
      ['GET', '/calendar?from=2030-03-01T00:00:00Z&to=2030-03-31T00:00:00Z'],
      ['GET', '/calendar.ics'],
      ['PATCH', `/meetings/${id}`, { title: 'Renamed' }],
      ['POST', `/meetings/${id}/cancel`, { reason: 'no' }],
      ['POST', `/meetings/${id}/confirm`],
      ['GET', `/meetings/${id}/history`],
      ['POST', '/calendar/feed'],
      ['DELETE', '/calendar/feed'],
      ['GET', '/people/cora'],
      ['PUT', '/people/cora', { name: 'Cora', email: 'cora@example.com' }],
      ['GET', '/notifications'],
      ['POST', '/meetings', aMeeting({ start: '2030-03-09T15:00:00Z', end: '2030-03-09T16:00:00Z' })],
    ] as const;
    for (const [method, path, body] of refused) {
      const res = await asCora.request(method, path, body);
      if (path === '/calendar.ics') {
        // The feed has no bearer auth at all: the link is not its token.
        expect(res.status, `${method} ${path}`).toBe(401);
        continue;
      }
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body.detail).toBe('a join link may only read and join its own meeting');
    }
    expect((await admin.request('GET', `/meetings/${id}`)).body.title).toBe('Strength basics');
  });

  it('is refused as expired once the meeting has ended (401), by the injected clock', async () => {
    const { id, customer } = await session();
    const asCora = client(sys.url, await linkFrom(customer, id));
    clockNow = new Date('2030-03-02T16:00:00Z');
    try {
      for (const [method, path] of [
        ['GET', `/meetings/${id}`],
        ['POST', `/meetings/${id}/join`],
      ] as const) {
        const res = await asCora.request(method, path);
        expect(res.status).toBe(401);
        expect(res.body.detail).toBe('the join link has expired (the meeting has ended)');
      }
    } finally {
      clockNow = NOW;
    }
  });

  it('tampered, or signed for someone else and altered, is refused (401)', async () => {
    const { id, customer } = await session();
    const token = await linkFrom(customer, id);
    const [prefix, body, mac] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    const asIvan = `${prefix}.${Buffer.from(JSON.stringify({ ...payload, sub: 'ivan', r: 'instructor' })).toString('base64url')}.${mac}`;
    const flipped = `${prefix}.${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const bad of [asIvan, flipped, `${token}x`]) {
      const res = await client(sys.url, bad).request('GET', `/meetings/${id}`);
      expect(res.status).toBe(401);
    }
  });

  it('is revoked when its person rotates or disables their calendar feed, on every link issued before', async () => {
    const { id, customer, instructor } = await session();
    const before = client(sys.url, await linkFrom(customer, id));
    const ivans = client(sys.url, await linkFrom(instructor, id));
    await enableFeed(customer);
    const revoked = await before.request('GET', `/meetings/${id}`);
    expect(revoked.status).toBe(401);
    expect(revoked.body.detail).toBe('the join link was revoked');
    expect((await ivans.request('GET', `/meetings/${id}`)).status).toBe(200);
    const after = client(sys.url, await linkFrom(customer, id));
    expect((await after.request('GET', `/meetings/${id}`)).status).toBe(200);
    clockNow = new Date(clockNow.getTime() + 120_000);
    expect((await customer.request('DELETE', '/calendar/feed')).status).toBe(204);
    expect((await after.request('GET', `/meetings/${id}`)).status).toBe(401);
  });
});

describe('the calendar feed', () => {
  it('gives each session of its owner, a series’ each, the owner’s own working link in URL and DESCRIPTION', async () => {
    const single = await book({ start: '2030-03-05T15:00:00Z', end: '2030-03-05T16:00:00Z' });
    const series = await ivan.request(
      'POST',
      '/series',
      aSeriesBody({ startDate: '2030-03-04', rrule: 'FREQ=WEEKLY;COUNT=2' }),
    );
    expect(series.status, JSON.stringify(series.body)).toBe(201);
    for (const [who, role] of [
      [cora, 'customer'],
      [ivan, 'instructor'],
    ] as const) {
      const feed = await enableFeed(who);
      const res = await fetch(`${sys.url}/calendar.ics?token=${encodeURIComponent(feed)}`);
      expect(res.status).toBe(200);
      const events = parseCalendar(await res.text()).getAllSubcomponents('vevent');
      const upcoming = events.filter((e) => Date.parse(String(e.getFirstPropertyValue('dtend'))) > clockNow.getTime());
      expect(upcoming.length).toBeGreaterThanOrEqual(3);
      const tokens = new Set<string>();
      for (const event of upcoming) {
        const url = String(event.getFirstPropertyValue('url'));
        const meetingId = new URL(url).searchParams.get('meeting')!;
        const token = tokenOf(url, meetingId);
        tokens.add(token);
        expect(String(event.getFirstPropertyValue('description'))).toContain(`Join: ${url}`);
        const linked = client(sys.url, token);
        const read = await linked.request('GET', `/meetings/${meetingId}`);
        expect(read.status).toBe(200);
        expect(read.body[`${role}Id`]).toBe(role === 'customer' ? 'cora' : 'ivan');
      }
      expect(tokens.size, 'one link per session').toBe(upcoming.length);
      const ids = upcoming.map((e) => new URL(String(e.getFirstPropertyValue('url'))).searchParams.get('meeting'));
      expect(ids).toContain(single);
    }
  });
});

describe('the emails of a session', () => {
  const sentTo = (id: string, topic: string) =>
    eventually(async () => {
      const res = await admin.request('GET', `/notifications?meetingId=${encodeURIComponent(id)}&status=sent`);
      return (res.body.items as Array<{ id: string; topic: string; recipient: { personId: string } }>).find(
        (n) => n.recipient.personId === 'cora' && n.topic === topic,
      );
    }, `the sent ${topic} email to cora`);

  it('a cancellation carries no join link: the session it announces is not held any more', async () => {
    const id = await book({ start: '2030-03-07T15:00:00Z', end: '2030-03-07T16:00:00Z' });
    expect((await admin.request('POST', `/meetings/${id}/cancel`, { reason: 'Ill' })).status).toBe(200);
    const notice = await sentTo(id, 'cancelled');
    const base = join(sys.dataDir, 'outbox', notice.id);
    const html = readFileSync(`${base}.html`, 'utf8');
    const text = readFileSync(`${base}.txt`, 'utf8');
    expect(html).toContain('cancelled');
    expect(html).not.toContain('Your own link');
    expect(html).not.toContain('#link=');
    expect(text).not.toContain('#link=');
  });

  it('the booking email carries its recipient’s own link to the session, which reads it; the recorded email does not', async () => {
    // This system's clock is stopped: no coalescing window, so the booking email goes at once.
    const window = async (coalesceSeconds: number | null) => {
      const current = (await admin.request('GET', '/settings')).body;
      const res = await admin.request('PUT', '/settings', {
        debugLevel: current.debugLevel,
        notifications: { cancellation: current.notifications.cancellation, coalesceSeconds },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    };
    await window(0);
    try {
      const id = await book({ start: '2030-03-06T15:00:00Z', end: '2030-03-06T16:00:00Z' });
      const notice = await sentTo(id, 'booked');
      const base = join(sys.dataDir, 'outbox', notice.id);
      const html = readFileSync(`${base}.html`, 'utf8');
      const text = readFileSync(`${base}.txt`, 'utf8');
      const href = /<a href="([^"]+)">/.exec(html.slice(html.indexOf('Your own link')))?.[1]?.replace(/&amp;/g, '&');
      expect(href).toBeDefined();
      const token = tokenOf(href!, id);
      expect(text).toContain(href!);
      const read = await client(sys.url, token).request('GET', `/meetings/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id, customerId: 'cora' });
      // The link is a credential: the notification's recorded events never hold it.
      const events = await sys.system.store.readStream(`notification-${notice.id}`);
      expect(events.length).toBeGreaterThan(0);
      expect(JSON.stringify(events)).not.toContain(token);
    } finally {
      // Back to NOTIFY_COALESCE_SECONDS.
      await window(null);
      expect((await admin.request('GET', '/settings')).body.notifications.coalesceSeconds).toBeUndefined();
    }
  });
});

describe('across nodes', () => {
  it('a link issued on one node works on another, and a feed rotated on the first revokes it on the second', async () => {
    const fake = await startFakeKurrentDb();
    const dirs = [tempDir(), tempDir()];
    const env = { KURRENTDB_CONNECTION_STRING: `${fake.connectionString}&discoveryInterval=10` };
    let now = NOW;
    try {
      const nodeA = await startTestSystem({ dataDir: dirs[0]!, env, system: { clock: () => now } });
      const nodeB = await startTestSystem({ dataDir: dirs[1]!, env, system: { clock: () => now } });
      try {
        const suffix = Date.now().toString(36);
        const [customerId, instructorId] = [`cora-${suffix}`, `ivan-${suffix}`];
        await nodeA.people(customerId, instructorId);
        const created = await (
          await nodeA.as('ada', ['admin'])
        ).request('POST', '/meetings', aMeeting({ ...inAnHour, customerId, instructorId }));
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        const id = created.body.id as string;
        const customerOnA = await nodeA.as(customerId, ['customer']);
        const joined = await customerOnA.request('POST', `/meetings/${id}/join`);
        expect(joined.status).toBe(200);
        const onB = client(nodeB.url, new URL(joined.body.link as string).hash.slice('#link='.length));
        await eventually(
          async () => (await onB.request('GET', `/meetings/${id}`)).status === 200,
          'node B to accept the link',
        );
        now = new Date(now.getTime() + 120_000);
        expect((await customerOnA.request('POST', '/calendar/feed')).status).toBe(201);
        const revoked = await eventually(async () => {
          const res = await onB.request('GET', `/meetings/${id}`);
          return res.status === 401 ? res : undefined;
        }, 'node B to refuse the revoked link');
        expect(revoked.body.detail).toBe('the join link was revoked');
      } finally {
        await nodeA.close();
        await nodeB.close();
      }
    } finally {
      await fake.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
});
