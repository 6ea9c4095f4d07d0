import { ANY, NO_STREAM, START, STREAM_EXISTS } from '@kurrent/kurrentdb-client';
import type {
  AppendStreamState,
  EventData,
  JSONType,
  ReadPosition,
  RecordedEvent as KurrentRecordedEvent,
} from '@kurrent/kurrentdb-client';
import type { EventToAppend, ExpectedRevision, RecordedEvent } from '../../../application/ports/event-store.ts';
import { serialiseEventToAppend } from '../append-checks.ts';
import { decodeForeignMetadata, encodeMetadata, encodeMetadataProperties } from '../metadata.ts';

/** Between the port's events, positions and revisions and the client's. */

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Positions are bigint in the client; the port uses numbers, so the conversion happens here and only here. */
export function toPortPosition(commit: bigint): number {
  if (commit < 0n || commit > MAX_SAFE) {
    throw new RangeError(`KurrentDB commit position ${commit} cannot be represented exactly as a JS number`);
  }
  return Number(commit);
}

export function toPortRevision(revision: bigint): number {
  if (revision < -1n || revision > MAX_SAFE) {
    throw new RangeError(`KurrentDB stream revision ${revision} cannot be represented exactly as a JS number`);
  }
  return Number(revision);
}

export function readPositionAfter(after: number | undefined): ReadPosition {
  if (after === undefined) return START;
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new RangeError(`position ${after} is not a non-negative integer`);
  }
  // commit == prepare: the adapter only knows commit positions; events at exactly `after` are skipped by the caller.
  return { commit: BigInt(after), prepare: BigInt(after) };
}

export function toStreamState(expected: ExpectedRevision): AppendStreamState {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw new RangeError(`expected revision ${expected} is not a non-negative integer`);
  }
  return BigInt(expected);
}

/** An append's size as the server counts it (Event.SizeOnDisk summed), from what the client will send. */
export function appendSize(data: ReadonlyArray<EventData>): number {
  let size = 0;
  for (const event of data) {
    size += Buffer.byteLength(JSON.stringify(event.data), 'utf8');
    if (event.metadata !== undefined) size += Buffer.byteLength(JSON.stringify(event.metadata), 'utf8');
    size += event.type.length * 2;
  }
  return size;
}

/**
 * An event as the client sends it. Its data is re-parsed now, so that a caller mutating its objects after the call
 * cannot change what gets sent. For the multi-stream append (the v2 AppendSession, `properties`) its metadata travels
 * as flat string properties, which the server stores as such and shows to v1 reads as JSON metadata (the properties
 * plus `$schema.name` and `$schema.format`, EventRecord.SynthesizeMetadataFromProperties), so toRecorded reads both
 * kinds of event alike.
 */
export function toEventData(
  streamName: string,
  event: EventToAppend,
  index: number,
  metadataAs: 'json' | 'properties' = 'json',
): EventData {
  const json = serialiseEventToAppend(streamName, event, index);
  return {
    id: event.id,
    contentType: 'application/json',
    type: event.type,
    data: JSON.parse(json) as JSONType,
    metadata:
      metadataAs === 'json' ? (encodeMetadata(event.metadata) as JSONType) : encodeMetadataProperties(event.metadata),
  };
}

/**
 * A multi-stream append's size as the server counts it (AppendRecordExtensions.CalculateSizeOnDisk, summed over the
 * records): the data, the properties as a protobuf Struct, and the UTF-8 bytes of the type.
 */
export function multiAppendSize(data: ReadonlyArray<EventData>): number {
  let size = 0;
  for (const event of data) {
    size += Buffer.byteLength(JSON.stringify(event.data), 'utf8');
    size += structSize(event.metadata as Readonly<Record<string, string>>);
    size += Buffer.byteLength(event.type, 'utf8');
  }
  return size;
}

/** The protobuf encoding of a Struct of string values: one map entry (key, Value{string_value}) per property. */
function structSize(properties: Readonly<Record<string, string>>): number {
  let size = 0;
  for (const [key, value] of Object.entries(properties)) {
    const keyField = delimited(Buffer.byteLength(key, 'utf8'));
    const valueField = delimited(delimited(Buffer.byteLength(value, 'utf8')));
    size += delimited(keyField + valueField);
  }
  return size;
}

/** A length-delimited field: a one-byte tag, the length as a varint, the bytes. */
function delimited(length: number): number {
  let varint = 1;
  while (length >= 128 ** varint) varint += 1;
  return 1 + varint + length;
}

export function toRecorded(event: KurrentRecordedEvent): RecordedEvent {
  if (event.position === undefined) {
    throw new Error(`KurrentDB returned event ${event.id} of ${event.streamId} without a position`);
  }
  return {
    id: event.id,
    streamName: event.streamId,
    revision: toPortRevision(event.revision),
    position: toPortPosition(event.position.commit),
    type: event.type,
    data: event.data,
    metadata: decodeForeignMetadata(event.metadata),
    recordedAt: event.created.toISOString(),
  };
}
