import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/fake-resend.ts';
import { startFakeKurrentDb } from '../support/fake-kurrentdb.ts';
import { aMeeting } from '../support/builders.ts';
import { startTestSystem, tempDir, useSystem } from '../support/system.ts';
import type { Client } from '../support/system.ts';

const NOW = new Date('2030-03-01T12:00:00Z');
// Titles are one line (the domain refuses control characters); the feed's DESCRIPTION carries the line breaks.
const TITLE = 'Legs, core; and balance — Übung 日本語 🏋️ with a back\\slash and a long tail so that the line must fold';

interface Ics {
  readonly calendar: Record<string, string>;
  readonly events: ReadonlyArray<Record<string, string>>;
}

/**
 * A small RFC 5545 reader: checks that every physical line ends in CRLF and has at most 75 octets, unfolds, and
 * splits the calendar into its own properties and one record per VEVENT (`NAME` or `NAME;PARAMS` → raw value).
 */
const parseIcs = (text: string): Ics => {
  expect(text.endsWith('\r\n'), 'the feed ends with CRLF').toBe(true);
  const physical = text.slice(0, -2).split('\r\n');
  for (const line of physical) {
    expect(line, 'no bare CR or LF inside a line').not.toMatch(/[\r\n]/);
    expect(Buffer.byteLength(line, 'utf8'), `line too long: ${line}`).toBeLessThanOrEqual(75);
  }
  const lines = text
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n')
    .filter((l) => l.length > 0);
  expect(lines[0]).toBe('BEGIN:VCALENDAR');
  expect(lines.at(-1)).toBe('END:VCALENDAR');
  const calendar: Record<string, string> = {};
  const events: Array<Record<string, string>> = [];
  let current: Record<string, string> | undefined;
  for (const line of lines.slice(1, -1)) {
    if (line === 'BEGIN:VEVENT') {
      expect(current, 'VEVENTs do not nest').toBeUndefined();
      current = {};
      continue;
    }
    if (line === 'END:VEVENT') {
      events.push(current!);
      current = undefined;
      continue;
    }
    const colon = line.indexOf(':');
    expect(colon, `a property line: ${line}`).toBeGreaterThan(0);
    const target = current ?? calendar;
    const name = line.slice(0, colon);
    expect(target[name], `${name} appears once`).toBeUndefined();
    target[name] = line.slice(colon + 1);
  }
  expect(current, 'every VEVENT ends').toBeUndefined();
  return { calendar, events };
};

/** RFC 5545 §3.3.11 TEXT unescaping. */
const text = (value: string | undefined): string | undefined =>
  value?.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));

const sys = useSystem({
  system: { clock: () => clockNow, notifications: { baseDelayMs: 20, maxDelayMs: 100 } },
  people: [
    { id: 'cora', name: 'Cora Customer' },
    { id: 'ivan', name: 'Ivan Instructor' },
    { id: 'olga', name: 'Olga Instructor' },
    { id: 'cam', name: 'Cam Customer' },
  ],
});
const admin = sys.client('ada', ['admin']);
const cora = sys.client('cora', ['customer']);
const ivan = sys.client('ivan', ['instructor']);
const olga = sys.client('olga', ['instructor']);
const cam = sys.client('cam', ['customer']);
let host: string;
const ids: Record<string, string> = {};

const meeting = (title: string, customerId: string, instructorId: string, start: string, end: string) =>
  aMeeting({ title, customerId, instructorId, start, end });

const schedule = async (key: string, body: ReturnType<typeof meeting>) => {
  const res = await admin.request('POST', '/meetings', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  ids[key] = res.body.id as string;
};

/** The feed as a calendar app fetches it: no Authorization header. */
const fetchFeed = async (
  token: string | undefined,
  base = sys.url,
): Promise<{ status: number; body: string; headers: Headers }> => {
  const res = await fetch(
    token === undefined ? `${base}/calendar.ics` : `${base}/calendar.ics?token=${encodeURIComponent(token)}`,
  );
  return { status: res.status, body: await res.text(), headers: res.headers };
};

// A feed may get a new address once a minute: each enabling here happens a couple of minutes after the last one.
let clockNow = NOW;
const enable = async (who: Client, body?: unknown): Promise<{ token: string; url: string }> => {
  clockNow = new Date(clockNow.getTime() + 120_000);
  const res = await who.request('POST', '/calendar/feed', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return res.body as { token: string; url: string };
};

const feedEvents = async (token: string): Promise<Ics> => {
  const res = await fetchFeed(token);
  expect(res.status, res.body).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
  return parseIcs(res.body);
};

const byUid = (ics: Ics) => new Map(ics.events.map((e) => [e['UID']!, e]));
const uid = (key: string) => `${ids[key]}@localhost`;

beforeAll(async () => {
  host = `http://localhost:${sys.system.port}`;
  await schedule('coraIvan', meeting(TITLE, 'cora', 'ivan', '2030-03-10T10:00:00Z', '2030-03-10T11:00:00Z'));
  await schedule('camIvan', meeting('Cam with Ivan', 'cam', 'ivan', '2030-03-11T10:00:00Z', '2030-03-11T11:00:00Z'));
  await schedule(
    'coraOlga',
    meeting('Cora with Olga', 'cora', 'olga', '2030-03-12T10:00:00+01:00', '2030-03-12T11:30:00+01:00'),
  );
  await schedule('camOlga', meeting('Cam with Olga', 'cam', 'olga', '2030-03-13T10:00:00Z', '2030-03-13T11:00:00Z'));
  await schedule(
    'recentPast',
    meeting('Two weeks ago', 'cora', 'ivan', '2030-02-15T10:00:00Z', '2030-02-15T11:00:00Z'),
  );
  await schedule('longAgo', meeting('Six weeks ago', 'cora', 'ivan', '2030-01-15T10:00:00Z', '2030-01-15T11:00:00Z'));
  await schedule('farAhead', meeting('Next year', 'cora', 'ivan', '2031-06-01T10:00:00Z', '2031-06-01T11:00:00Z'));
  expect((await olga.request('POST', `/meetings/${ids.coraOlga}/confirm`)).status).toBe(200);
});

describe('subscribing to one’s calendar', () => {
  it('a user enables their own feed and gets a secret URL on the public base URL', async () => {
    const feed = await enable(cora);
    expect(feed.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(feed.url).toBe(`${host}/calendar.ics?token=${feed.token}`);
    // Only the hash of the token is in the log, which auditors can read.
    const events = await sys.system.store.readStream('feed-cora');
    expect(events.map((e) => e.type)).toEqual(['CalendarFeedEnabled']);
    expect(events[0]!.data).toMatchObject({
      userId: 'cora',
      tokenHash: createHash('sha256').update(feed.token).digest('hex'),
      by: { id: 'cora' },
    });
    expect(JSON.stringify(events)).not.toContain(feed.token);
  });

  it('admins may enable anyone’s feed; others only their own (403)', async () => {
    const forIvan = await enable(admin, { userId: 'ivan' });
    expect((await sys.system.store.readStream('feed-ivan'))[0]!.data).toMatchObject({
      userId: 'ivan',
      by: { id: 'ada' },
    });
    expect((await fetchFeed(forIvan.token)).status).toBe(200);
    for (const [who, userId] of [
      [cora, 'ivan'],
      [ivan, 'cora'],
      [cam, 'cora'],
    ] as const) {
      const refused = await who.request('POST', '/calendar/feed', { userId });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await cora.request('POST', '/calendar/feed', { userId: 'cora', extra: 1 })).status).toBe(400);
    expect((await fetch(`${sys.url}/calendar/feed`, { method: 'POST' })).status).toBe(401);
  });

  it('the feed needs no bearer token and holds exactly the user’s sessions, in both roles, within its window', async () => {
    const coraFeed = await enable(cora);
    const ics = await feedEvents(coraFeed.token);
    expect(ics.calendar).toMatchObject({
      VERSION: '2.0',
      METHOD: 'PUBLISH',
      'X-WR-CALNAME': 'Virtual Y: Cora Customer',
      'REFRESH-INTERVAL;VALUE=DURATION': 'PT1H',
      'X-PUBLISHED-TTL': 'PT1H',
    });
    expect([...byUid(ics).keys()].sort()).toEqual([uid('coraIvan'), uid('coraOlga'), uid('recentPast')].sort());
    const head = await fetch(`${sys.url}/calendar.ics?token=${coraFeed.token}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/calendar; charset=utf-8');

    const ivanFeed = await enable(ivan);
    const asInstructor = byUid(await feedEvents(ivanFeed.token));
    expect([...asInstructor.keys()].sort()).toEqual([uid('coraIvan'), uid('camIvan'), uid('recentPast')].sort());
    expect(text(asInstructor.get(uid('camIvan'))!['DESCRIPTION'])).toContain('Customer: Cam Customer');
  });

  it('each VEVENT carries the stable UID, SEQUENCE, STATUS, UTC times, the title as given, the counterpart and the call link', async () => {
    const { token } = await enable(cora);
    const events = byUid(await feedEvents(token));
    const planned = events.get(uid('coraIvan'))!;
    expect(text(planned['SUMMARY'])).toBe(TITLE);
    expect(planned).toMatchObject({
      SEQUENCE: '0',
      STATUS: 'TENTATIVE',
      DTSTART: '20300310T100000Z',
      DTEND: '20300310T110000Z',
      DTSTAMP: clockNow
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, ''),
    });
    // The owner's own join link: the call page with a signed token in the fragment (tests/apps/join-links.test.ts).
    const link = planned['URL']!;
    expect(link.startsWith(`${host}/call?meeting=${ids.coraIvan}#link=jl1.`), link).toBe(true);
    expect(text(planned['DESCRIPTION'])).toBe(`Instructor: Ivan Instructor\nJoin: ${link}`);
    const confirmed = events.get(uid('coraOlga'))!;
    expect(confirmed).toMatchObject({
      STATUS: 'CONFIRMED',
      SEQUENCE: '0',
      DTSTART: '20300312T090000Z',
      DTEND: '20300312T103000Z',
    });
    expect(text(confirmed['DESCRIPTION'])).toContain('Instructor: Olga Instructor');
  });

  it('a cancelled session stays with STATUS:CANCELLED and a bumped SEQUENCE, the same UID and SEQUENCE as the cancellation email', async () => {
    const { token } = await enable(cora);
    const before = byUid(await feedEvents(token)).get(uid('coraIvan'))!;
    expect((await ivan.request('POST', `/meetings/${ids.coraIvan}/cancel`, { reason: 'Ill' })).status).toBe(200);
    const after = byUid(await feedEvents(token)).get(uid('coraIvan'))!;
    expect(after['STATUS']).toBe('CANCELLED');
    expect(Number(after['SEQUENCE'])).toBe(Number(before['SEQUENCE']) + 1);
    expect(after['TRANSP']).toBe('TRANSPARENT');

    const notice = await eventually(async () => {
      const res = await admin.request(
        'GET',
        `/notifications?meetingId=${encodeURIComponent(ids.coraIvan!)}&status=sent`,
      );
      return (res.body.items as Array<{ id: string; recipient: { personId: string } }>).find(
        (n) => n.recipient.personId === 'cora',
      );
    }, 'the cancellation email to cora');
    const envelope = JSON.parse(readFileSync(join(sys.dataDir, 'outbox', `${notice.id}.json`), 'utf8')) as {
      attachments: Array<{ file: string }>;
    };
    const email = parseIcs(readFileSync(join(sys.dataDir, 'outbox', envelope.attachments[0]!.file), 'utf8'));
    expect(email.events).toHaveLength(1);
    expect(email.events[0]).toMatchObject({ UID: after['UID'], SEQUENCE: after['SEQUENCE'], STATUS: 'CANCELLED' });

    expect((await ivan.request('POST', `/meetings/${ids.coraIvan}/reinstate`)).status).toBe(200);
    const reinstated = byUid(await feedEvents(token)).get(uid('coraIvan'))!;
    expect(reinstated).toMatchObject({ STATUS: 'TENTATIVE', SEQUENCE: String(Number(after['SEQUENCE']) + 1) });
  });

  it('refuses a second new address within a minute (409), so the log cannot be flooded', async () => {
    await enable(cam);
    const again = await cam.request('POST', '/calendar/feed');
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/less than a minute ago/);
  });

  it('rotating issues a new URL and the old one stops working at once (401)', async () => {
    const first = await enable(cora);
    expect((await fetchFeed(first.token)).status).toBe(200);
    const second = await enable(cora);
    expect(second.token).not.toBe(first.token);
    const old = await fetchFeed(first.token);
    expect(old.status).toBe(401);
    expect(old.headers.get('content-type')).toBe('application/problem+json');
    expect((await fetchFeed(second.token)).status).toBe(200);
  });

  it('disabling revokes the URL; admins may disable anyone’s, others only their own', async () => {
    const { token } = await enable(cam);
    expect((await cora.request('DELETE', '/calendar/feed?userId=cam')).status).toBe(403);
    expect((await fetchFeed(token)).status).toBe(200);
    const gone = await cam.request('DELETE', '/calendar/feed');
    expect(gone.status).toBe(204);
    expect(gone.body).toBeUndefined();
    expect((await fetchFeed(token)).status).toBe(401);
    expect((await cam.request('DELETE', '/calendar/feed')).status).toBe(204);

    const olgaFeed = await enable(olga);
    expect((await admin.request('DELETE', '/calendar/feed?userId=olga')).status).toBe(204);
    expect((await fetchFeed(olgaFeed.token)).status).toBe(401);
    expect((await admin.request('DELETE', '/calendar/feed?user=olga')).status).toBe(400);
    expect((await sys.system.store.readStream('feed-olga')).map((e) => e.type)).toEqual([
      'CalendarFeedEnabled',
      'CalendarFeedDisabled',
    ]);
  });

  it('unknown, malformed and missing tokens get one and the same 401', async () => {
    const answers = await Promise.all([
      fetchFeed('x'.repeat(43)),
      fetchFeed('not a token; at all'),
      fetchFeed('y'.repeat(5000)),
      fetchFeed(''),
      fetchFeed(undefined),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
      expect(JSON.parse(answer.body)).toEqual({
        type: 'about:blank',
        title: 'Unauthorized',
        status: 401,
        detail: 'unknown or revoked calendar feed token',
      });
    }
    // A bearer token is no substitute for the feed token.
    const withBearer = await fetch(`${sys.url}/calendar.ics`, {
      headers: { authorization: `Bearer ${await sys.token('cora', ['customer'])}` },
    });
    expect(withBearer.status).toBe(401);
  });

  it('is rate-limited per token (429 with Retry-After), without affecting other feeds', async () => {
    const { token } = await enable(olga);
    const other = await enable(cora);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 80 && !statuses.includes(429); i++) {
      const res = await fetchFeed(token);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await fetchFeed(other.token)).status).toBe(200);
  });
});

describe('the feed across a restart', () => {
  it('keeps working after a restart and after the read models are rebuilt from the log', async () => {
    const dataDir = tempDir();
    try {
      const first = await startTestSystem({ dataDir, system: { clock: () => NOW } });
      await first.people('cora', 'ivan');
      const firstAdmin = await first.as('ada', ['admin']);
      const created = await firstAdmin.request(
        'POST',
        '/meetings',
        meeting('Durable', 'cora', 'ivan', '2030-03-20T10:00:00Z', '2030-03-20T11:00:00Z'),
      );
      expect(created.status).toBe(201);
      const res = await (await first.as('cora', ['customer'])).request('POST', '/calendar/feed');
      expect(res.status).toBe(201);
      const token = res.body.token as string;
      await first.close();

      const second = await startTestSystem({ dataDir, system: { clock: () => NOW } });
      let feed = await fetchFeed(token, second.url);
      expect(feed.status).toBe(200);
      expect(parseIcs(feed.body).events.map((e) => e['UID'])).toEqual([`${created.body.id}@localhost`]);
      await second.close();

      for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, `read-models.db${suffix}`), { force: true });
      const third = await startTestSystem({ dataDir, system: { clock: () => NOW } });
      await third.system.projections.waitFor(await third.system.store.headPosition());
      feed = await fetchFeed(token, third.url);
      expect(feed.status).toBe(200);
      expect(parseIcs(feed.body).events).toHaveLength(1);
      await third.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the feed on KurrentDB (the in-process fake)', () => {
  it('feed streams are among the prefixes read from $all: a second node serves a feed enabled on the first', async () => {
    const fake = await startFakeKurrentDb();
    const dirs = [tempDir(), tempDir()];
    const env = { KURRENTDB_CONNECTION_STRING: `${fake.connectionString}&discoveryInterval=10` };
    try {
      const nodeA = await startTestSystem({ dataDir: dirs[0]!, env, system: { clock: () => NOW } });
      const nodeB = await startTestSystem({ dataDir: dirs[1]!, env, system: { clock: () => NOW } });
      try {
        const suffix = Date.now().toString(36);
        const userId = `cora-${suffix}`;
        await nodeA.people(userId, `ivan-${suffix}`);
        const created = await (
          await nodeA.as('ada', ['admin'])
        ).request(
          'POST',
          '/meetings',
          meeting('On Kurrent', userId, `ivan-${suffix}`, '2030-03-21T10:00:00Z', '2030-03-21T11:00:00Z'),
        );
        expect(created.status).toBe(201);
        const enabled = await (await nodeA.as(userId, ['customer'])).request('POST', '/calendar/feed');
        expect(enabled.status).toBe(201);
        expect(fake.events.filter((e) => e.streamName === `feed-${userId}`).map((e) => e.type)).toEqual([
          'CalendarFeedEnabled',
        ]);
        expect((await fetchFeed(enabled.body.token, nodeA.url)).status).toBe(200);
        const onB = await eventually(async () => {
          const res = await fetchFeed(enabled.body.token, nodeB.url);
          return res.status === 200 ? res : undefined;
        }, 'node B to serve the feed');
        expect(parseIcs(onB.body).events.map((e) => e['UID'])).toEqual([`${created.body.id}@localhost`]);
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
