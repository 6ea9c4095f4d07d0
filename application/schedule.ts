import * as E from 'fp-ts/lib/Either.js';
import * as schedule from '../domain/schedule.ts';
import type { Owner, Reservation, ScheduleChange, ScheduleEvent } from '../domain/schedule.ts';
import type { BookingConflict } from './booking.ts';
import { loadState } from './command-handler.ts';
import type { Alongside, EventSourced } from './command-handler.ts';
import { decodeRecorded } from './decode.ts';
import type { CorruptEvent } from './decode.ts';
import type { EventMetadata, EventStore, StreamAppend } from './ports/event-store.ts';

/** How schedule streams are read and decided. */
export const scheduleStreams: EventSourced<
  schedule.ScheduleCommand,
  schedule.ScheduleEvent,
  schedule.ScheduleState,
  schedule.ScheduleError
> = { decider: schedule.scheduleDecider, codec: schedule.ScheduleEvent };

export interface ScheduleDeps {
  readonly store: EventStore;
  readonly newId: () => string;
  /** Buckets as last read, so that a booking reads only what was appended to them since. */
  readonly buckets?: BucketCache;
}

interface Bucket {
  readonly state: schedule.ScheduleState;
  readonly revision: number;
  /**
   * The id of the bucket's last event where the bucket is as an append of this process left it (on a store that
   * checks it): a decision on it expects that id too, so it cannot pass where that append was refused.
   */
  readonly lastEventId?: string;
}

/** An append of this process, handed to the store and not answered yet, and where it leaves a bucket. */
interface Unanswered {
  readonly known: Promise<void>;
  readonly bucket: Bucket;
}

const CACHED_BUCKETS = 10_000;

const initialBucket: Bucket = { state: schedule.initialState(), revision: -1 };

/**
 * The schedule buckets this process has read, each with its revision: a booking reads a bucket from the revision after
 * it (what other nodes appended meanwhile included), and folds only those events. A state is immutable, so sharing
 * it is safe; the revision it was read at is what the append expects, as with a full read.
 */
export class BucketCache {
  private readonly buckets = new Map<string, Bucket>();
  /** Buckets that an append of this process, handed to the store and not yet answered, will leave as remembered. */
  private readonly unanswered = new Map<string, Unanswered>();

  async load(store: EventStore, streamName: string): Promise<E.Either<CorruptEvent, Bucket>> {
    await this.answered(streamName);
    const cached = this.buckets.get(streamName);
    const recorded = await store.readStream(streamName, {
      requiresLeader: true,
      ...(cached !== undefined ? { fromRevision: cached.revision + 1 } : {}),
    });
    // Not the continuation of what was read (a store that does not keep revisions dense): read it all.
    if (cached !== undefined && recorded.length > 0 && recorded[0]?.revision !== cached.revision + 1) {
      this.buckets.delete(streamName);
      return this.load(store, streamName);
    }
    let state = cached?.state ?? schedule.initialState();
    for (const r of recorded) {
      const decoded = decodeRecorded(schedule.ScheduleEvent, r);
      if (E.isLeft(decoded)) return decoded;
      state = schedule.evolve(state, decoded.right);
    }
    const last = recorded[recorded.length - 1];
    const bucket: Bucket =
      last !== undefined ? { state, revision: last.revision, lastEventId: last.id } : (cached ?? initialBucket);
    this.remember(streamName, bucket);
    return E.right(bucket);
  }

  /**
   * The bucket as this process last read or wrote it, without asking the store. Where the store checks the last
   * event id, that is where an unanswered append of it will leave it (the next decision is appended behind it, and
   * refused with it); elsewhere, as it is once no append of it is out.
   */
  async peek(streamName: string, checksLastEventId: boolean): Promise<Bucket | undefined> {
    const out = this.unanswered.get(streamName);
    if (out !== undefined && checksLastEventId) return out.bucket;
    await this.answered(streamName);
    return this.buckets.get(streamName);
  }

  /**
   * Remembers where an append handed to the store but not yet answered leaves these buckets; a decision on one of them
   * waits until the returned function says it has been answered, unless its append checks the bucket's last event id.
   * Deciding on it by revision alone would be unsafe: if that append is refused because another node appended first,
   * a decision built on it expects the same revision that the other node's events now hold, and its append would
   * pass on a state it was not decided on.
   */
  issue(buckets: ReadonlyMap<string, Bucket>): () => void {
    let answer!: () => void;
    const known = new Promise<void>((resolve) => (answer = resolve));
    const issued = new Map<string, Unanswered>();
    for (const [name, bucket] of buckets) {
      this.remember(name, bucket);
      const out = { known, bucket };
      this.unanswered.set(name, out);
      issued.set(name, out);
    }
    return () => {
      for (const [name, out] of issued) if (this.unanswered.get(name) === out) this.unanswered.delete(name);
      answer();
    };
  }

  private async answered(streamName: string): Promise<void> {
    for (let out = this.unanswered.get(streamName); out !== undefined; out = this.unanswered.get(streamName)) {
      await out.known;
    }
  }

  /** As `remember`, unless what is remembered is already later (a read of the bucket since saw more of it). */
  rememberUnlessLater(streamName: string, bucket: Bucket): void {
    if ((this.buckets.get(streamName)?.revision ?? -2) < bucket.revision) this.remember(streamName, bucket);
  }

  remember(streamName: string, bucket: Bucket): void {
    this.buckets.delete(streamName);
    if (this.buckets.size >= CACHED_BUCKETS) this.buckets.delete(this.buckets.keys().next().value as string);
    this.buckets.set(streamName, bucket);
  }

  forget(streamName: string): void {
    this.buckets.delete(streamName);
  }
}

const checksLastEventId = (deps: ScheduleDeps): boolean => deps.store.capabilities.checksLastEventId === true;

const loadBucket = (deps: ScheduleDeps, streamName: string): Promise<E.Either<CorruptEvent, Bucket>> =>
  deps.buckets !== undefined
    ? deps.buckets.load(deps.store, streamName)
    : loadState(deps.store, streamName, scheduleStreams);

/**
 * A bucket to decide on: as last seen when that may stand (`cached`), else read. A decision on a bucket as last seen
 * is checked by its append (at the revision it was seen at, so another node's append since makes it fail and the
 * command is decided again on fresh reads); a refusal or a "nothing to do" on one is not checked by anything, so
 * those are decided again on fresh reads at once.
 */
const bucketToDecide = async (
  deps: ScheduleDeps,
  streamName: string,
  fresh: boolean,
): Promise<E.Either<CorruptEvent, Bucket & { readonly cached: boolean }>> => {
  const seen = fresh ? undefined : await deps.buckets?.peek(streamName, checksLastEventId(deps));
  if (seen !== undefined) return E.right({ ...seen, cached: true });
  const loaded = await loadBucket(deps, streamName);
  return E.isLeft(loaded) ? loaded : E.right({ ...loaded.right, cached: false });
};

/** A refusal of the schedules: the other meetings' reservations, as the 409 of a booking names them. */
export interface SlotsTaken {
  readonly _tag: 'SlotsTaken';
  readonly conflicts: ReadonlyArray<BookingConflict>;
}

/** The other meetings a refused reservation overlaps, in the shape of the read model's pre-check. */
const conflictsOf = (taken: schedule.SlotTaken): BookingConflict[] => {
  const r = taken.requested;
  return taken.overlapping.map((o) => ({
    meetingId: o.meetingId,
    start: o.start,
    end: o.end,
    participant: r.personId === r.customerId ? 'customer' : 'instructor',
    userId: r.personId,
    slot: { start: r.start, end: r.end },
    customerId: o.customerId,
    instructorId: o.instructorId,
  }));
};

const byStart = (a: BookingConflict, b: BookingConflict) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0);

const RELEASE_ATTEMPTS = 16;

/**
 * Releases one reservation on the bucket's current state, at the revision read (so two nodes releasing the same one
 * race safely); with `owner`, only if that owner made it. Whether the bucket now holds no such reservation.
 */
export const releaseSlot = async (
  deps: ScheduleDeps,
  r: Pick<Reservation, 'personId' | 'month' | 'meetingId' | 'start' | 'end'>,
  at: string,
  owner?: Owner,
): Promise<boolean> => {
  const streamName = schedule.scheduleStreamName(r.personId, r.month);
  for (let attempt = 0; attempt < RELEASE_ATTEMPTS; attempt++) {
    const loaded = await loadState(deps.store, streamName, scheduleStreams);
    if (E.isLeft(loaded)) return false;
    const command: schedule.ReleaseSlot = {
      type: 'ReleaseSlot',
      data: { personId: r.personId, month: r.month, meetingId: r.meetingId, start: r.start, end: r.end, at, owner },
    };
    const decided = schedule.decide(command, loaded.right.state);
    if (E.isLeft(decided) || decided.right.length === 0) return true;
    const appended = await deps.store.appendToStream(
      streamName,
      decided.right.map((e) => ({ id: deps.newId(), type: e.type, data: e.data })),
      { expectedRevision: loaded.right.revision },
    );
    if (E.isRight(appended)) return true;
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 5 * (attempt + 1))));
  }
  return false;
};

/** Takes back the reservations `written` made for `owner`; failures are left to the schedule reaction. */
const undo =
  (deps: ScheduleDeps, owner: Owner, at: string) =>
  async (written: ReadonlyArray<StreamAppend>): Promise<void> => {
    for (const a of written) {
      for (const e of a.events) {
        if (e.type !== 'SlotReserved') continue;
        const r = e.data as Reservation;
        await releaseSlot(deps, r, at, owner).catch(() => false);
      }
    }
  };

/** Makes a refused late append's releases again, each on the bucket's current state. */
const redoLate =
  (deps: ScheduleDeps, at: string) =>
  async (refused: StreamAppend): Promise<void> => {
    for (const e of refused.events) {
      if (e.type !== 'SlotReleased') continue;
      await releaseSlot(deps, e.data as Reservation, at).catch(() => false);
    }
  };

/**
 * What a change of bookings appends to the schedules it touches: each touched bucket of each person, decided on
 * its current state and appended at the revision read (the command handler appends them with the meeting's or
 * series' event, atomically where the store can). Refused when a slot overlaps another meeting's reservation.
 */
export const scheduleAlongside = async (
  deps: ScheduleDeps,
  change: ScheduleChange,
  owner: Owner,
  at: string,
  metadata?: EventMetadata,
  fresh = false,
): Promise<E.Either<SlotsTaken | CorruptEvent, Alongside | undefined>> => {
  const buckets = schedule.bucketChanges(change, owner, at);
  if (buckets.length === 0) return E.right(undefined);
  const names = buckets.map((b) => schedule.scheduleStreamName(b.personId, b.month));
  const loaded = await Promise.all(names.map((name) => bucketToDecide(deps, name, fresh)));
  const conflicts = new Map<string, BookingConflict>();
  const appends: StreamAppend[] = [];
  const after = new Map<string, Bucket>();
  let unchecked = false;
  for (const [i, bucket] of buckets.entries()) {
    const snapshot = loaded[i];
    const streamName = names[i] ?? '';
    if (snapshot === undefined) continue;
    if (E.isLeft(snapshot)) return snapshot;
    let state = snapshot.right.state;
    const events: ScheduleEvent[] = [];
    for (const command of bucket.commands) {
      const decided = schedule.decide(command, state);
      if (E.isLeft(decided)) {
        if (decided.left._tag !== 'SlotTaken')
          throw new Error(`a schedule change is invalid: ${JSON.stringify(decided.left.errors)}`);
        for (const c of conflictsOf(decided.left)) if (!conflicts.has(c.meetingId)) conflicts.set(c.meetingId, c);
        unchecked ||= snapshot.right.cached;
        continue;
      }
      events.push(...decided.right);
      state = decided.right.reduce(schedule.evolve, state);
    }
    const { revision, lastEventId } = snapshot.right;
    if (events.length === 0) {
      unchecked ||= snapshot.right.cached;
      continue;
    }
    const toAppend = events.map((e) => ({ id: deps.newId(), type: e.type, data: e.data, metadata }));
    const checks = checksLastEventId(deps);
    const ending = checks ? { lastEventId: toAppend[toAppend.length - 1]?.id } : {};
    after.set(streamName, { state, revision: revision + events.length, ...ending });
    appends.push({
      streamName,
      events: toAppend,
      expectedRevision: revision === -1 ? 'no_stream' : revision,
      ...(checks && lastEventId !== undefined ? { expectedLastEventId: lastEventId } : {}),
    });
  }
  if (unchecked) return scheduleAlongside(deps, change, owner, at, metadata, true);
  if (conflicts.size > 0) return E.left({ _tag: 'SlotsTaken', conflicts: [...conflicts.values()].sort(byStart) });
  if (appends.length === 0) return E.right(undefined);
  const reserves = (a: StreamAppend) => a.events.some((e) => e.type === 'SlotReserved');
  let answered: (() => void) | undefined;
  return E.right({
    first: appends.filter(reserves),
    then: appends.filter((a) => !reserves(a)),
    undo: undo(deps, owner, at),
    redoLate: redoLate(deps, at),
    // Remembered as soon as the append is handed to the store; the next decision of this process on these buckets
    // builds on it at once where the store checks the last event id, else once it is answered (if it misses, every
    // bucket it named is read afresh).
    issued: () => {
      answered = deps.buckets?.issue(after);
    },
    landed: () => {
      for (const [name, bucket] of after) deps.buckets?.rememberUnlessLater(name, bucket);
      answered?.();
    },
    missed: () => {
      for (const name of names) deps.buckets?.forget(name);
      answered?.();
    },
  });
};

/**
 * What a series request reserves: the slots of the sessions it creates, moves or brings back (their old slots are
 * released as the series process moves each session). The sessions it changes are no conflict where they are now.
 */
export const seriesChange = (
  people: { readonly customerId: string; readonly instructorId: string },
  toBook: ReadonlyArray<{ readonly meetingId: string; readonly start: string; readonly end: string }>,
  changing: Iterable<string>,
): ScheduleChange => ({
  reserve: toBook.map((b) => ({
    meetingId: b.meetingId,
    start: b.start,
    end: b.end,
    customerId: people.customerId,
    instructorId: people.instructorId,
  })),
  release: [],
  ignoring: [...changing],
});
