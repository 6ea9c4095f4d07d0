import type { Either } from 'fp-ts/lib/Either.js';

/**
 * The event store port, shaped on KurrentDB semantics so that the embedded SQLite store, the in-memory store
 * and the KurrentDB adapter are interchangeable. Revisions count from 0 within a stream; positions are global,
 * strictly increasing across the whole log (gap-free only where `capabilities.gapFreePositions` says so).
 */

export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface EventMetadata {
  readonly actor?: { readonly id: string; readonly roles: ReadonlyArray<string> };
  readonly correlationId?: string;
  readonly causationId?: string;
}

export interface EventToAppend {
  /** Set by the caller (a UUID), so that a retried append can be recognised. */
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: EventMetadata;
}

export interface RecordedEvent {
  readonly id: string;
  readonly streamName: string;
  readonly revision: number;
  readonly position: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  /** ISO 8601 instant at which the store recorded the event. */
  readonly recordedAt: string;
}

export interface AppendResult {
  /** Revision of the last event written (the stream's new current revision). */
  readonly nextExpectedRevision: number;
  /** Global position of the last event written. */
  readonly position: number;
}

/** One stream's part of an atomic multi-stream append. */
export interface StreamAppend {
  readonly streamName: string;
  /** At least one event. */
  readonly events: ReadonlyArray<EventToAppend>;
  readonly expectedRevision: ExpectedRevision;
  /**
   * The id of the event the stream must end with (besides being at `expectedRevision`), for a decision built on an
   * append that is not answered yet: if that append is refused and another writer appends as many events first, the
   * revision matches but this does not. Only where `capabilities.checksLastEventId` (RangeError elsewhere).
   */
  readonly expectedLastEventId?: string;
}

export interface MultiStreamAppendResult {
  /** Global position of the last event written, across all the streams. */
  readonly position: number;
  /** Each stream's new current revision, in the order the streams were given. */
  readonly streams: ReadonlyArray<{ readonly streamName: string; readonly nextExpectedRevision: number }>;
}

/**
 * The store cannot append to several streams atomically (a KurrentDB server older than 25.1, which has no
 * multi-stream append): nothing was written, and the caller must do without (see the booking saga).
 */
export class MultiStreamAppendUnsupportedError extends Error {
  override readonly name = 'MultiStreamAppendUnsupportedError';
  constructor(readonly store: string) {
    super(`The ${store} event store cannot append to several streams atomically`);
  }
}

export interface WrongExpectedRevision {
  readonly _tag: 'WrongExpectedRevision';
  readonly streamName: string;
  readonly expected: ExpectedRevision;
  /** Current revision, or -1 when the stream does not exist. */
  readonly actual: number;
}

export interface ReadStreamOptions {
  readonly fromRevision?: number;
  /**
   * A decision depends on this read (a command is decided on it): on a cluster, read from the leader, never from a
   * follower that may lag behind and make a correct expected revision look stale. Stores with one copy ignore it.
   */
  readonly requiresLeader?: boolean;
}

/**
 * The store refuses an append this large (KurrentDB: 1 MiB per append by default). The same append is refused every
 * time, so retrying it is pointless: whoever made it has to make it smaller or leave it behind.
 */
export class AppendTooLargeError extends Error {
  override readonly name = 'AppendTooLargeError';
  constructor(
    readonly streamName: string,
    /** Bytes as the store counts them; undefined when only the store's refusal is known. */
    readonly size: number | undefined,
    readonly limit: number,
  ) {
    super(
      `The append to ${streamName} is ${size === undefined ? 'over' : `${size} bytes, over`} the event store's limit of ${limit} bytes per append`,
    );
  }
}

export interface ReadAllOptions {
  /** Only events with a position strictly greater than this (a checkpoint). Omitted: from the start. */
  readonly after?: number;
  readonly limit?: number;
}

export interface SubscribeOptions {
  readonly after?: number;
  /**
   * Streams (by name prefix) whose events the handler ignores: a store may leave them out (the embedded ones do;
   * others may still deliver them), and then calls `onPassed` with the position of the last event it left out,
   * once every event before it has been handled, so that the subscriber's position still reaches the log's head.
   */
  readonly ignoreStreamPrefixes?: ReadonlyArray<string>;
  readonly onPassed?: (position: number) => void;
}

export interface Subscription {
  /** Stops delivering; resolves once any in-flight handler call has finished. */
  stop(): Promise<void>;
}

export type SubscriptionHandler = (event: RecordedEvent) => Promise<void> | void;

/** How a store's connection to its server is: 'reconnecting' while it retries, 'down' once it has given up hope. */
export type EventStoreConnectionStatus = 'connected' | 'reconnecting' | 'down';

export interface EventStoreCapabilities {
  readonly gapFreePositions: boolean;
  readonly name: string;
  /** appendToStreams checks `expectedLastEventId` (the embedded stores, which decide appends in the order given). */
  readonly checksLastEventId?: boolean;
}

export interface EventStore {
  readonly capabilities: EventStoreCapabilities;

  /** Throws AppendTooLargeError when the store's size limit refuses the append (nothing is written). */
  appendToStream(
    streamName: string,
    events: ReadonlyArray<EventToAppend>,
    options?: { readonly expectedRevision?: ExpectedRevision },
  ): Promise<Either<WrongExpectedRevision, AppendResult>>;

  /**
   * Appends to several streams at once, all or nothing: each stream's events land only if every stream is at its
   * expected revision, else nothing is written and the answer names the first stream that was not. The events are
   * written stream by stream in the order given, next to each other in the log. A stream may appear once per call,
   * with at least one event (RangeError otherwise; KurrentDB tells stream names apart without regard to case here).
   * As on KurrentDB, a retry (every stream already holds these event ids where they were put) answers as the first
   * time did, while a partial match is no retry: the answer names the first stream, in the order given, that moved
   * or already held its events. Only the correlation and causation ids of the metadata are kept (KurrentDB stores
   * them as flat properties), not the actor. Rejects with MultiStreamAppendUnsupportedError (nothing written) when
   * the store cannot do it atomically (`supportsMultiStreamAppend` says so beforehand), and with AppendTooLargeError
   * as appendToStream does.
   */
  appendToStreams(
    appends: ReadonlyArray<StreamAppend>,
  ): Promise<Either<WrongExpectedRevision, MultiStreamAppendResult>>;

  /** Whether appendToStreams is atomic here; a store that talks to a server may have to ask it (once). */
  supportsMultiStreamAppend(): Promise<boolean>;

  /** All events of one stream, oldest first; an empty array when the stream does not exist. */
  readStream(streamName: string, options?: ReadStreamOptions): Promise<ReadonlyArray<RecordedEvent>>;

  /** Events of every stream in global order. */
  readAll(options?: ReadAllOptions): Promise<ReadonlyArray<RecordedEvent>>;

  /** Position of the newest event, or 0 when the log is empty. */
  headPosition(): Promise<number>;

  /**
   * Catch-up subscription: delivers every event after `after` in order, then follows live appends.
   * The handler is awaited, so events are delivered one at a time. A handler error stops the subscription and is
   * passed to `onError`. The event handed over may be the very object other subscriptions are handed (the embedded
   * stores read new events once for all of them): a handler must not change it.
   */
  subscribeToAll(
    options: SubscribeOptions,
    handler: SubscriptionHandler,
    onError?: (error: unknown) => void,
  ): Subscription;

  /** Stores that talk to a server say how that connection is; an embedded store has none and leaves this out. */
  connectionStatus?(): EventStoreConnectionStatus;

  close(): Promise<void>;
}
