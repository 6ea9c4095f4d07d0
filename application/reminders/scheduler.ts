import * as E from 'fp-ts/lib/Either.js';
import type { Meeting } from '../../domain/meeting.ts';
import type { ClaimReminder, MissReminder } from '../../domain/reminder.ts';
import { reminders } from '../aggregates.ts';
import { createRecorder } from '../execute.ts';
import type { Recorder } from '../execute.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { Log } from '../ports/logger.ts';
import type { DueReminder, ReminderQueries } from '../ports/reminders.ts';
import { ClaimRefused, claimNotice } from '../notifications/claim.ts';
import type { ClaimDeps } from '../notifications/claim.ts';
import { notificationIdFor } from '../notifications/prepare.ts';
import { readMeetingNow, stillAhead } from './meeting.ts';

export interface SchedulerDeps {
  readonly store: EventStore;
  readonly queries: Pick<ReminderQueries, 'dueReminders' | 'nextDueAt'>;
  /** The notification log's: each due reminder becomes a claimed `reminder` notice (claim.ts). */
  readonly notices: Pick<ClaimDeps, 'prepare' | 'schedule'>;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly log: Log;
  /** How long a reminder handled (or found not ready) waits before it is looked at again; 5 s by default. */
  readonly recheckMs?: number;
  /** The longest a wait for the next due reminder may be, so a corrected clock is followed; 10 min by default. */
  readonly maxSleepMs?: number;
  /** Whether the instructor gets a copy of each reminder too (`kinds.reminder.notifyInstructor`); absent, never. */
  readonly notifyInstructor?: () => boolean;
}

/** One reminder's notice for one recipient: the same id on every node, for every retry of this due reminder. */
export const reminderKey = (
  due: Pick<DueReminder, 'meetingId' | 'offsetSeconds' | 'start'>,
  personId: string,
): string => `reminder:${due.meetingId}:${due.offsetSeconds}:${new Date(due.start).toISOString()}:${personId}`;

const keyOf = (due: DueReminder): string => `${due.meetingId}|${due.offsetSeconds}|${due.start}`;
const BATCH = 200;

/**
 * Sends each planned reminder when it is due, from the plans' read model: at start (so that reminders that fell due
 * while the process was down are found again, never lost) and whenever a plan changes on any node. A due reminder
 * whose session is still ahead is claimed as a `reminder` notice for the member, with an id made from the meeting,
 * the offset and the start, so two nodes or a restart between claim and bookkeeping never send it twice; the plan
 * then marks it claimed. One whose session has started is marked missed and never sent; of several due at once for
 * one session (an outage), only the latest goes.
 */
export class ReminderScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** Reminders looked at lately, by key: not looked at again before the instant (ms). */
  private readonly resting = new Map<string, number>();
  /**
   * Due reminders whose session was cancelled or moved, by key: the planner drops or re-plans them. They are not
   * looked at again, nor counted in a batch, until a plan changes (`wake`), so that many of them cannot hold up the
   * rest; a re-plan that keeps the reminder (a reinstatement at the same time) is found again then.
   */
  private readonly waiting = new Set<string>();
  private readonly commands: Recorder;

  constructor(private readonly deps: SchedulerDeps) {
    this.commands = createRecorder(deps);
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** A plan may have changed (a reminder event was projected): look at the due reminders again. */
  wake(): void {
    this.waiting.clear();
    this.resume();
  }

  private resume(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.clearTimer();
    this.running = this.run()
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'reminders not looked at; trying again later'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.resume();
        } else this.arm();
      });
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async run(): Promise<void> {
    const now = this.deps.clock();
    const rows = this.deps.queries.dueReminders(now.toISOString(), BATCH + this.waiting.size);
    const present = new Set(rows.map(keyOf));
    for (const key of this.resting.keys()) if (!present.has(key)) this.resting.delete(key);
    for (const key of this.waiting) if (!present.has(key)) this.waiting.delete(key);
    const due = this.batchOf(rows);
    for (const reminder of due) {
      if (this.stopped) return;
      const key = keyOf(reminder);
      if ((this.resting.get(key) ?? 0) > now.getTime()) continue;
      this.resting.set(key, now.getTime() + (this.deps.recheckMs ?? 5_000));
      try {
        if ((await this.handle(reminder, due)) === 'waiting') this.waiting.add(key);
      } catch (error) {
        this.deps.log.error({ err: error, meetingId: reminder.meetingId }, 'reminder not handled; trying again');
      }
    }
  }

  /** The due reminders to look at: a batch of them, besides those known to wait on a re-plan. */
  private dueNow(now: Date): ReadonlyArray<DueReminder> {
    return this.batchOf(this.deps.queries.dueReminders(now.toISOString(), BATCH + this.waiting.size));
  }

  private batchOf(rows: ReadonlyArray<DueReminder>): ReadonlyArray<DueReminder> {
    return rows.filter((row) => !this.waiting.has(keyOf(row))).slice(0, BATCH);
  }

  /** Sleeps until the next reminder is due or a resting one may be looked at again. */
  private arm(): void {
    if (this.stopped) return;
    const now = this.deps.clock().getTime();
    let wakeAt = now + (this.deps.maxSleepMs ?? 600_000);
    const next = this.deps.queries.nextDueAt(new Date(now).toISOString());
    if (next !== undefined) wakeAt = Math.min(wakeAt, Date.parse(next));
    for (const reminder of this.dueNow(new Date(now))) {
      wakeAt = Math.min(wakeAt, Math.max(now, this.resting.get(keyOf(reminder)) ?? now));
    }
    this.clearTimer();
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.resume();
      },
      Math.max(0, wakeAt - now),
    );
    this.timer.unref();
  }

  /** Sends, marks or lets go of one due reminder; `waiting` when its plan is to change (cancelled or moved). */
  private async handle(reminder: DueReminder, due: ReadonlyArray<DueReminder>): Promise<'done' | 'waiting'> {
    const found = await readMeetingNow(this.deps.store, reminder.meetingId);
    const now = this.deps.clock();
    // A meeting whose events cannot be decoded, or that has none, will never have a session to remind of.
    if (E.isLeft(found)) {
      this.deps.log.error({ meetingId: reminder.meetingId, error: found.left }, 'meeting cannot be read; no reminder');
      await this.markMissed(reminder, now, `the meeting cannot be read: ${found.left}`);
      return 'done';
    }
    const meeting = found.right?.meeting;
    if (meeting === undefined) {
      await this.markMissed(reminder, now, 'the meeting does not exist');
      return 'done';
    }
    // Cancelled or moved: the planner drops or re-plans it; until then nothing is sent.
    if (meeting.status === 'cancelled' || Date.parse(meeting.start) !== Date.parse(reminder.start)) return 'waiting';
    if (!stillAhead(meeting, reminder.start, now)) {
      await this.markMissed(reminder, now, 'the session had started');
      return 'done';
    }
    const later = due.find(
      (other) =>
        other.meetingId === reminder.meetingId &&
        other.start === reminder.start &&
        other.offsetSeconds < reminder.offsetSeconds,
    );
    if (later !== undefined) {
      await this.markMissed(reminder, now, `the ${later.offsetSeconds} s reminder is due too and goes instead`);
      return 'done';
    }
    await this.send(reminder, meeting, now);
    return 'done';
  }

  private async send(reminder: DueReminder, meeting: Meeting, now: Date): Promise<void> {
    // The member, whose join link the reminder carries; the instructor gets their own copy (with their own link,
    // their role's template) only when the settings say so.
    const customer = { personId: meeting.customerId, role: 'customer' as const };
    const key = reminderKey(reminder, customer.personId);
    const notificationId = notificationIdFor(key);
    try {
      await this.claim(reminder, meeting, { key, notificationId, recipient: customer });
    } catch (error) {
      // Refused by the store or the log every time (never by an outage): said once, and the reminder is let go.
      if (!(error instanceof ClaimRefused)) throw error;
      await this.markMissed(reminder, now, `its notice can never be stored: ${error.message}`);
      return;
    }
    if ((this.deps.notifyInstructor?.() ?? false) && meeting.instructorId !== meeting.customerId) {
      const instructor = { personId: meeting.instructorId, role: 'instructor' as const };
      const instructorKey = reminderKey(reminder, instructor.personId);
      try {
        await this.claim(reminder, meeting, {
          key: instructorKey,
          notificationId: notificationIdFor(instructorKey),
          recipient: instructor,
        });
      } catch (error) {
        if (!(error instanceof ClaimRefused)) throw error;
        this.deps.log.warn(
          { meetingId: reminder.meetingId, error: error.message },
          "the instructor's reminder can never be stored; the member's goes",
        );
      }
    }
    await this.mark(reminder, {
      type: 'ClaimReminder',
      data: { offsetSeconds: reminder.offsetSeconds, start: reminder.start, notificationId, at: now.toISOString() },
    });
  }

  private async claim(
    reminder: DueReminder,
    meeting: Meeting,
    notice: { key: string; notificationId: string; recipient: { personId: string; role: 'customer' | 'instructor' } },
  ): Promise<void> {
    const { key, notificationId, recipient } = notice;
    await claimNotice(
      { commands: this.commands, ...this.deps.notices, clock: this.deps.clock, log: this.deps.log },
      {
        notificationId,
        key,
        topic: 'reminder',
        kind: 'meeting',
        meetingIds: [meeting.id],
        ...(meeting.seriesId !== undefined ? { seriesId: meeting.seriesId } : {}),
        causeEventId: reminder.plannedEventId,
        snapshot: {
          title: meeting.title,
          timezone: meeting.timezone,
          customerId: meeting.customerId,
          instructorId: meeting.instructorId,
          cancelledAt: reminder.dueAt,
          sessions: [{ meetingId: meeting.id, start: meeting.start, end: meeting.end, sequence: meeting.sequence }],
        },
        current: [meeting.id],
        recipient,
      },
    );
  }

  private async markMissed(reminder: DueReminder, now: Date, why: string): Promise<void> {
    this.deps.log.info(
      { meetingId: reminder.meetingId, offsetSeconds: reminder.offsetSeconds, dueAt: reminder.dueAt, why },
      'reminder not sent',
    );
    await this.mark(reminder, {
      type: 'MissReminder',
      data: { offsetSeconds: reminder.offsetSeconds, start: reminder.start, at: now.toISOString() },
    });
  }

  private async mark(reminder: DueReminder, command: ClaimReminder | MissReminder): Promise<void> {
    const result = await this.commands.record(reminders, reminder.meetingId, command);
    // Another node marked it first, or the plan moved on meanwhile: nothing left to do here.
    if (E.isLeft(result))
      this.deps.log.debug(
        { meetingId: reminder.meetingId, error: result.left },
        `reminder ${command.type} not recorded`,
      );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.running;
  }
}
