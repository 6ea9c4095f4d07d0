import { left, right } from 'fp-ts/lib/Either.js';
import {
  ANY,
  AccessDeniedError,
  BACKWARDS,
  END,
  FORWARDS,
  KurrentDBClient,
  MaxAppendSizeExceededError,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  excludeSystemEvents,
  streamNameFilter,
} from '@kurrent/kurrentdb-client';
import { serialiseEventToAppend } from './append-checks.ts';
import type {
  AllStreamRecordedEvent,
  AllStreamResolvedEvent,
  AllStreamSubscription,
  AppendStreamState,
  EventData,
  Filter,
  JSONType,
  ReadPosition,
  RecordedEvent as KurrentRecordedEvent,
} from '@kurrent/kurrentdb-client';
import { AppendTooLargeError } from '../../application/ports/event-store.ts';
import type {
  EventMetadata,
  EventStore,
  EventStoreCapabilities,
  EventToAppend,
  ExpectedRevision,
  ReadAllOptions,
  RecordedEvent,
  Subscription,
  SubscriptionHandler,
} from '../../application/ports/event-store.ts';

export type KurrentDbConnectionStatus = 'connected' | 'reconnecting' | 'down';

export interface KurrentDbEventStore extends EventStore {
  /**
   * The last connection state this store observed: 'reconnecting' after a dropped subscription or a failed call,
   * 'down' once resubscribing has failed `downAfterFailedAttempts` times in a row, or after close().
   */
  connectionStatus(): KurrentDbConnectionStatus;
}

export interface KurrentDbLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface KurrentDbEventStoreOptions {
  /** e.g. `kurrentdb://admin:changeit@db.example:2113?tls=true`, `kurrentdb://127.0.0.1:2113?tls=false` */
  readonly connectionString: string;
  /**
   * Our streams, e.g. ['meeting-', 'series-', 'person-', 'settings-']: readAll, headPosition and subscriptions
   * then ask the server for these streams only. Without it, they ask for every non-system event.
   */
  readonly streamPrefixes?: ReadonlyArray<string>;
  readonly logger?: KurrentDbLogger;
  /** How long start-up waits for the server before rejecting. Default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** Backoff for resubscribing after a drop: doubles from initialDelayMs up to maxDelayMs. Default 200 / 5000. */
  readonly retry?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** Consecutive failed resubscribe attempts after which connectionStatus() says 'down'. Default 5. */
  readonly downAfterFailedAttempts?: number;
  /**
   * The server's MaxAppendSize (bytes per append, counted as the server does: data + metadata + 2 × type length per
   * event). Larger appends are refused here, before anything is sent. Default 1,048,576, the server's default.
   */
  readonly maxAppendSize?: number;
}

/** The server's default MaxAppendSize (ClusterVNodeOptions.Application.MaxAppendSize). */
export const KURRENTDB_DEFAULT_MAX_APPEND_SIZE = 1_024 * 1_024;

/** The server answered, but refused the connection's user; the message names the host and user, never the password. */
export class KurrentDbAccessDeniedError extends Error {
  override readonly name = 'KurrentDbAccessDeniedError';
  constructor(
    message: string,
    readonly target: string,
    readonly user: string | undefined,
  ) {
    super(message);
  }
}

/** The connection string itself is unusable; the message names the host only. */
export class KurrentDbConnectionStringError extends Error {
  override readonly name = 'KurrentDbConnectionStringError';
}

/** Start-up could not reach the server; the message names the host only, never the credentials. */
export class KurrentDbUnreachableError extends Error {
  override readonly name = 'KurrentDbUnreachableError';
  constructor(
    message: string,
    readonly target: string,
  ) {
    super(message);
  }
}

const silentLogger: KurrentDbLogger = { info: () => {}, warn: () => {}, error: () => {} };
const PAGE_SIZE = 500;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Positions are bigint in the client; the port uses numbers, so the conversion happens here and only here. */
function toPortPosition(commit: bigint): number {
  if (commit < 0n || commit > MAX_SAFE) {
    throw new RangeError(`KurrentDB commit position ${commit} cannot be represented exactly as a JS number`);
  }
  return Number(commit);
}

function toPortRevision(revision: bigint): number {
  if (revision < -1n || revision > MAX_SAFE) {
    throw new RangeError(`KurrentDB stream revision ${revision} cannot be represented exactly as a JS number`);
  }
  return Number(revision);
}

function readPositionAfter(after: number | undefined): ReadPosition {
  if (after === undefined) return START;
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new RangeError(`position ${after} is not a non-negative integer`);
  }
  // commit == prepare: the adapter only knows commit positions; events at exactly `after` are skipped by the caller.
  return { commit: BigInt(after), prepare: BigInt(after) };
}

function toStreamState(expected: ExpectedRevision): AppendStreamState {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw new RangeError(`expected revision ${expected} is not a non-negative integer`);
  }
  return BigInt(expected);
}

/** Host part of a connection string, never its credentials. */
export function describeConnectionTarget(connectionString: string): string {
  const match = /^[a-z+]+:\/\/(?:[^@/?]*@)?([^/?#]*)/i.exec(connectionString.trim());
  return match?.[1] ? match[1] : '(unparseable connection string)';
}

/** User name of a connection string (`kurrentdb://user:password@host`), never its password. */
export function describeConnectionUser(connectionString: string): string | undefined {
  const match = /^[a-z+]+:\/\/([^@/?#]*)@/i.exec(connectionString.trim());
  const userInfo = match?.[1];
  if (userInfo === undefined) return undefined;
  const raw = userInfo.split(':')[0] ?? '';
  let user: string;
  try {
    user = decodeURIComponent(raw);
  } catch {
    user = raw;
  }
  // Shown in messages and logs: printable characters only, bounded.
  user = user.replace(/[^\x20-\x7e]/g, '?').slice(0, 128);
  return user === '' ? undefined : user;
}

/** An append's size as the server counts it (Event.SizeOnDisk summed), from what the client will send. */
function appendSize(data: ReadonlyArray<EventData>): number {
  let size = 0;
  for (const event of data) {
    size += Buffer.byteLength(JSON.stringify(event.data), 'utf8');
    if (event.metadata !== undefined) size += Buffer.byteLength(JSON.stringify(event.metadata), 'utf8');
    size += event.type.length * 2;
  }
  return size;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function encodeMetadata(metadata: EventMetadata | undefined): Record<string, unknown> {
  if (metadata === undefined) return {};
  return {
    ...(metadata.actor !== undefined ? { actor: { id: metadata.actor.id, roles: [...metadata.actor.roles] } } : {}),
    ...(metadata.correlationId !== undefined ? { correlationId: metadata.correlationId } : {}),
    ...(metadata.causationId !== undefined ? { causationId: metadata.causationId } : {}),
  };
}

/** Events written by other tools may carry other metadata; only well-formed known fields are kept. */
function decodeMetadata(raw: unknown): EventMetadata {
  if (!isRecord(raw)) return {};
  const { actor, correlationId, causationId } = raw;
  let decodedActor: EventMetadata['actor'];
  if (isRecord(actor) && typeof actor['id'] === 'string') {
    const roles = actor['roles'];
    if (Array.isArray(roles) && roles.every((role): role is string => typeof role === 'string')) {
      decodedActor = { id: actor['id'], roles };
    }
  }
  return {
    ...(decodedActor !== undefined ? { actor: decodedActor } : {}),
    ...(typeof correlationId === 'string' ? { correlationId } : {}),
    ...(typeof causationId === 'string' ? { causationId } : {}),
  };
}

function toEventData(streamName: string, event: EventToAppend, index: number): EventData {
  const json = serialiseEventToAppend(streamName, event, index);
  // Re-parsed now so that a caller mutating its objects after the call cannot change what gets sent.
  return {
    id: event.id,
    contentType: 'application/json',
    type: event.type,
    data: JSON.parse(json) as JSONType,
    metadata: encodeMetadata(event.metadata),
  };
}

function isSystem(streamName: string, type: string): boolean {
  return streamName.startsWith('$') || type.startsWith('$');
}

function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, type } = error as { code?: unknown; type?: unknown };
  return (
    type === 'unavailable' ||
    type === 'deadline-exceeded' ||
    type === 'timeout' ||
    code === 14 ||
    code === 4 ||
    /UNAVAILABLE|ECONNREFUSED|ECONNRESET|No connection established/i.test(error.message)
  );
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const kind = error.constructor.name || error.name;
  return error.message === '' || error.message === kind ? kind : `${kind}: ${error.message}`;
}

export async function openKurrentDbEventStore(options: KurrentDbEventStoreOptions): Promise<KurrentDbEventStore> {
  const logger = options.logger ?? silentLogger;
  const target = describeConnectionTarget(options.connectionString);
  const prefixes =
    options.streamPrefixes !== undefined && options.streamPrefixes.length > 0 ? [...options.streamPrefixes] : undefined;
  const initialDelay = options.retry?.initialDelayMs ?? 200;
  const maxDelay = options.retry?.maxDelayMs ?? 5000;
  const downAfter = options.downAfterFailedAttempts ?? 5;
  const maxAppendSize = options.maxAppendSize ?? KURRENTDB_DEFAULT_MAX_APPEND_SIZE;
  const user = describeConnectionUser(options.connectionString);
  const capabilities: EventStoreCapabilities = { name: 'kurrentdb', gapFreePositions: false };

  // Client errors may quote the connection string; what we log or throw names the host only.
  const redact = (text: string): string =>
    text
      .split(options.connectionString)
      .join(target)
      .replace(/\/\/[^@/\s]*@/g, '//');

  let client: KurrentDBClient;
  try {
    client = KurrentDBClient.connectionString(options.connectionString);
  } catch (error) {
    throw new KurrentDbConnectionStringError(
      `Invalid KurrentDB connection string for ${target}: ${redact(errorText(error))}`,
    );
  }

  // A fresh object per call: the client keeps state (checkpoint callbacks) on the filter it is given.
  const serverFilter = (): Filter => (prefixes ? streamNameFilter({ prefixes }) : excludeSystemEvents());
  // Also applied here, so a server that ignores or widens the filter still cannot leak other or system events.
  const wanted = (streamName: string, type: string): boolean =>
    !isSystem(streamName, type) && (prefixes === undefined || prefixes.some((p) => streamName.startsWith(p)));

  let status: KurrentDbConnectionStatus = 'connected';
  let closed = false;
  const subscriptions = new Set<RunningSubscription>();

  const refreshStatus = (): void => {
    if (closed) {
      status = 'down';
      return;
    }
    let worst = 0;
    for (const s of subscriptions) worst = Math.max(worst, s.failedAttempts());
    const anyDropped = [...subscriptions].some((s) => s.isDropped());
    status = worst >= downAfter ? 'down' : anyDropped ? 'reconnecting' : 'connected';
  };

  interface RunningSubscription {
    stop(): Promise<void>;
    failedAttempts(): number;
    isDropped(): boolean;
  }

  const observe = async <T>(operation: () => Promise<T>): Promise<T> => {
    if (closed) throw new Error(`The kurrentdb event store for ${target} is closed`);
    try {
      const result = await operation();
      if (status !== 'connected') refreshStatus();
      return result;
    } catch (error) {
      if (isConnectionError(error) && status === 'connected') {
        status = 'reconnecting';
        logger.warn(`KurrentDB at ${target} unreachable: ${redact(errorText(error))}`);
      }
      throw error;
    }
  };

  const toRecorded = (event: KurrentRecordedEvent): RecordedEvent => {
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
      metadata: decodeMetadata(event.metadata),
      recordedAt: event.created.toISOString(),
    };
  };

  const readStreamRaw = async (
    streamName: string,
    read: {
      fromRevision: bigint | typeof START | typeof END;
      direction: typeof FORWARDS | typeof BACKWARDS;
      maxCount: number;
      requiresLeader?: boolean;
    },
  ): Promise<KurrentRecordedEvent[]> => {
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
  };

  /** Pages through $all until `limit` wanted events after `after` are found or the log ends. */
  const readAllWanted = async (after: number | undefined, limit: number): Promise<RecordedEvent[]> => {
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
        filter: serverFilter(),
      }) as AsyncIterable<AllStreamResolvedEvent>) {
        fetched += 1;
        const event = resolved.event;
        if (!event) continue;
        const position = toPortPosition(event.position.commit);
        lastSeen = position;
        if (cursor !== undefined && position <= cursor) continue;
        if (!wanted(event.streamId, event.type)) continue;
        out.push(toRecorded(event));
        if (out.length >= limit) return out;
      }
      if (fetched < maxCount || lastSeen === undefined || (cursor !== undefined && lastSeen <= cursor)) return out;
      cursor = lastSeen;
    }
  };

  /**
   * The log's last record: one record read backwards from the end, without filter or link resolution, which the
   * server answers from the end of its transaction log without scanning (Enumerator.ReadAllBackwards, count 1).
   */
  const lastRecord = async (): Promise<AllStreamRecordedEvent | undefined> => {
    for await (const resolved of client.readAll({
      fromPosition: END,
      direction: BACKWARDS,
      maxCount: 1,
    }) as AsyncIterable<AllStreamResolvedEvent>) {
      if (resolved.event) return resolved.event;
    }
    return undefined;
  };

  /** The newest of our events, and the log end it was found from: while the log end stays, so does the answer. */
  let knownHead: { readonly logEnd: bigint; readonly head: number } | undefined;

  /**
   * Position of the newest of our events. Cheap in the usual cases: when the log's last record is ours (one record
   * read), or when nothing was written since the last answer (one record read). Otherwise one filtered read of one
   * event backwards from the end, which the server pages through only until it meets the newest of ours.
   */
  const headPositionNow = async (): Promise<number> => {
    const last = await lastRecord();
    if (last === undefined) return 0;
    const logEnd = last.position.commit;
    if (wanted(last.streamId, last.type)) {
      const head = toPortPosition(logEnd);
      knownHead = { logEnd, head };
      return head;
    }
    if (knownHead !== undefined && knownHead.logEnd === logEnd) return knownHead.head;
    const head = await newestWantedBefore(END);
    knownHead = { logEnd, head };
    return head;
  };

  /**
   * The newest of our events before `from`, one match at a time: a filtered read stops at its first match. A match
   * of the server's filter that is not ours (a plain event type in a `$` stream) moves the search past it.
   */
  const newestWantedBefore = async (from: ReadPosition): Promise<number> => {
    let cursor = from;
    for (;;) {
      let match: AllStreamRecordedEvent | undefined;
      for await (const resolved of client.readAll({
        fromPosition: cursor,
        direction: BACKWARDS,
        maxCount: 1,
        filter: serverFilter(),
      }) as AsyncIterable<AllStreamResolvedEvent>) {
        if (resolved.event) match = resolved.event;
      }
      if (match === undefined) return 0;
      if (wanted(match.streamId, match.type)) return toPortPosition(match.position.commit);
      cursor = match.position;
    }
  };

  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      headPositionNow().then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  } catch (error) {
    await client.dispose().catch(() => {});
    if (error instanceof AccessDeniedError) {
      // Wrong credentials and missing rights look the same to the client (Unauthenticated and PermissionDenied both
      // become AccessDeniedError); both need the same fix.
      const who =
        user === undefined
          ? 'a connection without credentials (add user:password@ to the connection string)'
          : `user '${user}' (check the password, and that the user may read $all)`;
      throw new KurrentDbAccessDeniedError(
        `KurrentDB at ${target} denied access to ${who}: the service needs read access to $all (by default only ` +
          `members of $admins have it; grant it with the $$$all stream's $r ACL) and write access to its streams`,
        target,
        user,
      );
    }
    const reason =
      (error as { type?: unknown }).type === 'unavailable'
        ? 'connection refused or server unavailable'
        : redact(errorText(error));
    throw new KurrentDbUnreachableError(`Cannot reach KurrentDB at ${target}: ${reason}`, target);
  }
  logger.info(`Connected to KurrentDB at ${target}`);

  const startSubscription = (
    after: number | undefined,
    handler: SubscriptionHandler,
    onError: ((error: unknown) => void) | undefined,
  ): RunningSubscription => {
    let checkpoint = after;
    let stopped = false;
    let dropped = false;
    let failures = 0;
    let current: AllStreamSubscription | undefined;
    let wakeSleeper: (() => void) | undefined;

    const fail = (error: unknown): void => {
      stopped = true;
      refreshStatus();
      try {
        onError?.(error);
      } catch {
        // An onError that throws has nowhere left to report to; the subscription is already stopped.
      }
    };

    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          wakeSleeper = undefined;
          resolve();
        }, ms);
        wakeSleeper = () => {
          clearTimeout(timer);
          wakeSleeper = undefined;
          resolve();
        };
      });

    const cancel = async (subscription: AllStreamSubscription): Promise<void> => {
      try {
        await subscription.unsubscribe();
      } catch {
        // Already gone with its connection.
      }
      subscription.destroy();
    };

    const runOnce = async (): Promise<'stopped' | 'dropped'> => {
      const subscription = client.subscribeToAll({
        fromPosition: readPositionAfter(checkpoint),
        filter: serverFilter(),
      });
      current = subscription;
      subscription.on('confirmation', () => {
        if (dropped) logger.info(`KurrentDB subscription to ${target} resumed after position ${checkpoint ?? 'start'}`);
        dropped = false;
        failures = 0;
        refreshStatus();
      });
      try {
        for await (const resolved of subscription as AsyncIterable<AllStreamResolvedEvent>) {
          if (stopped) break;
          const event = resolved.event;
          if (!event) continue;
          try {
            // An event that cannot be converted would fail again after every resubscription: stop instead.
            const position = toPortPosition(event.position.commit);
            if (checkpoint !== undefined && position <= checkpoint) continue;
            if (wanted(event.streamId, event.type)) await handler(toRecorded(event));
            checkpoint = position;
          } catch (error) {
            fail(error);
            break;
          }
        }
        if (stopped) return 'stopped';
        logger.warn(`KurrentDB subscription to ${target} ended by the server; resubscribing`);
        return 'dropped';
      } catch (error) {
        if (stopped) return 'stopped';
        if (error instanceof AccessDeniedError) {
          fail(error);
          return 'stopped';
        }
        logger.warn(`KurrentDB subscription to ${target} dropped: ${redact(errorText(error))}; resubscribing`);
        return 'dropped';
      } finally {
        current = undefined;
        await cancel(subscription);
      }
    };

    const run = async (): Promise<void> => {
      while (!stopped) {
        const outcome = await runOnce();
        if (outcome === 'stopped' || stopped) break;
        dropped = true;
        failures += 1;
        refreshStatus();
        const delay = Math.min(maxDelay, initialDelay * 2 ** Math.min(failures - 1, 20));
        if (failures === downAfter) {
          logger.error(`KurrentDB at ${target} still unreachable after ${failures} attempts; still retrying`);
        }
        await sleep(delay);
      }
    };

    const done = run().catch((error: unknown) => fail(error));

    return {
      failedAttempts: () => (stopped ? 0 : failures),
      isDropped: () => dropped && !stopped,
      stop: async () => {
        stopped = true;
        wakeSleeper?.();
        const subscription = current;
        if (subscription) await cancel(subscription);
        await done;
      },
    };
  };

  return {
    capabilities,

    connectionStatus: () => status,

    appendToStream: async (streamName, events, appendOptions) => {
      const expected = appendOptions?.expectedRevision ?? 'any';
      const streamState = toStreamState(expected);
      const data = events.map((event, index) => toEventData(streamName, event, index));
      if (data.length === 0) {
        // The server's answer to an empty append has no position; the current state answers it the same way.
        const [last] = await observe(() =>
          readStreamRaw(streamName, { fromRevision: END, direction: BACKWARDS, maxCount: 1, requiresLeader: true }),
        );
        const actual = last ? toPortRevision(last.revision) : -1;
        const matches =
          expected === 'any' ||
          (expected === 'no_stream' && actual === -1) ||
          (expected === 'stream_exists' && actual >= 0) ||
          expected === actual;
        if (!matches) return left({ _tag: 'WrongExpectedRevision', streamName, expected, actual });
        const position = last?.position ? toPortPosition(last.position.commit) : 0;
        return right({ nextExpectedRevision: actual, position });
      }
      const size = appendSize(data);
      if (size > maxAppendSize) throw new AppendTooLargeError(streamName, size, maxAppendSize);
      try {
        const result = await observe(() => client.appendToStream(streamName, data, { streamState }));
        if (!result.position) throw new Error(`KurrentDB acknowledged an append to ${streamName} without a position`);
        return right({
          nextExpectedRevision: toPortRevision(result.nextExpectedRevision),
          position: toPortPosition(result.position.commit),
        });
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          const actual = typeof error.actualState === 'bigint' ? toPortRevision(error.actualState) : -1;
          return left({ _tag: 'WrongExpectedRevision', streamName, expected, actual });
        }
        if (error instanceof MaxAppendSizeExceededError) {
          // The server's limit is lower than the one configured here.
          throw new AppendTooLargeError(streamName, size, error.maxAppendSize ?? maxAppendSize);
        }
        throw error;
      }
    },

    readStream: async (streamName, readOptions) => {
      const from = Math.max(0, Math.floor(readOptions?.fromRevision ?? 0));
      const events = await observe(() =>
        readStreamRaw(streamName, {
          fromRevision: BigInt(from),
          direction: FORWARDS,
          maxCount: Number.MAX_SAFE_INTEGER,
          ...(readOptions?.requiresLeader === true ? { requiresLeader: true } : {}),
        }),
      );
      return events.map(toRecorded);
    },

    readAll: async (readOptions?: ReadAllOptions) => {
      const limit = readOptions?.limit ?? Number.POSITIVE_INFINITY;
      if (limit <= 0) return [];
      return observe(() => readAllWanted(readOptions?.after, limit));
    },

    headPosition: () => observe(headPositionNow),

    subscribeToAll: (subscribeOptions, handler, onError): Subscription => {
      if (closed) throw new Error(`The kurrentdb event store for ${target} is closed`);
      const running = startSubscription(subscribeOptions.after, handler, onError);
      subscriptions.add(running);
      return {
        stop: async () => {
          await running.stop();
          subscriptions.delete(running);
          refreshStatus();
        },
      };
    },

    close: async () => {
      if (closed) return;
      await Promise.all([...subscriptions].map((s) => s.stop()));
      subscriptions.clear();
      closed = true;
      status = 'down';
      await client.dispose();
    },
  };
}
