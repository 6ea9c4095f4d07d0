import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import type { Decider } from './decider.ts';
import type { MeetingState } from './meeting.ts';
import { Id, IsoInstant, RecordedAt, assertNever, validationFailed } from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';

/**
 * A person's schedule, the consistency boundary of bookings: one stream per person and UTC month
 * (`schedule-<personId>-<YYYY-MM>`), holding the slots that person's meetings take. A booking appends its
 * reservations at the revision it read, so of two overlapping bookings of one person exactly one lands, whichever
 * node decided them. A meeting's reservation is kept in every month its slot touches (at most two: a meeting lasts at
 * most a day), and two meetings overlap only if they share an instant, which lies in a month both touch: checking the
 * buckets a new slot touches is complete.
 */

/** `YYYY-MM`, a UTC month. */
export const Month = new t.Type<string, string, unknown>(
  'Month',
  (u): u is string => typeof u === 'string' && /^\d{4}-(0[1-9]|1[0-2])$/.test(u),
  (u, c) => (typeof u === 'string' && /^\d{4}-(0[1-9]|1[0-2])$/.test(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/** The event whose write the reservation is for (the meeting's or the series' event), by its stream and id. */
export const Owner = t.type({ stream: t.string, eventId: t.string });
export type Owner = t.TypeOf<typeof Owner>;

const reservation = {
  personId: Id,
  month: Month,
  meetingId: Id,
  start: IsoInstant,
  end: IsoInstant,
  customerId: Id,
  instructorId: Id,
  owner: Owner,
  at: RecordedAt,
};

// ---------- events ----------

export const SlotReserved = t.type({ type: t.literal('SlotReserved'), data: t.type(reservation) });
export const SlotReleased = t.type({
  type: t.literal('SlotReleased'),
  data: t.type({ personId: Id, month: Month, meetingId: Id, start: IsoInstant, end: IsoInstant, at: RecordedAt }),
});
export const ScheduleEvent = t.union([SlotReserved, SlotReleased]);
export type ScheduleEvent = t.TypeOf<typeof ScheduleEvent>;

// ---------- commands ----------

export type Reservation = t.TypeOf<typeof SlotReserved>['data'];

export interface ReserveSlot {
  readonly type: 'ReserveSlot';
  readonly data: Reservation & {
    /** Meetings the same request moves or removes too (a series' sessions): where they are now is no conflict. */
    readonly ignoring?: ReadonlyArray<string>;
  };
}

export interface ReleaseSlot {
  readonly type: 'ReleaseSlot';
  readonly data: {
    readonly personId: string;
    readonly month: string;
    readonly meetingId: string;
    readonly start: string;
    readonly end: string;
    readonly at: string;
    /** Release only if this owner made the reservation (an undo, an orphan): one made again since stays. */
    readonly owner?: Owner;
  };
}

export type ScheduleCommand = ReserveSlot | ReleaseSlot;

// ---------- state ----------

/** A reservation as a state holds it, with its instants parsed once (every booking compares its slot with them). */
interface Held {
  readonly reservation: Reservation;
  readonly start: number;
  readonly end: number;
}

export interface ScheduleState {
  /**
   * The active reservations of this bucket, oldest first. A meeting that moves holds its old slot and its new one
   * until the move is written (then the old one is released): on a store without atomic appends across streams the
   * new slot is reserved before the meeting's event, and neither slot is ever left free while the meeting may be
   * there. A list, not a map by meeting: a booking's evolve copies it, and copying a list is what costs least.
   */
  readonly held: ReadonlyArray<Held>;
}

export const initialState = (): ScheduleState => ({ held: [] });

/** The reservations a state holds for one meeting, oldest first. */
export const reservationsOf = (state: ScheduleState, meetingId: string): Reservation[] =>
  state.held.filter((h) => h.reservation.meetingId === meetingId).map((h) => h.reservation);

/** Every reservation a state holds, oldest first. */
export const allReservations = (state: ScheduleState): Reservation[] => state.held.map((h) => h.reservation);

// ---------- errors ----------

/** The slot overlaps other meetings' reservations of this person: they are the conflicts. */
export interface SlotTaken {
  readonly _tag: 'SlotTaken';
  readonly requested: Reservation;
  readonly overlapping: ReadonlyArray<Reservation>;
}

export type ScheduleError = SlotTaken | ValidationFailed;

// ---------- rules ----------

export interface Slot {
  readonly start: string;
  readonly end: string;
}

/** A slot a meeting holds for its two people. */
export interface Booking extends Slot {
  readonly meetingId: string;
  readonly customerId: string;
  readonly instructorId: string;
}

export const overlaps = (a: Slot, b: Slot): boolean =>
  Date.parse(a.start) < Date.parse(b.end) && Date.parse(a.end) > Date.parse(b.start);

/** The reservations of other meetings (and not `ignoring`) that overlap `r`. */
const overlapping = (state: ScheduleState, r: Reservation, ignoring: ReadonlyArray<string>): Reservation[] => {
  const start = Date.parse(r.start);
  const end = Date.parse(r.end);
  const found: Reservation[] = [];
  for (const h of state.held) {
    if (h.start >= end || h.end <= start) continue;
    const meetingId = h.reservation.meetingId;
    if (meetingId !== r.meetingId && !ignoring.includes(meetingId)) found.push(h.reservation);
  }
  return found;
};

/** The reservation a state holds for this meeting and slot. */
const heldFor = (state: ScheduleState, meetingId: string, slot: Slot): Reservation | undefined => {
  const start = Date.parse(slot.start);
  const end = Date.parse(slot.end);
  return state.held.find((h) => h.start === start && h.end === end && h.reservation.meetingId === meetingId)
    ?.reservation;
};

export const sameSlot = (a: Slot, b: Slot): boolean =>
  Date.parse(a.start) === Date.parse(b.start) && Date.parse(a.end) === Date.parse(b.end);

export const monthOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

/** The UTC months holding an instant of [start, end), oldest first (an empty slot holds its start). */
export const bucketsOf = (slot: Slot): string[] => {
  const start = Date.parse(slot.start);
  const last = Math.max(start, Date.parse(slot.end) - 1);
  const months: string[] = [];
  const cursor = new Date(Date.UTC(new Date(start).getUTCFullYear(), new Date(start).getUTCMonth(), 1));
  while (cursor.getTime() <= last) {
    // As monthOf says it, without formatting the whole instant (this runs for every command of every booking).
    const year = cursor.getUTCFullYear();
    const month = cursor.getUTCMonth() + 1;
    months.push(
      year >= 0 && year <= 9999
        ? `${String(year).padStart(4, '0')}-${month < 10 ? '0' : ''}${month}`
        : monthOf(cursor.getTime()),
    );
    cursor.setUTCMonth(cursor.getUTCMonth() + 1);
  }
  return months;
};

const check = (r: Reservation): FieldError[] => {
  const errors: FieldError[] = [];
  if (r.personId !== r.customerId && r.personId !== r.instructorId)
    errors.push({ path: 'personId', message: 'is neither the customer nor the instructor' });
  if (!(Date.parse(r.end) > Date.parse(r.start))) errors.push({ path: 'end', message: 'must be after start' });
  else if (!bucketsOf(r).includes(r.month)) errors.push({ path: 'month', message: 'the slot does not touch it' });
  return errors;
};

// ---------- decide ----------

export const decide = (command: ScheduleCommand, state: ScheduleState): E.Either<ScheduleError, ScheduleEvent[]> => {
  switch (command.type) {
    case 'ReserveSlot': {
      const c = command.data;
      const ignoring = c.ignoring ?? [];
      const r: Reservation = {
        personId: c.personId,
        month: c.month,
        meetingId: c.meetingId,
        start: c.start,
        end: c.end,
        customerId: c.customerId,
        instructorId: c.instructorId,
        owner: { stream: c.owner.stream, eventId: c.owner.eventId },
        at: c.at,
      };
      const errors = check(r);
      if (errors.length > 0) return E.left(validationFailed(errors));
      const own = heldFor(state, r.meetingId, r);
      // The same slot again decides nothing, unless another event of the same owner stream asks: a request run again
      // after a crash cut its first attempt short takes the reservation over, so it is never released as an orphan.
      if (own !== undefined && (own.owner.stream !== r.owner.stream || own.owner.eventId === r.owner.eventId))
        return E.right([]);
      if (own !== undefined) return E.right([{ type: 'SlotReserved', data: r }]);
      const taken = overlapping(state, r, ignoring);
      if (taken.length > 0) return E.left({ _tag: 'SlotTaken', requested: r, overlapping: taken });
      return E.right([{ type: 'SlotReserved', data: r }]);
    }
    case 'ReleaseSlot': {
      const { personId, month, meetingId, start, end, at, owner } = command.data;
      const data = { personId, month, meetingId, start, end, at };
      const own = heldFor(state, meetingId, data);
      if (own === undefined) return E.right([]);
      if (owner !== undefined && (own.owner.stream !== owner.stream || own.owner.eventId !== owner.eventId))
        return E.right([]);
      return E.right([{ type: 'SlotReleased', data }]);
    }
    default:
      return assertNever(command);
  }
};

// ---------- evolve ----------

export const evolve = (state: ScheduleState, event: ScheduleEvent): ScheduleState => {
  const { meetingId } = event.data;
  const start = Date.parse(event.data.start);
  const end = Date.parse(event.data.end);
  const others = state.held.filter((h) => h.start !== start || h.end !== end || h.reservation.meetingId !== meetingId);
  switch (event.type) {
    case 'SlotReserved':
      others.push({ reservation: event.data, start, end });
      return { held: others };
    case 'SlotReleased':
      return { held: others };
    default:
      return assertNever(event);
  }
};

export const scheduleStreamPrefix = 'schedule-';
export const scheduleStreamName = (personId: string, month: string): string =>
  `${scheduleStreamPrefix}${personId}-${month}`;

export const scheduleDecider: Decider<ScheduleCommand, ScheduleEvent, ScheduleState, ScheduleError> = {
  decide,
  evolve,
  initialState,
};

// ---------- what a meeting's change needs of the schedules ----------

/** The slot a meeting's state holds: while it is planned or scheduled. */
export const bookingOf = (state: MeetingState): Booking | undefined =>
  state.status === 'planned' || state.status === 'scheduled'
    ? {
        meetingId: state.id,
        customerId: state.customerId,
        instructorId: state.instructorId,
        start: state.start,
        end: state.end,
      }
    : undefined;

/** One bucket's commands of a change. */
export interface BucketChange {
  readonly personId: string;
  readonly month: string;
  readonly commands: ReadonlyArray<ScheduleCommand>;
}

export interface ScheduleChange {
  /** Slots to reserve, in every bucket they touch. */
  readonly reserve: ReadonlyArray<Booking>;
  /** Slots no longer held, released in every bucket they touch. */
  readonly release: ReadonlyArray<Booking>;
  /** Meetings whose current slots are no conflict for the reservations (see ReserveSlot). */
  readonly ignoring?: ReadonlyArray<string>;
}

const peopleOf = (b: Booking): string[] => [...new Set([b.customerId, b.instructorId])];

/** The change from the slot a meeting held to the one it holds: nothing when it stays. */
export const transitionChange = (before: Booking | undefined, after: Booking | undefined): ScheduleChange => {
  if (before !== undefined && after !== undefined && sameSlot(before, after)) return { reserve: [], release: [] };
  return { reserve: after === undefined ? [] : [after], release: before === undefined ? [] : [before] };
};

/**
 * A change as commands per bucket, each bucket once and in a fixed order (by stream name), reservations before
 * releases: a meeting moving within a bucket holds both slots for a moment of the decision, never neither.
 */
export const bucketChanges = (change: ScheduleChange, owner: Owner, at: string): BucketChange[] => {
  const buckets = new Map<string, BucketChange & { commands: ScheduleCommand[] }>();
  const ignoring = change.ignoring !== undefined && change.ignoring.length > 0 ? change.ignoring : undefined;
  for (const r of change.reserve) {
    const months = bucketsOf(r);
    for (const personId of peopleOf(r))
      for (const month of months) {
        // Field by field: spreading the booking and the optional `ignoring` into one literal is V8's slow path.
        const data: ReserveSlot['data'] = {
          meetingId: r.meetingId,
          customerId: r.customerId,
          instructorId: r.instructorId,
          start: r.start,
          end: r.end,
          personId,
          month,
          owner,
          at,
          ...(ignoring !== undefined ? { ignoring } : {}),
        };
        bucketOf(buckets, personId, month).commands.push({ type: 'ReserveSlot', data });
      }
  }
  for (const r of change.release) {
    const months = bucketsOf(r);
    for (const personId of peopleOf(r))
      for (const month of months)
        bucketOf(buckets, personId, month).commands.push({
          type: 'ReleaseSlot',
          data: { personId, month, meetingId: r.meetingId, start: r.start, end: r.end, at },
        });
  }
  return [...buckets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, b]) => b);
};

const bucketOf = (
  buckets: Map<string, BucketChange & { commands: ScheduleCommand[] }>,
  personId: string,
  month: string,
): BucketChange & { commands: ScheduleCommand[] } => {
  const key = scheduleStreamName(personId, month);
  let b = buckets.get(key);
  if (b === undefined) {
    b = { personId, month, commands: [] };
    buckets.set(key, b);
  }
  return b;
};
