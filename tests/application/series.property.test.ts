import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { adminContext, startApp } from '../support/app.ts';
import { aSeriesBody } from '../support/builders.ts';

const zones = [
  'America/New_York',
  'Europe/London',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Europe/Berlin',
  'Pacific/Auckland',
];
const days = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

const pattern = fc.record({
  byDay: fc.subarray(days, { minLength: 1, maxLength: 3 }),
  count: fc.integer({ min: 3, max: 12 }),
  hour: fc.integer({ min: 6, max: 20 }),
  minute: fc.constantFrom(0, 15, 30, 45),
  duration: fc.constantFrom(30, 45, 60, 90),
});
type Pattern = typeof pattern extends fc.Arbitrary<infer T> ? T : never;

const recurrenceOf = (p: Pattern) => ({
  rrule: `FREQ=WEEKLY;BYDAY=${p.byDay.join(',')};COUNT=${p.count}`,
  startTime: `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`,
  durationMinutes: p.duration,
});

const scenario = fc.record({
  zone: fc.constantFrom(...zones),
  startDay: fc.integer({ min: 0, max: 300 }),
  first: pattern,
  changes: fc.array(
    fc.record({
      // Often only the time of day moves, so a started session's own date is still in the new pattern.
      pattern: fc.oneof(
        pattern,
        fc.record({ hour: fc.integer({ min: 6, max: 20 }), minute: fc.constantFrom(0, 15, 30, 45) }),
      ),
      advanceMinutes: fc.integer({ min: 0, max: 20 * 1440 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  cancelPicks: fc.array(fc.nat(), { maxLength: 3 }),
});

const startDateOf = (startDay: number) =>
  new Date(Date.UTC(2031, 0, 5) + startDay * 86_400_000).toISOString().slice(0, 10);

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

const check = async (s: Scenario) => {
  let now = new Date(Date.UTC(2031, 0, 1));
  const app = startApp(() => now);
  await app.people('cora', 'ivan');
  try {
    const created = await app.series.scheduleSeries(
      adminContext,
      aSeriesBody({ timezone: s.zone, startDate: startDateOf(s.startDay), ...recurrenceOf(s.first) }),
    );
    if (E.isLeft(created)) throw new Error(JSON.stringify(created.left));
    const seriesId = created.right.id;
    const initial = created.right.occurrences;
    const individuallyCancelled = new Set<string>();
    for (const pick of s.cancelPicks) {
      const target = initial[pick % initial.length]!;
      if (individuallyCancelled.has(target.meetingId)) continue;
      const cancelled = await app.service.cancelMeeting(adminContext, target.meetingId, 'personal');
      if (E.isRight(cancelled)) individuallyCancelled.add(target.meetingId);
    }
    now = new Date(Date.parse(initial[0]!.start) - 60_000);
    for (const change of s.changes) {
      now = new Date(now.getTime() + change.advanceMinutes * 60_000);
      const before = new Map(app.readModels.meetingsOfSeries(seriesId).map((m) => [m.id, m]));
      const next = 'byDay' in change.pattern ? change.pattern : { ...s.first, ...change.pattern };
      const changed = await app.series.changeSeries(adminContext, seriesId, recurrenceOf(next));
      if (E.isLeft(changed)) {
        // A refused change (e.g. a pattern that overlaps itself) must leave everything as it was.
        expect(changed.left._tag).toMatch(/ValidationFailed|Conflict/);
        continue;
      }
      const after = new Map(app.readModels.meetingsOfSeries(seriesId).map((m) => [m.id, m]));
      for (const [id, m] of before) {
        if (m.start <= now.toISOString()) {
          const later = after.get(id)!;
          expect({ start: later.start, end: later.end, state: later.state, revision: later.revision }).toEqual({
            start: m.start,
            end: m.end,
            state: m.state,
            revision: m.revision,
          });
        }
      }
      for (const id of individuallyCancelled) expect(after.get(id)?.state).toBe('cancelled');
    }
  } finally {
    await app.close();
  }
};

describe('series properties', () => {
  it('a recurrence change never alters an occurrence that has started, and individual cancellations stay', async () => {
    // Found by this property once: a session a series edit cancelled must not come back after its time has passed.
    await fc.assert(fc.asyncProperty(scenario, check), {
      seed: 1548996302,
      path: '0:0:2:1:0:0:0:0:4:4:4:5:5:5:5:5:7:5:12:5:5:6:5:8:5:6:6:6:7:7',
      endOnFailure: true,
    });
    await fc.assert(fc.asyncProperty(scenario, check), { numRuns: 40 });
  });
});
