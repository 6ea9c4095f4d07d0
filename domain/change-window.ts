import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { IsoInstant, assertNever } from './shared.ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';

/**
 * The coalescing window of one subject (a meeting on its own, or a whole series): the changes a person must act on
 * (a booking, a move, a new training type or link, a reinstatement) that happen within `coalesceSeconds` of the
 * first go out as one email per recipient, rendered from the final state when the window closes.
 *
 * The window is durable: its stream records which changes joined it and when it is due, so a restart inside the
 * window still sends once after it closes. Windows are numbered per subject; the notice of window n of a subject
 * for a recipient has a deterministic id, claimed once (claim.ts), so replays, restarts and a second node send it
 * once. Each change is recorded with its log position: a replay of the log joins nothing twice. Membership is
 * decided by the changes' own instants (`at`) against the window's due time, never by when they are read.
 *
 * Closing takes two steps: `ChangeWindowClosed` (appended at the revision its closer read, so a change that joined
 * meanwhile makes it decide again and is in the email; a change after it opens the next window) freezes what the
 * email says, then `ChangeWindowSent` once its notices are claimed. A window closed and not yet marked sent (the
 * closer stopped in between) is finished by whoever reads it next; the claims are idempotent.
 *
 * A change read long after its window would have closed (`at` + window + `STALE_GRACE_SECONDS` before the clock of
 * the decision) opens no window: a new follower replaying an old log, or a node rebuilding its read models, sends
 * nothing for history. A change already recorded (an open window across a restart) is never stale.
 */

/** How long after its window would have closed a change still opens one (a follower that fell behind, a restart). */
export const STALE_GRACE_SECONDS = 3600;

export const ChangeTopic = t.keyof({ booked: null, rescheduled: null, changed: null, reinstated: null });
export type ChangeTopic = t.TypeOf<typeof ChangeTopic>;

/** Which topic a window's email has: a booking says everything, a reinstatement is news, a move more than a link. */
export const topicRank: Readonly<Record<ChangeTopic, number>> = {
  booked: 4,
  reinstated: 3,
  rescheduled: 2,
  changed: 1,
};

export const ChangeWindowOpened = t.type({
  type: t.literal('ChangeWindowOpened'),
  data: t.type({ subject: t.string, window: t.number, openedAt: IsoInstant, dueAt: IsoInstant }),
});

export const ChangeJoined = t.type({
  type: t.literal('ChangeJoined'),
  data: t.intersection([
    t.type({
      window: t.number,
      eventId: t.string,
      position: t.number,
      topic: ChangeTopic,
      meetingId: t.string,
      at: IsoInstant,
    }),
    t.partial({ previousStart: IsoInstant, previousEnd: IsoInstant }),
  ]),
});

export const ChangeWindowClosed = t.type({
  type: t.literal('ChangeWindowClosed'),
  data: t.type({ window: t.number, at: IsoInstant }),
});

export const ChangeWindowSent = t.type({
  type: t.literal('ChangeWindowSent'),
  data: t.type({ window: t.number, at: IsoInstant }),
});

export const ChangeWindowEvent = t.union([ChangeWindowOpened, ChangeJoined, ChangeWindowClosed, ChangeWindowSent]);
export type ChangeWindowEvent = t.TypeOf<typeof ChangeWindowEvent>;
export const changeWindowEventTypes = eventTypesOf(ChangeWindowEvent);

export interface JoinedChange {
  readonly topic: ChangeTopic;
  readonly meetingId: string;
  readonly previousStart?: string;
  readonly previousEnd?: string;
}

export interface OpenWindow {
  readonly window: number;
  readonly openedAt: string;
  readonly dueAt: string;
  readonly changes: ReadonlyArray<JoinedChange>;
}

export interface ChangeWindowState {
  /** Windows opened so far (the number of the last one). */
  readonly windows: number;
  /** The log position of the last change recorded: a replay of the log records nothing at or before it. */
  readonly lastPosition: number;
  readonly open?: OpenWindow;
  /** Closed (what its email says is fixed) and its notices not yet claimed: finished before anything else closes. */
  readonly closing?: OpenWindow;
}

export const initialState = (): ChangeWindowState => ({ windows: 0, lastPosition: -1 });

export interface RecordChange {
  readonly type: 'RecordChange';
  readonly data: {
    readonly subject: string;
    readonly eventId: string;
    readonly position: number;
    readonly topic: ChangeTopic;
    readonly meetingId: string;
    readonly previousStart?: string;
    readonly previousEnd?: string;
    readonly at: string;
    /** The window a first change opens (settings, at the time of that change). */
    readonly windowSeconds: number;
    /** When the change is decided on: one older than its window and the grace opens none. */
    readonly now: string;
  };
}

export interface CloseWindow {
  readonly type: 'CloseWindow';
  readonly data: { readonly window: number; readonly at: string };
}

export interface MarkSent {
  readonly type: 'MarkSent';
  readonly data: { readonly window: number; readonly at: string };
}

export type ChangeWindowCommand = RecordChange | CloseWindow | MarkSent;

export type ChangeWindowError =
  /** The open window was due before this change: it must be closed (its email claimed) first. */
  | { readonly _tag: 'WindowDue'; readonly window: number }
  | { readonly _tag: 'WindowNotOpen' }
  /** Another window is closed and not yet sent: it is finished first. */
  | { readonly _tag: 'WindowClosing'; readonly window: number }
  | { readonly _tag: 'WindowNotClosing' };

/** Whether a change is too old to open a window when it is decided on (see STALE_GRACE_SECONDS). */
export const isStale = (c: Pick<RecordChange['data'], 'at' | 'windowSeconds' | 'now'>): boolean =>
  Date.parse(c.at) + (Math.max(0, c.windowSeconds) + STALE_GRACE_SECONDS) * 1000 < Date.parse(c.now);

/** Whether a change at `at` falls into the open window (strictly before it is due). */
export const joins = (open: OpenWindow, at: string): boolean => Date.parse(at) < Date.parse(open.dueAt);

export const decide = (
  command: ChangeWindowCommand,
  state: ChangeWindowState,
): E.Either<ChangeWindowError, ChangeWindowEvent[]> => {
  switch (command.type) {
    case 'RecordChange': {
      const c = command.data;
      if (c.position <= state.lastPosition) return E.right([]);
      const joined: Omit<t.TypeOf<typeof ChangeJoined>['data'], 'window'> = {
        eventId: c.eventId,
        position: c.position,
        topic: c.topic,
        meetingId: c.meetingId,
        at: c.at,
        ...(c.previousStart !== undefined ? { previousStart: c.previousStart } : {}),
        ...(c.previousEnd !== undefined ? { previousEnd: c.previousEnd } : {}),
      };
      if (state.open !== undefined) {
        if (!joins(state.open, c.at)) return E.left({ _tag: 'WindowDue', window: state.open.window });
        return E.right([{ type: 'ChangeJoined', data: { ...joined, window: state.open.window } }]);
      }
      if (isStale(c)) return E.right([]);
      const window = state.windows + 1;
      const dueAt = new Date(Date.parse(c.at) + Math.max(0, c.windowSeconds) * 1000).toISOString();
      return E.right([
        { type: 'ChangeWindowOpened', data: { subject: c.subject, window, openedAt: c.at, dueAt } },
        { type: 'ChangeJoined', data: { ...joined, window } },
      ]);
    }
    case 'CloseWindow':
      if (state.open === undefined || state.open.window !== command.data.window)
        return E.left({ _tag: 'WindowNotOpen' });
      if (state.closing !== undefined) return E.left({ _tag: 'WindowClosing', window: state.closing.window });
      return E.right([{ type: 'ChangeWindowClosed', data: command.data }]);
    case 'MarkSent':
      if (state.closing === undefined || state.closing.window !== command.data.window)
        return E.left({ _tag: 'WindowNotClosing' });
      return E.right([{ type: 'ChangeWindowSent', data: command.data }]);
    default:
      return assertNever(command);
  }
};

export const evolve = (state: ChangeWindowState, event: ChangeWindowEvent): ChangeWindowState => {
  switch (event.type) {
    case 'ChangeWindowOpened':
      return {
        ...state,
        windows: event.data.window,
        open: { window: event.data.window, openedAt: event.data.openedAt, dueAt: event.data.dueAt, changes: [] },
      };
    case 'ChangeJoined': {
      const { topic, meetingId, previousStart, previousEnd, position } = event.data;
      const change: JoinedChange = {
        topic,
        meetingId,
        ...(previousStart !== undefined ? { previousStart } : {}),
        ...(previousEnd !== undefined ? { previousEnd } : {}),
      };
      const open = state.open;
      return {
        ...state,
        lastPosition: Math.max(state.lastPosition, position),
        ...(open !== undefined && open.window === event.data.window
          ? { open: { ...open, changes: [...open.changes, change] } }
          : {}),
      };
    }
    case 'ChangeWindowClosed': {
      const { open, ...rest } = state;
      return open !== undefined && open.window === event.data.window ? { ...rest, closing: open } : rest;
    }
    case 'ChangeWindowSent': {
      const { closing: _closing, ...rest } = state;
      return rest;
    }
    default:
      return assertNever(event);
  }
};

export const changeWindowStreamPrefix = 'change-window-';
/** One stream per subject: `meeting-<id>` or `series-<id>`. */
export const changeWindowStreamName = (subject: string): string => `${changeWindowStreamPrefix}${subject}`;

export const changeWindowDecider: Decider<
  ChangeWindowCommand,
  ChangeWindowEvent,
  ChangeWindowState,
  ChangeWindowError
> = { decide, evolve, initialState };
