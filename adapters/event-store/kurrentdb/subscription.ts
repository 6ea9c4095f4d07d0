import { AccessDeniedError } from '@kurrent/kurrentdb-client';
import type { AllStreamResolvedEvent, AllStreamSubscription, KurrentDBClient } from '@kurrent/kurrentdb-client';
import type { SubscriptionHandler } from '../../../application/ports/event-store.ts';
import { errorText } from './connection.ts';
import type { ConnectionIdentity, KurrentDbLogger } from './connection.ts';
import { readPositionAfter, toPortPosition, toRecorded } from './conversions.ts';
import type { TrackedSubscription } from './health.ts';
import type { StreamSelection } from './reads.ts';

/**
 * A subscription to our events of $all that survives the server: when it drops, it resubscribes after its last
 * checkpoint with a doubling backoff, until stopped or until a failure that another attempt cannot fix.
 */

export interface SubscriptionContext {
  readonly client: KurrentDBClient;
  readonly identity: ConnectionIdentity;
  readonly logger: KurrentDbLogger;
  readonly selection: StreamSelection;
  /** Backoff for resubscribing: doubles from initialDelay up to maxDelay. */
  readonly retry: { readonly initialDelay: number; readonly maxDelay: number };
  /** Consecutive failed attempts after which the error log says the server is still unreachable. */
  readonly downAfter: number;
  /** Tells the connection health that this subscription dropped, resumed or stopped. */
  readonly refreshStatus: () => void;
}

/** The state one running subscription carries from attempt to attempt. */
interface Attempts {
  checkpoint: number | undefined;
  stopped: boolean;
  dropped: boolean;
  failures: number;
  current: AllStreamSubscription | undefined;
  wakeSleeper: (() => void) | undefined;
  readonly handler: SubscriptionHandler;
  /** Stops for good and reports the error to the subscriber. */
  readonly fail: (error: unknown) => void;
}

export function startSubscription(
  context: SubscriptionContext,
  after: number | undefined,
  handler: SubscriptionHandler,
  onError: ((error: unknown) => void) | undefined,
): TrackedSubscription {
  const state: Attempts = {
    checkpoint: after,
    stopped: false,
    dropped: false,
    failures: 0,
    current: undefined,
    wakeSleeper: undefined,
    handler,
    fail: (error) => {
      state.stopped = true;
      context.refreshStatus();
      try {
        onError?.(error);
      } catch {
        // An onError that throws has nowhere left to report to; the subscription is already stopped.
      }
    },
  };

  const done = resubscribeUntilStopped(context, state).catch((error: unknown) => state.fail(error));

  return {
    failedAttempts: () => (state.stopped ? 0 : state.failures),
    isDropped: () => state.dropped && !state.stopped,
    stop: async () => {
      state.stopped = true;
      state.wakeSleeper?.();
      const subscription = state.current;
      if (subscription) await cancel(subscription);
      await done;
    },
  };
}

async function resubscribeUntilStopped(context: SubscriptionContext, state: Attempts): Promise<void> {
  const { retry, downAfter, logger, identity } = context;
  while (!state.stopped) {
    const outcome = await subscribeOnce(context, state);
    if (outcome === 'stopped' || state.stopped) break;
    state.dropped = true;
    state.failures += 1;
    context.refreshStatus();
    const delay = Math.min(retry.maxDelay, retry.initialDelay * 2 ** Math.min(state.failures - 1, 20));
    if (state.failures === downAfter) {
      logger.error(
        {},
        `KurrentDB at ${identity.target} still unreachable after ${state.failures} attempts; still retrying`,
      );
    }
    await sleep(state, delay);
  }
}

/** One subscription to the server, from the checkpoint until it is stopped or drops. */
async function subscribeOnce(context: SubscriptionContext, state: Attempts): Promise<'stopped' | 'dropped'> {
  const { client, selection, logger, identity } = context;
  const target = identity.target;
  const subscription = client.subscribeToAll({
    fromPosition: readPositionAfter(state.checkpoint),
    filter: selection.serverFilter(),
  });
  state.current = subscription;
  subscription.on('confirmation', () => {
    if (state.dropped) {
      logger.info({}, `KurrentDB subscription to ${target} resumed after position ${state.checkpoint ?? 'start'}`);
    }
    state.dropped = false;
    state.failures = 0;
    context.refreshStatus();
  });
  try {
    await deliver(subscription, selection, state);
    if (state.stopped) return 'stopped';
    logger.warn({}, `KurrentDB subscription to ${target} ended by the server; resubscribing`);
    return 'dropped';
  } catch (error) {
    if (state.stopped) return 'stopped';
    if (error instanceof AccessDeniedError) {
      state.fail(error);
      return 'stopped';
    }
    logger.warn({}, `KurrentDB subscription to ${target} dropped: ${identity.redact(errorText(error))}; resubscribing`);
    return 'dropped';
  } finally {
    state.current = undefined;
    await cancel(subscription);
  }
}

/** Hands our events after the checkpoint to the handler, one at a time; the server's own errors propagate. */
async function deliver(
  subscription: AllStreamSubscription,
  selection: StreamSelection,
  state: Attempts,
): Promise<void> {
  for await (const resolved of subscription as AsyncIterable<AllStreamResolvedEvent>) {
    if (state.stopped) break;
    const event = resolved.event;
    if (!event) continue;
    try {
      // An event that cannot be converted would fail again after every resubscription: stop instead.
      const position = toPortPosition(event.position.commit);
      if (state.checkpoint !== undefined && position <= state.checkpoint) continue;
      if (selection.wanted(event.streamId, event.type)) await state.handler(toRecorded(event));
      state.checkpoint = position;
    } catch (error) {
      state.fail(error);
      break;
    }
  }
}

function sleep(state: Attempts, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      state.wakeSleeper = undefined;
      resolve();
    }, ms);
    state.wakeSleeper = () => {
      clearTimeout(timer);
      state.wakeSleeper = undefined;
      resolve();
    };
  });
}

async function cancel(subscription: AllStreamSubscription): Promise<void> {
  try {
    await subscription.unsubscribe();
  } catch {
    // Already gone with its connection.
  }
  subscription.destroy();
}
