import * as E from 'fp-ts/lib/Either.js';
import { meetingStreamPrefix } from '../../domain/meeting.ts';
import type { MeetingEventType } from '../../domain/meeting.ts';
import { notificationStreamPrefix } from '../../domain/notification.ts';
import { normalizedOffsets, reminderStreamPrefix } from '../../domain/reminder.ts';
import { scheduleStreamPrefix } from '../../domain/schedule.ts';
import { settingsEventTypes } from '../../domain/settings.ts';
import { reminders } from '../aggregates.ts';
import { createRecorder } from '../execute.ts';
import type { Recorder } from '../execute.ts';
import { LogFollower } from '../log-follower.ts';
import type { FollowerStatus, LogFollowerDeps } from '../log-follower.ts';
import type { RecordedEvent } from '../ports/event-store.ts';
import type { ReminderQueries } from '../ports/reminders.ts';
import { readMeetingNow } from './meeting.ts';

export interface PlannerDeps extends LogFollowerDeps {
  readonly queries: Pick<ReminderQueries, 'plannedSessions' | 'getPlan'>;
  /** The offsets before a session its reminders go at, in seconds (from the settings). */
  readonly offsetsSeconds: () => ReadonlyArray<number>;
  /** Resolves once the read models show every event up to `position` (the planned sessions, after a settings change). */
  readonly waitForReadModels: (position: number) => Promise<void>;
  readonly newId: () => string;
}

/** The meeting events that change when a session is held, or whether it is. */
const PLANNING_EVENTS: ReadonlySet<string> = new Set<MeetingEventType>([
  'MeetingScheduled',
  'MeetingRescheduled',
  'SessionCancelled',
  'MeetingReinstated',
]);
const SETTINGS_EVENTS: ReadonlySet<string> = new Set<string>(settingsEventTypes);
const PAGE = 200;

/**
 * Keeps every session's reminder plan (`reminders-<meetingId>`) in step with the log, from its own durable
 * checkpoint: a booking, a move or a reinstatement plans the session's reminders as it now is (read from the
 * meeting's own stream), a cancellation drops them, and a settings change re-plans every upcoming session with the
 * offsets it now gives. The plan's decider makes every step idempotent, so a replay, a lost checkpoint or a second
 * node writes nothing twice.
 */
export class ReminderPlanner extends LogFollower {
  private readonly commands: Recorder;
  private parked = 0;

  constructor(private readonly deps: PlannerDeps) {
    super(deps, 'reminder-planner', 'reminder planning paused; resuming from the checkpoint');
    this.commands = createRecorder(deps);
  }

  protected override ignoredStreamPrefixes(): ReadonlyArray<string> {
    return [scheduleStreamPrefix, notificationStreamPrefix, reminderStreamPrefix];
  }

  protected async handle(recorded: RecordedEvent): Promise<void> {
    if (PLANNING_EVENTS.has(recorded.type) && recorded.streamName.startsWith(meetingStreamPrefix)) {
      await this.plan(recorded.streamName.slice(meetingStreamPrefix.length));
    } else if (SETTINGS_EVENTS.has(recorded.type)) {
      await this.replanUpcoming(recorded);
    } else {
      this.advance(recorded.position, false);
      return;
    }
    this.recovered();
    this.advance(recorded.position, true);
  }

  /** Plans one session's reminders as the meeting now is, as of its last change (or `notBefore`, if later). */
  async plan(meetingId: string, notBefore?: string): Promise<void> {
    const found = await readMeetingNow(this.deps.store, meetingId);
    if (E.isLeft(found)) {
      this.park(meetingId, found.left);
      return;
    }
    if (found.right === undefined) return;
    const { meeting, changedAt } = found.right;
    const at =
      notBefore !== undefined && Date.parse(notBefore) > Date.parse(changedAt)
        ? new Date(notBefore).toISOString()
        : changedAt;
    const command =
      meeting.status === 'cancelled'
        ? { type: 'DropReminders' as const, data: { meetingId, at } }
        : {
            type: 'PlanReminders' as const,
            data: {
              meetingId,
              session: { start: meeting.start, end: meeting.end, sequence: meeting.sequence },
              offsetsSeconds: this.deps.offsetsSeconds(),
              at,
            },
          };
    const result = await this.commands.record(reminders, meetingId, command);
    if (E.isLeft(result)) {
      // Contention and store trouble are retried from the checkpoint; a refusal (offsets the decider does not take)
      // would be refused every time: logged and passed.
      if (result.left._tag === 'TooMuchContention' || result.left._tag === 'CorruptEvent')
        throw new Error(`cannot plan the reminders of meeting ${meetingId}: ${JSON.stringify(result.left)}`);
      this.park(meetingId, JSON.stringify(result.left));
      return;
    }
    if (result.right.events.length > 0) {
      const state = result.right.state;
      this.deps.log.info(
        {
          meetingId,
          status: state.status,
          reminders: state.status === 'none' ? [] : state.reminders.map((r) => ({ ...r })),
        },
        'reminder plan changed',
      );
    }
  }

  /** The settings changed: every session still ahead is planned again with the offsets they now give. */
  private async replanUpcoming(recorded: RecordedEvent): Promise<void> {
    const at = (recorded.data as { at?: unknown } | null)?.at;
    const changedAt = typeof at === 'string' ? at : recorded.recordedAt;
    // Plans written up to now must be visible, or a session planned just before the change would be missed.
    await this.deps.waitForReadModels(await this.deps.store.headPosition());
    let after = '';
    for (;;) {
      const page = this.deps.queries.plannedSessions(changedAt, PAGE, after);
      // Only plans made with other offsets change: a settings change about anything else reads nothing more.
      const offsets = JSON.stringify(normalizedOffsets(this.deps.offsetsSeconds()));
      for (const meetingId of page) {
        const plan = this.deps.queries.getPlan(meetingId);
        if (plan !== undefined && JSON.stringify(plan.offsetsSeconds) === offsets) continue;
        await this.plan(meetingId, changedAt);
      }
      const last = page[page.length - 1];
      if (last === undefined || page.length < PAGE) return;
      after = last;
    }
  }

  private park(meetingId: string, error: string): void {
    this.parked += 1;
    this.deps.log.error({ meetingId, error }, 'reminders cannot be planned for this meeting; other meetings go on');
  }

  override async status(): Promise<FollowerStatus & { readonly parked?: number }> {
    const status = await super.status();
    return { ...status, ...(this.parked > 0 ? { parked: this.parked } : {}) };
  }
}
