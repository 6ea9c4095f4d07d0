import { describe, expect, it } from 'vitest';
import { evolve, initialState, occurrenceMeetingId, seriesDecider } from '../../domain/series.ts';
import type { SeriesCommand, SeriesEvent, Slot } from '../../domain/series.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(seriesDecider);
const by = { id: 'ivan', roles: ['instructor' as const] };
const created = '2026-02-01T00:00:00.000Z';

const scheduleCommand = (overrides: Record<string, unknown> = {}): SeriesCommand =>
  ({
    type: 'ScheduleSeries',
    data: {
      seriesId: 's1',
      title: 'Strength',
      customerId: 'cora',
      instructorId: 'ivan',
      trainingType: '1-1',
      timezone: 'America/New_York',
      startDate: '2026-03-02',
      startTime: '10:00',
      durationMinutes: 60,
      rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=4',
      at: created,
      by,
      ...overrides,
    },
  }) as SeriesCommand;

const slot = (localDate: string, start: string, end: string): Slot => ({
  meetingId: occurrenceMeetingId('s1', localDate),
  localDate,
  start,
  end,
});
const slots = [
  slot('2026-03-02', '2026-03-02T15:00:00.000Z', '2026-03-02T16:00:00.000Z'),
  slot('2026-03-09', '2026-03-09T14:00:00.000Z', '2026-03-09T15:00:00.000Z'),
  slot('2026-03-16', '2026-03-16T14:00:00.000Z', '2026-03-16T15:00:00.000Z'),
  slot('2026-03-23', '2026-03-23T14:00:00.000Z', '2026-03-23T15:00:00.000Z'),
];
const recurrence = {
  rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=4',
  startDate: '2026-03-02',
  startTime: '10:00',
  durationMinutes: 60,
  timezone: 'America/New_York',
  exclusions: [],
};
const scheduled: SeriesEvent = {
  type: 'SeriesScheduled',
  data: {
    seriesId: 's1',
    title: 'Strength',
    customerId: 'cora',
    instructorId: 'ivan',
    trainingType: '1-1',
    description: '',
    customerMetadata: '',
    instructorMetadata: '',
    recurrence,
    occurrences: slots,
    at: created,
    by,
  },
};

const changeRecurrence = (at: string, fields: Record<string, unknown>): SeriesCommand =>
  ({ type: 'ChangeSeriesRecurrence', data: { at, by, ...fields } }) as SeriesCommand;

describe('Series: schedule', () => {
  it('Given nothing, When scheduled, Then SeriesScheduled with every occurrence as a slot with a derived meeting id', () => {
    spec.given([]).when(scheduleCommand()).then([scheduled]);
  });

  it('leaves out occurrences already in the past', () => {
    spec
      .given([])
      .when(scheduleCommand({ at: '2026-03-10T00:00:00.000Z' }))
      .thenState((s) => {
        expect(s.status !== 'none' && s.occurrences.map((o) => o.localDate)).toEqual(['2026-03-16', '2026-03-23']);
      });
  });

  it('refuses a series entirely in the past', () => {
    spec
      .given([])
      .when(scheduleCommand({ at: '2027-01-01T00:00:00.000Z' }))
      .thenError({ _tag: 'ValidationFailed' });
  });

  it('refuses bad recurrences and bad details, naming each field', () => {
    spec
      .given([])
      .when(scheduleCommand({ rrule: 'FREQ=WEEKLY', title: '', customerId: 'ivan', trainingType: 'link' }))
      .thenError((error) => {
        const paths = (error as unknown as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort();
        expect(paths).toEqual(['instructorId', 'remoteLink', 'rrule', 'title']);
      });
  });

  it('refuses to schedule twice', () => {
    spec.given([scheduled]).when(scheduleCommand()).thenError({ _tag: 'SeriesAlreadyExists' });
  });

  it('refuses changes to a series that does not exist', () => {
    spec
      .given([])
      .when(changeRecurrence(created, { startTime: '11:00' }))
      .thenError({ _tag: 'SeriesNotFound' });
  });
});

describe('Series: change recurrence', () => {
  it('Given a series, When the time changes before it starts, Then every slot moves and keeps its meeting id', () => {
    spec
      .given([scheduled])
      .when(changeRecurrence(created, { startTime: '11:00' }))
      .thenState((s) => {
        if (s.status === 'none') throw new Error('no series');
        expect(s.occurrences.map((o) => o.meetingId)).toEqual(slots.map((o) => o.meetingId));
        expect(s.occurrences[0]?.start).toBe('2026-03-02T16:00:00.000Z');
      });
  });

  it('never changes an occurrence that has started', () => {
    const at = '2026-03-10T00:00:00.000Z';
    spec
      .given([scheduled])
      .when(changeRecurrence(at, { startTime: '11:00', rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=4' }))
      .thenState((s) => {
        if (s.status === 'none') throw new Error('no series');
        const past = s.occurrences.filter((o) => o.start < at);
        expect(past).toEqual(slots.slice(0, 2));
      });
  });

  it('leaves a session that started today alone when the time of day changes', () => {
    const at = '2026-03-02T15:30:00.000Z';
    spec
      .given([scheduled])
      .when(changeRecurrence(at, { startTime: '11:00' }))
      .thenState((s) => {
        if (s.status === 'none') throw new Error('no series');
        expect(s.occurrences[0]).toEqual(slots[0]);
        expect(s.occurrences[1]?.start).toBe('2026-03-09T15:00:00.000Z');
      });
  });

  it('reports added, moved and removed slots; removed future ones only', () => {
    const at = '2026-03-10T00:00:00.000Z';
    const result = seriesDecider.decide(
      changeRecurrence(at, { rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=4', startDate: '2026-03-03' }),
      [scheduled].reduce(evolve, initialState()),
    );
    if (result._tag === 'Left') throw new Error('refused');
    const event = result.right[0];
    if (event?.type !== 'SeriesRecurrenceChanged') throw new Error('wrong event');
    expect(event.data.removed.map((o) => o.localDate)).toEqual(['2026-03-16', '2026-03-23']);
    expect(event.data.added.map((o) => o.localDate)).toEqual(['2026-03-10', '2026-03-17', '2026-03-24']);
    expect(event.data.moved).toEqual([]);
    expect(event.data.previous).toEqual(recurrence);
  });

  it('emits nothing when nothing changes, however the same rule is spelt', () => {
    spec
      .given([scheduled])
      .when(changeRecurrence(created, { startTime: '10:00' }))
      .then([]);
    spec
      .given([scheduled])
      .when(changeRecurrence(created, { rrule: 'rrule:freq=weekly;byday=mo;count=4' }))
      .then([]);
  });

  it('a new zone with the same instants still moves every future session to it', () => {
    const result = seriesDecider.decide(
      changeRecurrence(created, { timezone: 'America/Toronto' }),
      [scheduled].reduce(evolve, initialState()),
    );
    if (result._tag === 'Left') throw new Error('refused');
    const event = result.right[0];
    if (event?.type !== 'SeriesRecurrenceChanged') throw new Error('wrong event');
    expect(event.data.moved.map((o) => o.localDate)).toEqual(slots.map((o) => o.localDate));
    expect(event.data.moved.map((o) => o.start)).toEqual(slots.map((o) => o.start));
  });

  it('refuses an invalid new recurrence', () => {
    spec
      .given([scheduled])
      .when(changeRecurrence(created, { durationMinutes: 0 }))
      .thenError({ _tag: 'ValidationFailed' });
  });

  it('adds nothing at or after a series cancellation', () => {
    const cancelledFrom: SeriesEvent = {
      type: 'SeriesCancelled',
      data: { seriesId: 's1', cancellationId: 'c1', from: '2026-03-16T00:00:00.000Z', cancelled: [], at: created, by },
    };
    const result = seriesDecider.decide(
      changeRecurrence(created, { rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8' }),
      [scheduled, cancelledFrom].reduce(evolve, initialState()),
    );
    if (result._tag === 'Left') throw new Error('refused');
    const event = result.right[0];
    if (event?.type !== 'SeriesRecurrenceChanged') throw new Error('wrong event');
    expect(event.data.added.every((o) => o.start < '2026-03-16T00:00:00.000Z')).toBe(true);
  });
});

describe('Series: details and cancel', () => {
  it('records only changed details', () => {
    spec
      .given([scheduled])
      .when({ type: 'ChangeSeriesDetails', data: { title: 'Strength', description: 'New', at: created, by } })
      .then([
        { type: 'SeriesDetailsChanged', data: { seriesId: 's1', changes: { description: 'New' }, at: created, by } },
      ]);
  });

  it('switching to link needs an https link', () => {
    spec
      .given([scheduled])
      .when({ type: 'ChangeSeriesDetails', data: { trainingType: 'link', at: created, by } })
      .thenError({ _tag: 'ValidationFailed' });
    spec
      .given([scheduled])
      .when({
        type: 'ChangeSeriesDetails',
        data: { trainingType: 'link', remoteLink: 'https://zoom.example/1', at: created, by },
      })
      .thenState((s) => expect(s).toMatchObject({ trainingType: 'link', remoteLink: 'https://zoom.example/1' }));
  });

  it('cancel records exactly the occurrences it cancels, from `from` on, and only its own', () => {
    const toCancel = [
      { meetingId: slots[1]!.meetingId, start: slots[1]!.start, end: slots[1]!.end },
      { meetingId: slots[3]!.meetingId, start: slots[3]!.start, end: slots[3]!.end },
      { meetingId: 'someone-else', start: slots[3]!.start, end: slots[3]!.end },
      { meetingId: slots[0]!.meetingId, start: slots[0]!.start, end: slots[0]!.end },
    ];
    spec
      .given([scheduled])
      .when({
        type: 'CancelSeries',
        data: { cancellationId: 'c1', from: '2026-03-05T00:00:00.000Z', toCancel, reason: ' closed ', at: created, by },
      })
      .then([
        {
          type: 'SeriesCancelled',
          data: {
            seriesId: 's1',
            cancellationId: 'c1',
            from: '2026-03-05T00:00:00.000Z',
            cancelled: toCancel.slice(0, 2),
            reason: 'closed',
            at: created,
            by,
          },
        },
      ]);
  });

  it('a cancellation from now cancels the series; it then refuses changes and a second cancel', () => {
    const cancelled: SeriesEvent = {
      type: 'SeriesCancelled',
      data: { seriesId: 's1', cancellationId: 'c1', from: created, cancelled: [], at: created, by },
    };
    spec
      .given([scheduled, cancelled])
      .when(changeRecurrence(created, { startTime: '12:00' }))
      .thenError({ _tag: 'SeriesIsCancelled' });
    spec
      .given([scheduled, cancelled])
      .when({ type: 'ChangeSeriesDetails', data: { title: 'x', at: created, by } })
      .thenError({ _tag: 'SeriesIsCancelled' });
    spec
      .given([scheduled, cancelled])
      .when({ type: 'CancelSeries', data: { cancellationId: 'c2', from: created, toCancel: [], at: created, by } })
      .thenError({ _tag: 'SeriesIsCancelled' });
  });

  it('records the sessions a series edit cancelled, only its own, and nothing for none', () => {
    const cancelled = [{ meetingId: slots[2]!.meetingId, start: slots[2]!.start, end: slots[2]!.end }];
    spec
      .given([scheduled])
      .when({
        type: 'RecordOccurrencesCancelled',
        data: { cancellationId: 'c9', cancelled, reason: 'changed', at: created, by },
      })
      .then([
        {
          type: 'SeriesOccurrencesCancelled',
          data: { seriesId: 's1', cancellationId: 'c9', cancelled, reason: 'changed', at: created, by },
        },
      ]);
    spec
      .given([scheduled])
      .when({ type: 'RecordOccurrencesCancelled', data: { cancellationId: 'c9', cancelled: [], at: created, by } })
      .then([]);
    spec
      .given([scheduled])
      .when({
        type: 'RecordOccurrencesCancelled',
        data: {
          cancellationId: 'c9',
          cancelled: [{ ...cancelled[0]!, meetingId: 'other_2026-03-16' }],
          at: created,
          by,
        },
      })
      .thenError({ _tag: 'ValidationFailed' });
  });

  it('the earliest cancellation stays in force when a later, narrower one follows', () => {
    const first: SeriesEvent = {
      type: 'SeriesCancelled',
      data: { seriesId: 's1', cancellationId: 'c1', from: '2026-03-09T00:00:00.000Z', cancelled: [], at: created, by },
    };
    const second: SeriesEvent = {
      type: 'SeriesCancelled',
      data: { seriesId: 's1', cancellationId: 'c2', from: '2026-03-16T00:00:00.000Z', cancelled: [], at: created, by },
    };
    const state = [scheduled, first, second].reduce(evolve, initialState());
    expect(state.status !== 'none' && state.cancelledFrom).toBe('2026-03-09T00:00:00.000Z');
  });
});
