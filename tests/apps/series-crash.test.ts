import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../adapters/event-store/sqlite.ts';
import { mintToken } from '../../adapters/http/auth.ts';
import { MeetingEvent, evolve as evolveMeeting, initialState as initialMeeting } from '../../domain/meeting.ts';
import type { MeetingState } from '../../domain/meeting.ts';
import { aMeeting, aSeriesBody } from '../support/builders.ts';
import { startServerProcess } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';
import { client, putPeople, tempDir, TEST_SECRET } from '../support/system.ts';
import type { Client } from '../support/system.ts';

/**
 * kill -9 of a real server process at each step of every series operation (via the test-only SERIES_TEST_CRASH crash
 * point, apps/test-crash.ts), then a restart on the same DATA_DIR: the sessions must converge to what the series says.
 */

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A real server process (no demo data), killed with SIGKILL at the given crash point if there is one. */
const startServer = (dataDir: string, crash?: string): Promise<ServerProcess> =>
  startServerProcess(dataDir, children, {
    env: { HOST: '127.0.0.1', SEED_DEMO: 'false', SERIES_TEST_CRASH: crash },
  });

const secret = new TextEncoder().encode(TEST_SECRET);
const as = async (url: string, sub: string, roles: string[]): Promise<Client> =>
  client(url, await mintToken(secret, { sub, roles }, 3600));

const eventually = async <A>(check: () => Promise<A | undefined>, what: string, timeoutMs = 45_000): Promise<A> => {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}${last !== undefined ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/** The meetings of a series straight from the event log file (no server running). */
const sessionsInLog = async (dataDir: string, seriesId: string | undefined): Promise<Map<string, MeetingState>> => {
  const store = openSqliteEventStore({ path: join(dataDir, 'events.db') });
  try {
    const sessions = new Map<string, MeetingState>();
    for (let after = 0; ;) {
      const batch = await store.readAll({ after, limit: 1000 });
      if (batch.length === 0) break;
      for (const r of batch) {
        after = r.position;
        if (!r.streamName.startsWith('meeting-')) continue;
        const decoded = MeetingEvent.decode({ type: r.type, data: r.data });
        if (decoded._tag === 'Left') continue;
        const id = r.streamName.slice('meeting-'.length);
        const next = evolveMeeting(sessions.get(id) ?? initialMeeting(), decoded.right);
        if (next.status !== 'none' && (seriesId === undefined || next.seriesId === seriesId)) sessions.set(id, next);
      }
    }
    return sessions;
  } finally {
    await store.close();
  }
};

const seriesEventsInLog = async (dataDir: string): Promise<Array<{ type: string; data: any }>> => {
  const store = openSqliteEventStore({ path: join(dataDir, 'events.db') });
  try {
    return (await store.readAll({ limit: 100_000 }))
      .filter((r) => r.streamName.startsWith('series-'))
      .map((r) => ({ type: r.type, data: r.data }));
  } finally {
    await store.close();
  }
};

// A weekly series on Mondays 10:00 UTC, starting about four weeks from now (the real clock of the real server).
const DAY = 86_400_000;
const firstMonday = (() => {
  const d = new Date(Date.now() + 28 * DAY);
  d.setUTCDate(d.getUTCDate() + ((8 - d.getUTCDay()) % 7));
  return d.toISOString().slice(0, 10);
})();
const plusDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
const COUNT = 20;
const mondays = Array.from({ length: COUNT }, (_, i) => plusDays(firstMonday, 7 * i));
const tuesdays = mondays.map((d) => plusDays(d, 1));

const seriesBody = aSeriesBody({
  title: 'Crash course',
  timezone: 'UTC',
  startDate: firstMonday,
  startTime: '10:00',
  durationMinutes: 60,
  rrule: `FREQ=WEEKLY;BYDAY=MO;COUNT=${COUNT}`,
});

type Occurrence = { meetingId: string; localDate: string; start: string; end: string; state: string };
type Active = Array<{ localDate: string; start: string }>;

const activeOf = (occurrences: ReadonlyArray<Occurrence>): Active =>
  occurrences
    .filter((o) => o.state !== 'cancelled')
    .map((o) => ({ localDate: o.localDate, start: o.start }))
    .sort((a, b) => (a.localDate < b.localDate ? -1 : 1));

const at = (localDate: string, time: string) => `${localDate}T${time}:00.000Z`;
const expectedActive = (dates: ReadonlyArray<string>, time: string): Active =>
  dates.map((localDate) => ({ localDate, start: at(localDate, time) }));

interface Scenario {
  readonly name: string;
  readonly crash: string;
  /** The request that is cut short and then repeated; undefined for create (the POST itself is cut short). */
  readonly request?: (admin: Client, seriesId: string) => Promise<{ status: number; body: any }>;
  /** Active sessions once converged. */
  readonly active: Active;
  readonly title: string;
  /** A slot the stale sessions held that must be bookable again afterwards. */
  readonly freedSlot?: { start: string; end: string };
  /** Dropped-sessions / cancellation notices expected (distinct cancellation events announced). */
  readonly notices: number;
  /** The answer a repeat of the same request gives. */
  readonly repeatStatus?: number;
  /** What the log must show right after the crash: proof that the crash really left the sessions behind. */
  readonly diverged: (sessions: Map<string, MeetingState>) => boolean;
}

const live = (sessions: Map<string, MeetingState>) =>
  [...sessions.values()].filter((m) => m.status !== 'none' && m.status !== 'cancelled') as Array<
    MeetingState & { start: string; title: string }
  >;

const scenarios: Scenario[] = [
  {
    name: 'create, right after the series event',
    crash: 'create:series-event',
    active: expectedActive(mondays, '10:00'),
    title: 'Crash course',
    notices: 0,
    diverged: (s) => s.size === 0,
  },
  {
    name: 'create, after two sessions',
    crash: 'create:session:2',
    active: expectedActive(mondays, '10:00'),
    title: 'Crash course',
    notices: 0,
    diverged: (s) => s.size >= 2 && s.size < COUNT,
  },
  ...(['series-event', 'session:2', 'sessions-done'] as const).map((step): Scenario => ({
    name: `change recurrence (Mondays to Tuesdays), ${step}`,
    crash: `recurrence:${step}`,
    request: (admin, id) =>
      admin.request('PATCH', `/series/${id}`, { rrule: `FREQ=WEEKLY;BYDAY=TU;COUNT=${COUNT}`, startDate: firstMonday }),
    active: expectedActive(tuesdays, '10:00'),
    title: 'Crash course',
    freedSlot: { start: at(mondays[1]!, '10:00'), end: at(mondays[1]!, '11:00') },
    notices: 1,
    repeatStatus: 200,
    diverged: (s) =>
      step === 'sessions-done'
        ? live(s).every((m) => tuesdays.some((d) => m.start.startsWith(d)))
        : live(s).some((m) => mondays.some((d) => m.start.startsWith(d))),
  })),
  ...(['series-event', 'session:2'] as const).map((step): Scenario => ({
    name: `change details, ${step}`,
    crash: `details:${step}`,
    request: (admin, id) => admin.request('PATCH', `/series/${id}`, { title: 'Renamed course' }),
    active: expectedActive(mondays, '10:00'),
    title: 'Renamed course',
    notices: 0,
    repeatStatus: 200,
    diverged: (s) => live(s).some((m) => m.title === 'Crash course'),
  })),
  ...(['series-event', 'session:2'] as const).map((step): Scenario => ({
    name: `change time (10:00 to 14:00), ${step}`,
    crash: `time:${step}`,
    request: (admin, id) => admin.request('PATCH', `/series/${id}`, { startTime: '14:00' }),
    active: expectedActive(mondays, '14:00'),
    title: 'Crash course',
    freedSlot: { start: at(mondays[2]!, '10:00'), end: at(mondays[2]!, '11:00') },
    notices: 0,
    repeatStatus: 200,
    diverged: (s) => live(s).some((m) => m.start.endsWith('T10:00:00.000Z')),
  })),
  ...(['series-event', 'session:2'] as const).map((step): Scenario => ({
    name: `cancel, ${step}`,
    crash: `cancel:${step}`,
    request: (admin, id) => admin.request('POST', `/series/${id}/cancel`, { reason: 'Gym closed' }),
    active: [],
    title: 'Crash course',
    freedSlot: { start: at(mondays[3]!, '10:00'), end: at(mondays[3]!, '11:00') },
    notices: 1,
    repeatStatus: 409,
    diverged: (s) => live(s).length > 0,
  })),
];

describe('series operations survive kill -9 at every step', () => {
  for (const scenario of scenarios) {
    it(
      scenario.name,
      async () => {
        const dataDir = tempDir('oneonone-crash-');
        dirs.push(dataDir);
        const first = await startServer(dataDir, scenario.crash);
        let admin = await as(first.url, 'ada', ['admin']);
        await putPeople(
          admin,
          { id: 'cora', name: 'Cora Customer', timezone: 'UTC' },
          { id: 'ivan', name: 'Ivan Instructor', timezone: 'UTC' },
        );

        let seriesId: string | undefined;
        if (scenario.request === undefined) {
          await expect(admin.request('POST', '/series', seriesBody)).rejects.toThrow();
        } else {
          const created = await admin.request('POST', '/series', seriesBody);
          expect(created.status).toBe(201);
          seriesId = created.body.id as string;
          await expect(scenario.request(admin, seriesId)).rejects.toThrow();
        }
        expect((await first.ended).signal).toBe('SIGKILL');

        // The crash really left the sessions behind their series.
        if (seriesId === undefined) {
          const scheduled = (await seriesEventsInLog(dataDir)).find((e) => e.type === 'SeriesScheduled');
          expect(scheduled).toBeDefined();
          seriesId = scheduled!.data.seriesId as string;
        }
        expect(scenario.diverged(await sessionsInLog(dataDir, seriesId))).toBe(true);

        const second = await startServer(dataDir);
        admin = await as(second.url, 'ada', ['admin']);
        const id = seriesId;
        const converged = await eventually(async () => {
          const view = await admin.request('GET', `/series/${id}`);
          if (view.status !== 200) return undefined;
          const occurrences: Occurrence[] = view.body.occurrences;
          const active = activeOf(occurrences);
          const titles = new Set(
            await Promise.all(
              occurrences
                .filter((o) => o.state !== 'cancelled')
                .map(async (o) => (await admin.request('GET', `/meetings/${o.meetingId}`)).body.title),
            ),
          );
          return JSON.stringify(active) === JSON.stringify(scenario.active) &&
            [...titles].every((t) => t === scenario.title)
            ? view.body
            : undefined;
        }, `the sessions of ${scenario.name} to converge`);
        expect(activeOf(converged.occurrences)).toEqual(scenario.active);

        // The stale sessions no longer block bookings.
        if (scenario.freedSlot !== undefined) {
          const booked = await admin.request('POST', '/meetings', aMeeting(scenario.freedSlot));
          expect(booked.status).toBe(201);
        }

        const notices = async () => {
          const list = await admin.request('GET', '/notifications?limit=100');
          expect(list.status).toBe(200);
          return new Set(
            (list.body.items as Array<{ kind: string; seriesId?: string; cancellationEventId: string }>)
              .filter((n) => n.kind === 'series' && n.seriesId === id)
              .map((n) => n.cancellationEventId),
          );
        };
        if (scenario.notices > 0)
          await eventually(async () => ((await notices()).size >= scenario.notices ? true : undefined), 'the notice');

        // Repeating the same request converges too, and announces nothing twice.
        if (scenario.request !== undefined) {
          const repeated = await scenario.request(admin, id);
          expect(repeated.status).toBe(scenario.repeatStatus);
          const view = await admin.request('GET', `/series/${id}`);
          expect(
            activeOf(view.body.occurrences).filter(
              (o) => scenario.freedSlot === undefined || o.start !== scenario.freedSlot.start,
            ),
          ).toEqual(scenario.active);
        }
        expect((await notices()).size).toBe(scenario.notices);
        if (scenario.notices === 0) {
          second.child.kill('SIGTERM');
          await second.exited;
          return;
        }
        // A third start replays nothing: the same sessions, the same single notice.
        const before = await sessionsInLog(dataDir, undefined);
        second.child.kill('SIGKILL');
        await second.exited;
        const third = await startServer(dataDir);
        admin = await as(third.url, 'ada', ['admin']);
        await eventually(
          async () => ((await admin.request('GET', '/health')).body.status === 'ok' ? true : undefined),
          'health',
        );
        expect((await notices()).size).toBe(scenario.notices);
        third.child.kill('SIGTERM');
        await third.exited;
        const after = await sessionsInLog(dataDir, undefined);
        expect([...after.entries()].map(([k, m]) => [k, m.status !== 'none' ? m.sequence : -1])).toEqual(
          [...before.entries()].map(([k, m]) => [k, m.status !== 'none' ? m.sequence : -1]),
        );
      },
      240_000,
    );
  }
});
