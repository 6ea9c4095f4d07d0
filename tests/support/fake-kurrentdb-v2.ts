/**
 * The fake KurrentDB's v2 StreamsService.AppendSession, the atomic multi-stream append of KurrentDB 25.1 and later
 * (what `@kurrent/kurrentdb-client`'s multiStreamAppend calls), with the semantics read from the server's source
 * (v25.1: src/KurrentDB.Api.V2/Modules/Streams/StreamsService.cs, Model/*.cs, Validators/*.cs, ApiErrors.cs,
 * Infrastructure/Errors/RpcExceptions.cs; src/KurrentDB.Core/Data/EventRecord.cs;
 * Services/Storage/StorageWriterService.cs VerifyCommitChecks). See fake-kurrentdb.ts for the rest of the fake.
 *
 * - A client-streaming call: one AppendRequest per stream (stream, records, expected revision with the v2 encoding:
 *   -1 no stream, -2 any, -4 exists, ≥ 0 a revision; absent means any), answered once the client ends the stream.
 * - Each request is checked as it arrives, as AppendSessionCommand.WithRequest does: write access, the validators
 *   (stream name, expected revision, at least one record, record id a non-empty UUID, schema format set, schema name
 *   `^[a-zA-Z0-9_.$:-]+$`, property keys non-empty) → INVALID_ARGUMENT BadRequest; the same stream twice (without
 *   regard to case) → ABORTED StreamAlreadyInAppendSession; a record over MaxAppendEventSize → INVALID_ARGUMENT
 *   AppendRecordSizeExceeded; the running total over MaxAppendSize → ABORTED AppendTransactionSizeExceeded. A record's
 *   size is its data + its properties as a protobuf Struct + the UTF-8 bytes of its schema name.
 * - No requests at all → FAILED_PRECONDITION AppendSessionNoRequests.
 * - Then one transaction: every stream at its expected revision → all events written, stream by stream in the order
 *   sent, at consecutive log positions, subscribers told in that order; the answer lists each stream's revision and
 *   the position of the last event. Every stream already holding its events (a retry) → the same answer as the first
 *   time. Otherwise nothing is written and the answer is FAILED_PRECONDITION StreamRevisionConflict naming the first
 *   stream (in the order sent) that was not at its revision or already held its events, with the revision it was
 *   expected at (as sent) and the actual one (-1: no stream).
 * - Errors carry google.rpc.Status in `grpc-status-details-bin` with two details, as RpcExceptions.FromError builds
 *   them: a google.rpc.ErrorInfo (reason, domain) then the error's details message. (The client's Status type has
 *   one `details` field; a parser keeps the last, which is the error's own details.)
 * - Stored events keep their properties; a v1 read shows them as JSON metadata with `$schema.name` (the event type)
 *   and `$schema.format` (`Json`) added, as EventRecord.SynthesizeMetadataFromProperties does.
 *
 * Where it differs from a real server:
 * - A mixture of retried and new or conflicting streams is answered with the first such stream's revision conflict,
 *   as KurrentDB 26 does; 25.1 finds no failing stream to name in that case and fails the call with an internal error.
 * - Retries are recognised as in the rest of the fake (the stream's events at the same place, for any expected
 *   revision). No deleted or tombstoned streams (no StreamTombstoned), no NotLeader, no commit timeout, no deadline.
 * - The synthesized JSON metadata is JSON.stringify's, not Google.Protobuf's JsonFormatter's spacing.
 */
import * as grpc from '@grpc/grpc-js';
import googleProtobuf from 'google-protobuf';
import anyPb from 'google-protobuf/google/protobuf/any_pb.js';
import structPb from 'google-protobuf/google/protobuf/struct_pb.js';
import streamsV2Pb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v2/streams/streams_pb.js';
import errorsV2Pb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v2/streams/errors_pb.js';
import statusPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/status_pb.js';
import type {
  AppendRecord,
  AppendRequest,
  AppendSessionResponse,
} from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v2/streams/streams_pb.js';

/** What the fake records about one AppendSession call. */
export interface FakeMultiAppendRequest {
  readonly kind: 'multiAppend';
  readonly streams: ReadonlyArray<{
    readonly streamName: string;
    readonly eventIds: ReadonlyArray<string>;
    /** As sent, in the v2 encoding (-1 no stream, -2 any, -4 exists); undefined when not sent. */
    readonly expectedRevision: bigint | undefined;
  }>;
  /** The records' sizes as the server counts them, summed over what arrived. */
  readonly size: number;
  readonly outcome: FakeMultiAppendOutcome;
  readonly requiresLeader: boolean;
  readonly user?: string;
}

export type FakeMultiAppendOutcome =
  | 'success'
  | 'idempotent'
  | 'stream-revision-conflict'
  | 'append-transaction-size-exceeded'
  | 'append-record-size-exceeded'
  | 'stream-already-in-append-session'
  | 'append-session-no-requests'
  | 'access-denied'
  | 'bad-request';

/** An event of a multi-stream append, ready for the log. */
export interface V2Event {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  /** What a v1 read shows as the event's metadata. */
  readonly metadata: Uint8Array;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** What the AppendSession handler needs of the rest of the fake. */
export interface AppendSessionHost {
  /** Authenticates the call; undefined when it may write, else the error to answer with. */
  refuseWrite(metadata: grpc.Metadata): Partial<grpc.StatusObject> | undefined;
  headers(metadata: grpc.Metadata): { readonly requiresLeader: boolean; readonly user?: string };
  currentRevision(streamName: string): bigint | undefined;
  /** Where these event ids already are in the stream, in order (a retry), if they are. */
  replayOf(streamName: string, ids: ReadonlyArray<string>): { revision: bigint; position: bigint } | undefined;
  /** Writes every stream's events in one go (at consecutive positions) and tells subscribers; the last of each. */
  commit(
    writes: ReadonlyArray<{ streamName: string; events: ReadonlyArray<V2Event> }>,
  ): ReadonlyArray<{ revision: bigint; position: bigint }>;
  record(request: FakeMultiAppendRequest): void;
  readonly maxAppendSize: number;
  readonly maxAppendEventSize: number;
}

/** google.rpc.Code */
const CODE = { INVALID_ARGUMENT: 3, FAILED_PRECONDITION: 9, ABORTED: 10, PERMISSION_DENIED: 7 } as const;
const SCHEMA_NAME = /^[a-zA-Z0-9_.$:-]+$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const SCHEMA_FORMAT_NAMES: Readonly<Record<number, string>> = { 1: 'Json', 2: 'Protobuf', 3: 'Avro', 4: 'Bytes' };

interface Pending {
  readonly streamName: string;
  readonly expected: bigint | undefined;
  readonly events: V2Event[];
}

/** A call refused: the status code, message and error details the server sends. */
class Refusal {
  constructor(
    readonly outcome: FakeMultiAppendOutcome,
    readonly status: Partial<grpc.StatusObject>,
  ) {}
}

export function appendSessionHandler(
  host: AppendSessionHost,
): grpc.handleClientStreamingCall<AppendRequest, AppendSessionResponse> {
  return (call, callback) => {
    const headers = host.headers(call.metadata);
    const pending: Pending[] = [];
    let size = 0;
    let refused: Refusal | undefined = undefined;
    let failed = false;
    const record = (outcome: FakeMultiAppendOutcome) =>
      host.record({
        kind: 'multiAppend',
        streams: pending.map((p) => ({
          streamName: p.streamName,
          eventIds: p.events.map((e) => e.id),
          expectedRevision: p.expected,
        })),
        size,
        outcome,
        ...headers,
      });
    const refuseWrite = host.refuseWrite(call.metadata);

    call.on('data', (request: AppendRequest) => {
      if (refused !== undefined) return;
      try {
        if (refuseWrite !== undefined) throw new Refusal('access-denied', refuseWrite);
        const accepted = acceptRequest(host, request, pending, size);
        pending.push(accepted.pending);
        size = accepted.size;
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        refused = error;
      }
    });
    call.on('error', () => {
      failed = true;
    });
    call.on('end', () => {
      if (failed) return;
      if (refused !== undefined) {
        record(refused.outcome);
        callback(refused.status);
        return;
      }
      if (pending.length === 0) {
        record('append-session-no-requests');
        const message = 'Append session started, but no append requests were sent before ending the session.';
        callback(apiError(CODE.FAILED_PRECONDITION, message, 'APPEND_SESSION_NO_REQUESTS', 'streams'));
        return;
      }
      const answer = decide(host, pending);
      record(answer.outcome);
      if (answer.outcome === 'stream-revision-conflict') callback(answer.status);
      else callback(null, answer.response);
    });
  };
}

/** One AppendRequest, checked as AppendSessionCommand.WithRequest and the request validators check it. */
function acceptRequest(
  host: AppendSessionHost,
  request: AppendRequest,
  pending: ReadonlyArray<Pending>,
  sizeSoFar: number,
): { pending: Pending; size: number } {
  const streamName = request.getStream();
  const expected = request.hasExpectedRevision() ? BigInt(request.getExpectedRevision() ?? '0') : undefined;
  if (streamName === '' || streamName === '$$') throw badRequest('Stream must not be empty or $$.');
  if (expected !== undefined && expected < 0n && ![-1n, -2n, -4n].includes(expected)) {
    throw badRequest(
      'Expected revision must be positive or one of the allowed constants: NoStream (-1), Any (-2) or Exists (-4).',
    );
  }
  if (request.getRecordsList().length === 0) throw badRequest('Stream append request must contain at least one record');
  if (pending.some((p) => p.streamName.toLowerCase() === streamName.toLowerCase())) {
    const details = new errorsV2Pb.StreamAlreadyInAppendSessionErrorDetails();
    details.setStream(streamName);
    throw new Refusal(
      'stream-already-in-append-session',
      apiError(
        CODE.ABORTED,
        `Stream '${streamName}' already has a different group of messages in this session.`,
        'STREAM_ALREADY_IN_APPEND_SESSION',
        'streams',
        details,
        'kurrentdb.protocol.v2.streams.errors.StreamAlreadyInAppendSessionErrorDetails',
      ),
    );
  }
  let size = sizeSoFar;
  let count = pending.reduce((n, p) => n + p.events.length, 0);
  const events: V2Event[] = [];
  for (const record of request.getRecordsList()) {
    const event = preProcess(record);
    const recordSize = event.data.length + event.propertiesSize + Buffer.byteLength(event.type, 'utf8');
    if (recordSize > host.maxAppendEventSize) {
      const details = new errorsV2Pb.AppendRecordSizeExceededErrorDetails();
      details.setStream(streamName);
      details.setRecordId(event.id);
      details.setSize(recordSize);
      details.setMaxSize(host.maxAppendEventSize);
      throw new Refusal(
        'append-record-size-exceeded',
        apiError(
          CODE.INVALID_ARGUMENT,
          `The size of record ${event.id} exceeds the maximum allowed size`,
          'APPEND_RECORD_SIZE_EXCEEDED',
          'streams',
          details,
          'kurrentdb.protocol.v2.streams.errors.AppendRecordSizeExceededErrorDetails',
        ),
      );
    }
    size += recordSize;
    count += 1;
    if (size > host.maxAppendSize) {
      const details = new errorsV2Pb.AppendTransactionSizeExceededErrorDetails();
      details.setSize(size);
      details.setMaxSize(host.maxAppendSize);
      throw new Refusal(
        'append-transaction-size-exceeded',
        apiError(
          CODE.ABORTED,
          `Transaction size (${size} bytes) exceeded the maximum allowed size of ${host.maxAppendSize}, after ${count} record(s).`,
          'APPEND_TRANSACTION_SIZE_EXCEEDED',
          'streams',
          details,
          'kurrentdb.protocol.v2.streams.errors.AppendTransactionSizeExceededErrorDetails',
        ),
      );
    }
    events.push(event.v2Event);
  }
  return { pending: { streamName, expected, events }, size };
}

/** AppendRecordExtensions.PreProcessRecord, the record validator and Mapping.MapToEvent. */
function preProcess(record: AppendRecord): {
  id: string;
  type: string;
  data: Uint8Array;
  propertiesSize: number;
  v2Event: V2Event;
} {
  const id = record.hasRecordId() ? (record.getRecordId() ?? '') : crypto.randomUUID();
  if (!UUID.test(id) || /^[0-]+$/.test(id)) throw badRequest('Record ID must be a valid and non-empty UUID.');
  const schema = record.getSchema();
  const format = schema?.getFormat() ?? 0;
  const formatName = SCHEMA_FORMAT_NAMES[format];
  if (formatName === undefined) throw badRequest('Schema format must be one of Json, Protobuf or Bytes.');
  const type = schema?.getName() ?? '';
  if (!SCHEMA_NAME.test(type)) {
    throw badRequest(
      'Schema name can only contain alphanumeric characters, underscores, dashes, periods, colons, and dollar signs.',
    );
  }
  const struct = new structPb.Struct();
  const fields = struct.getFieldsMap();
  for (const [key, value] of record.getPropertiesMap().entries()) {
    if (key === '') throw badRequest('Property keys must not be empty.');
    fields.set(key, value);
  }
  const isJson = format === 1;
  if (!isJson) fields.set('$schema.format', stringValue(formatName));
  if (schema?.hasId()) fields.set('$schema.id', stringValue(schema.getId() ?? ''));
  const propertiesSize = struct.serializeBinary().length;
  const properties = struct.toJavaScript();
  // What a v1 read shows: the properties, the schema name and, for JSON, the format (SynthesizeMetadataFromProperties).
  const shown = { ...properties, '$schema.name': type, ...(isJson ? { '$schema.format': 'Json' } : {}) };
  const data = record.getData_asU8();
  return {
    id,
    type,
    data,
    propertiesSize,
    v2Event: {
      id: id.toLowerCase(),
      type,
      contentType: isJson ? 'application/json' : 'application/octet-stream',
      data,
      metadata: new TextEncoder().encode(JSON.stringify(shown)),
      properties,
    },
  };
}

type Decision =
  | { readonly outcome: 'success' | 'idempotent'; readonly response: AppendSessionResponse }
  | { readonly outcome: 'stream-revision-conflict'; readonly status: Partial<grpc.StatusObject> };

/** VerifyCommitChecks: all streams ready, all of them retried, or the first that is neither refuses the lot. */
function decide(host: AppendSessionHost, pending: ReadonlyArray<Pending>): Decision {
  const checks = pending.map((p) => {
    const current = host.currentRevision(p.streamName);
    const replay = host.replayOf(
      p.streamName,
      p.events.map((e) => e.id),
    );
    if (replay !== undefined) return { kind: 'idempotent' as const, current, replay };
    return { kind: matches(p.expected ?? -2n, current) ? ('ok' as const) : ('wrong' as const), current };
  });
  if (checks.every((c) => c.kind === 'ok')) {
    const written = host.commit(pending.map((p) => ({ streamName: p.streamName, events: p.events })));
    const last = written[written.length - 1];
    return { outcome: 'success', response: sessionResponse(pending, written, last?.position ?? 0n) };
  }
  if (checks.every((c) => c.kind === 'idempotent')) {
    const replays = checks.map((c) => (c.kind === 'idempotent' ? c.replay : { revision: -1n, position: 0n }));
    const position = replays.reduce((max, r) => (r.position > max ? r.position : max), 0n);
    return { outcome: 'idempotent', response: sessionResponse(pending, replays, position) };
  }
  const index = checks.findIndex((c) => c.kind !== 'ok');
  const failed = pending[index] as Pending;
  const actual = checks[index]?.current ?? -1n;
  const expected = failed.expected ?? 0n;
  const details = new errorsV2Pb.StreamRevisionConflictErrorDetails();
  details.setStream(failed.streamName);
  details.setExpectedRevision(expected.toString());
  details.setActualRevision(actual.toString());
  return {
    outcome: 'stream-revision-conflict',
    status: apiError(
      CODE.FAILED_PRECONDITION,
      `Append failed due to a revision conflict on stream '${failed.streamName}'. ` +
        `Expected revision: ${expected}. Actual revision: ${actual}.`,
      'STREAM_REVISION_CONFLICT',
      'streams',
      details,
      'kurrentdb.protocol.v2.streams.errors.StreamRevisionConflictErrorDetails',
    ),
  };
}

function matches(expected: bigint, current: bigint | undefined): boolean {
  if (expected === -2n) return true;
  if (expected === -1n) return current === undefined;
  if (expected === -4n) return current !== undefined;
  return current === expected;
}

function sessionResponse(
  pending: ReadonlyArray<Pending>,
  lasts: ReadonlyArray<{ revision: bigint }>,
  position: bigint,
): AppendSessionResponse {
  const response = new streamsV2Pb.AppendSessionResponse();
  pending.forEach((p, i) => {
    const output = new streamsV2Pb.AppendResponse();
    output.setStream(p.streamName);
    output.setStreamRevision((lasts[i]?.revision ?? -1n).toString());
    response.addOutput(output);
  });
  response.setPosition(position.toString());
  return response;
}

function stringValue(text: string) {
  const value = new structPb.Value();
  value.setStringValue(text);
  return value;
}

function badRequest(message: string): Refusal {
  return new Refusal('bad-request', apiError(CODE.INVALID_ARGUMENT, message, 'BAD_REQUEST', 'server'));
}

/**
 * RpcExceptions.FromError: the status code, the message, and google.rpc.Status in `grpc-status-details-bin` with an
 * ErrorInfo first and the error's details after it. The client's Status type has a single `details` field, so the
 * repeated field is written as two concatenated Status messages (which protobuf parses as one).
 */
function apiError(
  code: number,
  message: string,
  reason: string,
  domain: string,
  details?: { serializeBinary(): Uint8Array },
  detailsType?: string,
): Partial<grpc.StatusObject> {
  const errorInfo = new googleProtobuf.BinaryWriter();
  errorInfo.writeString(1, reason);
  errorInfo.writeString(2, domain);
  const head = new statusPb.Status();
  head.setCode(code);
  head.setMessage(message);
  const info = new anyPb.Any();
  info.pack(errorInfo.getResultBuffer(), 'google.rpc.ErrorInfo');
  head.setDetails(info);
  const parts = [head.serializeBinary()];
  if (details !== undefined && detailsType !== undefined) {
    const tail = new statusPb.Status();
    const packed = new anyPb.Any();
    packed.pack(details.serializeBinary(), detailsType);
    tail.setDetails(packed);
    parts.push(tail.serializeBinary());
  }
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.concat(parts));
  return { code, details: message, metadata };
}
