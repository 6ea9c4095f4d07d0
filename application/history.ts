import * as E from 'fp-ts/lib/Either.js';
import { Actor } from '../domain/shared.ts';
import type { EventStore, RecordedEvent } from './ports/event-store.ts';
import type { HistoryEntry, HistoryPage } from './ports/read-models.ts';

/**
 * Audit histories, read from the event log itself (the streams are the history; no copy of them is kept): who did
 * what and when, page by page. The streams asked for are those of one meeting, series or the settings, so they are
 * read whole and the page is cut out of them.
 */
export interface Histories {
  /** A stream's events after `after` (a revision; -1 for the start), oldest first, at most `limit` (-1: all). */
  history(streamName: string, page?: HistoryPage): Promise<ReadonlyArray<HistoryEntry>>;
  /**
   * The events of several streams in log order, after the first `after + 1` of them (-1 for the start), at most
   * `limit`: as the log only grows at its end, an entry's place in this order never changes.
   */
  mergedHistory(streamNames: ReadonlyArray<string>, page?: HistoryPage): Promise<ReadonlyArray<HistoryEntry>>;
}

const WHOLE: HistoryPage = { after: -1, limit: -1 };

const unknownActor: Actor = { id: 'unknown', roles: [] };

/** An event as its history shows it: when and by whom as the event says (else as the store recorded it). */
export const historyEntryOf = (recorded: RecordedEvent): HistoryEntry => {
  const data = recorded.data as { at?: unknown; by?: unknown } | null;
  const actor = Actor.decode(data?.by ?? recorded.metadata.actor);
  return {
    revision: recorded.revision,
    position: recorded.position,
    type: recorded.type,
    at: typeof data?.at === 'string' ? data.at : recorded.recordedAt,
    actor: E.isRight(actor) ? actor.right : unknownActor,
    data: recorded.data,
  };
};

/** `count` entries from `from` on (all of them for a negative count). */
const slice = <T>(items: ReadonlyArray<T>, from: number, count: number): ReadonlyArray<T> =>
  count < 0 ? items.slice(from) : items.slice(from, from + count);

export const createHistories = (store: Pick<EventStore, 'readStream' | 'headPosition'>): Histories => ({
  history: async (streamName, page = WHOLE) => {
    const events = await store.readStream(streamName, { fromRevision: Math.max(0, page.after + 1) });
    return slice(events, 0, page.limit).map(historyEntryOf);
  },
  mergedHistory: async (streamNames, page = WHOLE) => {
    // The streams are read one after the other: what was appended to an earlier one while a later one was read is
    // left for the next request, so no entry ever shows up before one that precedes it in the log.
    const head = await store.headPosition();
    const streams = await Promise.all([...new Set(streamNames)].map((name) => store.readStream(name)));
    const merged = streams
      .flat()
      .filter((event) => event.position <= head)
      .sort((a, b) => a.position - b.position);
    return slice(merged, Math.max(0, page.after + 1), page.limit).map(historyEntryOf);
  },
});
