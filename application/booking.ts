import * as E from 'fp-ts/lib/Either.js';
import type { FieldError } from '../domain/shared.ts';
import type { AccessProvider } from './ports/access.ts';
import type { MeetingQueries } from './ports/read-models.ts';

export interface Slot {
  readonly start: string;
  readonly end: string;
}

/** Whose slot a conflict blocks: the requested customer's or the requested instructor's, and the requested time. */
interface BlockedSlot {
  readonly participant: 'customer' | 'instructor';
  readonly userId: string;
  /** The requested time that collides. */
  readonly slot: Slot;
}

/** The other meeting, as much of it as a caller who may see it is told. */
type VisibleConflict = BlockedSlot & { readonly meetingId: string; readonly start: string; readonly end: string };

export type BookingConflict = VisibleConflict & { readonly customerId: string; readonly instructorId: string };

/** What a caller is told about a conflict: the other meeting only if they may see it, else just the blocked slot. */
export type PresentedConflict = VisibleConflict | BlockedSlot;

export const presentConflicts = async (
  canView: (meeting: { customerId: string; instructorId: string }) => Promise<boolean>,
  conflicts: ReadonlyArray<BookingConflict>,
): Promise<PresentedConflict[]> => {
  const presented: PresentedConflict[] = [];
  for (const c of conflicts) {
    const slot = { start: c.slot.start, end: c.slot.end };
    presented.push(
      (await canView(c))
        ? { meetingId: c.meetingId, start: c.start, end: c.end, participant: c.participant, userId: c.userId, slot }
        : { participant: c.participant, userId: c.userId, slot },
    );
  }
  return presented;
};

/** A meeting as a booking of this process decided it (its stream's state after the append), for the pre-check. */
export interface DecidedMeeting {
  readonly id: string;
  readonly customerId: string;
  readonly instructorId: string;
  readonly start: string;
  readonly end: string;
  /** Not cancelled: its slot is taken. */
  readonly active: boolean;
  /** The meeting stream's revision after the decision: a read model showing this revision or a later one knows it. */
  readonly revision: number;
}

/** What a booking decided under the lock: the meetings it leaves booked or freed, and where the log holds it. */
export interface BookingDecision {
  readonly meetings: ReadonlyArray<DecidedMeeting>;
  /** The position the read models must reach to show it (undefined: nothing to wait for). */
  readonly position: number | undefined;
}

const overlaps = (m: { start: string; end: string }, slot: Slot): boolean => m.start < slot.end && m.end > slot.start;

/** A decided meeting laid over the read model, and whether the append that decided it has been answered yet. */
interface Held {
  readonly meeting: DecidedMeeting;
  readonly append: Answer;
}

/** An append's answer: `done` once its outcome is known (a held meeting whose append missed is dropped before). */
interface Answer {
  done: boolean;
  readonly known: Promise<void>;
}

/** How often a pre-check waits for appends not yet answered before it takes what it sees as the answer. */
const ANSWER_WAITS = 3;

/**
 * The calendar's fast pre-check of double bookings, and a local serializer of the decisions. What guarantees no
 * double booking is the people's schedule streams (application/schedule.ts): every booking appends its reservations
 * at the revision it read, on any node. Here the decisions on a person's bookings run one at a time in this process
 * (`decide`): the lock covers loading, deciding and checking, and is let go as soon as the append is handed to the
 * store, long before the read models show it. So that the pre-check still answers this node's own bookings, what was
 * decided is held here until the read models have reached it, and the pre-check reads the read model with it laid
 * over. The next decision for the same person loads and pre-checks meanwhile, and decides on the schedule buckets
 * where this one leaves them once its append is answered (BucketCache), so it appends without a conflict (another
 * node's booking is refused by the schedule append instead, with the same 409).
 */
export class BookingGuard {
  private readonly tails = new Map<string, Promise<void>>();
  /** Decided meetings the read models may not show yet, by meeting id, and the same by person. */
  private readonly decided = new Map<string, Held>();
  private readonly decidedOf = new Map<string, Set<Held>>();

  constructor(
    private readonly queries: Pick<MeetingQueries, 'activeMeetingsOverlapping' | 'getMeeting'>,
    private readonly projections: { waitFor(position: number | undefined): Promise<void> },
  ) {}

  /**
   * Runs `work` (load, decide, check, append) under the people's lock, until it calls `issued` with what it decided
   * (its append handed to the store) or returns; then the lock is let go and the answer waits for the read models to
   * show the decision, so that the caller reads its own write. Until they do, the decided meetings count in the
   * pre-check. A refusal or a failure (Left, or a throw) drops them at once.
   */
  async decide<L, R extends BookingDecision>(
    userIds: ReadonlyArray<string>,
    work: (issued: (meetings: ReadonlyArray<DecidedMeeting>) => void) => Promise<E.Either<L, R>>,
  ): Promise<E.Either<L, R>> {
    const unlock = await this.lock(userIds);
    let answer!: () => void;
    const append: Answer = { done: false, known: new Promise<void>((resolve) => (answer = resolve)) };
    let held: ReadonlyArray<Held> = [];
    const hold = (meetings: ReadonlyArray<DecidedMeeting>) => {
      this.release(held);
      held = this.hold(meetings, append);
    };
    let result: E.Either<L, R> | undefined;
    try {
      result = await work((meetings) => {
        hold(meetings);
        unlock();
      });
      if (E.isRight(result) && held.length === 0) hold(result.right.meetings);
    } finally {
      unlock();
      if (result === undefined || E.isLeft(result)) this.release(held);
      append.done = true;
      answer();
    }
    try {
      if (E.isRight(result)) await this.projections.waitFor(result.right.position);
    } finally {
      this.release(held);
    }
    return result;
  }

  /** Runs `work` alone among this process' bookings of these people, holding the lock until it returns. */
  async withLock<A>(userIds: ReadonlyArray<string>, work: () => Promise<A>): Promise<A> {
    const unlock = await this.lock(userIds);
    try {
      return await work();
    } finally {
      unlock();
    }
  }

  /** Takes the people's locks in a fixed order; the function lets them go (again: nothing). */
  private async lock(userIds: ReadonlyArray<string>): Promise<() => void> {
    const keys = [...new Set(userIds)].sort();
    const releases: Array<() => void> = [];
    try {
      for (const key of keys) releases.push(await this.acquire(key));
    } catch (error) {
      for (const release of releases.reverse()) release();
      throw error;
    }
    let locked = true;
    return () => {
      if (!locked) return;
      locked = false;
      for (const release of releases.reverse()) release();
    };
  }

  private async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }

  /** Lays decided meetings over the read model (a later decision on a meeting replaces an earlier one). */
  private hold(meetings: ReadonlyArray<DecidedMeeting>, append: Answer): ReadonlyArray<Held> {
    return meetings.map((meeting) => {
      const earlier = this.decided.get(meeting.id);
      if (earlier !== undefined) this.forget(earlier);
      const held = { meeting, append };
      this.decided.set(meeting.id, held);
      for (const person of new Set([meeting.customerId, meeting.instructorId])) {
        const mine = this.decidedOf.get(person) ?? new Set();
        mine.add(held);
        this.decidedOf.set(person, mine);
      }
      return held;
    });
  }

  /** Takes these decided meetings off the read model, unless a later decision replaced them already. */
  private release(held: ReadonlyArray<Held>): void {
    for (const h of held) if (this.decided.get(h.meeting.id) === h) this.forget(h);
  }

  private forget(held: Held): void {
    this.decided.delete(held.meeting.id);
    for (const person of [held.meeting.customerId, held.meeting.instructorId]) {
      const mine = this.decidedOf.get(person);
      mine?.delete(held);
      if (mine?.size === 0) this.decidedOf.delete(person);
    }
  }

  /**
   * A meeting as this process last decided it, while the read model does not show that yet; undefined when the read
   * model is up to date with this process' decisions on it.
   */
  latest(meetingId: string): DecidedMeeting | undefined {
    const m = this.decided.get(meetingId)?.meeting;
    return m === undefined || (this.queries.getMeeting(m.id)?.revision ?? -1) >= m.revision ? undefined : m;
  }

  /**
   * `conflicts` for a decision: a conflict with a meeting whose append has not been answered yet is asked again once
   * it has (if that append missed, the slot is free after all), a bounded number of times.
   */
  async conflictsDecided(
    slots: ReadonlyArray<Slot>,
    people: { readonly customerId: string; readonly instructorId: string },
    ignore: ReadonlySet<string> = new Set(),
  ): Promise<BookingConflict[]> {
    for (let wait = 0; ; wait++) {
      const found = this.conflicts(slots, people, ignore);
      const unanswered = new Set<Promise<void>>();
      for (const c of found) {
        const held = this.decided.get(c.meetingId);
        if (held !== undefined && !held.append.done) unanswered.add(held.append.known);
      }
      if (unanswered.size === 0 || wait >= ANSWER_WAITS) return found;
      await Promise.all(unanswered);
    }
  }

  /** Every non-cancelled meeting of either person overlapping any slot, except the ones being moved. */
  conflicts(
    slots: ReadonlyArray<Slot>,
    people: { readonly customerId: string; readonly instructorId: string },
    ignore: ReadonlySet<string> = new Set(),
  ): BookingConflict[] {
    const found = new Map<string, BookingConflict>();
    const persons = [people.customerId, people.instructorId];
    const add = (m: Omit<DecidedMeeting, 'active' | 'revision'>, slot: Slot) => {
      if (ignore.has(m.id) || found.has(m.id) || !overlaps(m, slot)) return;
      const involvesCustomer = m.customerId === people.customerId || m.instructorId === people.customerId;
      found.set(m.id, {
        meetingId: m.id,
        start: m.start,
        end: m.end,
        participant: involvesCustomer ? 'customer' : 'instructor',
        userId: involvesCustomer ? people.customerId : people.instructorId,
        slot: { start: slot.start, end: slot.end },
        customerId: m.customerId,
        instructorId: m.instructorId,
      });
    };
    // Decided here and not yet shown: each stands for the read model's row of its meeting, unless that row is as
    // recent (the read models reached it a moment before the booking let it go). Asked of the rows already read.
    const pending = new Map<string, DecidedMeeting>();
    for (const person of persons)
      for (const h of this.decidedOf.get(person) ?? []) pending.set(h.meeting.id, h.meeting);
    for (const slot of slots) {
      const recent = new Set<string>();
      for (const m of this.queries.activeMeetingsOverlapping(persons, slot.start, slot.end)) {
        const decided = pending.get(m.id);
        if (decided !== undefined && m.revision < decided.revision) continue;
        recent.add(m.id);
        add(m, slot);
      }
      for (const m of pending.values()) if (m.active && !recent.has(m.id)) add(m, slot);
    }
    return [...found.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }
}

export const conflictMessage = (conflicts: ReadonlyArray<unknown>): string =>
  `${conflicts.length} existing meeting${conflicts.length === 1 ? '' : 's'} of the same customer or instructor overlap${conflicts.length === 1 ? 's' : ''} this time`;

/**
 * A booking names people who exist: the access provider knows them (by default, the people directory does). Each
 * unknown one is a field error, so `customerId: "ghost-99"` answers 400 rather than a meeting nobody can be told of.
 */
export const unknownParticipants = async (
  access: Pick<AccessProvider, 'personExists'>,
  draft: { readonly customerId: string; readonly instructorId: string },
): Promise<FieldError[]> => {
  const errors: FieldError[] = [];
  for (const field of ['customerId', 'instructorId'] as const) {
    if (!(await access.personExists(draft[field]))) {
      errors.push({
        path: field,
        message: `is not a person in the people directory (add them with PUT /people/${encodeURIComponent(draft[field])} first)`,
      });
    }
  }
  return errors;
};
