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

class Stopping extends Error {}

/**
 * Releases what the booking saga leaves behind on stores without atomic appends across streams: a reservation whose
 * owner event never came (the node died between reserving and writing the meeting or series event, or the write
 * failed) once the grace period has passed, and, after a meeting's cancellation or move, the reservations of that
 * meeting that it no longer holds (the saga's late release was cut short). A reservation the meeting holds is
 * never released, whoever's event made it. Each release decides on the bucket's current state at its revision, so
 * reactions on several nodes race safely; the checkpoint moves past an event once its reservations are settled.
 */
export class ScheduleReaction extends LogFollower {
  private readonly graceMs: number;
  private stopping = false;
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly deps: ScheduleReactionDeps) {
    super(deps, 'schedule-reaction', 'schedule reaction paused; resuming from its checkpoint');
    this.graceMs = deps.graceMs ?? DEFAULT_RESERVATION_GRACE_MS;
  }

  override start(): void {
    this.stopping = false;
    super.start();
  }

  override async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.sleepers) wake();
    await super.stop();
  }

  protected async handle(recorded: RecordedEvent): Promise<void> {
    if (recorded.streamName.startsWith(schedule.scheduleStreamPrefix) && recorded.type === 'SlotReserved') {
      const decoded = decodeRecorded(schedule.ScheduleEvent, recorded);
      if (E.isRight(decoded) && decoded.right.type === 'SlotReserved')
        await this.settle(decoded.right.data, 'reserved');
      this.advance(recorded.position, true);
    } else if (
      recorded.streamName.startsWith(meeting.meetingStreamPrefix) &&
      (recorded.type === 'SessionCancelled' || recorded.type === 'MeetingRescheduled')
    ) {
      await this.meetingChanged(recorded);
      this.advance(recorded.position, true);
    } else this.advance(recorded.position, false);
    this.recovered();
  }

  /** The meeting left a slot: its reservations there made before this event and no longer held are released. */
  private async meetingChanged(recorded: RecordedEvent): Promise<void> {
    const decoded = decodeRecorded(meeting.MeetingEvent, recorded);
    if (E.isLeft(decoded)) return;
    const event = decoded.right;
    const loaded = await loadState(this.deps.store, recorded.streamName, meetings);
    if (E.isLeft(loaded) || loaded.right.state.status === 'none') return;
    const m = loaded.right.state;
    const left = event.type === 'MeetingRescheduled' ? event.data.previous : m;
    for (const personId of new Set([m.customerId, m.instructorId])) {
      for (const month of schedule.bucketsOf(left)) {
        for (const r of await this.reservationsBefore(personId, month, m.id, recorded.position))
          if (schedule.sameSlot(r, left)) await this.settle(r, 'meeting-changed');
      }
    }
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

  private async settle(r: Reservation, trigger: Trigger): Promise<void> {
    for (let wait = 50; ; wait = Math.min(1_000, wait * 2)) {
      if (this.stopping) throw new Stopping('stopping');
      const verdict = await this.verdict(r, trigger);
      if (verdict === 'keep') return;
      if (verdict === 'release') {
        if (!(await releaseSlot(this.deps, r, this.deps.clock().toISOString(), r.owner)))
          throw new Error(`reservation of meeting ${r.meetingId} in ${r.month} could not be released`);
        this.deps.log.info(
          { meetingId: r.meetingId, personId: r.personId, month: r.month, owner: r.owner },
          'schedule reservation released',
        );
        return;
      }
      const remaining = Date.parse(r.at) + this.graceMs - this.deps.clock().getTime();
      await this.sleep(Math.max(1, Math.min(wait, remaining)));
    }
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

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
