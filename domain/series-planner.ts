import type { DetailField, Meeting, MeetingCommand } from './meeting.ts';
import type { CancelledOccurrence, Series, SeriesEvent, Slot } from './series.ts';
import { evolveHistory } from './series-process.ts';
import type { Drop, SeriesHistory, Session } from './series-process.ts';
import type { Actor } from './shared.ts';

/**
 * The series planner, pure: series history + the sessions as they are + now -> the session commands still to run
 * (and the dropped-sessions notices still to write). The series process applies `planSeries` after every series
 * event; a series request runs `planRequest` on the events it is about to append, to check the sessions it books
 * before anything is written. A plan that has been applied plans nothing, so running it again, after a crash or on
 * a replay of the log, writes nothing.
 */

export const SERIES_SCHEDULE_CHANGED = 'The series schedule changed';

export interface SessionPlan {
  readonly meetingId: string;
  readonly commands: ReadonlyArray<MeetingCommand>;
}

/** The one email of a drop: exactly the sessions cancelled under it. */
export interface NoticePlan {
  readonly cancellationId: string;
  readonly cancelled: ReadonlyArray<CancelledOccurrence>;
  readonly reason: string;
}

export interface SeriesPlan {
  readonly sessions: ReadonlyArray<SessionPlan>;
  readonly notices: ReadonlyArray<NoticePlan>;
}

export const isEmptyPlan = (plan: SeriesPlan): boolean => plan.sessions.length === 0 && plan.notices.length === 0;

/** What every session's plan is decided on: the series as its history says, and the moment. */
interface Planning {
  readonly history: SeriesHistory;
  readonly state: Series;
  readonly sessions: ReadonlyMap<string, Session>;
  readonly now: string;
  readonly stamp: { readonly at: string; readonly by: Actor };
  readonly pattern: ReadonlyMap<string, Slot>;
  readonly seriesCancellationIds: ReadonlySet<string>;
  /** Drops whose notice is not written yet. */
  readonly openDrops: ReadonlyArray<Drop>;
}

const planning = (
  history: SeriesHistory,
  state: Series,
  sessions: ReadonlyMap<string, Session>,
  now: string,
  by: Actor,
): Planning => ({
  history,
  state,
  sessions,
  now,
  stamp: { at: now, by },
  pattern: new Map(state.occurrences.map((slot) => [slot.meetingId, slot])),
  seriesCancellationIds: new Set(history.cancellations.map((c) => c.cancellationId)),
  openDrops: history.drops.filter((d) => !history.noticed.includes(d.cancellationId)),
});

/** At or after the earliest series cancellation: no session is created or kept there. */
const covered = (p: Planning, start: string): boolean =>
  p.state.cancelledFrom !== undefined && start >= p.state.cancelledFrom;

/** Not brought back by hand since the cancellation or drop at `position`. */
const untouchedSince = (session: Session, position: number): boolean =>
  session.reinstatedAt === undefined || session.reinstatedAt < position;

const scheduleCommand = ({ state, stamp }: Planning, slot: Slot): MeetingCommand => ({
  type: 'ScheduleMeeting',
  data: {
    meetingId: slot.meetingId,
    seriesId: state.id,
    title: state.title,
    customerId: state.customerId,
    instructorId: state.instructorId,
    start: slot.start,
    end: slot.end,
    timezone: state.recurrence.timezone,
    trainingType: state.trainingType,
    remoteLink: state.remoteLink,
    description: state.description,
    customerMetadata: state.customerMetadata,
    instructorMetadata: state.instructorMetadata,
    ...stamp,
  },
});

const textFields = ['title', 'description', 'customerMetadata', 'instructorMetadata'] as const;

/** The commands that bring an active session in the pattern to its slot and the series' details. */
const alignCommands = ({ state, stamp }: Planning, m: Meeting, slot: Slot): MeetingCommand[] => {
  const edited = (field: DetailField) => m.individuallyEdited.includes(field);
  const commands: MeetingCommand[] = [];
  const timezone = state.recurrence.timezone;
  if (!edited('time') && (m.start !== slot.start || m.end !== slot.end || m.timezone !== timezone)) {
    commands.push({
      type: 'RescheduleMeeting',
      data: { start: slot.start, end: slot.end, timezone, origin: 'series', ...stamp },
    });
  }
  const changes: { -readonly [K in (typeof textFields)[number]]?: string } = {};
  for (const field of textFields) if (!edited(field) && m[field] !== state[field]) changes[field] = state[field];
  if (Object.keys(changes).length > 0)
    commands.push({ type: 'ChangeMeetingDetails', data: { origin: 'series', ...changes, ...stamp } });
  if (!edited('trainingType') && (m.trainingType !== state.trainingType || m.remoteLink !== state.remoteLink)) {
    commands.push({
      type: 'ChangeTrainingType',
      data: { trainingType: state.trainingType, remoteLink: state.remoteLink, origin: 'series', ...stamp },
    });
  }
  return commands;
};

const cancelCommand = ({ stamp }: Planning, cancellationId: string, reason: string | undefined): MeetingCommand => ({
  type: 'CancelMeeting',
  data: { origin: 'series', seriesCancellationId: cancellationId, reason, ...stamp },
});

/** An active session a series cancellation or a drop still has to cancel, as that cancel; else undefined. */
const pendingCancel = (p: Planning, meetingId: string, session: Session): MeetingCommand | undefined => {
  const m = session.meeting;
  const notYetUnder = (cancellationId: string, position: number) =>
    !session.seriesCancellations.includes(cancellationId) && untouchedSince(session, position);
  const cancellation = p.history.cancellations.find(
    (c) => (c.cancelled.includes(meetingId) || m.start >= c.from) && notYetUnder(c.cancellationId, c.position),
  );
  if (cancellation !== undefined) return cancelCommand(p, cancellation.cancellationId, cancellation.reason);
  if (p.pattern.has(meetingId)) return undefined;
  const drop = p.openDrops.find((d) => d.removed.includes(meetingId) && notYetUnder(d.cancellationId, d.position));
  return drop === undefined ? undefined : cancelCommand(p, drop.cancellationId, SERIES_SCHEDULE_CHANGED);
};

/** What must happen to one session now (see `planSeries` for the rules). */
const planSession = (p: Planning, meetingId: string): MeetingCommand[] => {
  const session = p.sessions.get(meetingId);
  const slot = p.pattern.get(meetingId);
  if (session === undefined) {
    return slot !== undefined && slot.start > p.now && !covered(p, slot.start) ? [scheduleCommand(p, slot)] : [];
  }
  const m = session.meeting;
  if (m.start <= p.now) return [];
  const active = m.status !== 'cancelled';
  if (active) {
    const cancel = pendingCancel(p, meetingId, session);
    if (cancel !== undefined) return [cancel];
    if (slot === undefined) return [];
  }
  if (slot === undefined || slot.start <= p.now || covered(p, slot.start)) return [];
  if (active) return alignCommands(p, m, slot);
  // Cancelled by a series edit (not by hand, not by a series cancellation) and its date is back: it returns.
  const byEdit =
    m.cancelledBy === 'series' &&
    (session.cancelledUnder === undefined || !p.seriesCancellationIds.has(session.cancelledUnder));
  if (!byEdit) return [];
  const { cancelledBy: _cancelledBy, ...reinstated } = m;
  return [{ type: 'ReinstateMeeting', data: p.stamp }, ...alignCommands(p, { ...reinstated, status: 'planned' }, slot)];
};

const planSessions = (p: Planning, ids: ReadonlyArray<string>): SessionPlan[] =>
  ids.map((meetingId) => ({ meetingId, commands: planSession(p, meetingId) })).filter((s) => s.commands.length > 0);

/** The notices of drops with nothing left to cancel (none of the planned commands cancels under them). */
const planNotices = (p: Planning, sessions: ReadonlyArray<SessionPlan>): NoticePlan[] => {
  const pending = new Set(
    sessions.flatMap((s) =>
      s.commands.flatMap((c) =>
        c.type === 'CancelMeeting' && c.data.seriesCancellationId !== undefined ? [c.data.seriesCancellationId] : [],
      ),
    ),
  );
  return p.openDrops.flatMap((drop): NoticePlan[] => {
    if (pending.has(drop.cancellationId)) return [];
    const cancelled = drop.removed.flatMap((meetingId) => {
      const session = p.sessions.get(meetingId);
      return session !== undefined && session.cancelledUnder === drop.cancellationId
        ? [{ meetingId, start: session.meeting.start, end: session.meeting.end }]
        : [];
    });
    return cancelled.length > 0
      ? [{ cancellationId: drop.cancellationId, cancelled, reason: SERIES_SCHEDULE_CHANGED }]
      : [];
  });
};

/**
 * What must happen to the series' sessions now. Rules (README, "Series"): a session that has started is never
 * touched; a session in the pattern and not covered by a series cancellation exists, with the slot's time and the
 * series' details except fields edited on the session itself; a session a series edit cancelled comes back when its
 * date returns, one cancelled on its own or by a series cancellation stays cancelled; a session a recurrence change
 * removed is cancelled under that change (reason "The series schedule changed"), and once none is left to cancel the
 * change's notice lists them; a series cancellation cancels what it lists and what starts from its `from` on. A
 * session brought back by hand after a cancellation is not cancelled by that cancellation again.
 */
export const planSeries = (
  history: SeriesHistory,
  sessions: ReadonlyMap<string, Session>,
  now: string,
  by: Actor,
): SeriesPlan => {
  const state = history.series;
  if (state.status === 'none') return { sessions: [], notices: [] };
  const p = planning(history, state, sessions, now, by);
  const ids = [...new Set([...history.meetingIds, ...sessions.keys()])].sort();
  const planned = planSessions(p, ids);
  return { sessions: planned, notices: planNotices(p, planned) };
};

/** A time a series request books for one of its sessions. */
export interface Booking {
  readonly meetingId: string;
  readonly start: string;
  readonly end: string;
}

/** What a series request does to the sessions its own events name, decided before those events are appended. */
export interface RequestPlan {
  /** The commands of those sessions once the events are in the series. */
  readonly sessions: ReadonlyArray<SessionPlan>;
  /** Where the sessions it creates, moves or brings back will be, in the events' order: no double booking there. */
  readonly toBook: ReadonlyArray<Booking>;
  /** The sessions it books or removes: where they are now is no conflict. */
  readonly changing: ReadonlySet<string>;
}

/** The sessions a request's events book (created, moved or returned to the pattern) and the ones they remove. */
const namedSessions = (events: ReadonlyArray<SeriesEvent>): { booked: string[]; removed: string[] } => {
  const booked: string[] = [];
  const removed: string[] = [];
  for (const event of events) {
    if (event.type === 'SeriesScheduled') booked.push(...event.data.occurrences.map((o) => o.meetingId));
    if (event.type === 'SeriesRecurrenceChanged') {
      booked.push(...[...event.data.added, ...event.data.moved].map((o) => o.meetingId));
      removed.push(...event.data.removed.map((o) => o.meetingId));
    }
  }
  return { booked, removed };
};

/** Where a session will be once its commands ran, when they create it, move it or bring it back. */
const bookingOf = (plan: SessionPlan, session: Session | undefined): Booking | undefined => {
  let placed: { readonly start: string; readonly end: string } | undefined = session?.meeting;
  let books = false;
  for (const c of plan.commands) {
    if (c.type === 'ScheduleMeeting') placed = c.data;
    else if (c.type === 'RescheduleMeeting' && placed !== undefined)
      placed = { start: c.data.start ?? placed.start, end: c.data.end ?? placed.end };
    books ||= c.type === 'ScheduleMeeting' || c.type === 'RescheduleMeeting' || c.type === 'ReinstateMeeting';
  }
  return books && placed !== undefined
    ? { meetingId: plan.meetingId, start: placed.start, end: placed.end }
    : undefined;
};

/** Every event of a request lands after everything the history holds: nothing since then can have undone it. */
const AFTER_EVERYTHING = Number.MAX_SAFE_INTEGER;

/**
 * What a series request's events (decided, not yet appended) will do to the sessions they name: the same plan the
 * series process makes once they are appended. `sessions` needs to hold the named sessions only (a new series has
 * none).
 */
export const planRequest = (
  history: SeriesHistory,
  events: ReadonlyArray<SeriesEvent>,
  sessions: ReadonlyMap<string, Session>,
  now: string,
  by: Actor,
): RequestPlan => {
  const next = events.reduce((h, e) => evolveHistory(h, e, AFTER_EVERYTHING), history);
  const { booked, removed } = namedSessions(events);
  if (next.series.status === 'none') return { sessions: [], toBook: [], changing: new Set() };
  const p = planning(next, next.series, sessions, now, by);
  const planned = planSessions(p, [...new Set([...booked, ...removed])]);
  const byId = new Map(planned.map((s) => [s.meetingId, s]));
  const toBook = booked.flatMap((id) => {
    const plan = byId.get(id);
    const booking = plan === undefined ? undefined : bookingOf(plan, sessions.get(id));
    return booking === undefined ? [] : [booking];
  });
  return { sessions: planned, toBook, changing: new Set([...toBook.map((b) => b.meetingId), ...removed]) };
};

/** The sessions about to take part in this request. */
export const requestSessionIds = (events: ReadonlyArray<SeriesEvent>): ReadonlyArray<string> => {
  const { booked, removed } = namedSessions(events);
  return [...new Set([...booked, ...removed])];
};

/** What a series cancellation from `from` on lists: its sessions not cancelled yet that start then or later. */
export const sessionsToCancel = (sessions: Iterable<Session>, from: string): CancelledOccurrence[] =>
  [...sessions]
    .map((s) => s.meeting)
    .filter((m) => m.status !== 'cancelled' && m.start >= from)
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.id < b.id ? -1 : 1))
    .map((m) => ({ meetingId: m.id, start: m.start, end: m.end }));
