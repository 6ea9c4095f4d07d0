import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { IsoInstant, assertNever } from './shared.ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';

/**
 * The plan of one session's reminders, on the stream `reminders-<meetingId>`: which reminders are still to go (the
 * offset before the start, and when it is due), for which start. Planned from the log when the session is booked,
 * re-planned when it moves or the offsets change, dropped when it is cancelled, planned again when it is reinstated;
 * each reminder is marked done once, when its notice was claimed or when the session started before it could go.
 *
 * Planning rules:
 * - An offset whose due instant is not after the moment of the change that plans it (`at`: the booking, the move,
 *   the reinstatement, the settings change) is not planned: a session booked 30 minutes ahead gets no "in 1 hour"
 *   reminder, as the booking itself has just told the member. Planning from the change's own instant (never from the
 *   clock) makes the plan the same on every node and every replay.
 * - A reminder already planned for the same start and offset stays planned even if its due instant has passed (an
 *   outage): it is sent late if the session is still ahead, and marked missed if it has started.
 * - A reminder is done at most once per (offset, start): one claimed (or missed) is never planned again for that
 *   start, a reinstatement included; a session moved to another start gets its reminders anew.
 */

export const MAX_REMINDER_OFFSETS = 10;
/** The longest offset: 30 days before the session. */
export const MAX_REMINDER_OFFSET_SECONDS = 30 * 24 * 3600;

export const PlannedReminder = t.type({ offsetSeconds: t.number, dueAt: IsoInstant });
export type PlannedReminder = t.TypeOf<typeof PlannedReminder>;

export const ReminderSession = t.type({ start: IsoInstant, end: IsoInstant, sequence: t.number });
export type ReminderSession = t.TypeOf<typeof ReminderSession>;

// ---------- events ----------

/** The session's plan as of `at`: `reminders` are those still to go (the whole list: earlier ones are replaced). */
export const RemindersPlanned = t.type({
  type: t.literal('RemindersPlanned'),
  data: t.type({
    meetingId: t.string,
    session: ReminderSession,
    offsetsSeconds: t.array(t.number),
    reminders: t.array(PlannedReminder),
    at: IsoInstant,
  }),
});

/** The session was cancelled: nothing is to go. */
export const RemindersDropped = t.type({
  type: t.literal('RemindersDropped'),
  data: t.type({ meetingId: t.string, at: IsoInstant }),
});

/** The reminder's notice was claimed (the notification log sends it). */
export const ReminderClaimed = t.type({
  type: t.literal('ReminderClaimed'),
  data: t.type({
    meetingId: t.string,
    offsetSeconds: t.number,
    start: IsoInstant,
    notificationId: t.string,
    at: IsoInstant,
  }),
});

/** The session had started when the reminder came up (an outage): it is never sent. */
export const ReminderMissed = t.type({
  type: t.literal('ReminderMissed'),
  data: t.type({ meetingId: t.string, offsetSeconds: t.number, start: IsoInstant, at: IsoInstant }),
});

export const ReminderEvent = t.union([RemindersPlanned, RemindersDropped, ReminderClaimed, ReminderMissed]);
export type ReminderEvent = t.TypeOf<typeof ReminderEvent>;
export const reminderEventTypes = eventTypesOf(ReminderEvent);

// ---------- commands ----------

export interface PlanReminders {
  readonly type: 'PlanReminders';
  readonly data: {
    readonly meetingId: string;
    readonly session: ReminderSession;
    readonly offsetsSeconds: ReadonlyArray<number>;
    readonly at: string;
  };
}

export interface DropReminders {
  readonly type: 'DropReminders';
  readonly data: { readonly meetingId: string; readonly at: string };
}

export interface ClaimReminder {
  readonly type: 'ClaimReminder';
  readonly data: {
    readonly offsetSeconds: number;
    readonly start: string;
    readonly notificationId: string;
    readonly at: string;
  };
}

export interface MissReminder {
  readonly type: 'MissReminder';
  readonly data: { readonly offsetSeconds: number; readonly start: string; readonly at: string };
}

export type ReminderCommand = PlanReminders | DropReminders | ClaimReminder | MissReminder;

// ---------- state ----------

export interface ReminderPlan {
  readonly status: 'planned' | 'dropped';
  readonly meetingId: string;
  /** The session as last planned (kept when dropped, for the record). */
  readonly session: ReminderSession;
  readonly offsetsSeconds: ReadonlyArray<number>;
  /** Still to go, earliest due first. */
  readonly reminders: ReadonlyArray<PlannedReminder>;
  /** `doneKey`s of reminders claimed or missed: never planned again. */
  readonly done: ReadonlyArray<string>;
}

export type ReminderState = { readonly status: 'none' } | ReminderPlan;

export const initialState = (): ReminderState => ({ status: 'none' });

// ---------- errors ----------

export type ReminderError =
  | { readonly _tag: 'InvalidOffsets'; readonly message: string }
  | { readonly _tag: 'ReminderNotPlanned' }
  | { readonly _tag: 'ReminderAlreadyDone' };

// ---------- rules ----------

/** One reminder of one start, done at most once. */
export const doneKey = (offsetSeconds: number, start: string): string =>
  `${offsetSeconds}@${new Date(start).toISOString()}`;

export const dueAtOf = (start: string, offsetSeconds: number): string =>
  new Date(Date.parse(start) - offsetSeconds * 1000).toISOString();

/** Whole seconds, above 0, at most MAX_REMINDER_OFFSET_SECONDS, at most MAX_REMINDER_OFFSETS of them. */
export const offsetsProblem = (offsets: ReadonlyArray<number>): string | undefined => {
  if (offsets.length > MAX_REMINDER_OFFSETS) return `at most ${MAX_REMINDER_OFFSETS} reminder offsets`;
  const bad = offsets.find((o) => !Number.isInteger(o) || o <= 0 || o > MAX_REMINDER_OFFSET_SECONDS);
  return bad === undefined
    ? undefined
    : `reminder offset ${bad} must be a whole number of seconds from 1 to ${MAX_REMINDER_OFFSET_SECONDS}`;
};

/** Distinct, longest first: how a plan records its offsets. */
export const normalizedOffsets = (offsets: ReadonlyArray<number>): number[] =>
  [...new Set(offsets)].sort((a, b) => b - a);

const sameSession = (a: ReminderSession, b: ReminderSession): boolean =>
  Date.parse(a.start) === Date.parse(b.start) && Date.parse(a.end) === Date.parse(b.end) && a.sequence === b.sequence;

const byDue = (a: PlannedReminder, b: PlannedReminder): number => Date.parse(a.dueAt) - Date.parse(b.dueAt);

/** What is to go for `session` with `offsets`, planned at `at`, given what the plan held. */
export const remindersFor = (
  state: ReminderState,
  session: ReminderSession,
  offsets: ReadonlyArray<number>,
  at: string,
): PlannedReminder[] => {
  const done = state.status === 'none' ? [] : state.done;
  const held =
    state.status === 'planned' && Date.parse(state.session.start) === Date.parse(session.start) ? state.reminders : [];
  const planAt = Date.parse(at);
  const reminders: PlannedReminder[] = [];
  for (const offsetSeconds of offsets) {
    if (done.includes(doneKey(offsetSeconds, session.start))) continue;
    const kept = held.find((r) => r.offsetSeconds === offsetSeconds);
    if (kept !== undefined) reminders.push(kept);
    else {
      const dueAt = dueAtOf(session.start, offsetSeconds);
      if (Date.parse(dueAt) > planAt) reminders.push({ offsetSeconds, dueAt });
    }
  }
  return reminders.sort(byDue);
};

const markDone = (
  state: ReminderState,
  command: ClaimReminder | MissReminder,
): E.Either<ReminderError, ReminderPlan> => {
  if (state.status === 'none') return E.left({ _tag: 'ReminderNotPlanned' });
  const { offsetSeconds, start } = command.data;
  if (state.done.includes(doneKey(offsetSeconds, start))) return E.left({ _tag: 'ReminderAlreadyDone' });
  const planned =
    state.status === 'planned' &&
    Date.parse(state.session.start) === Date.parse(start) &&
    state.reminders.some((r) => r.offsetSeconds === offsetSeconds);
  return planned ? E.right(state) : E.left({ _tag: 'ReminderNotPlanned' });
};

// ---------- decide ----------

export const decide = (command: ReminderCommand, state: ReminderState): E.Either<ReminderError, ReminderEvent[]> => {
  switch (command.type) {
    case 'PlanReminders': {
      const { meetingId, session, at } = command.data;
      const problem = offsetsProblem(command.data.offsetsSeconds);
      if (problem !== undefined) return E.left({ _tag: 'InvalidOffsets', message: problem });
      const offsetsSeconds = normalizedOffsets(command.data.offsetsSeconds);
      // A session that had started when it was booked (history, an import) needs no plan at all.
      if (state.status === 'none' && Date.parse(session.start) <= Date.parse(at)) return E.right([]);
      const reminders = remindersFor(state, session, offsetsSeconds, at);
      const unchanged =
        state.status === 'planned' &&
        sameSession(state.session, session) &&
        JSON.stringify(state.offsetsSeconds) === JSON.stringify(offsetsSeconds) &&
        JSON.stringify(state.reminders) === JSON.stringify(reminders);
      if (unchanged) return E.right([]);
      return E.right([
        {
          type: 'RemindersPlanned',
          data: { meetingId, session: { ...session }, offsetsSeconds, reminders, at },
        },
      ]);
    }
    case 'DropReminders':
      if (state.status !== 'planned') return E.right([]);
      return E.right([{ type: 'RemindersDropped', data: { meetingId: command.data.meetingId, at: command.data.at } }]);
    case 'ClaimReminder':
      return E.map((plan: ReminderPlan): ReminderEvent[] => [
        { type: 'ReminderClaimed', data: { meetingId: plan.meetingId, ...command.data } },
      ])(markDone(state, command));
    case 'MissReminder':
      return E.map((plan: ReminderPlan): ReminderEvent[] => [
        { type: 'ReminderMissed', data: { meetingId: plan.meetingId, ...command.data } },
      ])(markDone(state, command));
    default:
      return assertNever(command);
  }
};

// ---------- evolve ----------

export const evolve = (state: ReminderState, event: ReminderEvent): ReminderState => {
  switch (event.type) {
    case 'RemindersPlanned':
      return {
        status: 'planned',
        meetingId: event.data.meetingId,
        session: event.data.session,
        offsetsSeconds: event.data.offsetsSeconds,
        reminders: event.data.reminders,
        done: state.status === 'none' ? [] : state.done,
      };
    case 'RemindersDropped':
      return state.status === 'none' ? state : { ...state, status: 'dropped', reminders: [] };
    case 'ReminderClaimed':
    case 'ReminderMissed': {
      if (state.status === 'none') return state;
      const key = doneKey(event.data.offsetSeconds, event.data.start);
      return {
        ...state,
        reminders: state.reminders.filter((r) => doneKey(r.offsetSeconds, state.session.start) !== key),
        done: state.done.includes(key) ? state.done : [...state.done, key],
      };
    }
    default:
      return assertNever(event);
  }
};

export const reminderStreamPrefix = 'reminders-';
export const reminderStreamName = (meetingId: string): string => `${reminderStreamPrefix}${meetingId}`;

export const reminderDecider: Decider<ReminderCommand, ReminderEvent, ReminderState, ReminderError> = {
  decide,
  evolve,
  initialState,
};
