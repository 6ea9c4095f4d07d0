import { evolve as evolveMeeting } from './meeting.ts';
import type { Meeting, MeetingEvent, MeetingState } from './meeting.ts';
import { evolve as evolveSeries, initialState as initialSeries } from './series.ts';
import type { SeriesEvent, SeriesState } from './series.ts';
import { assertNever } from './shared.ts';

/**
 * What the series process knows: a series' history and its sessions, each folded from its own stream. The planner
 * (series-planner.ts) decides on them what the sessions must become.
 */

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
            reason,
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
    cancelledUnder: session?.cancelledUnder,
    reinstatedAt: session?.reinstatedAt,
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
