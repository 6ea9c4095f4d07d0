import type { EventStoreConnectionStatus } from '../../../application/ports/event-store.ts';
import { errorText, isConnectionError } from './connection.ts';
import type { ConnectionIdentity, KurrentDbLogger } from './connection.ts';

/** What the store tells about its connection, from the calls it makes and the subscriptions it keeps. */

export type KurrentDbConnectionStatus = EventStoreConnectionStatus;

/** A subscription as the health cares about it. */
export interface TrackedSubscription {
  stop(): Promise<void>;
  failedAttempts(): number;
  isDropped(): boolean;
}

export interface ConnectionHealth {
  status(): KurrentDbConnectionStatus;
  /** Recomputes the status from the subscriptions (after one dropped, resumed or stopped). */
  refresh(): void;
  /** Runs a call to the server; a connection failure moves the status to 'reconnecting', a success back. */
  observe<T>(operation: () => Promise<T>): Promise<T>;
  readonly subscriptions: Set<TrackedSubscription>;
  isClosed(): boolean;
  /** From now on every call is refused and the status is 'down'. */
  markClosed(): void;
}

export function createConnectionHealth(params: {
  readonly identity: ConnectionIdentity;
  readonly logger: KurrentDbLogger;
  /** Consecutive failed resubscribe attempts after which the status says 'down'. */
  readonly downAfter: number;
}): ConnectionHealth {
  const { identity, logger, downAfter } = params;
  let status: KurrentDbConnectionStatus = 'connected';
  let closed = false;
  const subscriptions = new Set<TrackedSubscription>();

  const refresh = (): void => {
    if (closed) {
      status = 'down';
      return;
    }
    let worst = 0;
    for (const s of subscriptions) worst = Math.max(worst, s.failedAttempts());
    const anyDropped = [...subscriptions].some((s) => s.isDropped());
    status = worst >= downAfter ? 'down' : anyDropped ? 'reconnecting' : 'connected';
  };

  const observe = async <T>(operation: () => Promise<T>): Promise<T> => {
    if (closed) throw closedError(identity.target);
    try {
      const result = await operation();
      if (status !== 'connected') refresh();
      return result;
    } catch (error) {
      if (isConnectionError(error) && status === 'connected') {
        status = 'reconnecting';
        logger.warn({}, `KurrentDB at ${identity.target} unreachable: ${identity.redact(errorText(error))}`);
      }
      throw error;
    }
  };

  return {
    status: () => status,
    refresh,
    observe,
    subscriptions,
    isClosed: () => closed,
    markClosed: () => {
      closed = true;
      status = 'down';
    },
  };
}

export function closedError(target: string): Error {
  return new Error(`The kurrentdb event store for ${target} is closed`);
}
