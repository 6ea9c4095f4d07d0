import { evolve as evolveMeeting } from './meeting.ts';
import type { DetailField, Meeting, MeetingCommand, MeetingEvent, MeetingState } from './meeting.ts';
import { evolve as evolveSeries, initialState as initialSeries } from './series.ts';
import type { CancelledOccurrence, SeriesEvent, SeriesState, Slot } from './series.ts';
import type { Actor } from './shared.ts';
import { assertNever } from './shared.ts';

/**
 * The series process: what a series' sessions must be, given what the series says. `planSeries` is pure: series
 * history + the sessions as they are + now -> the session commands still to run (and the dropped-sessions notices
 * still to write). A plan that has been applied plans nothing, so running it again, after a crash or on a replay of
 * the log, writes nothing.
 */

export const SERIES_SCHEDULE_CHANGED = 'The series schedule changed';

/** Sessions a recurrence change removed from the pattern, cancelled and announced once under `cancellationId`. */
export interface Drop {
  readonly cancellationId: string;
  readonly position: number;
  readonly removed: ReadonlyArray<string>;
}

/** A series cancellation: the sessions it lists, and every later one from `from` on, are cancelled under it. */
export interface SeriesCancellation {
  readonly cancellationId: string;
  readonly position: number;
  readonly from: string;
  readonly cancelled: ReadonlyArray<string>;
  readonly reason?: string;
}

/** What the process needs from a series stream: the aggregate's state and what its operations asked for. */
export interface SeriesHistory {
  readonly series: SeriesState;
  /** Every meeting the series ever planned, moved, removed or cancelled. */
  readonly meetingIds: ReadonlyArray<string>;
  readonly drops: ReadonlyArray<Drop>;
  readonly cancellations: ReadonlyArray<SeriesCancellation>;
  /** Drops whose notice (`SeriesOccurrencesCancelled`) is written: they are complete and cancel nothing more. */
  readonly noticed: ReadonlyArray<string>;
}

export const initialHistory = (): SeriesHistory => ({
  series: initialSeries(),
  meetingIds: [],
  drops: [],
  cancellations: [],
  noticed: [],
});

const withIds = (
  ids: ReadonlyArray<string>,
  more: ReadonlyArray<{ readonly meetingId: string }>,
): ReadonlyArray<string> => {
  const known = new Set(ids);
  const added = more.map((m) => m.meetingId).filter((id) => !known.has(id) && (known.add(id), true));
  return added.length === 0 ? ids : [...ids, ...added];
};

/** Folds one series event (at its global position) into the history. */
export const evolveHistory = (history: SeriesHistory, event: SeriesEvent, position: number): SeriesHistory => {
  const series = evolveSeries(history.series, event);
  switch (event.type) {
    case 'SeriesScheduled':
      return { ...history, series, meetingIds: withIds(history.meetingIds, event.data.occurrences) };
    case 'SeriesRecurrenceChanged': {
      const { added, moved, removed, cancellationId } = event.data;
      const meetingIds = withIds(history.meetingIds, [...added, ...moved, ...removed]);
      // A change recorded before changes carried a cancellation id dealt with its own sessions inline; not replayed.
      const drops =
        cancellationId !== undefined && removed.length > 0
          ? [...history.drops, { cancellationId, position, removed: removed.map((r) => r.meetingId) }]
          : history.drops;
      return { ...history, series, meetingIds, drops };
    }
    case 'SeriesDetailsChanged':
      return { ...history, series };
    case 'SeriesCancelled': {
      const { cancellationId, from, cancelled, reason } = event.data;
      return {
        ...history,
        series,
        meetingIds: withIds(history.meetingIds, cancelled),
        cancellations: [
          ...history.cancellations,
          {
            cancellationId,
            position,
            from,
            cancelled: cancelled.map((c) => c.meetingId),
            ...(reason !== undefined ? { reason } : {}),
          },
        ],
      };
    }
    case 'SeriesOccurrencesCancelled':
      return {
        ...history,
        series,
        meetingIds: withIds(history.meetingIds, event.data.cancelled),
        noticed: history.noticed.includes(event.data.cancellationId)
          ? history.noticed
          : [...history.noticed, event.data.cancellationId],
      };
    default:
      return assertNever(event);
  }
};

/** A session as the process sees it: the meeting, and which series cancellations it went through. */
export interface Session {
  readonly meeting: Meeting;
  /** Every series cancellation it was ever cancelled under (kept after a reinstatement). */
  readonly seriesCancellations: ReadonlyArray<string>;
  /** The series cancellation of its current cancel, when it is cancelled under one. */
  readonly cancelledUnder?: string;
  /** Global position of its latest reinstatement: brought back after a cancellation, it is not cancelled by it again. */
  readonly reinstatedAt?: number;
}

/** Folds one meeting event (at its global position) into the session. */
export const evolveSession = (
  session: Session | undefined,
  event: MeetingEvent,
  position: number,
): Session | undefined => {
  const state: MeetingState = session?.meeting ?? { status: 'none' };
  const next = evolveMeeting(state, event);
  if (next.status === 'none') return undefined;
  const base: Session = {
    meeting: next,
    seriesCancellations: session?.seriesCancellations ?? [],
    ...(session?.cancelledUnder !== undefined ? { cancelledUnder: session.cancelledUnder } : {}),
    ...(session?.reinstatedAt !== undefined ? { reinstatedAt: session.reinstatedAt } : {}),
  };
  if (event.type === 'SessionCancelled') {
    const id = event.data.seriesCancellationId;
    const { cancelledUnder: _previous, ...rest } = base;
    return id === undefined
      ? rest
      : { ...rest, cancelledUnder: id, seriesCancellations: [...rest.seriesCancellations, id] };
  }
  if (event.type === 'MeetingReinstated') {
    const { cancelledUnder: _previous, ...rest } = base;
    return { ...rest, reinstatedAt: position };
  }
  return base;
};

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

/** The meetings whose state a plan depends on: the ones the series names. */
export const sessionIdsOf = (history: SeriesHistory): ReadonlyArray<string> => history.meetingIds;

const textFields = ['title', 'description', 'customerMetadata', 'instructorMetadata'] as const;

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
  const stamp = { at: now, by };
  const pattern = new Map(state.occurrences.map((slot) => [slot.meetingId, slot]));
  const covered = (start: string) => state.cancelledFrom !== undefined && start >= state.cancelledFrom;
  const seriesCancellationIds = new Set(history.cancellations.map((c) => c.cancellationId));
  const openDrops = history.drops.filter((d) => !history.noticed.includes(d.cancellationId));
  const pendingDrops = new Set<string>();
  const untouchedSince = (session: Session, position: number) =>
    session.reinstatedAt === undefined || session.reinstatedAt < position;

  const schedule = (slot: Slot): MeetingCommand => ({
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
      ...(state.remoteLink !== undefined ? { remoteLink: state.remoteLink } : {}),
      description: state.description,
      customerMetadata: state.customerMetadata,
      instructorMetadata: state.instructorMetadata,
      ...stamp,
    },
  });

  /** The commands that bring an active session in the pattern to its slot and the series' details. */
  const align = (m: Meeting, slot: Slot): MeetingCommand[] => {
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
        data: {
          trainingType: state.trainingType,
          ...(state.remoteLink !== undefined ? { remoteLink: state.remoteLink } : {}),
          origin: 'series',
          ...stamp,
        },
      });
    }
    return commands;
  };

  const cancel = (cancellationId: string, reason: string | undefined): MeetingCommand => ({
    type: 'CancelMeeting',
    data: {
      origin: 'series',
      seriesCancellationId: cancellationId,
      ...(reason !== undefined ? { reason } : {}),
      ...stamp,
    },
  });

  const planOne = (meetingId: string): MeetingCommand[] => {
    const session = sessions.get(meetingId);
    const slot = pattern.get(meetingId);
    if (session === undefined) {
      return slot !== undefined && slot.start > now && !covered(slot.start) ? [schedule(slot)] : [];
    }
    const m = session.meeting;
    if (m.start <= now) return [];
    const active = m.status !== 'cancelled';
    if (active) {
      const cancellation = history.cancellations.find(
        (c) =>
          (c.cancelled.includes(meetingId) || m.start >= c.from) &&
          !session.seriesCancellations.includes(c.cancellationId) &&
          untouchedSince(session, c.position),
      );
      if (cancellation !== undefined) return [cancel(cancellation.cancellationId, cancellation.reason)];
      if (slot === undefined) {
        const drop = openDrops.find(
          (d) =>
            d.removed.includes(meetingId) &&
            !session.seriesCancellations.includes(d.cancellationId) &&
            untouchedSince(session, d.position),
        );
        if (drop === undefined) return [];
        pendingDrops.add(drop.cancellationId);
        return [cancel(drop.cancellationId, SERIES_SCHEDULE_CHANGED)];
      }
    }
    if (slot === undefined || slot.start <= now || covered(slot.start)) return [];
    if (active) return align(m, slot);
    // Cancelled by a series edit (not by hand, not by a series cancellation) and its date is back: it returns.
    const byEdit =
      m.cancelledBy === 'series' &&
      (session.cancelledUnder === undefined || !seriesCancellationIds.has(session.cancelledUnder));
    if (!byEdit) return [];
    const { cancelledBy: _cancelledBy, ...reinstated } = m;
    return [{ type: 'ReinstateMeeting', data: stamp }, ...align({ ...reinstated, status: 'planned' }, slot)];
  };

  const ids = [...new Set([...history.meetingIds, ...sessions.keys()])].sort();
  const planned = ids
    .map((meetingId) => ({ meetingId, commands: planOne(meetingId) }))
    .filter((p) => p.commands.length > 0);

  const notices = openDrops.flatMap((drop): NoticePlan[] => {
    if (pendingDrops.has(drop.cancellationId)) return [];
    const cancelled = drop.removed.flatMap((meetingId) => {
      const session = sessions.get(meetingId);
      return session !== undefined && session.cancelledUnder === drop.cancellationId
        ? [{ meetingId, start: session.meeting.start, end: session.meeting.end }]
        : [];
    });
    return cancelled.length > 0
      ? [{ cancellationId: drop.cancellationId, cancelled, reason: SERIES_SCHEDULE_CHANGED }]
      : [];
  });
  return { sessions: planned, notices };
};
