import { describe, expect, it } from 'vitest';
import { useSystem } from '../../support/system.ts';
import { aMeeting, aSeriesBody } from '../../support/builders.ts';

// What the trainer's web pages needed from the API: a name look-up instructors may use to book a member by name, and
// a preview of a series that writes nothing and answers exactly what POST /series then creates.
const sys = useSystem({
  people: [
    'ivan',
    'iris',
    { id: 'cora', name: 'Cora Customer', email: 'cora@example.com', timezone: 'America/Chicago' },
    { id: 'cam', name: 'Cam Customer', email: 'zz-secret@example.com' },
    'gone',
  ],
});
const admin = sys.client('boss', ['admin']);
const ivan = sys.client('ivan', ['instructor']);
const cora = sys.client('cora', ['customer']);
const auditor = sys.client('audra', ['auditor']);

const names = (res: { body: { items?: Array<{ name: string }> } }) => (res.body.items ?? []).map((p) => p.name);

describe('GET /directory/names', () => {
  it('lets an instructor find customers by name, with only id, name and zone, never an address', async () => {
    await admin.request('PUT', '/people/ivan', { name: 'Ivan', email: 'ivan@example.com', roles: ['instructor'] });
    await admin.request('PUT', '/people/iris', { name: 'Iris', email: 'iris@example.com', roles: ['instructor'] });
    for (const [id, name, email] of [
      ['cora', 'Cora Customer', 'cora@example.com'],
      ['cam', 'Cam Customer', 'zz-secret@example.com'],
    ] as const)
      await admin.request('PUT', `/people/${id}`, { name, email, roles: ['customer'], timezone: 'America/Chicago' });
    const res = await ivan.request('GET', '/directory/names?query=c');
    expect(res.status).toBe(200);
    expect(names(res)).toEqual(['Cam Customer', 'Cora Customer']);
    expect(res.body.items[1]).toEqual({ id: 'cora', name: 'Cora Customer', timezone: 'America/Chicago' });
    for (const item of res.body.items as Array<Record<string, unknown>>)
      expect(Object.keys(item).sort()).toEqual(['id', 'name', 'timezone']);
    // The directory's own search matches addresses too; this one does not, so no address can be probed.
    expect(names(await ivan.request('GET', '/directory/names?query=zz-secret'))).toEqual([]);
    // Instructors are not customers: never listed to an instructor.
    expect(names(await ivan.request('GET', '/directory/names?query=i'))).toEqual([]);
  });

  it('refuses instructors another role, customers altogether, and bad parameters (400 naming them)', async () => {
    expect((await ivan.request('GET', '/directory/names?role=instructor')).status).toBe(403);
    expect((await ivan.request('GET', '/directory/names?role=admin')).status).toBe(403);
    expect((await cora.request('GET', '/directory/names?query=c')).status).toBe(403);
    const bad = await admin.request('GET', '/directory/names?limit=51&role=boss&email=x');
    expect(bad.status).toBe(400);
    expect((bad.body.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual(['email', 'limit', 'role']);
    const long = await admin.request('GET', `/directory/names?query=${'a'.repeat(201)}`);
    expect(long.status).toBe(400);
  });

  it('lets admins and auditors look up anyone by role, active people only, bounded by limit', async () => {
    const trainers = await admin.request('GET', '/directory/names?role=instructor');
    expect(names(trainers)).toEqual(['Iris', 'Ivan']);
    expect(names(await auditor.request('GET', '/directory/names?role=instructor&limit=1'))).toEqual(['Iris']);
    await admin.request('PUT', '/people/gone', { name: 'Gone', email: 'gone@example.com', active: false });
    expect(names(await admin.request('GET', '/directory/names?query=gone'))).toEqual([]);
  });
});

describe('POST /series/preview', () => {
  const body = aSeriesBody({
    timezone: 'America/New_York',
    startDate: '2030-10-22',
    startTime: '07:00',
    durationMinutes: 45,
    rrule: 'FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6',
    exclusions: ['2030-10-31'],
  });

  it('answers the occurrences POST /series then creates, across a DST change, and writes nothing', async () => {
    const preview = await ivan.request('POST', '/series/preview', body);
    expect(preview.status).toBe(200);
    const occurrences = preview.body.occurrences as Array<{ localDate: string; start: string; end: string }>;
    expect(occurrences.map((o) => o.localDate)).toEqual([
      '2030-10-22',
      '2030-10-24',
      '2030-10-29',
      '2030-11-05',
      '2030-11-07',
    ]); // COUNT counts the skipped date too (RFC 5545)
    // 07:00 wall time: 11:00Z under EDT, 12:00Z under EST (clocks change on 3 Nov 2030).
    expect(occurrences[0]?.start).toBe('2030-10-22T11:00:00.000Z');
    expect(occurrences[3]?.start).toBe('2030-11-05T12:00:00.000Z');
    expect(preview.body.occurrences.every((o: { conflicts: unknown[] }) => o.conflicts.length === 0)).toBe(true);
    // Nothing was written: the calendar is still empty there.
    const calendar = await ivan.request('GET', '/calendar?from=2030-10-01T00:00:00Z&to=2030-12-01T00:00:00Z');
    expect(calendar.body.items).toEqual([]);
    const created = await ivan.request('POST', '/series', body);
    expect(created.status).toBe(201);
    const saved = created.body.occurrences as Array<{ localDate: string; start: string; end: string }>;
    expect(saved.map(({ localDate, start, end }) => ({ localDate, start, end }))).toEqual(
      occurrences.map(({ localDate, start, end }) => ({ localDate, start, end })),
    );
  });

  it('lists per occurrence what it would clash with, the other meeting only to who may see it', async () => {
    const other = await admin.request(
      'POST',
      '/meetings',
      aMeeting({ instructorId: 'iris', start: '2031-01-07T12:30:00Z', end: '2031-01-07T13:30:00Z' }),
    );
    expect(other.status).toBe(201);
    const later = aSeriesBody({ ...body, startDate: '2031-01-07', rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=2' });
    const preview = await ivan.request('POST', '/series/preview', later);
    expect(preview.status).toBe(200);
    const [first, second] = preview.body.occurrences as Array<{ conflicts: Array<Record<string, unknown>> }>;
    // Ivan may not see Iris's meeting with Cora: only the blocked slot of the customer.
    expect(first?.conflicts).toEqual([
      {
        participant: 'customer',
        userId: 'cora',
        slot: { start: '2031-01-07T12:00:00.000Z', end: '2031-01-07T12:45:00.000Z' },
      },
    ]);
    expect(second?.conflicts).toEqual([]);
    const asAdmin = await admin.request('POST', '/series/preview', later);
    expect(asAdmin.body.occurrences[0].conflicts[0]).toMatchObject({ meetingId: other.body.id });
  });

  it('is refused as POST /series is: another instructor (403), a customer (403), a bad body (400 naming fields)', async () => {
    expect((await sys.client('iris', ['instructor']).request('POST', '/series/preview', body)).status).toBe(403);
    expect((await cora.request('POST', '/series/preview', body)).status).toBe(403);
    const noCount = await ivan.request('POST', '/series/preview', { ...body, rrule: 'FREQ=WEEKLY;BYDAY=TU' });
    expect(noCount.status).toBe(400);
    expect((noCount.body.errors as Array<{ path: string }>).map((e) => e.path)).toContain('rrule');
    const unknownField = await ivan.request('POST', '/series/preview', { ...body, colour: 'red' });
    expect(unknownField.status).toBe(400);
    const ghost = await admin.request('POST', '/series/preview', { ...body, customerId: 'ghost' });
    expect(ghost.status).toBe(400);
    expect((ghost.body.errors as Array<{ path: string }>).map((e) => e.path)).toEqual(['customerId']);
  });
});
