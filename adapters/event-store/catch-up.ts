import type {
  ReadAllOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  SubscriptionHandler,
} from '../../application/ports/event-store.ts';

/** Catch-up subscriptions of the embedded stores (in-memory and SQLite), written once for both. */

const CATCH_UP_BATCH_SIZE = 500;

/** One read of a subscription: the events it hands over, and how far in the log the read went (what it left out too). */
export interface CatchUpBatch {
  readonly events: ReadonlyArray<RecordedEvent>;
  /** Rows read, left out ones included: a full batch means there may be more right away. */
  readonly read: number;
  /** Position of the last row read, 0 when none was. */
  readonly lastPosition: number;
}

/** The streams a subscription ignores (SubscribeOptions.ignoreStreamPrefixes): their prefixes, and the test. */
export interface IgnoredStreams {
  readonly prefixes: ReadonlyArray<string>;
  readonly test: (streamName: string) => boolean;
}

export const ignoredBy = (prefixes: ReadonlyArray<string>): IgnoredStreams => ({
  prefixes,
  test: (streamName) => {
    for (const prefix of prefixes) if (streamName.startsWith(prefix)) return true;
    return false;
  },
});

interface CatchUpSubscription extends Subscription {
  /** Tells the subscription that new events may exist. Cheap; safe to call at any time. */
  wake(): void;
}

/**
 * Reads batches after its checkpoint until it has caught up, then sleeps until woken. A wake that arrives while it
 * is reading is remembered, so an append committed between "read returned nothing" and "go to sleep" is not lost.
 * Positions are compared with the checkpoint, so an event is never handed over twice.
 */
function startCatchUpSubscription(params: {
  readonly after: number;
  readonly batchSize: number;
  readonly readBatch: (after: number, limit: number) => Promise<CatchUpBatch>;
  readonly handler: SubscriptionHandler;
  readonly onPassed: ((position: number) => void) | undefined;
  readonly onError: ((error: unknown) => void) | undefined;
  readonly onEnd: () => void;
}): CatchUpSubscription {
  let stopped = false;
  let woken = false;
  let sleeper: (() => void) | undefined;

  const wake = (): void => {
    woken = true;
    const resume = sleeper;
    sleeper = undefined;
    resume?.();
  };

  const run = async (): Promise<void> => {
    let checkpoint = params.after;
    try {
      while (!stopped) {
        woken = false;
        const batch = await params.readBatch(checkpoint, params.batchSize);
        for (const event of batch.events) {
          if (stopped) return;
          if (event.position <= checkpoint) continue;
          await params.handler(event);
          checkpoint = event.position;
        }
        if (stopped) return;
        if (batch.lastPosition > checkpoint) {
          // The batch ended with events the subscriber ignores: it is told that it has passed them.
          checkpoint = batch.lastPosition;
          params.onPassed?.(checkpoint);
        }
        if (batch.read >= params.batchSize) {
          // Reads and synchronous handlers never leave the microtask queue; let I/O run between catch-up batches.
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        if (woken) continue;
        await new Promise<void>((resolve) => {
          sleeper = resolve;
        });
      }
    } catch (error) {
      stopped = true;
      try {
        params.onError?.(error);
      } catch {
        // An onError that throws has nowhere left to report to; the subscription is already stopped.
      }
    } finally {
      params.onEnd();
    }
  };

  // Deferred by one microtask so that the subscription is registered (and can be woken) before the first read.
  const done = Promise.resolve().then(run);

  return {
    wake,
    stop: async () => {
      stopped = true;
      wake();
      await done;
    },
  };
}

/** An embedded store's live subscriptions: started from its reads, woken by its appends, stopped by its close. */
export interface SubscriptionHub {
  subscribe(options: SubscribeOptions, handler: SubscriptionHandler, onError?: (error: unknown) => void): Subscription;
  /** New events may exist: every subscription reads on. */
  wakeAll(): void;
  /** Stops every subscription, waiting for their in-flight handler calls. */
  stopAll(): Promise<void>;
}

/** A batch read once for every subscription that asks for the same one before the next append. */
interface SharedRead {
  readonly generation: number;
  readonly limit: number;
  /** The prefixes the read left out: only subscriptions that ignore all of them may take it. */
  readonly leftOut: ReadonlyArray<string>;
  readonly batch: Promise<CatchUpBatch>;
}

/** Prefixes every one of these subscriptions ignores (what a read shared by all of them may leave out). */
const commonPrefixes = (sets: Iterable<ReadonlyArray<string>>): ReadonlyArray<string> => {
  let common: ReadonlyArray<string> | undefined;
  for (const prefixes of sets) {
    common = common === undefined ? [...new Set(prefixes)] : common.filter((prefix) => prefixes.includes(prefix));
    if (common.length === 0) return common;
  }
  return common ?? [];
};

/** A shared batch as one subscription sees it: the same rows read, its own ignored streams left out as well. */
const narrowed = (batch: CatchUpBatch, leftOut: ReadonlyArray<string>, ignored: IgnoredStreams | undefined) => {
  if (ignored === undefined || ignored.prefixes.every((prefix) => leftOut.includes(prefix))) return batch;
  return { ...batch, events: batch.events.filter((event) => !ignored.test(event.streamName)) };
};

/**
 * The reads of the hub's subscriptions. Caught-up subscriptions all ask for the batch after the same position once an
 * append wakes them: it is read and decoded once and handed to each (the same event objects: a handler must not
 * change what it is handed), each still leaving out its own ignored streams. A subscription that is behind reads on
 * its own and shares again once it has caught up. A shared read is valid only until the next wake (an append may
 * have come after it), and at most one per subscription is kept, so a slow subscriber holds at most its own batch.
 */
function createSharedReads(
  readBatch: (options: ReadAllOptions, ignored: IgnoredStreams | undefined) => Promise<CatchUpBatch>,
) {
  const ignoring = new Map<object, ReadonlyArray<string>>();
  const reads = new Map<number, SharedRead>();
  let generation = 0;
  let common: ReadonlyArray<string> = [];
  const changed = (): void => {
    common = commonPrefixes(ignoring.values());
    reads.clear();
  };
  const readShared = (after: number, limit: number): SharedRead => {
    const batch = readBatch({ after, limit }, common.length > 0 ? ignoredBy(common) : undefined);
    const read: SharedRead = { generation, limit, leftOut: common, batch };
    reads.delete(after);
    reads.set(after, read);
    for (const oldest of reads.keys()) {
      if (reads.size <= ignoring.size) break;
      reads.delete(oldest);
    }
    // A failed read is not handed to later readers (each reader of this one gets the failure).
    batch.catch(() => {
      if (reads.get(after) === read) reads.delete(after);
    });
    return read;
  };
  return {
    join: (key: object, prefixes: ReadonlyArray<string>): void => {
      ignoring.set(key, prefixes);
      changed();
    },
    leave: (key: object): void => {
      ignoring.delete(key);
      changed();
    },
    /** An append may have come: every read so far may miss it. */
    stale: (): void => {
      generation += 1;
      reads.clear();
    },
    read: async (after: number, limit: number, ignored: IgnoredStreams | undefined): Promise<CatchUpBatch> => {
      if (ignoring.size <= 1) return readBatch({ after, limit }, ignored);
      const own = ignored?.prefixes ?? [];
      let shared = reads.get(after);
      const usable = shared !== undefined && shared.generation === generation && shared.limit === limit;
      if (!usable || !shared?.leftOut.every((prefix) => own.includes(prefix))) shared = readShared(after, limit);
      return narrowed(await shared.batch, shared.leftOut, ignored);
    },
  };
}

export function createSubscriptionHub(params: {
  /**
   * The store's own readAll, leaving out (not decoding, where it can not even reading) the events of the streams
   * `ignored` names: a subscription catches up and follows through it, batch by batch.
   */
  readonly readBatch: (options: ReadAllOptions, ignored: IgnoredStreams | undefined) => Promise<CatchUpBatch>;
  /** Called after each new subscription is registered. */
  readonly onSubscribe?: () => void;
  /** Called when the last subscription has ended. */
  readonly onIdle?: () => void;
}): SubscriptionHub {
  const running = new Set<CatchUpSubscription>();
  const reads = createSharedReads(params.readBatch);
  return {
    subscribe: (options, handler, onError) => {
      const prefixes = options.ignoreStreamPrefixes ?? [];
      const ignored = prefixes.length > 0 ? ignoredBy(prefixes) : undefined;
      const key = {};
      const subscription = startCatchUpSubscription({
        after: options.after ?? 0,
        batchSize: CATCH_UP_BATCH_SIZE,
        readBatch: (after, limit) => reads.read(after, limit, ignored),
        handler,
        onPassed: options.onPassed,
        onError,
        onEnd: () => {
          reads.leave(key);
          running.delete(subscription);
          if (running.size === 0) params.onIdle?.();
        },
      });
      reads.join(key, prefixes);
      running.add(subscription);
      params.onSubscribe?.();
      return { stop: () => subscription.stop() };
    },
    wakeAll: () => {
      reads.stale();
      for (const subscription of running) subscription.wake();
    },
    stopAll: async () => {
      await Promise.all([...running].map((subscription) => subscription.stop()));
    },
  };
}
