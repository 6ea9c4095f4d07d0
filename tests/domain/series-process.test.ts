import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import * as series from '../../domain/series.ts';
import { SERIES_SCHEDULE_CHANGED, isEmptyPlan } from '../../domain/series-planner.ts';
import { evolveHistory } from '../../domain/series-process.ts';
import { T0, by, created, id, mondays, scheduled, toTuesdays, tuesdays } from './series-world.ts';

describe('the series planner', () => {
  it('given a new series and no sessions, when planned, then it schedules every future occurrence; applied, it plans nothing', () => {
    const w = scheduled();
    const plan = w.plan(T0);
    expect(plan.notices).toEqual([]);
    expect(plan.sessions.map((p) => [p.meetingId, p.commands.map((c) => c.type)])).toEqual(
      mondays.map((d) => [id(d), ['ScheduleMeeting']]),
    );
    expect(plan.sessions[0]?.commands[0]).toMatchObject({
      data: { seriesId: 's1', title: 'Strength', start: `${mondays[0]}T10:00:00.000Z`, timezone: 'UTC', at: T0, by },
    });
    w.apply(plan, T0);
    expect(isEmptyPlan(w.plan(T0))).toBe(true);
  });

  it('given a series with half its sessions written (a crash), when planned, then only the missing ones are scheduled', () => {
    const w = scheduled();
    const first = w.plan(T0);
    w.apply({ sessions: first.sessions.slice(0, 2), notices: [] }, T0);
    expect(w.plan(T0).sessions.map((p) => p.meetingId)).toEqual([id(mondays[2]!), id(mondays[3]!)]);
  });

  it('given a recurrence change, when planned, then the removed sessions are cancelled under the change and the new ones scheduled; the notice follows, once', () => {
    const w = toTuesdays(created());
    const plan = w.plan(T0);
    expect(plan.notices).toEqual([]);
    const cancels = plan.sessions.filter((p) => p.commands[0]?.type === 'CancelMeeting');
    expect(cancels.map((p) => p.meetingId)).toEqual(mondays.map(id));
    expect(cancels[0]?.commands[0]).toMatchObject({
      data: { origin: 'series', reason: SERIES_SCHEDULE_CHANGED, seriesCancellationId: 'drop-1' },
    });
    expect(plan.sessions.filter((p) => p.commands[0]?.type === 'ScheduleMeeting').map((p) => p.meetingId)).toEqual(
      tuesdays.map(id),
    );

    w.apply(plan, T0);
    const second = w.plan(T0);
    expect(second.sessions).toEqual([]);
    expect(second.notices).toEqual([
      {
        cancellationId: 'drop-1',
        reason: SERIES_SCHEDULE_CHANGED,
        cancelled: mondays.map((d) => ({ meetingId: id(d), start: `${d}T10:00:00.000Z`, end: `${d}T11:00:00.000Z` })),
      },
    ]);
    w.apply(second, T0);
    expect(isEmptyPlan(w.plan(T0))).toBe(true);
    expect(isEmptyPlan(w.plan('2030-01-05T00:00:00.000Z'))).toBe(true);
    expect(w.active().map((m) => m.id)).toEqual(tuesdays.map(id));
  });

  it('given a recurrence change cut short after some sessions, when planned, then the rest is finished and one notice names every dropped session', () => {
    const w = toTuesdays(created());
    const plan = w.plan(T0);
    w.apply({ sessions: plan.sessions.slice(0, 3), notices: [] }, T0);
    expect(w.converge(T0)).toBe(2);
    const notices = w.history.noticed;
    expect(notices).toEqual(['drop-1']);
    expect(w.active().map((m) => m.id)).toEqual(tuesdays.map(id));
  });

  it('given a change recorded before a session started but planned after (a crash), then the started session is left as it is', () => {
    const w = toTuesdays(created());
    w.series({ type: 'ChangeSeriesDetails', data: { title: 'Power', at: T0, by } });
    const later = '2030-01-07T10:30:00.000Z';
    w.converge(later);
    expect(w.state(id(mondays[0]!))).toMatchObject({
      status: 'planned',
      title: 'Strength',
      start: `${mondays[0]}T10:00:00.000Z`,
    });
    expect(w.state(id(mondays[1]!)).status).toBe('cancelled');
    expect(w.state(id(tuesdays[0]!))).toMatchObject({ status: 'planned', title: 'Power' });
  });

  it("given a session cancelled on its own, when its date leaves and comes back, then it stays cancelled; one the series dropped comes back with today's details", () => {
    const w = created();
    w.meeting(id(mondays[1]!), { type: 'CancelMeeting', data: { origin: 'meeting', reason: 'ill', at: T0, by } });
    toTuesdays(w).converge(T0);
    w.series({ type: 'ChangeSeriesDetails', data: { title: 'Power', at: T0, by } });
    w.series({
      type: 'ChangeSeriesRecurrence',
      data: { rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=4', cancellationId: 'drop-2', at: T0, by },
    });
    w.converge(T0);
    expect(w.state(id(mondays[1]!)).status).toBe('cancelled');
    expect(w.state(id(mondays[1]!)).cancelledBy).toBe('meeting');
    expect(w.state(id(mondays[2]!))).toMatchObject({
      status: 'planned',
      title: 'Power',
      start: `${mondays[2]}T10:00:00.000Z`,
    });
    // The drop of the Mondays announced three (the fourth was cancelled before), the drop of the Tuesdays four.
    expect(w.history.noticed).toEqual(['drop-1', 'drop-2']);
  });

  it('given a detail change, when planned, then fields edited on a session itself are kept', () => {
    const w = created();
    w.meeting(id(mondays[2]!), {
      type: 'ChangeMeetingDetails',
      data: { origin: 'meeting', title: 'My own title', at: T0, by },
    });
    w.series({ type: 'ChangeSeriesDetails', data: { title: 'Power', description: 'Heavy', at: T0, by } });
    const plan = w.plan(T0);
    const forEdited = plan.sessions.find((p) => p.meetingId === id(mondays[2]!));
    expect(forEdited?.commands).toEqual([
      { type: 'ChangeMeetingDetails', data: { origin: 'series', description: 'Heavy', at: T0, by } },
    ]);
    w.apply(plan, T0);
    expect(w.active().map((m) => m.title)).toEqual(['Power', 'Power', 'My own title', 'Power']);
    expect(isEmptyPlan(w.plan(T0))).toBe(true);
  });

  it('given a time change, when planned, then sessions move to the new time except one moved by hand', () => {
    const w = created();
    w.meeting(id(mondays[3]!), {
      type: 'RescheduleMeeting',
      data: { origin: 'meeting', start: `${mondays[3]}T08:00:00.000Z`, end: `${mondays[3]}T09:00:00.000Z`, at: T0, by },
    });
    w.series({
      type: 'ChangeSeriesRecurrence',
      data: { startTime: '14:00', timezone: 'Europe/London', cancellationId: 'c', at: T0, by },
    });
    w.converge(T0);
    expect(w.active().map((m) => m.start)).toEqual([
      ...mondays.slice(0, 3).map((d) => `${d}T14:00:00.000Z`),
      `${mondays[3]}T08:00:00.000Z`,
    ]);
    expect(w.state(id(mondays[0]!)).timezone).toBe('Europe/London');
    expect(w.history.noticed).toEqual([]);
  });

  it('given a session dropped and brought back by hand before the notice, when planned again, then it is not cancelled again and the notice leaves it out', () => {
    const w = toTuesdays(created());
    w.apply(w.plan(T0), T0);
    w.meeting(id(mondays[0]!), { type: 'ReinstateMeeting', data: { at: T0, by } });
    w.converge(T0);
    expect(w.state(id(mondays[0]!)).status).toBe('planned');
    expect(w.active().map((m) => m.id)).toEqual([id(mondays[0]!), ...tuesdays.map(id)]);
  });

  it('given a dropped session that was cancelled by hand and later reinstated by hand, when planned again, then the drop does not cancel it', () => {
    const w = created();
    w.meeting(id(mondays[0]!), { type: 'CancelMeeting', data: { origin: 'meeting', at: T0, by } });
    toTuesdays(w);
    // The drop's sessions are written, then the process dies before the notice; meanwhile Monday is brought back.
    w.apply({ sessions: w.plan(T0).sessions, notices: [] }, T0);
    w.meeting(id(mondays[0]!), { type: 'ReinstateMeeting', data: { at: T0, by } });
    const plan = w.plan(T0);
    expect(plan.sessions).toEqual([]);
    expect(plan.notices[0]?.cancelled.map((c) => c.meetingId)).toEqual(mondays.slice(1).map(id));
  });

  it('given a series cancellation, when planned, then what it lists is cancelled under it with its reason; a session reinstated afterwards stays', () => {
    const w = created();
    const listed = mondays.map((d) => ({ meetingId: id(d), start: `${d}T10:00:00.000Z`, end: `${d}T11:00:00.000Z` }));
    w.series({
      type: 'CancelSeries',
      data: { cancellationId: 'c1', from: T0, toCancel: listed, reason: 'Gym closed', at: T0, by },
    });
    const plan = w.plan(T0);
    expect(plan.sessions.map((p) => p.commands)).toEqual(
      mondays.map(() => [
        {
          type: 'CancelMeeting',
          data: { origin: 'series', seriesCancellationId: 'c1', reason: 'Gym closed', at: T0, by },
        },
      ]),
    );
    expect(plan.notices).toEqual([]);
    w.apply(plan, T0);
    w.meeting(id(mondays[2]!), { type: 'ReinstateMeeting', data: { at: T0, by } });
    expect(isEmptyPlan(w.plan(T0))).toBe(true);
  });

  it('given a series cancelled from a later date before its sessions were written, when planned, then nothing from that date on is scheduled', () => {
    const w = scheduled();
    w.series({
      type: 'CancelSeries',
      data: { cancellationId: 'c1', from: `${mondays[2]}T00:00:00.000Z`, toCancel: [], at: T0, by },
    });
    w.converge(T0);
    expect(w.active().map((m) => m.id)).toEqual([id(mondays[0]!), id(mondays[1]!)]);
  });

  it('given a recurrence change recorded before changes carried a cancellation id, when planned, then its drops are not replayed', () => {
    const w = created();
    const decided = series.decide(
      { type: 'ChangeSeriesRecurrence', data: { rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=4', at: T0, by } },
      w.history.series,
    );
    if (E.isLeft(decided)) throw new Error('refused');
    for (const event of decided.right) w.history = evolveHistory(w.history, event, ++w.position);
    const plan = w.plan(T0);
    expect(plan.sessions.every((p) => p.commands[0]?.type === 'ScheduleMeeting')).toBe(true);
    expect(plan.notices).toEqual([]);
  });
});
