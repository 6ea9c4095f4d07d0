/**
 * FAKE KurrentDB: an in-process gRPC server for tests, speaking the KurrentDB v1 gRPC protocol with the message
 * and service definitions generated inside `@kurrent/kurrentdb-client`. It is NOT KurrentDB; it implements what
 * `@kurrent/kurrentdb-client` 1.3.x (grpc-js for appends and subscriptions, the Rust bridge `@kurrent/bridge` with
 * the `kurrentdb` 1.1 crate for reads) sends for our adapter, with the semantics read from the server's source
 * (KurrentDB v24.10, src/EventStore.Core/Services/Transport/Grpc: Streams.BatchAppend.cs, Streams.Append.cs,
 * Streams.Read.cs, ServerFeatures.cs, Status.cs, RpcExceptions.cs; Enumerators/ReadAllBackwardsFiltered.cs).
 *
 * Implemented:
 * - ServerFeatures.GetSupportedMethods, reporting the version (25.1.0 by default, 24.10.0 with
 *   `multiStreamAppend: false`) and the methods the fake implements, with the features the real server attaches
 *   (`batchappend`: deadline_duration; `read`: position, events). The client sends its appends through BatchAppend
 *   when it is listed, as against a real server.
 * - The v2 StreamsService.AppendSession, the atomic multi-stream append of KurrentDB 25.1+, in
 *   fake-kurrentdb-v2.ts (its header says how). With `multiStreamAppend: false` the fake is a server before 25.1:
 *   the service is not there (a call to it is answered UNIMPLEMENTED) and GetSupportedMethods does not list it.
 *   `advertiseMultiStreamAppend` makes the list say otherwise than what is served (a node behind a proxy, a leader
 *   of another version during a rolling upgrade). fake-kurrentdb-process.ts runs the fake in a process of its own,
 *   with these options passed from the test.
 * - Streams.BatchAppend: one bidirectional stream carrying many appends, told apart by correlation id; options in
 *   the first request of an append, events in one or more requests, `is_final` on the last; expected revision
 *   (any / no_stream / stream_exists / revision); a deadline (the `deadline_21_10_0` timestamp or the `deadline`
 *   duration) already passed answers Timeout, an append whose final request does not arrive before it answers
 *   Timeout; results as the server reports them: Success with current revision and position, or a google.rpc
 *   Status error (WrongExpectedVersion / AlreadyExists, MaximumAppendSizeExceeded / InvalidArgument, AccessDenied /
 *   PermissionDenied, Timeout / DeadlineExceeded, BadRequest) packed in `Any` as the client unpacks it.
 * - Streams.Append (the client uses it when an append carries per-call credentials), with the same checks; its
 *   errors are the RpcExceptions the server throws (`exception` metadata).
 * - Max append size: the sum over an append's events of data + metadata + 2 × type length (Event.SizeOnDisk) must
 *   not exceed `maxAppendSize` (1,048,576 bytes by default, as `MaxAppendSize` in ClusterVNodeOptions).
 * - Streams.Read: stream reads forwards/backwards, $all reads forwards/backwards, catch-up + live subscriptions to
 *   a stream and to $all, server-side filters on stream name or event type by prefix or regex. A filtered $all
 *   read goes on until it has `count` matches or reaches the end of the log, as ReadAllBackwardsFiltered pages on.
 *   Each $all read records how many log records it examined (`scanned`), so tests can tell a scan from an O(1) read.
 * - Access control (option `users`): the fake then behaves as a secure server with its default ACLs: a request
 *   without credentials is anonymous and refused (AllowAnonymousStreamAccess is false by default), a wrong user or
 *   password is Unauthenticated, reading or subscribing to $all needs the `$admins` group (the default system
 *   stream ACL) or `readAll: true` (an explicit grant in `$$$all`). Use with `tls: true`: over h2c the Node part of
 *   the client sends no credentials at all (the Rust part does), exactly as against a real server.
 * - TLS (option `tls`): a certificate for 127.0.0.1 signed by the test CA in tests/support/fake-kurrentdb-tls/
 *   (test-only keys, valid until 2126); `connectionString` then names that CA with `tlsCAFile`.
 * - Every request is recorded in `requests`, with the `requires-leader` header it carried.
 *
 * Where it differs from a real server:
 * - Everything lives in memory; data survives stop()/start() (same object) but not the process.
 * - No Delete/Tombstone, no soft-deleted or tombstoned streams, no stream metadata ($$ streams, $maxAge, ACLs set
 *   through metadata), no projections, no $ce-/$et- link streams, no resolveLinkTos, no persistent subscriptions,
 *   no users or groups other than the `users` option, no bearer tokens, no gossip / cluster: `requires-leader` is
 *   recorded, never answered with NotLeader (the fake is always the leader).
 * - No system events of its own ($streamCreated, $metadata, $statsCollected, ...); a `$`-prefixed event exists
 *   only when a test calls `injectEvent` with one.
 * - Positions are commit == prepare, one per event, strictly increasing with gaps (byte-offset-like), starting at
 *   `firstPosition`; on a real server prepare and commit may differ and are real transaction-log offsets.
 * - Idempotency: a retried append whose event ids equal the stream's events at the same place returns the
 *   original result, for any expected revision; a real server's idempotency for `any` relies on a bounded cache.
 * - Writes complete at once: no write timeout (WriteTimeoutMs) on the write itself, no commit/prepare timeouts.
 *   MaxAppendEventSize (per event, unlimited by default) is not enforced.
 * - Subscriptions: confirmation, catch-up, one `caughtUp`, then live events. Filtered subscriptions get a single
 *   checkpoint when caught up, not one per search window; no `fellBehind`, no slow-consumer handling (writes are
 *   buffered by grpc-js without back-pressure), a subscription from a position excludes the event at it.
 * - $all reads from a position include the event at that position (forwards) and exclude it (backwards).
 * - gRPC message size limits and read deadlines are not enforced.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import anyPb from 'google-protobuf/google/protobuf/any_pb.js';
import streamsPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb.js';
import streamsGrpc from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_grpc_pb.js';
import sharedPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb.js';
import statusPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/status_pb.js';
import featuresPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_pb.js';
import featuresGrpc from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_grpc_pb.js';
import type {
  AppendReq,
  AppendResp,
  BatchAppendReq,
  BatchAppendResp,
  ReadReq,
  ReadResp,
} from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb.js';
import type { Empty } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb.js';
import type { SupportedMethods } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_pb.js';
import streamsV2Grpc from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v2/streams/streams_grpc_pb.js';
import { appendSessionHandler } from './fake-kurrentdb-v2.ts';
import type { AppendSessionHost, FakeMultiAppendRequest, V2Event } from './fake-kurrentdb-v2.ts';

export type { FakeMultiAppendOutcome, FakeMultiAppendRequest } from './fake-kurrentdb-v2.ts';

const TICKS_PER_MS = 10_000n;
/** ClusterVNodeOptions.Application.MaxAppendSize */
export const DEFAULT_MAX_APPEND_SIZE = 1_024 * 1_024;
/** google.rpc.Code, as in code.proto */
const RPC_CODE = { DEADLINE_EXCEEDED: 4, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, INVALID_ARGUMENT: 3 } as const;

const TLS_DIR = fileURLToPath(new URL('./fake-kurrentdb-tls/', import.meta.url));
export const FAKE_KURRENTDB_CA_FILE = `${TLS_DIR}ca.pem`;

export interface FakeStoredEvent {
  readonly id: string;
  readonly streamName: string;
  readonly revision: bigint;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
  /** .NET ticks (100 ns) since the Unix epoch, as the real server puts in the `created` metadata entry. */
  readonly createdTicks: bigint;
  readonly position: bigint;
  /** Events of a multi-stream append: the properties they were written with (a v1 read shows them as metadata). */
  readonly properties?: Readonly<Record<string, unknown>>;
}

export type FakeFilter =
  | { readonly on: 'none' }
  | { readonly on: 'streamName' | 'eventType'; readonly prefixes: ReadonlyArray<string>; readonly regex: string };

interface RequestHeaders {
  /** The `requires-leader: true` header was sent. */
  readonly requiresLeader: boolean;
  /** The authenticated user, or undefined for anonymous requests. */
  readonly user?: string;
}

/** What the fake was asked, so tests can check what a client requested. */
export type FakeRequest =
  | ({ readonly kind: 'features' } & RequestHeaders)
  | ({
      readonly kind: 'append' | 'batchAppend';
      readonly streamName: string;
      readonly eventIds: ReadonlyArray<string>;
      /** Event.SizeOnDisk summed over the append. */
      readonly size: number;
      readonly outcome: FakeAppendOutcome;
    } & RequestHeaders)
  | ({
      readonly kind: 'read' | 'subscribe';
      readonly target: 'stream' | 'all';
      readonly streamName?: string;
      readonly direction: 'forwards' | 'backwards';
      readonly from: 'start' | 'end' | bigint;
      readonly filter: FakeFilter;
      readonly count?: bigint;
      /** $all reads: log records examined to answer (a read of the last record examines 1). */
      scanned?: number;
      readonly denied?: boolean;
    } & RequestHeaders)
  | FakeMultiAppendRequest;

export type FakeAppendOutcome =
  | 'success'
  | 'idempotent'
  | 'wrong-expected-version'
  | 'maximum-append-size-exceeded'
  | 'access-denied'
  | 'timeout'
  | 'bad-request';

export interface FakeUser {
  readonly password: string;
  readonly groups?: ReadonlyArray<string>;
  /** Read access to $all granted explicitly (as an `$r` entry in `$$$all`), besides `$admins`. */
  readonly readAll?: boolean;
}

export interface FakeKurrentDb {
  readonly port: number;
  /** `kurrentdb://127.0.0.1:PORT?tls=false`, or with TLS `...?tls=true&tlsCAFile=<the test CA>` */
  readonly connectionString: string;
  /** The connection string with these credentials. */
  connectionStringFor(user: string, password: string): string;
  readonly events: ReadonlyArray<FakeStoredEvent>;
  readonly requests: ReadonlyArray<FakeRequest>;
  readonly running: boolean;
  readonly maxAppendSize: number;
  /** Appends directly to the log (bypassing gRPC), e.g. a `$`-prefixed system event; notifies subscribers. */
  injectEvent(streamName: string, type: string, data: unknown): FakeStoredEvent;
  /** Simulates the server going away: cancels every open call and stops listening. Data is kept. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

export interface FakeKurrentDbOptions {
  /** Position of the first event; large values exercise bigint handling. Default 1000. */
  readonly firstPosition?: bigint;
  readonly port?: number;
  /** Default 1,048,576, the server's default. */
  readonly maxAppendSize?: number;
  /** The version GetSupportedMethods reports. Default 25.1.0, or 24.10.0 with `multiStreamAppend: false`. */
  readonly serverVersion?: string;
  /** Serve the v2 AppendSession (KurrentDB 25.1+). Default true; false: a server before 25.1. */
  readonly multiStreamAppend?: boolean;
  /** Whether GetSupportedMethods lists AppendSession. Default: as `multiStreamAppend`. */
  readonly advertiseMultiStreamAppend?: boolean;
  /** MaxAppendEventSize, bytes per event of a multi-stream append. Default unlimited, as the server's. */
  readonly maxAppendEventSize?: number;
  /** Serve TLS with the test certificate. */
  readonly tls?: boolean;
  /** Turns access control on: these users only, anonymous requests refused. */
  readonly users?: Readonly<Record<string, FakeUser>>;
}

interface LiveSubscriber {
  readonly call: grpc.ServerWritableStream<ReadReq, ReadResp>;
  readonly accepts: (event: FakeStoredEvent) => boolean;
  readonly useStructuredIds: boolean;
}

type Expected =
  { readonly kind: 'any' | 'no_stream' | 'stream_exists' } | { readonly kind: 'revision'; readonly revision: bigint };

interface ProposedEvent {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  readonly properties?: Readonly<Record<string, unknown>>;
}

type AppendResult =
  | {
      readonly ok: true;
      readonly revision: bigint;
      readonly position: bigint | undefined;
      readonly idempotent: boolean;
    }
  | { readonly ok: false; readonly current: bigint | undefined };

type Access =
  | { readonly ok: true; readonly user?: string }
  | { readonly ok: false; readonly code: grpc.status; readonly details: string };

/** Event.SizeOnDisk: data + metadata + 2 bytes per UTF-16 unit of the type. */
const sizeOnDisk = (event: ProposedEvent): number => event.data.length + event.metadata.length + event.type.length * 2;

export async function startFakeKurrentDb(options: FakeKurrentDbOptions = {}): Promise<FakeKurrentDb> {
  const log: FakeStoredEvent[] = [];
  const streams = new Map<string, FakeStoredEvent[]>();
  const requests: FakeRequest[] = [];
  const subscribers = new Set<LiveSubscriber>();
  const maxAppendSize = options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE;
  const users = options.users;
  let nextPosition = options.firstPosition ?? 1000n;
  let server: grpc.Server | undefined;
  let port = options.port ?? 0;

  const store = (streamName: string, proposed: ProposedEvent) => {
    const stream = streams.get(streamName) ?? [];
    const event: FakeStoredEvent = {
      id: proposed.id,
      streamName,
      revision: BigInt(stream.length),
      type: proposed.type,
      contentType: proposed.contentType,
      data: proposed.data,
      customMetadata: proposed.metadata,
      createdTicks: BigInt(Date.now()) * TICKS_PER_MS,
      position: nextPosition,
      ...(proposed.properties !== undefined ? { properties: proposed.properties } : {}),
    };
    // Gaps between positions, as in a real transaction log where positions are byte offsets.
    nextPosition +=
      64n + BigInt(proposed.data.length + proposed.metadata.length + streamName.length + proposed.type.length);
    stream.push(event);
    streams.set(streamName, stream);
    log.push(event);
    return event;
  };

  const publish = (events: ReadonlyArray<FakeStoredEvent>) => {
    for (const subscriber of subscribers) {
      for (const event of events) {
        if (subscriber.accepts(event)) subscriber.call.write(eventResponse(event, subscriber.useStructuredIds));
      }
    }
  };

  const headersOf = (metadata: grpc.Metadata, access: Access): RequestHeaders => ({
    requiresLeader: metadata.get('requires-leader').some((v) => String(v).toLowerCase() === 'true'),
    ...(access.ok && access.user !== undefined ? { user: access.user } : {}),
  });

  /** Authentication as the server's middleware does it, before any operation. */
  const authenticate = (metadata: grpc.Metadata): Access => {
    if (users === undefined) return { ok: true };
    const header = metadata.get('authorization')[0];
    if (header === undefined) return { ok: true };
    const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(String(header));
    const decoded = match?.[1] !== undefined ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const name = colon < 0 ? '' : decoded.slice(0, colon);
    const user = Object.hasOwn(users, name) ? users[name] : undefined;
    if (user === undefined || colon < 0 || decoded.slice(colon + 1) !== user.password) {
      return { ok: false, code: grpc.status.UNAUTHENTICATED, details: 'Bad HTTP status code' };
    }
    return { ok: true, user: name };
  };

  /** The default ACLs: user streams for every authenticated user, $all for $admins or an explicit grant. */
  const authorize = (access: Access, target: 'stream' | 'all'): boolean => {
    if (!access.ok) return false;
    if (users === undefined) return true;
    if (access.user === undefined) return false;
    if (target === 'stream') return true;
    const user = users[access.user];
    return user !== undefined && (user.readAll === true || (user.groups ?? []).includes('$admins'));
  };

  const currentRevision = (streamName: string): bigint | undefined => {
    const existing = streams.get(streamName) ?? [];
    return existing.length === 0 ? undefined : BigInt(existing.length - 1);
  };

  const write = (streamName: string, expected: Expected, proposed: ReadonlyArray<ProposedEvent>): AppendResult => {
    const existing = streams.get(streamName) ?? [];
    const current = currentRevision(streamName);
    const replayed = findIdempotentReplay(
      existing,
      proposed.map((p) => p.id),
    );
    if (replayed) return { ok: true, revision: replayed.revision, position: replayed.position, idempotent: true };
    const matches =
      expected.kind === 'any' ||
      (expected.kind === 'no_stream' && current === undefined) ||
      (expected.kind === 'stream_exists' && current !== undefined) ||
      (expected.kind === 'revision' && current !== undefined && current === expected.revision);
    if (!matches) return { ok: false, current };
    if (proposed.length === 0) return { ok: true, revision: current ?? -1n, position: undefined, idempotent: false };
    const written = proposed.map((p) => store(streamName, p));
    const last = written[written.length - 1];
    if (!last) throw new Error('unreachable: written is not empty');
    publish(written);
    return { ok: true, revision: last.revision, position: last.position, idempotent: false };
  };

  const multiStreamAppend = options.multiStreamAppend ?? true;
  const appendSessionHost: AppendSessionHost = {
    refuseWrite: (metadata) => {
      const access = authenticate(metadata);
      if (!access.ok) return { code: access.code, details: access.details };
      if (!authorize(access, 'stream')) return { code: grpc.status.PERMISSION_DENIED, details: 'Access denied' };
      return undefined;
    },
    headers: (metadata) => headersOf(metadata, authenticate(metadata)),
    currentRevision,
    replayOf: (streamName, ids) => findIdempotentReplay(streams.get(streamName) ?? [], ids),
    commit: (writes) => {
      const stored = writes.map(({ streamName, events }) => events.map((e: V2Event) => store(streamName, e)));
      publish(stored.flat());
      return stored.map((events) => {
        const last = events[events.length - 1];
        if (!last) throw new Error('unreachable: a stream of a multi-stream append has events');
        return last;
      });
    },
    record: (request) => requests.push(request),
    maxAppendSize,
    maxAppendEventSize: options.maxAppendEventSize ?? Number.MAX_SAFE_INTEGER,
  };

  const batchAppend = (call: grpc.ServerDuplexStream<BatchAppendReq, BatchAppendResp>) => {
    const access = authenticate(call.metadata);
    const headers = headersOf(call.metadata, access);
    if (!access.ok) {
      call.emit('error', { code: access.code, details: access.details });
      return;
    }
    interface Pending {
      readonly streamName: string;
      readonly expected: Expected;
      readonly events: ProposedEvent[];
      size: number;
      readonly timer: NodeJS.Timeout;
    }
    const pending = new Map<string, Pending>();
    const respond = (
      correlation: sharedPb.UUID | undefined,
      streamName: string,
      fill: (resp: BatchAppendResp) => void,
    ) => {
      const resp = new streamsPb.BatchAppendResp();
      if (correlation) resp.setCorrelationId(correlation);
      resp.setStreamIdentifier(streamIdentifier(streamName));
      fill(resp);
      if (!call.writableEnded && !call.destroyed) call.write(resp);
    };
    const record = (
      streamName: string,
      events: ReadonlyArray<ProposedEvent>,
      size: number,
      outcome: FakeAppendOutcome,
    ) =>
      requests.push({ kind: 'batchAppend', streamName, eventIds: events.map((e) => e.id), size, outcome, ...headers });

    call.on('data', (req: BatchAppendReq) => {
      const correlation = req.getCorrelationId();
      const correlationId = uuidToString(correlation);
      const opts = req.getOptions();
      if (opts) {
        const streamName = decodeStreamName(opts.getStreamIdentifier());
        if (!authorize(access, 'stream')) {
          record(streamName, [], 0, 'access-denied');
          respond(correlation, streamName, (r) =>
            r.setError(
              rpcStatus(
                RPC_CODE.PERMISSION_DENIED,
                'AccessDenied',
                new sharedPb.AccessDenied(),
                'event_store.client.AccessDenied',
              ),
            ),
          );
          return;
        }
        if (!opts.hasStreamIdentifier()) {
          record(streamName, [], 0, 'bad-request');
          const bad = new sharedPb.BadRequest();
          bad.setMessage('Required field StreamIdentifier not set.');
          respond(correlation, streamName, (r) =>
            r.setError(rpcStatus(RPC_CODE.INVALID_ARGUMENT, 'BadRequest', bad, 'event_store.client.BadRequest')),
          );
          return;
        }
        const remainingMs = requestedTimeoutMs(opts);
        const timedOut = () => {
          const p = pending.get(correlationId);
          if (!p) return;
          pending.delete(correlationId);
          record(streamName, p.events, p.size, 'timeout');
          respond(correlation, streamName, (r) =>
            r.setError(
              rpcStatus(RPC_CODE.DEADLINE_EXCEEDED, 'Timeout', new sharedPb.Timeout(), 'event_store.client.Timeout'),
            ),
          );
        };
        if (remainingMs <= 0) {
          record(streamName, [], 0, 'timeout');
          respond(correlation, streamName, (r) =>
            r.setError(
              rpcStatus(RPC_CODE.DEADLINE_EXCEEDED, 'Timeout', new sharedPb.Timeout(), 'event_store.client.Timeout'),
            ),
          );
          return;
        }
        if (!pending.has(correlationId)) {
          const timer = setTimeout(timedOut, Math.min(remainingMs, 2_147_483_647));
          timer.unref();
          pending.set(correlationId, { streamName, expected: expectedOfBatch(opts), events: [], size: 0, timer });
        }
      }
      const p = pending.get(correlationId);
      if (!p) return;
      for (const message of req.getProposedMessagesList()) {
        const event = proposedEvent(message);
        p.events.push(event);
        p.size += sizeOnDisk(event);
      }
      if (p.size > maxAppendSize) {
        clearTimeout(p.timer);
        pending.delete(correlationId);
        record(p.streamName, p.events, p.size, 'maximum-append-size-exceeded');
        const exceeded = new sharedPb.MaximumAppendSizeExceeded();
        exceeded.setMaxappendsize(maxAppendSize);
        respond(correlation, p.streamName, (r) =>
          r.setError(
            rpcStatus(
              RPC_CODE.INVALID_ARGUMENT,
              'MaximumAppendSizeExceeded',
              exceeded,
              'event_store.client.MaximumAppendSizeExceeded',
            ),
          ),
        );
        return;
      }
      if (!req.getIsFinal()) return;
      clearTimeout(p.timer);
      pending.delete(correlationId);
      const result = write(p.streamName, p.expected, p.events);
      if (!result.ok) {
        record(p.streamName, p.events, p.size, 'wrong-expected-version');
        respond(correlation, p.streamName, (r) =>
          r.setError(
            rpcStatus(
              RPC_CODE.ALREADY_EXISTS,
              'WrongExpectedVersion',
              wrongExpectedVersion(result.current, p.expected),
              'event_store.client.WrongExpectedVersion',
            ),
          ),
        );
        return;
      }
      record(p.streamName, p.events, p.size, result.idempotent ? 'idempotent' : 'success');
      respond(correlation, p.streamName, (r) => {
        const success = new streamsPb.BatchAppendResp.Success();
        if (result.revision >= 0n) success.setCurrentRevision(result.revision.toString());
        else success.setNoStream(new sharedPb.Empty());
        if (result.position !== undefined) success.setPosition(allStreamPosition(result.position));
        else success.setNoPosition(new sharedPb.Empty());
        r.setSuccess(success);
      });
    });
    const forgetAll = () => {
      for (const p of pending.values()) clearTimeout(p.timer);
      pending.clear();
    };
    call.on('end', () => {
      forgetAll();
      call.end();
    });
    call.on('error', forgetAll);
    call.on('cancelled', forgetAll);
  };

  const append: grpc.handleClientStreamingCall<AppendReq, AppendResp> = (call, callback) => {
    const access = authenticate(call.metadata);
    const headers = headersOf(call.metadata, access);
    let header: AppendReq.Options | undefined;
    const proposed: ProposedEvent[] = [];
    let failed = false;
    call.on('data', (req: AppendReq) => {
      if (req.hasOptions()) header = req.getOptions();
      else if (req.hasProposedMessage()) {
        const message = req.getProposedMessage();
        if (message) proposed.push(proposedEvent(message));
      }
    });
    call.on('error', () => {
      failed = true;
    });
    call.on('end', () => {
      if (failed) return;
      if (!access.ok) {
        callback({ code: access.code, details: access.details });
        return;
      }
      if (!header) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'append without options' });
        return;
      }
      const streamName = decodeStreamName(header.getStreamIdentifier());
      const size = proposed.reduce((sum, e) => sum + sizeOnDisk(e), 0);
      const record = (outcome: FakeAppendOutcome) =>
        requests.push({ kind: 'append', streamName, eventIds: proposed.map((e) => e.id), size, outcome, ...headers });
      if (!authorize(access, 'stream')) {
        record('access-denied');
        callback(accessDeniedError());
        return;
      }
      if (size > maxAppendSize) {
        record('maximum-append-size-exceeded');
        const metadata = new grpc.Metadata();
        metadata.set('exception', 'maximum-append-size-exceeded');
        metadata.set('maximum-append-size', String(maxAppendSize));
        callback({
          code: grpc.status.INVALID_ARGUMENT,
          details: `Maximum Append Size of ${maxAppendSize} Exceeded.`,
          metadata,
        });
        return;
      }
      const expected = expectedOfAppend(header);
      const result = write(streamName, expected, proposed);
      if (!result.ok) {
        record('wrong-expected-version');
        const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
        if (result.current === undefined) wrong.setCurrentNoStream(new sharedPb.Empty());
        else wrong.setCurrentRevision(result.current.toString());
        if (expected.kind === 'any') wrong.setExpectedAny(new sharedPb.Empty());
        else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new sharedPb.Empty());
        else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new sharedPb.Empty());
        else if (expected.kind === 'revision') wrong.setExpectedRevision(expected.revision.toString());
        const resp = new streamsPb.AppendResp();
        resp.setWrongExpectedVersion(wrong);
        callback(null, resp);
        return;
      }
      record(result.idempotent ? 'idempotent' : 'success');
      const resp = new streamsPb.AppendResp();
      const success = new streamsPb.AppendResp.Success();
      if (result.revision >= 0n) success.setCurrentRevision(result.revision.toString());
      else success.setNoStream(new sharedPb.Empty());
      if (result.position !== undefined) {
        const pos = new streamsPb.AppendResp.Position();
        pos.setCommitPosition(result.position.toString());
        pos.setPreparePosition(result.position.toString());
        success.setPosition(pos);
      } else success.setNoPosition(new sharedPb.Empty());
      resp.setSuccess(success);
      callback(null, resp);
    });
  };

  const read: grpc.handleServerStreamingCall<ReadReq, ReadResp> = (call) => {
    const access = authenticate(call.metadata);
    const headers = headersOf(call.metadata, access);
    const opts = call.request.getOptions();
    if (!opts) {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'read without options' });
      return;
    }
    if (!access.ok) {
      call.emit('error', { code: access.code, details: access.details });
      return;
    }
    const backwards = opts.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;
    const structured = opts.getUuidOption()?.hasStructured() ?? false;
    const filter = parseFilter(opts);
    const accepts = (event: FakeStoredEvent) => matches(filter, event);
    const subscribing = opts.hasSubscription();
    const kind = subscribing ? 'subscribe' : 'read';
    const direction = backwards ? 'backwards' : 'forwards';

    if (opts.hasStream()) {
      const so = opts.getStream();
      const streamName = decodeStreamName(so?.getStreamIdentifier());
      const from: 'start' | 'end' | bigint = so?.hasRevision()
        ? BigInt(so.getRevision())
        : so?.hasEnd()
          ? 'end'
          : 'start';
      const denied = !authorize(access, 'stream');
      requests.push({
        kind,
        target: 'stream',
        streamName,
        direction,
        from,
        filter,
        ...(denied ? { denied } : {}),
        ...headers,
      });
      if (denied) {
        call.emit('error', accessDeniedError());
        return;
      }
      const stream = streams.get(streamName) ?? [];
      if (!subscribing) {
        if (stream.length === 0) {
          const resp = new streamsPb.ReadResp();
          const notFound = new streamsPb.ReadResp.StreamNotFound();
          notFound.setStreamIdentifier(streamIdentifier(streamName));
          resp.setStreamNotFound(notFound);
          call.write(resp);
          call.end();
          return;
        }
        const asked = BigInt(opts.getCount() || '0');
        const count = asked > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(asked);
        let selected: FakeStoredEvent[];
        if (backwards) {
          const last = stream.length - 1;
          const startIndex = from === 'end' ? last : from === 'start' ? 0 : Math.min(Number(from), last);
          selected = stream.slice(0, startIndex + 1).reverse();
        } else {
          const startIndex = from === 'start' ? 0 : from === 'end' ? stream.length : Number(from);
          selected = stream.slice(startIndex);
        }
        for (const event of selected.slice(0, count)) call.write(eventResponse(event, structured));
        call.end();
        return;
      }
      // Subscription to one stream: from a revision is exclusive, as on a real server.
      const catchUp = from === 'end' ? [] : from === 'start' ? [...stream] : stream.filter((e) => e.revision > from);
      subscribe(call, catchUp, (e) => e.streamName === streamName, structured, filter.on !== 'none');
      return;
    }

    const ao = opts.getAll();
    const from: 'start' | 'end' | bigint = ao?.hasPosition()
      ? BigInt(ao.getPosition()?.getCommitPosition() ?? '0')
      : ao?.hasEnd()
        ? 'end'
        : 'start';
    const denied = !authorize(access, 'all');
    const count = subscribing ? undefined : BigInt(opts.getCount() || '0');
    const request: FakeRequest = {
      kind,
      target: 'all',
      direction,
      from,
      filter,
      ...(count !== undefined ? { count } : {}),
      ...(denied ? { denied } : {}),
      ...headers,
    };
    requests.push(request);
    if (denied) {
      call.emit('error', accessDeniedError());
      return;
    }
    if (!subscribing) {
      const limit = count ?? 0n;
      // Index of the first record to examine and the step: the log is scanned record by record from there.
      let index: number;
      if (backwards) {
        index = from === 'start' ? -1 : from === 'end' ? log.length - 1 : lastIndexBefore(log, from);
      } else {
        index = from === 'start' ? 0 : from === 'end' ? log.length : firstIndexAtOrAfter(log, from);
      }
      const step = backwards ? -1 : 1;
      let sent = 0n;
      let scanned = 0;
      while (sent < limit && index >= 0 && index < log.length) {
        const event = log[index];
        index += step;
        if (!event) break;
        scanned += 1;
        if (!accepts(event)) continue;
        call.write(eventResponse(event, structured));
        sent += 1n;
      }
      request.scanned = scanned;
      call.end();
      return;
    }
    const catchUp = from === 'end' ? [] : from === 'start' ? [...log] : log.filter((e) => e.position > from);
    subscribe(call, catchUp.filter(accepts), accepts, structured, filter.on !== 'none');
  };

  const subscribe = (
    call: grpc.ServerWritableStream<ReadReq, ReadResp>,
    catchUp: ReadonlyArray<FakeStoredEvent>,
    accepts: (event: FakeStoredEvent) => boolean,
    structured: boolean,
    filtered: boolean,
  ) => {
    const confirmation = new streamsPb.ReadResp();
    const confirmed = new streamsPb.ReadResp.SubscriptionConfirmation();
    confirmed.setSubscriptionId(crypto.randomUUID());
    confirmation.setConfirmation(confirmed);
    call.write(confirmation);
    for (const event of catchUp) call.write(eventResponse(event, structured));
    const last = log[log.length - 1];
    if (filtered && last) {
      const checkpointResp = new streamsPb.ReadResp();
      const checkpoint = new streamsPb.ReadResp.Checkpoint();
      checkpoint.setCommitPosition(last.position.toString());
      checkpoint.setPreparePosition(last.position.toString());
      checkpointResp.setCheckpoint(checkpoint);
      call.write(checkpointResp);
    }
    const caughtUp = new streamsPb.ReadResp();
    caughtUp.setCaughtUp(new streamsPb.ReadResp.CaughtUp());
    call.write(caughtUp);
    // Registered in the same tick as the catch-up was written, so no append can fall between the two.
    const subscriber: LiveSubscriber = { call, accepts, useStructuredIds: structured };
    subscribers.add(subscriber);
    const forget = () => subscribers.delete(subscriber);
    call.on('cancelled', forget);
    call.on('close', forget);
    call.on('error', forget);
  };

  const getSupportedMethods: grpc.handleUnaryCall<Empty, SupportedMethods> = (call, callback) => {
    requests.push({ kind: 'features', ...headersOf(call.metadata, { ok: true }) });
    const methods = new featuresPb.SupportedMethods();
    methods.setEventStoreServerVersion(options.serverVersion ?? (multiStreamAppend ? '25.1.0' : '24.10.0'));
    const supported = (service: string, method: string, features: string[] = []) => {
      const m = new featuresPb.SupportedMethod();
      m.setServiceName(service);
      m.setMethodName(method);
      m.setFeaturesList(features);
      return m;
    };
    methods.setMethodsList([
      supported('event_store.client.server_features.serverfeatures', 'getsupportedmethods'),
      supported('event_store.client.streams.streams', 'read', ['position', 'events']),
      supported('event_store.client.streams.streams', 'append'),
      supported('event_store.client.streams.streams', 'batchappend', ['deadline_duration']),
      ...((options.advertiseMultiStreamAppend ?? multiStreamAppend)
        ? [supported('kurrentdb.protocol.v2.streams.streamsservice', 'appendsession')]
        : []),
    ]);
    callback(null, methods);
  };

  const credentials = () => {
    if (!options.tls) return grpc.ServerCredentials.createInsecure();
    return grpc.ServerCredentials.createSsl(null, [
      { cert_chain: readFileSync(`${TLS_DIR}node.pem`), private_key: readFileSync(`${TLS_DIR}node.key`) },
    ]);
  };

  const listen = async () => {
    const s = new grpc.Server();
    s.addService(streamsGrpc.StreamsService, { read, append, batchAppend });
    s.addService(featuresGrpc.ServerFeaturesService, { getSupportedMethods });
    if (multiStreamAppend) {
      s.addService(streamsV2Grpc.StreamsServiceService, {
        appendSession: appendSessionHandler(appendSessionHost),
        appendRecords: (_call: unknown, callback: grpc.sendUnaryData<never>) =>
          callback({ code: grpc.status.UNIMPLEMENTED, details: 'AppendRecords is a KurrentDB 26 method' }),
      });
    }
    port = await new Promise<number>((resolve, reject) => {
      s.bindAsync(`127.0.0.1:${port}`, credentials(), (error, bound) => (error ? reject(error) : resolve(bound)));
    });
    server = s;
  };

  const shutdown = async () => {
    const s = server;
    if (!s) return;
    server = undefined;
    for (const subscriber of subscribers) subscriber.call.destroy();
    subscribers.clear();
    s.forceShutdown();
  };

  await listen();

  const connectionStringWith = (userInfo: string) =>
    options.tls
      ? `kurrentdb://${userInfo}127.0.0.1:${port}?tls=true&tlsCAFile=${encodeURIComponent(FAKE_KURRENTDB_CA_FILE)}`
      : `kurrentdb://${userInfo}127.0.0.1:${port}?tls=false`;

  return {
    get port() {
      return port;
    },
    get connectionString() {
      return connectionStringWith('');
    },
    connectionStringFor(user, password) {
      return connectionStringWith(`${encodeURIComponent(user)}:${encodeURIComponent(password)}@`);
    },
    get events() {
      return log;
    },
    get requests() {
      return requests;
    },
    get running() {
      return server !== undefined;
    },
    maxAppendSize,
    injectEvent(streamName, type, data) {
      const bytes = new TextEncoder().encode(JSON.stringify(data));
      const event = store(streamName, {
        id: crypto.randomUUID(),
        type,
        contentType: 'application/json',
        data: bytes,
        metadata: new Uint8Array(),
      });
      publish([event]);
      return event;
    },
    stop: shutdown,
    async start() {
      if (server) return;
      await listen();
    },
    close: shutdown,
  };
}

/** Index of the last event before `position` (backwards reads from a position exclude it), or -1. */
function lastIndexBefore(log: ReadonlyArray<FakeStoredEvent>, position: bigint): number {
  for (let i = log.length - 1; i >= 0; i--) if ((log[i]?.position ?? 0n) < position) return i;
  return -1;
}

function firstIndexAtOrAfter(log: ReadonlyArray<FakeStoredEvent>, position: bigint): number {
  const found = log.findIndex((e) => e.position >= position);
  return found < 0 ? log.length : found;
}

/** The time the server allows an append: the requested deadline (as a duration or a timestamp) from now. */
function requestedTimeoutMs(opts: BatchAppendReq.Options): number {
  if (opts.hasDeadline()) {
    const d = opts.getDeadline();
    return (d?.getSeconds() ?? 0) * 1000 + (d?.getNanos() ?? 0) / 1e6;
  }
  const ts = opts.getDeadline21100();
  if (!ts) return Number.MAX_SAFE_INTEGER;
  return ts.getSeconds() * 1000 + ts.getNanos() / 1e6 - Date.now();
}

function expectedOfBatch(opts: BatchAppendReq.Options): Expected {
  if (opts.hasStreamPosition()) return { kind: 'revision', revision: BigInt(opts.getStreamPosition()) };
  if (opts.hasNoStream()) return { kind: 'no_stream' };
  if (opts.hasStreamExists()) return { kind: 'stream_exists' };
  return { kind: 'any' };
}

function expectedOfAppend(opts: AppendReq.Options): Expected {
  if (opts.hasAny()) return { kind: 'any' };
  if (opts.hasNoStream()) return { kind: 'no_stream' };
  if (opts.hasStreamExists()) return { kind: 'stream_exists' };
  return { kind: 'revision', revision: BigInt(opts.getRevision()) };
}

interface ProposedMessageLike {
  getId(): UuidMessage | undefined;
  getMetadataMap(): { get(key: string): string | undefined };
  getData_asU8(): Uint8Array;
  getCustomMetadata_asU8(): Uint8Array;
}

function proposedEvent(message: ProposedMessageLike): ProposedEvent {
  const metadata = message.getMetadataMap();
  return {
    id: uuidToString(message.getId()),
    type: metadata.get('type') ?? '',
    contentType: metadata.get('content-type') ?? 'application/octet-stream',
    data: message.getData_asU8(),
    metadata: message.getCustomMetadata_asU8(),
  };
}

/** WrongExpectedVersion.Create in the server: the current revision (or no stream) and what was expected. */
function wrongExpectedVersion(current: bigint | undefined, expected: Expected) {
  const wrong = new sharedPb.WrongExpectedVersion();
  if (current === undefined) wrong.setCurrentNoStream(new sharedPb.Empty());
  else wrong.setCurrentStreamRevision(current.toString());
  if (expected.kind === 'any') wrong.setExpectedAny(new sharedPb.Empty());
  else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new sharedPb.Empty());
  else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new sharedPb.Empty());
  else if (expected.kind === 'revision') wrong.setExpectedStreamPosition(expected.revision.toString());
  return wrong;
}

/** A google.rpc.Status with its details packed in Any, as Status.cs builds them. */
function rpcStatus(code: number, message: string, details: { serializeBinary(): Uint8Array }, typeName: string) {
  const status = new statusPb.Status();
  status.setCode(code);
  status.setMessage(message);
  const any = new anyPb.Any();
  any.pack(details.serializeBinary(), typeName);
  status.setDetails(any);
  return status;
}

/** RpcExceptions.AccessDenied() */
function accessDeniedError(): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set('exception', 'access-denied');
  return { code: grpc.status.PERMISSION_DENIED, details: 'Access Denied', metadata };
}

function allStreamPosition(position: bigint) {
  const pos = new sharedPb.AllStreamPosition();
  pos.setCommitPosition(position.toString());
  pos.setPreparePosition(position.toString());
  return pos;
}

function findIdempotentReplay(
  existing: ReadonlyArray<FakeStoredEvent>,
  ids: ReadonlyArray<string>,
): FakeStoredEvent | undefined {
  const firstId = ids[0];
  if (firstId === undefined) return undefined;
  const start = existing.findIndex((e) => e.id === firstId);
  if (start < 0 || start + ids.length > existing.length) return undefined;
  for (let i = 0; i < ids.length; i++) if (existing[start + i]?.id !== ids[i]) return undefined;
  return existing[start + ids.length - 1];
}

function parseFilter(opts: ReadReq.Options): FakeFilter {
  if (!opts.hasFilter()) return { on: 'none' };
  const f = opts.getFilter();
  const expression = f?.hasStreamIdentifier() ? f.getStreamIdentifier() : f?.getEventType();
  return {
    on: f?.hasStreamIdentifier() ? 'streamName' : 'eventType',
    prefixes: expression?.getPrefixList() ?? [],
    regex: expression?.getRegex() ?? '',
  };
}

function matches(filter: FakeFilter, event: FakeStoredEvent): boolean {
  if (filter.on === 'none') return true;
  const subject = filter.on === 'streamName' ? event.streamName : event.type;
  if (filter.prefixes.length > 0) return filter.prefixes.some((p) => subject.startsWith(p));
  if (filter.regex !== '') return new RegExp(filter.regex).test(subject);
  return true;
}

function eventResponse(event: FakeStoredEvent, structuredId: boolean): ReadResp {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(uuidMessage(event.id, structuredId));
  recorded.setStreamIdentifier(streamIdentifier(event.streamName));
  recorded.setStreamRevision(event.revision.toString());
  recorded.setCommitPosition(event.position.toString());
  recorded.setPreparePosition(event.position.toString());
  const metadata = recorded.getMetadataMap();
  metadata.set('type', event.type);
  metadata.set('content-type', event.contentType);
  metadata.set('created', event.createdTicks.toString());
  recorded.setData(event.data);
  recorded.setCustomMetadata(event.customMetadata);
  const readEvent = new streamsPb.ReadResp.ReadEvent();
  readEvent.setEvent(recorded);
  readEvent.setCommitPosition(event.position.toString());
  const resp = new streamsPb.ReadResp();
  resp.setEvent(readEvent);
  return resp;
}

function streamIdentifier(name: string) {
  const id = new sharedPb.StreamIdentifier();
  id.setStreamName(new TextEncoder().encode(name));
  return id;
}

function decodeStreamName(id: { getStreamName_asU8(): Uint8Array } | undefined): string {
  return id ? new TextDecoder().decode(id.getStreamName_asU8()) : '';
}

function uuidMessage(id: string, structured: boolean) {
  const uuid = new sharedPb.UUID();
  if (!structured) {
    uuid.setString(id);
    return uuid;
  }
  const hex = id.replaceAll('-', '');
  const signed = (h: string) => BigInt.asIntN(64, BigInt(`0x${h}`)).toString();
  const s = new sharedPb.UUID.Structured();
  s.setMostSignificantBits(signed(hex.slice(0, 16)));
  s.setLeastSignificantBits(signed(hex.slice(16)));
  uuid.setStructured(s);
  return uuid;
}

interface UuidMessage {
  hasStructured(): boolean;
  getString(): string;
  getStructured(): { getMostSignificantBits(): string; getLeastSignificantBits(): string } | undefined;
}

function uuidToString(uuid: UuidMessage | undefined): string {
  if (!uuid) return crypto.randomUUID();
  if (!uuid.hasStructured()) return uuid.getString();
  const s = uuid.getStructured();
  const hex = (v: string | undefined) =>
    BigInt.asUintN(64, BigInt(v ?? '0'))
      .toString(16)
      .padStart(16, '0');
  const h = hex(s?.getMostSignificantBits()) + hex(s?.getLeastSignificantBits());
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
