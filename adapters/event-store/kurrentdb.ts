import { FORWARDS } from '@kurrent/kurrentdb-client';
import type { KurrentDBClient } from '@kurrent/kurrentdb-client';
import type { EventStore } from '../../application/ports/event-store.ts';
import { appendEvents } from './kurrentdb/append.ts';
import type { AppendContext } from './kurrentdb/append.ts';
import { awaitServer, connectionIdentity, createClient } from './kurrentdb/connection.ts';
import type { KurrentDbLogger } from './kurrentdb/connection.ts';
import { toRecorded } from './kurrentdb/conversions.ts';
import { appendToStreams, multiAppendSupport } from './kurrentdb/multi-append.ts';
import type { MultiAppendContext } from './kurrentdb/multi-append.ts';
import { closedError, createConnectionHealth } from './kurrentdb/health.ts';
import type { ConnectionHealth, KurrentDbConnectionStatus } from './kurrentdb/health.ts';
import { headPositionReader, readAllWanted, readStreamRaw, streamSelection } from './kurrentdb/reads.ts';
import type { StreamRead } from './kurrentdb/reads.ts';
import { startSubscription } from './kurrentdb/subscription.ts';
import type { SubscriptionContext } from './kurrentdb/subscription.ts';

/**
 * The KurrentDB adapter. This module opens it and names its parts: connecting and its errors (kurrentdb/connection),
 * conversions to and from the port's types (conversions), reads and the head position (reads), appends (append),
 * atomic appends to several streams (multi-append), subscriptions that resubscribe after a drop (subscription), and the connection status they report to (health).
 */

export {
  KurrentDbAccessDeniedError,
  KurrentDbConnectionStringError,
  KurrentDbUnreachableError,
  describeConnectionTarget,
  describeConnectionUser,
} from './kurrentdb/connection.ts';
export type { KurrentDbLogger } from './kurrentdb/connection.ts';
export type { KurrentDbConnectionStatus } from './kurrentdb/health.ts';

export interface KurrentDbEventStore extends EventStore {
  /**
   * The last connection state this store observed: 'reconnecting' after a dropped subscription or a failed call,
   * 'down' once resubscribing has failed `downAfterFailedAttempts` times in a row, or after close().
   */
  connectionStatus(): KurrentDbConnectionStatus;
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
   * event; for a multi-stream append: data + properties + type). Larger appends are refused here, before anything is
   * sent. Default 1,048,576, the server's default.
   */
  readonly maxAppendSize?: number;
}

/** The server's default MaxAppendSize (ClusterVNodeOptions.Application.MaxAppendSize). */
export const KURRENTDB_DEFAULT_MAX_APPEND_SIZE = 1_024 * 1_024;

const silentLogger: KurrentDbLogger = { info: () => {}, warn: () => {}, error: () => {} };

export async function openKurrentDbEventStore(options: KurrentDbEventStoreOptions): Promise<KurrentDbEventStore> {
  const logger = options.logger ?? silentLogger;
  const identity = connectionIdentity(options.connectionString);
  const downAfter = options.downAfterFailedAttempts ?? 5;
  const client = createClient(identity);
  const selection = streamSelection(options.streamPrefixes);
  const health = createConnectionHealth({ identity, logger, downAfter });
  const headPosition = headPositionReader(client, selection);

  await awaitServer(client, identity, headPosition, options.connectTimeoutMs ?? 5000);
  logger.info({}, `Connected to KurrentDB at ${identity.target}`);

  const appending: AppendContext = {
    client,
    health,
    maxAppendSize: options.maxAppendSize ?? KURRENTDB_DEFAULT_MAX_APPEND_SIZE,
  };
  const multiAppending: MultiAppendContext = { ...appending, support: multiAppendSupport(client, health) };
  await announceMultiStreamAppend(multiAppending, identity.target, logger);
  const subscribing: SubscriptionContext = {
    client,
    identity,
    logger,
    selection,
    retry: { initialDelay: options.retry?.initialDelayMs ?? 200, maxDelay: options.retry?.maxDelayMs ?? 5000 },
    downAfter,
    refreshStatus: health.refresh,
  };

  return {
    capabilities: { name: 'kurrentdb', gapFreePositions: false },
    connectionStatus: health.status,
    appendToStream: (streamName, events, appendOptions) =>
      appendEvents(appending, streamName, events, appendOptions?.expectedRevision ?? 'any'),
    appendToStreams: (appends) => appendToStreams(multiAppending, appends),
    supportsMultiStreamAppend: () => multiAppending.support.supported(),
    readStream: async (streamName, readOptions) => {
      const from = Math.max(0, Math.floor(readOptions?.fromRevision ?? 0));
      const read: StreamRead = {
        fromRevision: BigInt(from),
        direction: FORWARDS,
        maxCount: Number.MAX_SAFE_INTEGER,
        requiresLeader: readOptions?.requiresLeader,
      };
      const events = await health.observe(() => readStreamRaw(client, streamName, read));
      return events.map(toRecorded);
    },
    readAll: async (readOptions) => {
      const limit = readOptions?.limit ?? Number.POSITIVE_INFINITY;
      if (limit <= 0) return [];
      return health.observe(() => readAllWanted(client, selection, readOptions?.after, limit));
    },
    headPosition: () => health.observe(headPosition),
    subscribeToAll: (subscribeOptions, handler, onError) => {
      if (health.isClosed()) throw closedError(identity.target);
      const running = startSubscription(subscribing, subscribeOptions.after, handler, onError);
      health.subscriptions.add(running);
      return {
        stop: async () => {
          await running.stop();
          health.subscriptions.delete(running);
          health.refresh();
        },
      };
    },
    close: () => closeStore(client, health),
  };
}

/** Says at start-up which way writes to several streams will go; a failed question is asked again on first use. */
async function announceMultiStreamAppend(
  { support }: MultiAppendContext,
  target: string,
  logger: KurrentDbLogger,
): Promise<void> {
  const supported = await support.supported().catch(() => undefined);
  if (supported === true) logger.info({}, `KurrentDB at ${target} appends to several streams atomically`);
  if (supported === false) {
    logger.info(
      {},
      `KurrentDB at ${target} has no atomic multi-stream append (before 25.1): writes to several streams go stream by stream`,
    );
  }
}

async function closeStore(client: KurrentDBClient, health: ConnectionHealth): Promise<void> {
  if (health.isClosed()) return;
  await Promise.all([...health.subscriptions].map((s) => s.stop()));
  health.subscriptions.clear();
  health.markClosed();
  await client.dispose();
}
