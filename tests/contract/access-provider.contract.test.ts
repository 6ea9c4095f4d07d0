/**
 * The AccessProvider contract, for a plugin author to run against their own plugin:
 *
 *   ACCESS_PROVIDER=./my-plugin.ts npm run test:access-provider
 *
 * The plugin is loaded through the server's own loader (apps/access-provider.ts), with the context the server gives
 * it, over a real system's read models holding a small world: an admin, an auditor, two instructors, two customers,
 * meetings between them (one cancelled). Without ACCESS_PROVIDER it checks the example plugin in the repo
 * (adapters/access/front-desk.ts), as part of `npm test`. Settings a plugin reads from the environment of its own
 * (FRONT_DESK_BLOCKED_FILE, a CRM's address) are taken from the environment the suite runs in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { accessProviderMisfits } from '../../application/access-plugin.ts';
import { defaultAccessProvider } from '../../application/default-access.ts';
import type { AccessProvider, AuthUser, Participants } from '../../application/ports/access.ts';
import type { CalendarEntry } from '../../application/ports/read-models.ts';
import type { Role } from '../../domain/shared.ts';
import { loadAccessProvider, pluginQueries } from '../../apps/access-provider.ts';
import type { AccessPluginContext } from '../../application/access-plugin.ts';
import { aMeeting } from '../support/builders.ts';
import { startTestSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';

const specifier = process.env.ACCESS_PROVIDER?.trim() || './adapters/access/front-desk.ts';

const PEOPLE: ReadonlyArray<{ id: string; roles: Role[] }> = [
  { id: 'c-admin', roles: ['admin'] },
  { id: 'c-audrey', roles: ['auditor'] },
  { id: 'c-ivan', roles: ['instructor'] },
  { id: 'c-ines', roles: ['instructor', 'customer'] },
  { id: 'c-cora', roles: ['customer'] },
  { id: 'c-cam', roles: ['customer'] },
];
const FROM = '2031-01-01T00:00:00.000Z';
const TO = '2032-01-01T00:00:00.000Z';

let sys: TestSystem;
let provider: AccessProvider;
let context: AccessPluginContext;
let entries: CalendarEntry[];
let users: AuthUser[];

/** The world's meetings, each once (a calendar lists a meeting for both of its people). */
const allEntries = (): CalendarEntry[] => {
  const byId = new Map<string, CalendarEntry>();
  for (const p of PEOPLE) for (const e of sys.system.readModels.calendar(p.id, FROM, TO)) byId.set(e.meetingId, e);
  return [...byId.values()];
};

beforeAll(async () => {
  sys = await startTestSystem();
  await sys.people(...PEOPLE.map((p) => ({ id: p.id, roles: p.roles })));
  const admin = await sys.as('c-admin', ['admin']);
  const book = async (customerId: string, instructorId: string, day: string) => {
    const res = await admin.request(
      'POST',
      '/meetings',
      aMeeting({ customerId, instructorId, start: `2031-03-${day}T10:00:00Z`, end: `2031-03-${day}T11:00:00Z` }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  await book('c-cora', 'c-ivan', '02');
  await book('c-cam', 'c-ivan', '03');
  await book('c-cam', 'c-ines', '04');
  const cancelled = await book('c-cora', 'c-ines', '05');
  expect((await admin.request('POST', `/meetings/${cancelled}/cancel`, {})).status).toBe(200);
  // Loaded as the server loads it, with what the server gives it.
  context = {
    queries: pluginQueries(sys.system.readModels),
    defaultProvider: defaultAccessProvider(sys.system.readModels),
    log: pino({ level: 'silent' }),
  };
  provider = await loadAccessProvider(specifier, context);
  entries = allEntries();
  expect(entries).toHaveLength(4);
  users = [
    ...PEOPLE.map((p) => ({ id: p.id, roles: p.roles })),
    { id: 'c-stranger', roles: [] },
    { id: 'c-cora', roles: ['customer'], scope: { meetingId: entries[0]!.meetingId } },
  ];
}, 120_000);

afterAll(async () => {
  await sys?.destroy();
});

const who = (u: AuthUser) => `${u.id}[${u.roles.join(',')}]${u.scope !== undefined ? ' (join link)' : ''}`;
const participants = (e: CalendarEntry): Participants => ({
  customerId: e.customerId,
  instructorId: e.instructorId,
  ...(e.seriesId !== undefined ? { seriesId: e.seriesId } : {}),
});

describe(`the access provider ${specifier}`, { timeout: 120_000 }, () => {
  it('fits the port: a name, and every method a function', () => {
    expect(accessProviderMisfits(provider)).toEqual([]);
  });

  it('is given what the server gives a plugin, and no more of the read models', () => {
    expect(Object.keys(context.queries).sort()).toEqual(['calendar', 'getMeeting', 'getPerson', 'personActive']);
  });

  it('answers canView and canModify with booleans, the same each time, and may modify only what it may view', async () => {
    for (const user of users)
      for (const entry of entries) {
        const m = participants(entry);
        const view = await provider.canView(user, m);
        const modify = await provider.canModify(user, m);
        expect(typeof view, `canView ${who(user)}`).toBe('boolean');
        expect(typeof modify, `canModify ${who(user)}`).toBe('boolean');
        if (modify) expect(view, `${who(user)} may modify ${entry.meetingId} but not view it`).toBe(true);
        expect(await provider.canView(user, m)).toBe(view);
        expect(await provider.canModify(user, m)).toBe(modify);
      }
  });

  it('answers canCreate and canReadCalendarOf with booleans', async () => {
    for (const user of users) {
      for (const p of PEOPLE) expect(typeof (await provider.canReadCalendarOf(user, p.id)), who(user)).toBe('boolean');
      const draft = { customerId: 'c-cora', instructorId: 'c-ivan' };
      expect(typeof (await provider.canCreate(user, draft)), who(user)).toBe('boolean');
    }
  });

  it('filters lists to a subset of what it was given, each once, and only what the user may view', async () => {
    for (const user of users) {
      const visible = await provider.filterVisible(user, entries);
      expect(Array.isArray(visible), who(user)).toBe(true);
      const ids = visible.map((e) => e.meetingId);
      expect(new Set(ids).size, `${who(user)}: an item twice`).toBe(ids.length);
      for (const item of visible) {
        expect(
          entries.map((e) => e.meetingId),
          `${who(user)}: an item it was not given`,
        ).toContain(item.meetingId);
        expect(await provider.canView(user, participants(item)), `${who(user)} listed ${item.meetingId}`).toBe(true);
      }
      expect(await provider.filterVisible(user, [])).toEqual([]);
    }
  });

  it("answers a user's sessions in a range: only theirs, only overlapping the range", async () => {
    const ranges: Array<[string, string]> = [
      [FROM, TO],
      ['2031-03-03T10:30:00.000Z', '2031-03-04T10:30:00.000Z'],
      ['2031-03-02T11:00:00.000Z', '2031-03-03T10:00:00.000Z'],
      [TO, FROM],
    ];
    for (const p of PEOPLE)
      for (const [from, to] of ranges) {
        const found = await provider.userMeetings(p.id, from, to);
        expect(Array.isArray(found)).toBe(true);
        for (const e of found) {
          expect([e.customerId, e.instructorId], `${p.id}'s sessions`).toContain(p.id);
          expect(Date.parse(e.start) < Date.parse(to) && Date.parse(e.end) > Date.parse(from), e.meetingId).toBe(true);
        }
      }
  });

  it('knows the people of the directory, and answers a boolean for anyone', async () => {
    for (const p of PEOPLE) expect(await provider.personExists(p.id), p.id).toBe(true);
    expect(typeof (await provider.personExists('c-nobody-at-all'))).toBe('boolean');
  });

  it('does not throw on odd input, and answers the same each time', async () => {
    const odd = ['', ' ', 'x'.repeat(10_000), '💥', '../../etc/passwd', "'; DROP TABLE people; --", '__proto__'];
    const oddUsers: AuthUser[] = odd.map((id) => ({ id, roles: [] }));
    const e = entries[0]!;
    for (const id of odd) {
      const user = { id, roles: ['customer'] as Role[] };
      const m = { customerId: id, instructorId: id };
      const answers = async () => [
        await provider.canView(user, m),
        await provider.canModify(user, m),
        await provider.canCreate(user, m),
        await provider.canReadCalendarOf(user, id),
        await provider.personExists(id),
        (await provider.filterVisible(user, [e])).length,
        (await provider.userMeetings(id, FROM, TO)).length,
      ];
      const first = await answers();
      expect(
        first.slice(0, 5).every((a) => typeof a === 'boolean'),
        JSON.stringify(id.slice(0, 20)),
      ).toBe(true);
      expect(await answers()).toEqual(first);
    }
    for (const user of oddUsers) expect(await provider.filterVisible(user, entries)).toEqual(expect.any(Array));
  });
});
