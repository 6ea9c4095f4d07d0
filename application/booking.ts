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

/**
 * The calendar's fast pre-check of double bookings, and a local serializer of the decisions. What guarantees no
 * double booking is the people's schedule streams (application/schedule.ts): every booking appends its reservations
 * at the revision it read, on any node. Here the decisions on a person's bookings run one at a time in this process
 * (`decide`): the lock covers loading, deciding, the checks and the append, and is let go once the append is
 * acknowledged, before the read models show it. So that the pre-check still answers this node's own bookings, what
 * was decided and appended is held here (the decided meetings) until the read models have reached it, and the
 * pre-check reads the read model with these laid over it; the next decision for the same person also finds the
 * schedule buckets as this one left them, so it appends without a conflict (another node's booking is refused by the
 * schedule append instead, with the same 409).
 */
export class BookingGuard {
  private readonly tails = new Map<string, Promise<void>>();
  /** Decided meetings the read models may not show yet, by meeting id, and the same by person. */
  private readonly decided = new Map<string, DecidedMeeting>();
  private readonly decidedOf = new Map<string, Set<DecidedMeeting>>();

  constructor(
    private readonly queries: Pick<MeetingQueries, 'activeMeetingsOverlapping' | 'getMeeting'>,
    private readonly projections: { waitFor(position: number | undefined): Promise<void> },
  ) {}

  /**
   * Runs `work` (load, decide, check, append) under the people's lock; once it has appended, the lock is let go and
   * the answer waits for the read models to show what it decided, so that the caller reads its own write. Until
   * they do, the decided meetings count in the pre-check. A refusal (Left) is answered at once.
   */
  async decide<L, R extends BookingDecision>(
    userIds: ReadonlyArray<string>,
    work: () => Promise<E.Either<L, R>>,
  ): Promise<E.Either<L, R>> {
    let held: ReadonlyArray<DecidedMeeting> = [];
    const result = await this.withLock(userIds, async () => {
      const done = await work();
      if (E.isRight(done)) held = this.hold(done.right.meetings);
      return done;
    });
    try {
      if (E.isRight(result)) await this.projections.waitFor(result.right.position);
    } finally {
      this.release(held);
    }
    return result;
  }

  /** Runs `work` alone among this process' bookings of these people, holding the lock until it returns. */
  async withLock<A>(userIds: ReadonlyArray<string>, work: () => Promise<A>): Promise<A> {
    const keys = [...new Set(userIds)].sort();
    const releases: Array<() => void> = [];
    try {
      for (const key of keys) releases.push(await this.acquire(key));
      return await work();
    } finally {
      for (const release of releases.reverse()) release();
    }
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
  private hold(meetings: ReadonlyArray<DecidedMeeting>): ReadonlyArray<DecidedMeeting> {
    for (const m of meetings) {
      const earlier = this.decided.get(m.id);
      if (earlier !== undefined) this.forget(earlier);
      this.decided.set(m.id, m);
      for (const person of new Set([m.customerId, m.instructorId])) {
        const mine = this.decidedOf.get(person) ?? new Set();
        mine.add(m);
        this.decidedOf.set(person, mine);
      }
    }
    return meetings;
  }

  /** Takes these decided meetings off the read model, unless a later decision replaced them already. */
  private release(meetings: ReadonlyArray<DecidedMeeting>): void {
    for (const m of meetings) if (this.decided.get(m.id) === m) this.forget(m);
  }

  private forget(m: DecidedMeeting): void {
    this.decided.delete(m.id);
    for (const person of [m.customerId, m.instructorId]) {
      const mine = this.decidedOf.get(person);
      mine?.delete(m);
      if (mine?.size === 0) this.decidedOf.delete(person);
    }
  }

  /**
   * A meeting as this process last decided it, while the read model does not show that yet; undefined when the read
   * model is up to date with this process' decisions on it.
   */
  latest(meetingId: string): DecidedMeeting | undefined {
    const m = this.decided.get(meetingId);
    return m === undefined || (this.queries.getMeeting(m.id)?.revision ?? -1) >= m.revision ? undefined : m;
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
    for (const person of persons) for (const m of this.decidedOf.get(person) ?? []) pending.set(m.id, m);
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
