import * as E from 'fp-ts/lib/Either.js';
import * as meeting from '../domain/meeting.ts';
import * as schedule from '../domain/schedule.ts';
import type { Reservation } from '../domain/schedule.ts';
import { meetings } from './aggregates.ts';
import { loadAggregate, loadState } from './command-handler.ts';
import { decodeRecorded } from './decode.ts';
import { LogFollower } from './log-follower.ts';
import type { LogFollowerDeps } from './log-follower.ts';
import type { RecordedEvent } from './ports/event-store.ts';
import { releaseSlot } from './schedule.ts';

export const DEFAULT_RESERVATION_GRACE_MS = 30_000;

export interface ScheduleReactionDeps extends LogFollowerDeps {
  readonly newId: () => string;
  readonly clock: () => Date;
  /** How long a reservation may wait for its owner event before it counts as orphaned (a crash cut the saga). */
  readonly graceMs?: number;
}

/** Why a reservation is looked at: it was just made, or its meeting moved away or was cancelled. */
type Trigger = 'reserved' | 'meeting-changed';

/** A look at a reservation or at a meeting that left a slot: done, or to be made again (`false`). */
interface Task {
  readonly position: number;
  readonly run: () => Promise<boolean>;
}

/** How long an event waits before it is looked at: the saga writes the owner event just after its reservations. */
const SWEEP_MS = 200;
/** Events kept aside at most; beyond, the log waits for a sweep (a catch-up of a long log stays bounded). */
const MAX_TASKS = 500;

/**
 * Releases what the booking saga leaves behind on stores without atomic appends across streams: a reservation whose
 * owner event never came (the node died between reserving and writing the meeting or series event, or the write
 * failed) once the grace period has passed, and, after a meeting's cancellation or move, the reservations of that
 * meeting that it no longer holds (the saga's late release was cut short). A reservation the meeting holds is
 * never released, whoever's event made it. Each release decides on the bucket's current state at its revision, so
 * reactions on several nodes race safely.
 *
 * Events are looked at a moment after they are read, in sweeps, so the log is never held up by a reservation whose
 * owner event is still on its way; one still waiting is looked at again at the next sweep. The checkpoint stays
 * before the oldest event not yet settled, so a restart looks at it again.
 */
export class ScheduleReaction extends LogFollower {
  private readonly graceMs: number;
  private readonly tasks = new Map<string, Task>();
  private lastSeen = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private closing = false;

  constructor(private readonly deps: ScheduleReactionDeps) {
    super(deps, 'schedule-reaction', 'schedule reaction paused; resuming from its checkpoint');
    this.graceMs = deps.graceMs ?? DEFAULT_RESERVATION_GRACE_MS;
  }

  /** How many events are not settled yet (a reservation waiting for its owner event, a store that failed). */
  get waiting(): number {
    return this.tasks.size;
  }

  override start(): void {
    this.closing = false;
    super.start();
  }

  override async stop(): Promise<void> {
    this.closing = true;
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    await super.stop();
    // What can be settled now is, so that the checkpoint saved here is as far as it can be.
    await this.sweep();
    // Never below where it resumed from: a reaction stopped before it saw an event (or never started) keeps its place.
    this.advance(this.holdBack(Math.max(this.lastSeen, this.resumePosition())), true);
  }

  protected override started(): void {
    // Resumed from before the oldest event not settled: those come again from the log.
    this.tasks.clear();
  }

  protected async handle(recorded: RecordedEvent): Promise<void> {
    this.lastSeen = recorded.position;
    if (recorded.streamName.startsWith(schedule.scheduleStreamPrefix) && recorded.type === 'SlotReserved') {
      const decoded = decodeRecorded(schedule.ScheduleEvent, recorded);
      if (E.isRight(decoded) && decoded.right.type === 'SlotReserved') {
        const r = decoded.right.data;
        this.tasks.set(recorded.id, { position: recorded.position, run: () => this.settle(r, 'reserved') });
      }
    } else if (
      recorded.streamName.startsWith(meeting.meetingStreamPrefix) &&
      (recorded.type === 'SessionCancelled' || recorded.type === 'MeetingRescheduled')
    ) {
      this.tasks.set(recorded.id, { position: recorded.position, run: () => this.meetingChanged(recorded) });
    }
    if (this.tasks.size >= MAX_TASKS) await this.sweep();
    else if (this.tasks.size > 0) this.sweepSoon();
    this.advance(this.holdBack(recorded.position), false);
    this.recovered();
  }

  /** The position the checkpoint may reach: before the oldest event not settled. */
  private holdBack(position: number): number {
    let held = position;
    for (const task of this.tasks.values()) held = Math.min(held, task.position - 1);
    return held;
  }

  private sweepSoon(): void {
    if (this.sweepTimer !== undefined || this.closing) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      void this.sweep().finally(() => {
        if (this.closing) return;
        this.advance(this.holdBack(this.lastSeen), true);
        if (this.tasks.size > 0) this.sweepSoon();
      });
    }, SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** Runs every task once, in log order, one sweep at a time; a task that fails stays for the next sweep. */
  private sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        for (const [key, task] of [...this.tasks.entries()]) {
          try {
            if (await task.run()) this.tasks.delete(key);
          } catch (error) {
            this.deps.log.warn({ err: error, position: task.position }, 'schedule reservations not settled yet');
          }
        }
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  /** Settles a reservation: kept, released, or (false) still waiting for its owner event. */
  private async settle(r: Reservation, trigger: Trigger): Promise<boolean> {
    const verdict = await this.verdict(r, trigger);
    if (verdict === 'pending') return false;
    if (verdict === 'keep') return true;
    if (!(await releaseSlot(this.deps, r, this.deps.clock().toISOString(), r.owner)))
      throw new Error(`reservation of meeting ${r.meetingId} in ${r.month} could not be released`);
    this.deps.log.info(
      { meetingId: r.meetingId, personId: r.personId, month: r.month, owner: r.owner },
      'schedule reservation released',
    );
    return true;
  }

  /** The meeting left a slot: its reservations there made before this event and no longer held are released. */
  private async meetingChanged(recorded: RecordedEvent): Promise<boolean> {
    const decoded = decodeRecorded(meeting.MeetingEvent, recorded);
    if (E.isLeft(decoded)) return true;
    const event = decoded.right;
    const loaded = await loadState(this.deps.store, recorded.streamName, meetings);
    if (E.isLeft(loaded) || loaded.right.state.status === 'none') return true;
    const m = loaded.right.state;
    const left = event.type === 'MeetingRescheduled' ? event.data.previous : m;
    let settled = true;
    for (const personId of new Set([m.customerId, m.instructorId])) {
      for (const month of schedule.bucketsOf(left)) {
        for (const r of await this.reservationsBefore(personId, month, m.id, recorded.position))
          if (schedule.sameSlot(r, left)) settled = (await this.settle(r, 'meeting-changed')) && settled;
      }
    }
    return settled;
  }

  /** The meeting's reservations in one bucket that were made before `position`. */
  private async reservationsBefore(
    personId: string,
    month: string,
    meetingId: string,
    position: number,
  ): Promise<Reservation[]> {
    const loaded = await loadAggregate(
      this.deps.store,
      schedule.scheduleStreamName(personId, month),
      schedule.ScheduleEvent,
      (state: { reservations: Map<string, { r: Reservation; position: number }> }, e, rec) => {
        if (e.data.meetingId !== meetingId) return state;
        const key = `${e.data.start}/${e.data.end}`;
        if (e.type === 'SlotReserved') state.reservations.set(key, { r: e.data, position: rec.position });
        else state.reservations.delete(key);
        return state;
      },
      { reservations: new Map() },
    );
    if (E.isLeft(loaded)) return [];
    return [...loaded.right.state.reservations.values()].filter((x) => x.position < position).map((x) => x.r);
  }

  private async verdict(r: Reservation, trigger: Trigger): Promise<'keep' | 'release' | 'pending'> {
    // The owner stream first, the meeting after: an owner event found is then in the meeting state read.
    const ownerWritten = await this.ownerWritten(r);
    const loaded = await loadState(this.deps.store, meeting.meetingStreamName(r.meetingId), meetings);
    if (E.isLeft(loaded)) return 'keep';
    const held = schedule.bookingOf(loaded.right.state);
    if (held !== undefined && schedule.sameSlot(held, r)) return 'keep';
    if (!ownerWritten) {
      const expired = this.deps.clock().getTime() >= Date.parse(r.at) + this.graceMs;
      return expired ? 'release' : 'pending';
    }
    // A series' event reserves its sessions before the series process writes them: pending until the meeting says.
    if (r.owner.stream !== meeting.meetingStreamName(r.meetingId) && trigger === 'reserved') return 'keep';
    return 'release';
  }

  private async ownerWritten(r: Reservation): Promise<boolean> {
    const events = await this.deps.store.readStream(r.owner.stream, { requiresLeader: true });
    return events.some((e) => e.id === r.owner.eventId);
  }
}
