/** The series planner's tests' little world: a series stream and its meeting streams, folded in memory. */
import * as E from 'fp-ts/lib/Either.js';
import * as meeting from '../../domain/meeting.ts';
import * as series from '../../domain/series.ts';
import { isEmptyPlan, planRequest, planSeries } from '../../domain/series-planner.ts';
import type { RequestPlan, SeriesPlan } from '../../domain/series-planner.ts';
import { evolveHistory, evolveSession, initialHistory } from '../../domain/series-process.ts';
import type { SeriesHistory, Session } from '../../domain/series-process.ts';

export const by = { id: 'ada', roles: ['admin' as const] };
export const T0 = '2030-01-01T00:00:00.000Z';

/** A little world: the series stream and the meeting streams, each event at the next global position. */
export class World {
  position = 0;
  history: SeriesHistory = initialHistory();
  sessions = new Map<string, Session>();

  series(command: series.SeriesCommand): this {
    const decided = series.decide(command, this.history.series);
    if (E.isLeft(decided)) throw new Error(JSON.stringify(decided.left));
    for (const event of decided.right) this.history = evolveHistory(this.history, event, ++this.position);
    return this;
  }

  meeting(meetingId: string, command: meeting.MeetingCommand): this {
    const current = this.sessions.get(meetingId);
    const decided = meeting.decide(command, current?.meeting ?? meeting.initialState());
    if (E.isLeft(decided)) throw new Error(`${meetingId}: ${JSON.stringify(decided.left)}`);
    let session = current;
    for (const event of decided.right) session = evolveSession(session, event, ++this.position);
    if (session !== undefined) this.sessions.set(meetingId, session);
    return this;
  }

  plan(now: string): SeriesPlan {
    return planSeries(this.history, this.sessions, now, by);
  }

  /** What a request with these series commands would do to its sessions, decided and planned but not appended. */
  request(commands: ReadonlyArray<series.SeriesCommand>, now: string): RequestPlan & { events: series.SeriesEvent[] } {
    const events: series.SeriesEvent[] = [];
    let state = this.history.series;
    for (const command of commands) {
      const decided = series.decide(command, state);
      if (E.isLeft(decided)) throw new Error(JSON.stringify(decided.left));
      events.push(...decided.right);
      state = decided.right.reduce(series.evolve, state);
    }
    return { ...planRequest(this.history, events, this.sessions, now, by), events };
  }

  /** Applies a plan as the process does: session commands, then the notices. */
  apply(plan: SeriesPlan, at: string): this {
    for (const p of plan.sessions) for (const c of p.commands) this.meeting(p.meetingId, c);
    for (const n of plan.notices)
      this.series({
        type: 'RecordOccurrencesCancelled',
        data: { cancellationId: n.cancellationId, cancelled: [...n.cancelled], reason: n.reason, at, by },
      });
    return this;
  }

  /** Plans and applies until nothing is left; how many rounds that took. */
  converge(now: string): number {
    for (let round = 1; round <= 5; round++) {
      const plan = this.plan(now);
      if (isEmptyPlan(plan)) return round - 1;
      this.apply(plan, now);
    }
    throw new Error('did not converge');
  }

  active(): Array<{ id: string; start: string; title: string }> {
    return [...this.sessions.values()]
      .map((s) => s.meeting)
      .filter((m) => m.status !== 'cancelled')
      .map((m) => ({ id: m.id, start: m.start, title: m.title }))
      .sort((a, b) => (a.start < b.start ? -1 : 1));
  }

  state(meetingId: string): meeting.Meeting {
    const s = this.sessions.get(meetingId);
    if (s === undefined) throw new Error(`no session ${meetingId}`);
    return s.meeting;
  }
}

export const mondays = ['2030-01-07', '2030-01-14', '2030-01-21', '2030-01-28'];
export const tuesdays = mondays.map((d) => `${d.slice(0, 8)}${String(Number(d.slice(8)) + 1).padStart(2, '0')}`);
export const id = (localDate: string) => series.occurrenceMeetingId('s1', localDate);

/** Four weekly Monday sessions at 10:00 UTC, for Cora with Ivan. */
export const scheduleSeries: series.SeriesCommand = {
  type: 'ScheduleSeries',
  data: {
    seriesId: 's1',
    title: 'Strength',
    customerId: 'cora',
    instructorId: 'ivan',
    trainingType: '1-1',
    timezone: 'UTC',
    startDate: mondays[0]!,
    startTime: '10:00',
    durationMinutes: 60,
    rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=4',
    at: T0,
    by,
  },
};

export const scheduled = () => new World().series(scheduleSeries);

export const created = () => {
  const w = scheduled();
  w.converge(T0);
  return w;
};

export const toTuesdays = (w: World, at = T0, cancellationId = 'drop-1') =>
  w.series({ type: 'ChangeSeriesRecurrence', data: { rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=4', cancellationId, at, by } });
