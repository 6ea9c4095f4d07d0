import * as E from 'fp-ts/lib/Either.js';
import {
  MeetingEvent,
  evolve as evolveMeeting,
  initialState as initialMeeting,
  meetingStreamName,
} from '../../domain/meeting.ts';
import type { Meeting, MeetingState } from '../../domain/meeting.ts';
import { isStale, topicRank } from '../../domain/change-window.ts';
import type { ChangeTopic, ChangeWindowState, JoinedChange, OpenWindow } from '../../domain/change-window.ts';
import type { CancelledSession, Notification } from '../../domain/notification.ts';
import { scheduleStreamPrefix } from '../../domain/schedule.ts';
import { coalesceSecondsOf, notifyInstructorOf } from '../../domain/settings.ts';
import { decodeRecorded } from '../decode.ts';
import { LogFollower } from '../log-follower.ts';
import type { FollowerStatus, LogFollowerDeps } from '../log-follower.ts';
import type { EventStore, RecordedEvent } from '../ports/event-store.ts';
import type { MeetingQueries } from '../ports/read-models.ts';
import { ChangeWindows } from './change-windows.ts';
import { claimDepsOf, claimNotice, isPoison, noticeRecipients } from './claim.ts';
import type { ClaimDeps } from './claim.ts';
import { notificationIdFor } from './prepare.ts';
import type { RoundPreparer } from './prepare.ts';
import type { NoticeTopic } from './topics.ts';

/**
 * Change emails: bookings, moves, new training types or links, reinstatements. A LogFollower with its own checkpoint
 * reads each meeting's changes and records them in the coalescing window of their subject (the series when the
 * meeting belongs to one, else the meeting: domain/change-window.ts). When a window closes, one notice per
 * recipient is claimed, rendered from the final state read from the sessions' own streams.
 *
 * Durability: the window's stream holds what joined it and when it is due; the follower's checkpoint is held before
 * the first change of every window still open, so after a restart the log is read again from there, the changes are
 * found recorded (nothing joins twice) and each open window is closed when due. Cancellations stay immediate (the
 * cancellation reaction): a window's sessions that are cancelled when it closes are left to the cancellation email,
 * and a window whose every session was cancelled sends nothing. Series events need no reading here: a series'
 * bookings and moves reach its meetings as their own events, written by the series process with `seriesId`.
 *
 * History is never announced: a change older than its window and an hour's grace when it is read opens no window
 * (domain/change-window.ts `isStale`), so a first start on a store with history, or a node rebuilding its read
 * models, sends nothing for old changes. Window state is kept per subject with its stream revision (ChangeWindows),
 * so a change reads only what its window's stream gained since. A window is closed at the revision it was read at
 * (a change that joined meanwhile is in the email) and only then are its notices claimed.
 */

const changeEventTypes: ReadonlySet<string> = new Set<MeetingEvent['type']>([
  'MeetingScheduled',
  'MeetingRescheduled',
  'TrainingTypeChanged',
  'MeetingReinstated',
]);

/** The meeting as its stream holds it now (never behind, unlike a read model). */
export const currentMeeting = async (store: EventStore, meetingId: string): Promise<E.Either<string, MeetingState>> => {
  let state: MeetingState = initialMeeting();
  for (const r of await store.readStream(meetingStreamName(meetingId))) {
    const decoded = decodeRecorded(MeetingEvent, r);
    if (E.isLeft(decoded)) return E.left(decoded.left.message);
    state = evolveMeeting(state, decoded.right);
  }
  return E.right(state);
};

/** A change's notice is current while its sessions are neither cancelled nor changed again since it was prepared. */
export const changeTopic = (store: EventStore, prepare: RoundPreparer): NoticeTopic => ({
  prepare,
  current: async (notice: Notification) => {
    const still: string[] = [];
    for (const session of notice.cancellation.sessions) {
      const found = await currentMeeting(store, session.meetingId);
      if (E.isLeft(found)) return found;
      const m = found.right;
      if (m.status !== 'none' && m.status !== 'cancelled' && m.sequence === session.sequence)
        still.push(session.meetingId);
    }
    return E.right(still);
  },
});

interface Change {
  readonly topic: ChangeTopic;
  readonly meetingId: string;
  readonly previousStart?: string;
  readonly previousEnd?: string;
}

const changeOf = (event: MeetingEvent): Change | undefined => {
  switch (event.type) {
    case 'MeetingScheduled':
      return { topic: 'booked', meetingId: event.data.meetingId };
    case 'MeetingRescheduled':
      return {
        topic: 'rescheduled',
        meetingId: event.data.meetingId,
        previousStart: event.data.previous.start,
        previousEnd: event.data.previous.end,
      };
    case 'TrainingTypeChanged':
      return { topic: 'changed', meetingId: event.data.meetingId };
    case 'MeetingReinstated':
      return { topic: 'reinstated', meetingId: event.data.meetingId };
    default:
      return undefined;
  }
};

/** The subject whose window a meeting's change joins: `series-<id>` for an occurrence, else `meeting-<id>`. */
export const subjectOf = (meeting: { readonly id: string; readonly seriesId?: string }): string =>
  meeting.seriesId !== undefined ? `series-${meeting.seriesId}` : `meeting-${meeting.id}`;

/** Deterministic per subject, window and recipient: the same on every node and every replay. */
export const changeNoticeKey = (subject: string, window: number, personId: string): string =>
  `change:${subject}:${window}:${personId}`;

export interface ChangeReactionDeps extends LogFollowerDeps {
  readonly queries: Pick<MeetingQueries, 'getSettings'>;
  readonly prepare: RoundPreparer;
  readonly schedule: (notificationId: string, at?: string) => void;
  readonly clock: () => Date;
  readonly newId: () => string;
  /** The window when the settings set none (`NOTIFY_COALESCE_SECONDS`). */
  readonly coalesceSeconds: number;
  /** How long to wait before trying to close a window again after the store failed. */
  readonly retryMs?: number;
}

const CATCH_UP_STEP_MS = 100;
const CATCH_UP_WAIT_MS = 5_000;

interface Held {
  readonly window: number;
  readonly dueAt: string;
  /** The log position of the first change of the window this run saw: the checkpoint stays before it. */
  readonly position: number;
  timer?: NodeJS.Timeout;
}

/** Whether every change of the meeting in the window is a move, and it ends where it was before the first. */
const movedBack = (meeting: Meeting, changes: ReadonlyArray<JoinedChange>): boolean => {
  const own = changes.filter((c) => c.meetingId === meeting.id);
  const before = own[0];
  if (before === undefined || own.some((c) => c.topic !== 'rescheduled')) return false;
  if (before.previousStart === undefined || Date.parse(before.previousStart) !== Date.parse(meeting.start))
    return false;
  return before.previousEnd === undefined || Date.parse(before.previousEnd) === Date.parse(meeting.end);
};

export class ChangeReaction extends LogFollower {
  private readonly claims: ClaimDeps;
  private readonly windows: ChangeWindows;
  private stale = 0;
  /** Open windows by subject, in the log order of their first changes (see track). */
  private held = new Map<string, Held>();
  /** The position of the last window tracked, which the next one normally follows in the log. */
  private lastTracked = 0;
  private lastPosition = 0;
  private parked = 0;
  private stopping = false;
  /** Handling and closing run one at a time: a window is never closed while a change of it is being recorded. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ChangeReactionDeps) {
    super(deps, 'change-notices', 'change notices paused; resuming from the checkpoint');
    this.claims = claimDepsOf(deps);
    this.windows = new ChangeWindows(deps);
  }

  protected override ignoredStreamPrefixes(): ReadonlyArray<string> {
    return [scheduleStreamPrefix];
  }

  protected override passed(position: number): void {
    this.lastPosition = position;
    this.advanceHeld(false);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Saves the checkpoint no further than just before the first change of the earliest window still open. */
  private advanceHeld(save: boolean): void {
    // Held in log order: the first one is the earliest.
    const earliest = this.held.values().next().value;
    this.advance(earliest === undefined ? this.lastPosition : Math.min(this.lastPosition, earliest.position - 1), save);
  }

  protected async handle(recorded: RecordedEvent): Promise<void> {
    await this.serial(async () => {
      if (changeEventTypes.has(recorded.type)) {
        try {
          await this.react(recorded);
        } catch (error) {
          if (!isPoison(error)) throw error;
          this.parked += 1;
          this.deps.log.error(
            {
              eventId: recorded.id,
              type: recorded.type,
              error: error instanceof Error ? error.message : String(error),
            },
            'change parked: its notices can never be stored; later changes go on',
          );
        }
        this.recovered();
        this.lastPosition = recorded.position;
        this.advanceHeld(true);
      } else {
        this.lastPosition = recorded.position;
        this.advanceHeld(false);
      }
    });
  }

  private async react(recorded: RecordedEvent): Promise<void> {
    const decoded = decodeRecorded(MeetingEvent, recorded);
    if (E.isLeft(decoded)) {
      this.deps.log.error({ eventId: recorded.id, error: decoded.left.message }, 'change cannot be read; no notice');
      return;
    }
    const change = changeOf(decoded.right);
    if (change === undefined) return;
    const at = decoded.right.data.at;
    const windowSeconds = coalesceSecondsOf(this.deps.queries.getSettings(), this.deps.coalesceSeconds);
    const now = this.deps.clock().toISOString();
    const found = await currentMeeting(this.deps.store, change.meetingId);
    if (E.isLeft(found)) throw new Error(found.left);
    if (found.right.status === 'none') return;
    const subject = subjectOf(found.right);
    const command = {
      type: 'RecordChange' as const,
      data: {
        subject,
        eventId: recorded.id,
        position: recorded.position,
        topic: change.topic,
        meetingId: change.meetingId,
        ...(change.previousStart !== undefined ? { previousStart: change.previousStart } : {}),
        ...(change.previousEnd !== undefined ? { previousEnd: change.previousEnd } : {}),
        // The change's own instant, on the clock the windows are timed by.
        at,
        windowSeconds,
        now,
      },
    };
    for (let round = 0; round < 3; round++) {
      const result = await this.windows.decide(subject, command);
      if (E.isRight(result)) {
        if (isStale(command.data) && result.right.lastPosition < recorded.position) this.skippedStale(recorded);
        this.track(subject, result.right, recorded.position);
        return;
      }
      // The open window was due before this change: its email goes first, then the change opens the next window.
      if (result.left._tag === 'WindowDue') await this.close(subject, result.left.window);
      else throw new Error(`cannot record a change of ${subject}: ${JSON.stringify(result.left)}`);
    }
    throw new Error(`cannot record a change of ${subject}: its window keeps being due`);
  }

  /** Counts a change too old to announce (history read by a new follower or a rebuilt node), logging the first. */
  private skippedStale(recorded: RecordedEvent): void {
    this.stale += 1;
    if (this.stale === 1)
      this.deps.log.info(
        { eventId: recorded.id, type: recorded.type },
        'changes older than their window and an hour are history: no change emails for them',
      );
  }

  /** Remembers an open window (holding the checkpoint) and closes it when due: now, if it already is. */
  private track(subject: string, state: ChangeWindowState, position: number): void {
    // A window closed and not marked sent (its closer stopped in between) is finished now, before the open one.
    const open =
      state.open ?? (state.closing !== undefined ? { ...state.closing, dueAt: state.closing.openedAt } : undefined);
    if (open === undefined) return;
    const known = this.held.get(subject);
    if (known !== undefined && known.window === open.window) return;
    if (known?.timer !== undefined) clearTimeout(known.timer);
    // Deleted first, so that the map keeps its windows in the order of their positions (see advanceHeld); a window
    // tracked before one already held (read again after a restart) puts them back in order.
    this.held.delete(subject);
    this.held.set(subject, { window: open.window, dueAt: open.dueAt, position });
    if (position < this.lastTracked)
      this.held = new Map([...this.held].sort(([, a], [, b]) => a.position - b.position));
    else this.lastTracked = position;
    this.closeWhenDue(subject, open);
  }

  private closeWhenDue(subject: string, open: Pick<OpenWindow, 'window' | 'dueAt'>, delayMs?: number): void {
    const held = this.held.get(subject);
    if (held === undefined || this.stopping) return;
    const delay = delayMs ?? Math.max(0, Date.parse(open.dueAt) - this.deps.clock().getTime());
    held.timer = setTimeout(
      () => {
        held.timer = undefined;
        this.closeWhenCaughtUp(subject, open, 0).catch((error: unknown) => {
          this.deps.log.error({ err: error, subject }, 'change window not closed; trying again');
          this.closeWhenDue(subject, open, this.deps.retryMs ?? 5_000);
        });
      },
      Math.min(delay, 2_147_483_647),
    );
    held.timer.unref();
  }

  /**
   * Closes a due window once the follower has read the log up to its head (a change made inside the window but not
   * read yet joins it rather than opening the next), waiting at most a few seconds for a busy log.
   */
  private async closeWhenCaughtUp(subject: string, open: Pick<OpenWindow, 'window'>, waited: number): Promise<void> {
    const head = await this.deps.store.headPosition();
    if (this.lastPosition < head && waited < CATCH_UP_WAIT_MS && !this.stopping) {
      await new Promise((resolve) => setTimeout(resolve, CATCH_UP_STEP_MS).unref());
      return this.closeWhenCaughtUp(subject, open, waited + CATCH_UP_STEP_MS);
    }
    if (this.stopping) return;
    await this.serial(() => this.close(subject, open.window));
  }

  /**
   * Closes the window at the revision it was read at (a change that joined meanwhile makes it decide again, and is in
   * the email; one after it opens the next window), then claims its notices and marks it sent. A window closed earlier
   * and not yet sent (by this node before a restart, or another node) is finished first. Claims are idempotent.
   */
  private async close(subject: string, window: number): Promise<void> {
    const { state } = await this.windows.load(subject);
    if (state.closing !== undefined) await this.finish(subject, state.closing);
    if (state.open !== undefined && state.open.window === window) {
      const closed = await this.windows.decide(subject, {
        type: 'CloseWindow',
        data: { window, at: this.deps.clock().toISOString() },
      });
      if (E.isLeft(closed) && closed.left._tag !== 'WindowNotOpen')
        throw new Error(`cannot close the change window of ${subject}: ${JSON.stringify(closed.left)}`);
      // Closed here or by another node: what the email says is the stream's closed window, claimed once either way.
      const after = E.isRight(closed) ? closed.right : (await this.windows.load(subject)).state;
      if (after.closing !== undefined && after.closing.window === window) await this.finish(subject, after.closing);
    }
    const held = this.held.get(subject);
    if (held !== undefined && held.window <= window) {
      if (held.timer !== undefined) clearTimeout(held.timer);
      this.held.delete(subject);
      this.advanceHeld(true);
    }
  }

  private async finish(subject: string, closing: OpenWindow): Promise<void> {
    await this.claimWindow(subject, closing);
    const sent = await this.windows.decide(subject, {
      type: 'MarkSent',
      data: { window: closing.window, at: this.deps.clock().toISOString() },
    });
    // Another node finished it first.
    if (E.isLeft(sent) && sent.left._tag !== 'WindowNotClosing')
      throw new Error(`cannot finish the change window of ${subject}: ${JSON.stringify(sent.left)}`);
  }

  private async claimWindow(subject: string, open: OpenWindow): Promise<void> {
    const ids = [...new Set(open.changes.map((c) => c.meetingId))];
    const live: Meeting[] = [];
    for (const id of ids) {
      const found = await currentMeeting(this.deps.store, id);
      if (E.isLeft(found)) throw new Error(found.left);
      const m = found.right;
      // Cancelled sessions are the cancellation email's; a window of cancelled sessions only sends nothing.
      if (m.status !== 'none' && m.status !== 'cancelled') live.push(m);
    }
    // A session moved and moved back within the window (and nothing else) is where it was: nothing to announce.
    const announced = live.filter((m) => !movedBack(m, open.changes));
    announced.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    const first = announced[0];
    if (first === undefined) return;
    const liveIds = new Set(announced.map((m) => m.id));
    const changes = open.changes.filter((c) => liveIds.has(c.meetingId));
    const topic = changes.reduce<ChangeTopic>(
      (best, c) => (topicRank[c.topic] > topicRank[best] ? c.topic : best),
      'changed',
    );
    const previousStartOf = (id: string) => changes.find((c) => c.meetingId === id && c.previousStart)?.previousStart;
    const sessions: CancelledSession[] = announced.map((m) => {
      const previousStart = topic === 'rescheduled' ? previousStartOf(m.id) : undefined;
      return {
        meetingId: m.id,
        start: m.start,
        end: m.end,
        sequence: m.sequence,
        ...(m.status === 'planned' ? { state: 'planned' as const } : {}),
        ...(previousStart !== undefined ? { previousStart } : {}),
      };
    });
    const snapshot = {
      title: first.title,
      timezone: first.timezone,
      customerId: first.customerId,
      instructorId: first.instructorId,
      cancelledAt: this.deps.clock().toISOString(),
      sessions,
      trainingType: first.trainingType,
      ...(first.remoteLink !== undefined ? { remoteLink: first.remoteLink } : {}),
    };
    const recipients = noticeRecipients(first, notifyInstructorOf(this.deps.queries.getSettings(), topic));
    const kind = subject.startsWith('series-') ? 'series' : 'meeting';
    for (const recipient of recipients) {
      const key = changeNoticeKey(subject, open.window, recipient.personId);
      await claimNotice(this.claims, {
        notificationId: notificationIdFor(key),
        key,
        topic,
        kind,
        meetingIds: sessions.map((s) => s.meetingId),
        ...(first.seriesId !== undefined ? { seriesId: first.seriesId } : {}),
        causeEventId: `${subject}:${open.window}`,
        snapshot,
        current: sessions.map((s) => s.meetingId),
        recipient,
      });
    }
  }

  override async status(): Promise<FollowerStatus & { readonly parked?: number }> {
    const status = await super.status();
    return { ...status, ...(this.parked > 0 ? { parked: this.parked } : {}) };
  }

  override async stop(): Promise<void> {
    this.stopping = true;
    for (const held of this.held.values()) if (held.timer !== undefined) clearTimeout(held.timer);
    await super.stop();
    await this.chain;
  }
}
