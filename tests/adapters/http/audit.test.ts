import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EventToAppend } from '../../../application/ports/event-store.ts';
import { recordPerson } from '../../support/directory.ts';
import { eventually } from '../../support/fake-resend.ts';
import { useSystem } from '../../support/system.ts';
import type { TestSystem } from '../../support/system.ts';

/**
 * GET /audit through the real HTTP app on the embedded store: events of a made-up aggregate appended straight to
 * the store stand for the sign-in and session streams other capabilities add (the audit log must pick them up
 * without knowing them), role changes as the people directory records them, filters, redaction, paging and CSV.
 */

type Entry = {
  position: number;
  at: string;
  actor: { id: string; roles: string[] };
  type: string;
  stream: string;
  summary: string;
  data: any;
};

/** RFC 4180: fields separated by commas, records by CRLF, quoted fields may hold commas, quotes ("") and line breaks. */
const parseCsv = (text: string): string[][] => {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"' && field === '') {
      // A quoted field runs to the quote that is not doubled.
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i];
        i++;
      }
      if (i < text.length && text[i] !== ',' && text.slice(i, i + 2) !== '\r\n')
        throw new Error(`text after a closing quote at ${i}`);
      continue;
    }
    if (ch === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (text.slice(i, i + 2) === '\r\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else {
      if (ch === '"' || ch === '\r' || ch === '\n') throw new Error(`bare ${JSON.stringify(ch)} at ${i}`);
      field += ch;
      i++;
    }
  }
  if (field !== '' || record.length > 0) throw new Error('the last record does not end with CRLF');
  return records;
};

/** What a spreadsheet-safe cell holds for a value: a `'` before a leading formula character. */
const cell = (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

const append = async (sys: TestSystem, stream: string, events: ReadonlyArray<Omit<EventToAppend, 'id'>>) => {
  const result = await sys.system.store.appendToStream(
    stream,
    events.map((event) => ({ id: randomUUID(), ...event })),
  );
  if (result._tag === 'Left') throw new Error(`append to ${stream} refused`);
  await sys.system.projections.waitFor(result.right.position);
  return result.right.position;
};

const getCsv = async (sys: TestSystem, token: string, query: string) => {
  const response = await fetch(`${sys.url}/audit${query}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/csv' },
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
};

/** Every page of a query, following `next`, and how many pages it took. */
const allPages = async (sys: TestSystem, query: string, limit: number) => {
  const admin = await sys.as('ada', ['admin']);
  const items: Entry[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const res = await admin.request(
      'GET',
      `/audit?${query}&limit=${limit}${cursor !== undefined ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    pages++;
    items.push(...(res.body.items as Entry[]));
    if (res.body.next === undefined) break;
    expect(res.body.items).toHaveLength(limit);
    cursor = res.body.next as string;
  }
  return { items, pages };
};

describe('GET /audit', () => {
  const sys = useSystem({ people: ['cora', 'ivan'] });
  const sessionStream = `login-${randomUUID()}`;

  it('shows events of streams it does not know, with actor and person filters', async () => {
    await append(sys, sessionStream, [
      {
        type: 'LoginLinkSent',
        data: { personId: 'cora', codeHash: 'c0ffee', at: '2025-06-01T10:00:00Z' },
        metadata: { actor: { id: 'cora', roles: ['customer'] } },
      },
      { type: 'LoginFailed', data: { personId: 'cora', reason: 'code expired', at: '2025-06-01T10:20:00Z' } },
      {
        type: 'LoginSucceeded',
        data: { personId: 'cora', at: '2025-06-01T10:21:00.5+02:00', by: { id: 'cora', roles: ['customer'] } },
      },
    ]);
    const admin = await sys.as('ada', ['admin']);
    const concerningCora = await admin.request('GET', `/audit?personId=cora&from=2025-06-01T00:00:00Z`);
    expect(concerningCora.status).toBe(200);
    const mine = (concerningCora.body.items as Entry[]).filter((e) => e.stream === sessionStream);
    // Oldest first by `at`: the one with an offset is 08:21 UTC, before the other two.
    expect(mine.map((e) => [e.type, e.at, e.actor.id])).toEqual([
      ['LoginSucceeded', '2025-06-01T08:21:00.500Z', 'cora'],
      ['LoginLinkSent', '2025-06-01T10:00:00.000Z', 'cora'],
      ['LoginFailed', '2025-06-01T10:20:00.000Z', 'unknown'],
    ]);
    expect(mine[2]!.actor.roles).toEqual([]);
    expect(mine[1]!.data).toEqual({ personId: 'cora', codeHash: '[redacted]', at: '2025-06-01T10:00:00Z' });
    expect(mine[1]!.summary).toBe(`LoginLinkSent in stream ${sessionStream}.`);

    const byCora = await admin.request('GET', `/audit?actor=cora&from=2025-06-01T00:00:00Z&to=2025-06-02T00:00:00Z`);
    expect((byCora.body.items as Entry[]).map((e) => e.type)).toEqual(['LoginSucceeded', 'LoginLinkSent']);
    const failed = await admin.request('GET', '/audit?type=LoginFailed&personId=cora');
    expect((failed.body.items as Entry[]).map((e) => e.stream)).toEqual([sessionStream]);
    const nobody = await admin.request('GET', `/audit?personId=ivan&type=LoginSucceeded`);
    expect(nobody.body.items).toEqual([]);
  });

  it('names the old and the new roles of a role change, found by actor, person and type', async () => {
    await append(sys, 'person-ivan', [
      {
        type: 'PersonRolesChanged',
        data: {
          personId: 'ivan',
          roles: ['instructor', 'auditor'],
          previous: ['instructor'],
          at: '2025-07-01T09:00:00.000Z',
          by: { id: 'ada', roles: ['admin'] },
        },
      },
    ]);
    const auditor = await sys.as('audrey', ['auditor']);
    const res = await auditor.request('GET', '/audit?type=PersonRolesChanged&personId=ivan&actor=ada');
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    const [entry] = res.body.items as Entry[];
    expect(entry).toMatchObject({
      at: '2025-07-01T09:00:00.000Z',
      actor: { id: 'ada', roles: ['admin'] },
      type: 'PersonRolesChanged',
      stream: 'person-ivan',
      summary: 'Roles of person ivan changed from instructor to instructor, auditor.',
    });
    // The admin who changed them is concerned too; cora is not.
    const byAda = await auditor.request('GET', '/audit?personId=ada&type=PersonRolesChanged');
    expect(byAda.body.items).toHaveLength(1);
    const cora = await auditor.request('GET', '/audit?personId=cora&type=PersonRolesChanged');
    expect(cora.body.items).toEqual([]);
  });

  it('records writes made through the API, role changes included, with the actor of the request', async () => {
    const admin = await sys.as('ada', ['admin']);
    const put = await admin.request('PUT', '/people/olga', { name: 'Olga', email: 'olga@example.com' });
    expect(put.status).toBe(200);
    const res = await admin.request('GET', '/audit?personId=olga&type=PersonRegistered');
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({
      actor: { id: 'ada', roles: ['admin'] },
      stream: 'person-olga',
      summary: 'Person olga ("Olga") was added to the directory.',
    });
    const promoted = await admin.request('PUT', '/people/olga', {
      name: 'Olga',
      email: 'olga@example.com',
      roles: ['instructor', 'auditor'],
    });
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    const auditor = await sys.as('audrey', ['auditor']);
    const changes = await auditor.request('GET', '/audit?personId=olga&type=PersonRolesChanged&actor=ada');
    expect(changes.body.items).toHaveLength(1);
    expect(changes.body.items[0].summary).toMatch(/^Roles of person olga changed from .* to instructor, auditor\.$/);
    expect(changes.body.items[0].data.roles).toEqual(['instructor', 'auditor']);
  });

  it('has the sign-ins the server records: links sent and failures, without their hashes', async () => {
    await recordPerson(sys.system, { id: 'sam', roles: ['customer'], email: 'sam@example.com' });
    const anonymous = { 'content-type': 'application/json' };
    for (const email of ['sam@example.com', 'nobody@example.com']) {
      const res = await fetch(`${sys.url}/auth/email-link`, {
        method: 'POST',
        headers: anonymous,
        body: JSON.stringify({ email }),
      });
      expect(res.status).toBe(202);
    }
    await sys.system.signIn?.idle();
    const auditor = await sys.as('audrey', ['auditor']);
    // The links go out in the background: wait until both attempts are recorded.
    const [sent, unknown] = await eventually(async () => {
      const links = (await auditor.request('GET', '/audit?type=SignInLinkSent&personId=sam')).body.items as Entry[];
      const failures = (await auditor.request('GET', '/audit?type=SignInFailed')).body.items as Entry[];
      const failure = failures.find((e) => e.data.reason === 'unknown-address');
      return links.length > 0 && failure !== undefined ? ([links, failure] as const) : undefined;
    }, 'the sign-in attempts in the audit log');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.summary).toBe('A sign-in link was emailed to person sam.');
    expect(sent[0]!.data.codeHash).toBe('[redacted]');
    expect(unknown.summary).toBe('A sign-in (email) failed: unknown-address.');
    expect(unknown.data.addressHash).toBe('[redacted]');
  });

  it('redacts secrets at any depth, in JSON and in CSV, and leaves bookkeeping streams out', async () => {
    const stream = `device-${randomUUID()}`;
    await append(sys, stream, [
      {
        type: 'DeviceRotated',
        data: {
          userId: 'cora',
          at: '2025-08-01T00:00:00Z',
          refreshTokenHash: 'hash-1',
          grants: [{ client: { apiKey: 'key-1', clientSecret: 'secret-1', deeper: [{ accessToken: 'tok-1' }] } }],
          token: 'tok-2',
          tokenCount: 3,
          stripeApiKey: 'key-2',
        },
      },
    ]);
    await append(sys, `schedule-nobody-2025-08`, [{ type: 'SlotReserved', data: { at: '2025-08-01T00:00:00Z' } }]);
    await append(sys, `idempotency-${randomUUID()}`, [{ type: 'Claimed', data: { at: '2025-08-01T00:00:00Z' } }]);
    const admin = await sys.as('ada', ['admin']);
    const range = 'from=2025-08-01T00:00:00Z&to=2025-08-02T00:00:00Z';
    const res = await admin.request('GET', `/audit?${range}`);
    expect((res.body.items as Entry[]).map((e) => e.stream)).toEqual([stream]);
    expect(res.body.items[0].data).toEqual({
      userId: 'cora',
      at: '2025-08-01T00:00:00Z',
      refreshTokenHash: '[redacted]',
      grants: [
        { client: { apiKey: '[redacted]', clientSecret: '[redacted]', deeper: [{ accessToken: '[redacted]' }] } },
      ],
      token: '[redacted]',
      tokenCount: 3,
      stripeApiKey: '[redacted]',
    });
    const csv = await getCsv(sys, await sys.token('ada', ['admin']), `?${range}`);
    expect(csv.status).toBe(200);
    for (const secret of ['hash-1', 'key-1', 'secret-1', 'tok-1', 'tok-2', 'key-2']) {
      expect(JSON.stringify(res.body)).not.toContain(secret);
      expect(csv.text).not.toContain(secret);
    }
  });

  it('answers a month as CSV with exactly the entries of its JSON pages, formula cells defused', async () => {
    // 320 entries from 2025-09-16 to 2025-10-15, every 135 minutes, a few with awkward actors and text.
    const start = Date.parse('2025-09-16T00:00:00Z');
    const events = Array.from({ length: 320 }, (_, i) => {
      const actor = [
        { id: `member-${i % 7}`, roles: ['customer'] },
        { id: '=HYPERLINK("http://evil.example","x")', roles: ['admin', 'auditor'] },
        { id: '-2+3', roles: ['instructor'] },
        { id: '@SUM(A1)', roles: [] },
      ][i % 11 === 0 ? 1 + (i % 3) : 0]!;
      return {
        type: i % 5 === 0 ? 'LoginFailed' : 'LoginSucceeded',
        data: {
          personId: `member-${i % 7}`,
          note: i % 13 === 0 ? 'a "quoted", comma\r\nand a line break' : `attempt ${i}`,
          at: new Date(start + i * 135 * 60_000).toISOString(),
          by: actor,
        },
      };
    });
    const stream = `login-${randomUUID()}`;
    for (let i = 0; i < events.length; i += 100) await append(sys, stream, events.slice(i, i + 100));

    const range = 'from=2025-09-16T00:00:00Z&to=2025-10-16T00:00:00Z';
    const json = await allPages(sys, range, 37);
    expect(json.items).toHaveLength(320);
    expect(json.pages).toBe(9);
    expect(new Set(json.items.map((e) => e.position)).size).toBe(320);
    const ats = json.items.map((e) => e.at);
    expect([...ats].sort()).toEqual(ats);
    expect(ats.some((at) => at.startsWith('2025-09-3'))).toBe(true);
    expect(ats.some((at) => at.startsWith('2025-10-1'))).toBe(true);

    const csv = await getCsv(sys, await sys.token('audrey', ['auditor']), `?${range}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    // Personal data: no shared cache keeps it.
    expect(csv.headers.get('cache-control')).toBe('no-store');
    expect(csv.headers.get('x-content-type-options')).toBe('nosniff');
    expect(csv.headers.get('content-disposition')).toBe(
      'attachment; filename="audit-20250916T000000Z-20251016T000000Z.csv"',
    );
    const [header, ...rows] = parseCsv(csv.text);
    expect(header).toEqual(['at', 'actor', 'actor_roles', 'type', 'stream', 'summary', 'data']);
    expect(rows).toEqual(
      json.items.map((e) =>
        [e.at, e.actor.id, e.actor.roles.join(' '), e.type, e.stream, e.summary, JSON.stringify(e.data)].map(cell),
      ),
    );
    expect(rows.some((row) => row[1] === `'=HYPERLINK("http://evil.example","x")`)).toBe(true);
    expect(rows.some((row) => row[1] === `'-2+3`)).toBe(true);
    expect(rows.some((row) => row[1] === `'@SUM(A1)`)).toBe(true);

    // Every filter applies to the CSV as to the pages.
    const filtered = await getCsv(
      sys,
      await sys.token('ada', ['admin']),
      `?${range}&personId=member-3&type=LoginFailed`,
    );
    const expected = json.items.filter((e) => e.data.personId === 'member-3' && e.type === 'LoginFailed');
    expect(expected.length).toBeGreaterThan(3);
    expect(
      parseCsv(filtered.text)
        .slice(1)
        .map((row) => row[0]),
    ).toEqual(expected.map((e) => e.at));
  });

  it('pages a wide range with the default page size', async () => {
    const admin = await sys.as('ada', ['admin']);
    const first = await admin.request('GET', '/audit?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z');
    expect(first.body.items).toHaveLength(100);
    expect(typeof first.body.next).toBe('string');
    const second = await admin.request('GET', `/audit?cursor=${encodeURIComponent(first.body.next as string)}`);
    expect(second.body.items[0].position).not.toBe(first.body.items[99].position);
    expect(second.body.items[0].at >= first.body.items[99].at).toBe(true);
  });

  it('pages entries of the same instant by log position, none twice and none left out', async () => {
    const at = '2025-11-11T11:11:11.000Z';
    const stream = `device-${randomUUID()}`;
    await append(
      sys,
      stream,
      Array.from({ length: 5 }, (_, i) => ({ type: 'DeviceRefreshed', data: { userId: `u${i}`, at } })),
    );
    const { items, pages } = await allPages(sys, `from=${at}&to=2025-11-11T11:11:12Z`, 2);
    expect(pages).toBe(3);
    expect(items.map((e) => e.data.userId)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
  });

  it('refuses everyone but admins and auditors, in JSON and in CSV', async () => {
    for (const roles of [['customer'], ['instructor'], ['customer', 'instructor']]) {
      const who = await sys.as('cora', roles);
      const res = await who.request('GET', '/audit');
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const csv = await getCsv(sys, await sys.token('cora', roles), '');
      expect(csv.status).toBe(403);
    }
    const anonymous = await fetch(`${sys.url}/audit`);
    expect(anonymous.status).toBe(401);
  });

  it('names every bad parameter', async () => {
    const admin = await sys.as('ada', ['admin']);
    const bad = await admin.request(
      'GET',
      '/audit?from=yesterday&limit=1001&cursor=bogus!&type=Person%20Updated&actor=a%0Ab&page=2',
    );
    expect(bad.status).toBe(400);
    expect((bad.body.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual(
      ['actor', 'cursor', 'from', 'limit', 'page', 'type'].sort(),
    );
    const forged = Buffer.from(JSON.stringify(['not a time', 1])).toString('base64url');
    expect((await admin.request('GET', `/audit?cursor=${forged}`)).status).toBe(400);
    expect((await admin.request('GET', '/audit?limit=0')).status).toBe(400);
    const backwards = await admin.request('GET', '/audit?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z');
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors).toEqual([{ path: 'to', message: 'must be after from' }]);
    const csvPaged = await getCsv(sys, await sys.token('ada', ['admin']), '?limit=10');
    expect(csvPaged.status).toBe(400);
    expect(JSON.parse(csvPaged.text).errors[0].path).toBe('limit');
  });
});

describe('GET /audit as CSV, beyond its cap', () => {
  const sys = useSystem({ system: { auditCsvMaxRows: 5 } });

  it('answers 422 asking for a narrower range, and exports one within the cap', async () => {
    const stream = `login-${randomUUID()}`;
    await append(
      sys,
      stream,
      Array.from({ length: 8 }, (_, i) => ({
        type: 'LoginSucceeded',
        data: { personId: 'cora', at: `2025-03-0${i + 1}T12:00:00.000Z` },
      })),
    );
    const token = await sys.token('ada', ['admin']);
    const tooMany = await getCsv(sys, token, '?from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z');
    expect(tooMany.status).toBe(422);
    expect(JSON.parse(tooMany.text).detail).toMatch(/narrower range/);
    const fits = await getCsv(sys, token, '?from=2025-03-01T00:00:00Z&to=2025-03-06T00:00:00Z');
    expect(fits.status).toBe(200);
    expect(parseCsv(fits.text)).toHaveLength(6);
    // Pages are not capped: the JSON answer takes the whole range.
    const admin = await sys.as('ada', ['admin']);
    const page = await admin.request('GET', '/audit?from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z');
    expect(page.body.items).toHaveLength(8);
  });
});
