import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allReservations,
  reservationsOf,
  bucketChanges,
  bucketsOf,
  decide,
  evolve,
  initialState,
  overlaps,
  scheduleDecider,
  transitionChange,
} from '../../domain/schedule.ts';
import type {
  Booking,
  Owner,
  Reservation,
  ScheduleCommand,
  ScheduleEvent,
  ScheduleState,
} from '../../domain/schedule.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const at = '2030-01-01T00:00:00.000Z';
const owner: Owner = { stream: 'meeting-m1', eventId: 'e1' };

const reservation = (meetingId: string, start: string, end: string, over: Partial<Reservation> = {}): Reservation => ({
  personId: 'ivan',
  month: start.slice(0, 7),
  meetingId,
  start,
  end,
  customerId: 'cora',
  instructorId: 'ivan',
  owner: { stream: `meeting-${meetingId}`, eventId: `e-${meetingId}` },
  at,
  ...over,
});

const reserved = (r: Reservation): ScheduleEvent => ({ type: 'SlotReserved', data: r });
const reserve = (r: Reservation): ScheduleCommand => ({ type: 'ReserveSlot', data: r });

const spec = deciderSpec(scheduleDecider);

describe('schedule decider', () => {
  const ten = reservation('m1', '2030-03-04T10:00:00.000Z', '2030-03-04T11:00:00.000Z');

  it('reserves a free slot', () => {
    spec
      .given([])
      .when(reserve(ten))
      .then([reserved(ten)]);
  });

  it('refuses a slot overlapping another meeting, naming the overlapping reservations', () => {
    const other = reservation('m2', '2030-03-04T10:30:00.000Z', '2030-03-04T11:30:00.000Z');
    spec
      .given([reserved(ten)])
      .when(reserve(other))
      .thenError({ _tag: 'SlotTaken', requested: other, overlapping: [ten] });
  });

  it('lets meetings touch end to start', () => {
    const next = reservation('m2', '2030-03-04T11:00:00.000Z', '2030-03-04T12:00:00.000Z');
    spec
      .given([reserved(ten)])
      .when(reserve(next))
      .then([reserved(next)]);
  });

  it('decides nothing for the same slot again (a series session the series reserved, a repeat)', () => {
    spec
      .given([reserved(ten)])
      .when(reserve({ ...ten, owner: { stream: 'series-s', eventId: 'other' } }))
      .then([]);
    spec
      .given([reserved(ten)])
      .when(reserve(ten))
      .then([]);
  });

  it('lets another event of the same owner stream take the reservation over (a request run again after a crash)', () => {
    const retried = { ...ten, owner: { stream: ten.owner.stream, eventId: 'e-retry' } };
    spec
      .given([reserved(ten)])
      .when(reserve(retried))
      .thenState((s) => expect(reservationsOf(s, 'm1')).toEqual([retried]));
  });

  it('keeps a moving meeting on both slots until the old one is released, and ignores its own old slot', () => {
    const moved = reservation('m1', '2030-03-04T10:30:00.000Z', '2030-03-04T11:30:00.000Z');
    spec
      .given([reserved(ten)])
      .when(reserve(moved))
      .then([reserved(moved)]);
    spec
      .given([reserved(ten), reserved(moved)])
      .when({ type: 'ReleaseSlot', data: { ...ten, at } })
      .thenState((s) => expect(reservationsOf(s, 'm1')).toEqual([moved]));
  });

  it('ignores the meetings a request moves as well', () => {
    const sibling = reservation('m2', '2030-03-04T10:00:00.000Z', '2030-03-04T11:00:00.000Z');
    const onto = reservation('m1', '2030-03-04T10:00:00.000Z', '2030-03-04T11:00:00.000Z', {
      meetingId: 'm3',
    });
    spec
      .given([reserved(sibling)])
      .when({ type: 'ReserveSlot', data: { ...onto, ignoring: ['m2'] } })
      .then([reserved(onto)]);
  });

  it('releases what is reserved, and decides nothing for what is not', () => {
    const release: ScheduleCommand = { type: 'ReleaseSlot', data: { ...ten, at } };
    spec
      .given([reserved(ten)])
      .when(release)
      .then([
        {
          type: 'SlotReleased',
          data: { personId: 'ivan', month: '2030-03', meetingId: 'm1', start: ten.start, end: ten.end, at },
        },
      ]);
    spec.given([]).when(release).then([]);
  });

  it('releases for an owner only the reservation that owner made', () => {
    spec
      .given([reserved(ten)])
      .when({ type: 'ReleaseSlot', data: { ...ten, at, owner: { stream: 'meeting-m1', eventId: 'not-it' } } })
      .then([]);
    spec
      .given([reserved(ten)])
      .when({ type: 'ReleaseSlot', data: { ...ten, at, owner: ten.owner } })
      .thenState((s) => expect(allReservations(s)).toEqual([]));
  });

  it('refuses a reservation for a month its slot does not touch, or for someone else', () => {
    spec
      .given([])
      .when(reserve({ ...ten, month: '2030-04' }))
      .thenError({ _tag: 'ValidationFailed' });
    spec
      .given([])
      .when(reserve({ ...ten, personId: 'zoe' }))
      .thenError({ _tag: 'ValidationFailed' });
  });
});

describe('buckets', () => {
  it('are the UTC months holding an instant of the slot, end exclusive', () => {
    expect(bucketsOf({ start: '2030-01-31T23:00:00Z', end: '2030-02-01T01:00:00Z' })).toEqual(['2030-01', '2030-02']);
    expect(bucketsOf({ start: '2030-01-31T23:00:00Z', end: '2030-02-01T00:00:00Z' })).toEqual(['2030-01']);
    expect(bucketsOf({ start: '2030-12-31T12:00:00Z', end: '2031-01-01T06:00:00Z' })).toEqual(['2030-12', '2031-01']);
  });

  const DAY = 24 * 3600 * 1000;
  const base = Date.parse('2030-01-01T00:00:00Z');
  const slot = fc
    .tuple(fc.integer({ min: 0, max: 3 * 365 * 24 * 60 }), fc.integer({ min: 1, max: 24 * 60 }))
    .map(([startMin, minutes]) => ({
      start: new Date(base + startMin * 60_000).toISOString(),
      end: new Date(base + (startMin + minutes) * 60_000).toISOString(),
    }));

  it('two overlapping slots (of at most a day) always share a bucket, and a slot has one or two', () => {
    fc.assert(
      fc.property(slot, slot, (a, b) => {
        expect(bucketsOf(a).length).toBeGreaterThanOrEqual(1);
        expect(bucketsOf(a).length).toBeLessThanOrEqual(Date.parse(a.end) - Date.parse(a.start) <= DAY ? 2 : 3);
        if (overlaps(a, b)) expect(bucketsOf(a).some((m) => bucketsOf(b).includes(m))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  /**
   * Any order of reservations and releases of a few meetings for one person, each applied through its buckets the
   * way the application does: no bucket ever holds two overlapping reservations of different meetings.
   */
  it('decide and evolve never let two meetings of one person overlap', () => {
    const meetingIds = ['a', 'b', 'c', 'd'];
    const step = fc.record({ meeting: fc.constantFrom(...meetingIds), slot, release: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const buckets = new Map<string, ScheduleState>();
        const held = new Map<string, Booking>();
        for (const s of steps) {
          const booking: Booking = { meetingId: s.meeting, customerId: 'cora', instructorId: 'ivan', ...s.slot };
          const before = held.get(s.meeting);
          const change = s.release ? transitionChange(before, undefined) : transitionChange(before, booking);
          const changes = bucketChanges(change, owner, at).filter((b) => b.personId === 'ivan');
          const next = new Map(buckets);
          let refused = false;
          for (const b of changes) {
            let state = next.get(b.month) ?? initialState();
            for (const c of b.commands) {
              const decided = decide(c, state);
              if (E.isLeft(decided)) refused = true;
              else state = decided.right.reduce(evolve, state);
            }
            next.set(b.month, state);
          }
          if (refused) continue;
          for (const [k, v] of next) buckets.set(k, v);
          if (s.release) held.delete(s.meeting);
          else held.set(s.meeting, booking);
        }
        const all = [...buckets.values()].flatMap(allReservations);
        for (const x of all)
          for (const y of all)
            if (x.meetingId !== y.meetingId) expect(overlaps(x, y), `${x.meetingId} ${y.meetingId}`).toBe(false);
        // Every meeting held is reserved in every bucket it touches, and nothing else is.
        const expected = [...held.values()].flatMap((h) => bucketsOf(h).map((m) => `${h.meetingId}@${m}`)).sort();
        expect(all.map((r) => `${r.meetingId}@${r.month}`).sort()).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
