import { evolve } from '../../domain/series.ts';
import type { Series, SeriesEvent, SeriesState } from '../../domain/series.ts';
import type { RecordedEvent } from '../ports/event-store.ts';
import type { MeetingView, SeriesView } from '../ports/read-models.ts';

/** What the series projection stores: the aggregate's state plus bookkeeping; occurrences are joined at read time. */
export type SeriesDoc = Series & { readonly createdAt: string; readonly updatedAt: string; readonly revision: number };

export const projectSeriesDoc = (
  doc: SeriesDoc | undefined,
  event: SeriesEvent,
  recorded: RecordedEvent,
): SeriesDoc | undefined => {
  const state: SeriesState = doc === undefined ? { status: 'none' } : doc;
  const next = evolve(state, event);
  if (next.status === 'none') return undefined;
  return { ...next, createdAt: doc?.createdAt ?? event.data.at, updatedAt: event.data.at, revision: recorded.revision };
};

/** Each occurrence shows its meeting as it is now (individual edits included), cancelled ones too. */
export const seriesViewOf = (doc: SeriesDoc, meetings: ReadonlyArray<MeetingView>): SeriesView => {
  const { status, occurrences: _slots, recurrence, ...rest } = doc;
  const prefix = `${doc.id}_`;
  return {
    ...rest,
    ...recurrence,
    state: status,
    occurrences: meetings.map((m) => ({
      meetingId: m.id,
      localDate: m.id.startsWith(prefix) ? m.id.slice(prefix.length) : m.start.slice(0, 10),
      start: m.start,
      end: m.end,
      state: m.state,
    })),
  };
};
