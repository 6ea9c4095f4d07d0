/**
 * FAKE KurrentDB: an in-process gRPC server for tests, speaking the KurrentDB v1 gRPC protocol with the message
 * and service definitions generated inside `@kurrent/kurrentdb-client`. It is NOT KurrentDB; it implements only
 * what `@kurrent/kurrentdb-client` 1.3.x (and the Rust bridge it uses for reads) needs for our adapter.
 *
 * Implemented: ServerFeatures.GetSupportedMethods, Streams.Append, Streams.Read (stream reads forwards/backwards,
 * $all reads forwards/backwards, catch-up + live subscriptions to a stream and to $all, server-side filters on
 * stream name or event type by prefix or regex).
 *
 * Where it differs from a real server:
 * - Everything lives in memory; data survives stop()/start() (same object) but not the process.
 * - No BatchAppend (not advertised, so the client falls back to Append), no Delete/Tombstone, no soft-deleted or
 *   tombstoned streams, no stream metadata ($$ streams, $maxAge, ACLs), no projections, no $ce-/$et- link streams,
 *   no resolveLinkTos, no persistent subscriptions, no gossip / cluster / leader checks.
 * - No system events of its own ($streamCreated, $metadata, $statsCollected, ...); a `$`-prefixed event exists
 *   only when a test calls `injectEvent` with one.
 * - No auth and no TLS: insecure h2c on 127.0.0.1 only; credentials in requests are ignored.
 * - Positions are commit == prepare, one per event, strictly increasing with gaps (byte-offset-like), starting at
 *   `firstPosition`; on a real server prepare and commit may differ and are real transaction-log offsets.
 * - Idempotency: a retried append whose event ids equal the stream's events at the same place returns the
 *   original result, for any expected revision; a real server's idempotency for `any` relies on a bounded cache.
 * - Subscriptions: confirmation, catch-up, one `caughtUp`, then live events. Filtered subscriptions get a single
 *   checkpoint when caught up, not one per search window; no `fellBehind`, no slow-consumer handling (writes are
 *   buffered by grpc-js without back-pressure), a subscription from a position excludes the event at it.
 * - $all reads from a position include the event at that position (forwards) and exclude it (backwards).
 * - Deadlines and message size limits are not enforced; errors other than wrong-expected-version are not produced.
 */
import * as grpc from '@grpc/grpc-js';
import streamsPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb.js';
import streamsGrpc from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_grpc_pb.js';
import sharedPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb.js';
import featuresPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_pb.js';
import featuresGrpc from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_grpc_pb.js';
import type {
  AppendReq,
  AppendResp,
  ReadReq,
  ReadResp,
} from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb.js';
import type { Empty } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb.js';
import type { SupportedMethods } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_pb.js';

const TICKS_PER_MS = 10_000n;

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
}

export type FakeFilter =
  | { readonly on: 'none' }
  | { readonly on: 'streamName' | 'eventType'; readonly prefixes: ReadonlyArray<string>; readonly regex: string };

/** What the fake was asked, so tests can check what a client requested. */
export type FakeRequest =
  | { readonly kind: 'features' }
  | { readonly kind: 'append'; readonly streamName: string; readonly eventIds: ReadonlyArray<string> }
  | {
      readonly kind: 'read' | 'subscribe';
      readonly target: 'stream' | 'all';
      readonly streamName?: string;
      readonly direction: 'forwards' | 'backwards';
      readonly from: 'start' | 'end' | bigint;
      readonly filter: FakeFilter;
    };

export interface FakeKurrentDb {
  readonly port: number;
  /** `kurrentdb://127.0.0.1:PORT?tls=false` */
  readonly connectionString: string;
  readonly events: ReadonlyArray<FakeStoredEvent>;
  readonly requests: ReadonlyArray<FakeRequest>;
  readonly running: boolean;
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
}

interface LiveSubscriber {
  readonly call: grpc.ServerWritableStream<ReadReq, ReadResp>;
  readonly accepts: (event: FakeStoredEvent) => boolean;
  readonly useStructuredIds: boolean;
}

export async function startFakeKurrentDb(options: FakeKurrentDbOptions = {}): Promise<FakeKurrentDb> {
  const log: FakeStoredEvent[] = [];
  const streams = new Map<string, FakeStoredEvent[]>();
  const requests: FakeRequest[] = [];
  const subscribers = new Set<LiveSubscriber>();
  let nextPosition = options.firstPosition ?? 1000n;
  let server: grpc.Server | undefined;
  let port = options.port ?? 0;

  const store = (
    streamName: string,
    type: string,
    contentType: string,
    data: Uint8Array,
    meta: Uint8Array,
    id: string,
  ) => {
    const stream = streams.get(streamName) ?? [];
    const event: FakeStoredEvent = {
      id,
      streamName,
      revision: BigInt(stream.length),
      type,
      contentType,
      data,
      customMetadata: meta,
      createdTicks: BigInt(Date.now()) * TICKS_PER_MS,
      position: nextPosition,
    };
    // Gaps between positions, as in a real transaction log where positions are byte offsets.
    nextPosition += 64n + BigInt(data.length + meta.length + streamName.length + type.length);
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

  const append: grpc.handleClientStreamingCall<AppendReq, AppendResp> = (call, callback) => {
    let header: AppendReq.Options | undefined;
    const proposed: AppendReq.ProposedMessage[] = [];
    let failed = false;
    call.on('data', (req: AppendReq) => {
      if (req.hasOptions()) header = req.getOptions();
      else if (req.hasProposedMessage()) {
        const message = req.getProposedMessage();
        if (message) proposed.push(message);
      }
    });
    call.on('error', () => {
      failed = true;
    });
    call.on('end', () => {
      if (failed) return;
      if (!header) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'append without options' });
        return;
      }
      const streamName = decodeStreamName(header.getStreamIdentifier());
      const ids = proposed.map((m) => uuidToString(m.getId()));
      requests.push({ kind: 'append', streamName, eventIds: ids });
      const existing = streams.get(streamName) ?? [];
      const currentRevision = existing.length === 0 ? undefined : BigInt(existing.length - 1);

      const replayed = findIdempotentReplay(existing, ids);
      if (replayed) {
        callback(null, successResponse(replayed.revision, replayed.position));
        return;
      }

      let ok: boolean;
      if (header.hasAny()) ok = true;
      else if (header.hasNoStream()) ok = currentRevision === undefined;
      else if (header.hasStreamExists()) ok = currentRevision !== undefined;
      else ok = currentRevision !== undefined && currentRevision === BigInt(header.getRevision());

      if (!ok) {
        const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
        if (currentRevision === undefined) wrong.setCurrentNoStream(new sharedPb.Empty());
        else wrong.setCurrentRevision(currentRevision.toString());
        if (header.hasAny()) wrong.setExpectedAny(new sharedPb.Empty());
        else if (header.hasNoStream()) wrong.setExpectedNoStream(new sharedPb.Empty());
        else if (header.hasStreamExists()) wrong.setExpectedStreamExists(new sharedPb.Empty());
        else wrong.setExpectedRevision(header.getRevision());
        const resp = new streamsPb.AppendResp();
        resp.setWrongExpectedVersion(wrong);
        callback(null, resp);
        return;
      }

      if (proposed.length === 0) {
        const resp = new streamsPb.AppendResp();
        const success = new streamsPb.AppendResp.Success();
        if (currentRevision === undefined) success.setNoStream(new sharedPb.Empty());
        else success.setCurrentRevision(currentRevision.toString());
        success.setNoPosition(new sharedPb.Empty());
        resp.setSuccess(success);
        callback(null, resp);
        return;
      }

      const written = proposed.map((m, i) => {
        const metadata = m.getMetadataMap();
        return store(
          streamName,
          metadata.get('type') ?? '',
          metadata.get('content-type') ?? 'application/octet-stream',
          m.getData_asU8(),
          m.getCustomMetadata_asU8(),
          ids[i] ?? '',
        );
      });
      const last = written[written.length - 1];
      if (!last) throw new Error('unreachable: written is not empty');
      callback(null, successResponse(last.revision, last.position));
      publish(written);
    });
  };

  const read: grpc.handleServerStreamingCall<ReadReq, ReadResp> = (call) => {
    const opts = call.request.getOptions();
    if (!opts) {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'read without options' });
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
      requests.push({ kind, target: 'stream', streamName, direction, from, filter });
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
    requests.push({ kind, target: 'all', direction, from, filter });
    if (!subscribing) {
      const count = BigInt(opts.getCount() || '0');
      let candidates: FakeStoredEvent[];
      if (backwards) {
        const before = from === 'start' ? [] : from === 'end' ? log : log.filter((e) => e.position < from);
        candidates = before.slice().reverse();
      } else {
        candidates = from === 'start' ? log : from === 'end' ? [] : log.filter((e) => e.position >= from);
      }
      let sent = 0n;
      for (const event of candidates) {
        if (sent >= count) break;
        if (!accepts(event)) continue;
        call.write(eventResponse(event, structured));
        sent += 1n;
      }
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

  const getSupportedMethods: grpc.handleUnaryCall<Empty, SupportedMethods> = (_call, callback) => {
    requests.push({ kind: 'features' });
    const methods = new featuresPb.SupportedMethods();
    methods.setEventStoreServerVersion('24.10.0');
    const supported = (service: string, method: string) => {
      const m = new featuresPb.SupportedMethod();
      m.setServiceName(service);
      m.setMethodName(method);
      return m;
    };
    methods.setMethodsList([
      supported('event_store.client.server_features.serverfeatures', 'getsupportedmethods'),
      supported('event_store.client.streams.streams', 'read'),
      supported('event_store.client.streams.streams', 'append'),
    ]);
    callback(null, methods);
  };

  const listen = async () => {
    const s = new grpc.Server();
    s.addService(streamsGrpc.StreamsService, { read, append });
    s.addService(featuresGrpc.ServerFeaturesService, { getSupportedMethods });
    port = await new Promise<number>((resolve, reject) => {
      s.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      );
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

  return {
    get port() {
      return port;
    },
    get connectionString() {
      return `kurrentdb://127.0.0.1:${port}?tls=false`;
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
    injectEvent(streamName, type, data) {
      const bytes = new TextEncoder().encode(JSON.stringify(data));
      const event = store(streamName, type, 'application/json', bytes, new Uint8Array(), crypto.randomUUID());
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

function successResponse(revision: bigint, position: bigint): AppendResp {
  const resp = new streamsPb.AppendResp();
  const success = new streamsPb.AppendResp.Success();
  success.setCurrentRevision(revision.toString());
  const pos = new streamsPb.AppendResp.Position();
  pos.setCommitPosition(position.toString());
  pos.setPreparePosition(position.toString());
  success.setPosition(pos);
  resp.setSuccess(success);
  return resp;
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
  const hex = (v: string | undefined) => BigInt.asUintN(64, BigInt(v ?? '0')).toString(16).padStart(16, '0');
  const h = hex(s?.getMostSignificantBits()) + hex(s?.getLeastSignificantBits());
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
