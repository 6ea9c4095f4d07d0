import {
  BACKWARDS,
  END,
  FORWARDS,
  StreamNotFoundError,
  excludeSystemEvents,
  streamNameFilter,
} from '@kurrent/kurrentdb-client';
import type {
  AllStreamRecordedEvent,
  AllStreamResolvedEvent,
  Filter,
  KurrentDBClient,
  ReadPosition,
  RecordedEvent as KurrentRecordedEvent,
  START,
} from '@kurrent/kurrentdb-client';
import type { RecordedEvent } from '../../../application/ports/event-store.ts';
import { readPositionAfter, toPortPosition, toRecorded } from './conversions.ts';

/** Reading streams, our events of $all, and the position of the newest of them. */

const PAGE_SIZE = 500;

/** Which events of $all are ours: asked of the server, and checked again on what it sends. */
export interface StreamSelection {
  /** A fresh object per call: the client keeps state (checkpoint callbacks) on the filter it is given. */
  serverFilter(): Filter;
  /** Also applied here, so a server that ignores or widens the filter still cannot leak other or system events. */
  wanted(streamName: string, type: string): boolean;
}

/** Our streams by prefix; without prefixes, every non-system event. */
export function streamSelection(streamPrefixes: ReadonlyArray<string> | undefined): StreamSelection {
  const prefixes = streamPrefixes !== undefined && streamPrefixes.length > 0 ? [...streamPrefixes] : undefined;
  return {
    serverFilter: () => (prefixes ? streamNameFilter({ prefixes }) : excludeSystemEvents()),
    wanted: (streamName, type) =>
      !isSystem(streamName, type) && (prefixes === undefined || prefixes.some((p) => streamName.startsWith(p))),
  };
}

function isSystem(streamName: string, type: string): boolean {
  return streamName.startsWith('$') || type.startsWith('$');
}

export interface StreamRead {
  readonly fromRevision: bigint | typeof START | typeof END;
  readonly direction: typeof FORWARDS | typeof BACKWARDS;
  readonly maxCount: number;
  readonly requiresLeader?: boolean;
}

/** A stream's events as the client has them; none when the stream does not exist. */
export async function readStreamRaw(
  client: KurrentDBClient,
  streamName: string,
  read: StreamRead,
): Promise<KurrentRecordedEvent[]> {
  const out: KurrentRecordedEvent[] = [];
  try {
    // requiresLeader only when asked: otherwise the connection's node preference decides (the Rust part of the
    // client sends requires-leader for every read when that preference is `leader`, its default).
    const { requiresLeader, ...rest } = read;
    for await (const resolved of client.readStream(
      streamName,
      requiresLeader === true ? { ...rest, requiresLeader } : rest,
    )) {
      if (resolved.event) out.push(resolved.event);
    }
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
  return out;
}

/** Pages through $all until `limit` wanted events after `after` are found or the log ends. */
export async function readAllWanted(
  client: KurrentDBClient,
  selection: StreamSelection,
  after: number | undefined,
  limit: number,
): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  let cursor = after;
  for (;;) {
    const missing = limit - out.length;
    if (missing <= 0) return out;
    // One extra: a read from a position includes the event at that position, which is then skipped.
    const maxCount = Math.min(missing, PAGE_SIZE) + 1;
    let fetched = 0;
    let lastSeen: number | undefined;
    for await (const resolved of client.readAll({
      fromPosition: readPositionAfter(cursor),
      direction: FORWARDS,
      maxCount,
      filter: selection.serverFilter(),
    }) as AsyncIterable<AllStreamResolvedEvent>) {
      fetched += 1;
      const event = resolved.event;
      if (!event) continue;
      const position = toPortPosition(event.position.commit);
      lastSeen = position;
      if (cursor !== undefined && position <= cursor) continue;
      if (!selection.wanted(event.streamId, event.type)) continue;
      out.push(toRecorded(event));
      if (out.length >= limit) return out;
    }
    if (fetched < maxCount || lastSeen === undefined || (cursor !== undefined && lastSeen <= cursor)) return out;
    cursor = lastSeen;
  }
}

/**
 * Position of the newest of our events. Cheap in the usual cases: when the log's last record is ours (one record
 * read), or when nothing was written since the last answer (one record read). Otherwise one filtered read of one
 * event backwards from the end, which the server pages through only until it meets the newest of ours.
 */
export function headPositionReader(client: KurrentDBClient, selection: StreamSelection): () => Promise<number> {
  /** The newest of our events, and the log end it was found from: while the log end stays, so does the answer. */
  let knownHead: { readonly logEnd: bigint; readonly head: number } | undefined;
  return async () => {
    const last = await lastRecord(client);
    if (last === undefined) return 0;
    const logEnd = last.position.commit;
    if (selection.wanted(last.streamId, last.type)) {
      const head = toPortPosition(logEnd);
      knownHead = { logEnd, head };
      return head;
    }
    if (knownHead !== undefined && knownHead.logEnd === logEnd) return knownHead.head;
    const head = await newestWantedBefore(client, selection, END);
    knownHead = { logEnd, head };
    return head;
  };
}

/**
 * The log's last record: one record read backwards from the end, without filter or link resolution, which the
 * server answers from the end of its transaction log without scanning (Enumerator.ReadAllBackwards, count 1).
 */
async function lastRecord(client: KurrentDBClient): Promise<AllStreamRecordedEvent | undefined> {
  for await (const resolved of client.readAll({
    fromPosition: END,
    direction: BACKWARDS,
    maxCount: 1,
  }) as AsyncIterable<AllStreamResolvedEvent>) {
    if (resolved.event) return resolved.event;
  }
  return undefined;
}

/**
 * The newest of our events before `from`, one match at a time: a filtered read stops at its first match. A match
 * of the server's filter that is not ours (a plain event type in a `$` stream) moves the search past it.
 */
async function newestWantedBefore(
  client: KurrentDBClient,
  selection: StreamSelection,
  from: ReadPosition,
): Promise<number> {
  let cursor = from;
  for (;;) {
    let match: AllStreamRecordedEvent | undefined;
    for await (const resolved of client.readAll({
      fromPosition: cursor,
      direction: BACKWARDS,
      maxCount: 1,
      filter: selection.serverFilter(),
    }) as AsyncIterable<AllStreamResolvedEvent>) {
      if (resolved.event) match = resolved.event;
    }
    if (match === undefined) return 0;
    if (selection.wanted(match.streamId, match.type)) return toPortPosition(match.position.commit);
    cursor = match.position;
  }
}
