import { describe, expect, it } from 'vitest';
import type * as series from '../../domain/series.ts';
import { SERIES_SCHEDULE_CHANGED, sessionsToCancel } from '../../domain/series-planner.ts';
import { evolveHistory } from '../../domain/series-process.ts';
import { T0, World, by, created, id, mondays, scheduleSeries, tuesdays } from './series-world.ts';

const at10 = (d: string) => ({ start: `${d}T10:00:00.000Z`, end: `${d}T11:00:00.000Z` });
const booked = (dates: ReadonlyArray<string>, time = at10) => dates.map((d) => ({ meetingId: id(d), ...time(d) }));
const commandTypes = (plan: {
  sessions: ReadonlyArray<{ meetingId: string; commands: ReadonlyArray<{ type: string }> }>;
}) => Object.fromEntries(plan.sessions.map((s) => [s.meetingId, s.commands.map((c) => c.type)]));

const recurrence = (
  data: Partial<Extract<series.SeriesCommand, { type: 'ChangeSeriesRecurrence' }>['data']>,
): series.SeriesCommand => ({ type: 'ChangeSeriesRecurrence', data: { at: T0, by, ...data } });

const backToMondays = recurrence({ rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=4', cancellationId: 'drop-2' });
const toTuesdays = recurrence({ rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=4', cancellationId: 'drop-1' });

/** The request's events appended: what the series process then plans for the sessions the request named. */
const processPlanAfter = (w: World, events: ReadonlyArray<series.SeriesEvent>, named: ReadonlySet<string>) => {
  for (const event of events) w.history = evolveHistory(w.history, event, ++w.position);
  return w.plan(T0).sessions.filter((s) => named.has(s.meetingId));
};

describe('the series planner, for a request (given series events and sessions, when the change, then these session commands)', () => {
  it('given no series, when it is scheduled, then every occurrence is scheduled and booked at its slot, and none of its own counts as a conflict', () => {
    const plan = new World().request([scheduleSeries], T0);
    expect(commandTypes(plan)).toEqual(Object.fromEntries(mondays.map((d) => [id(d), ['ScheduleMeeting']])));
    expect(plan.toBook).toEqual(booked(mondays));
    expect([...plan.changing]).toEqual(mondays.map(id));
  });

  it('given a series with its sessions, when Mondays become Tuesdays, then the Tuesdays are scheduled and booked, the Mondays cancelled under the change and not booked', () => {
    const w = created();
    const plan = w.request([toTuesdays], T0);
    expect(commandTypes(plan)).toEqual(
      Object.fromEntries([
        ...tuesdays.map((d) => [id(d), ['ScheduleMeeting']]),
        ...mondays.map((d) => [id(d), ['CancelMeeting']]),
      ]),
    );
    expect(plan.sessions.find((s) => s.meetingId === id(mondays[0]!))?.commands[0]).toMatchObject({
      data: { origin: 'series', seriesCancellationId: 'drop-1', reason: SERIES_SCHEDULE_CHANGED },
    });
    expect(plan.toBook).toEqual(booked(tuesdays));
    expect([...plan.changing].sort()).toEqual([...tuesdays, ...mondays].map(id).sort());
    // The same decision the series process makes once the change is appended.
    expect(processPlanAfter(w, plan.events, plan.changing)).toEqual(
      [...plan.sessions].sort((a, b) => (a.meetingId < b.meetingId ? -1 : 1)),
    );
  });

  it('given a session moved by hand, when the series moves to 14:00, then the others are booked at 14:00 and the moved one is left where it is', () => {
    const w = created();
    w.meeting(id(mondays[3]!), {
      type: 'RescheduleMeeting',
      data: { origin: 'meeting', start: `${mondays[3]}T08:00:00.000Z`, end: `${mondays[3]}T09:00:00.000Z`, at: T0, by },
    });
    const plan = w.request([recurrence({ startTime: '14:00', cancellationId: 'c' })], T0);
    const at14 = (d: string) => ({ start: `${d}T14:00:00.000Z`, end: `${d}T15:00:00.000Z` });
    expect(plan.toBook).toEqual(booked(mondays.slice(0, 3), at14));
    expect(commandTypes(plan)).toEqual(
      Object.fromEntries(mondays.slice(0, 3).map((d) => [id(d), ['RescheduleMeeting']])),
    );
    expect(plan.changing.has(id(mondays[3]!))).toBe(false);
  });

  it('given a session that has started, when the time changes, then it is neither moved nor booked', () => {
    const w = created();
    const later = '2030-01-07T10:30:00.000Z';
    const plan = w.request([recurrence({ startTime: '14:00', cancellationId: 'c', at: later })], later);
    expect(plan.toBook.map((b) => b.meetingId)).toEqual(mondays.slice(1).map(id));
    expect(plan.sessions.some((s) => s.meetingId === id(mondays[0]!))).toBe(false);
  });

  it('given sessions a change dropped, when their dates come back, then they are reinstated and booked; one cancelled on its own stays cancelled and is not booked', () => {
    const w = created();
    w.meeting(id(mondays[1]!), { type: 'CancelMeeting', data: { origin: 'meeting', reason: 'ill', at: T0, by } });
    w.series(toTuesdays).converge(T0);
    const plan = w.request([backToMondays], T0);
    const returning = [mondays[0]!, ...mondays.slice(2)];
    expect(plan.toBook).toEqual(booked(returning));
    expect(commandTypes(plan)).toEqual(
      Object.fromEntries([
        ...tuesdays.map((d) => [id(d), ['CancelMeeting']]),
        ...returning.map((d) => [id(d), ['ReinstateMeeting']]),
      ]),
    );
    expect(plan.changing.has(id(mondays[1]!))).toBe(false);
  });

  it('given a series, when only its details change, then the sessions get the new details and nothing is booked', () => {
    const w = created();
    const plan = w.request([{ type: 'ChangeSeriesDetails', data: { title: 'Power', at: T0, by } }], T0);
    expect(plan.events.map((e) => e.type)).toEqual(['SeriesDetailsChanged']);
    expect(plan.sessions).toEqual([]);
    expect(plan.toBook).toEqual([]);
    expect(plan.changing.size).toBe(0);
  });

  it('given a series whose change says nothing new, when planned, then nothing is booked or changed', () => {
    const plan = created().request([recurrence({ startTime: '10:00', cancellationId: 'c' })], T0);
    expect(plan.events).toEqual([]);
    expect(plan.toBook).toEqual([]);
  });
});

describe('the sessions a series cancellation lists', () => {
  it('given sessions, one cancelled on its own, when the series is cancelled from the second date, then the others from that date on, in start order', () => {
    const w = created();
    w.meeting(id(mondays[2]!), { type: 'CancelMeeting', data: { origin: 'meeting', at: T0, by } });
    const sessions = [...w.sessions.values()].reverse();
    expect(sessionsToCancel(sessions, `${mondays[1]}T10:00:00.000Z`)).toEqual(
      [mondays[1]!, mondays[3]!].map((d) => ({ meetingId: id(d), ...at10(d) })),
    );
  });
});
