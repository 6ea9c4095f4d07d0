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

/**
 * The calendar's fast pre-check of double bookings, and a local serializer. What guarantees no double booking is the
 * people's schedule streams (application/schedule.ts): every booking appends its reservations at the revision it
 * read, on any node. Here a booking of a person runs one at a time in this process, holding the lock until its write
 * is visible in the read model, so that the pre-check answers this node's own bookings without a race on the
 * schedules (another node's booking is refused by the schedule append instead, with the same 409).
 */
export class BookingGuard {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly queries: Pick<MeetingQueries, 'activeMeetingsOverlapping'>) {}

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

  /** Every non-cancelled meeting of either person overlapping any slot, except the ones being moved. */
  conflicts(
    slots: ReadonlyArray<Slot>,
    people: { readonly customerId: string; readonly instructorId: string },
    ignore: ReadonlySet<string> = new Set(),
  ): BookingConflict[] {
    const found = new Map<string, BookingConflict>();
    for (const slot of slots) {
      for (const m of this.queries.activeMeetingsOverlapping(
        [people.customerId, people.instructorId],
        slot.start,
        slot.end,
      )) {
        if (ignore.has(m.id) || found.has(m.id)) continue;
        if (!(m.start < slot.end && m.end > slot.start)) continue;
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
      }
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
