import { reminderStreamPrefix } from '../../domain/reminder.ts';
import type { FollowerStatus } from '../log-follower.ts';
import type { EventStore, RecordedEvent } from '../ports/event-store.ts';
import type { Log } from '../ports/logger.ts';
import type { CheckpointStore } from '../ports/notifications.ts';
import type { ReminderQueries } from '../ports/reminders.ts';
import type { ClaimDeps } from '../notifications/claim.ts';
import { ReminderPlanner } from './planner.ts';
import { ReminderScheduler } from './scheduler.ts';

export interface ReminderModuleDeps {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly queries: ReminderQueries;
  readonly projections: {
    waitFor(position: number | undefined, timeoutMs?: number): Promise<void>;
    onProjected(listener: (event: RecordedEvent) => void): void;
  };
  /** The offsets before a session its reminders go at, in seconds. */
  readonly offsetsSeconds: () => ReadonlyArray<number>;
  /** The notification log's claim dependencies (the module's `prepare` and `schedule`). */
  readonly notices: Pick<ClaimDeps, 'prepare' | 'schedule'>;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly log: Log;
  readonly recheckMs?: number;
  /** Whether the instructor gets a copy of each reminder (the settings' `kinds.reminder.notifyInstructor`). */
  readonly notifyInstructor?: () => boolean;
}

export interface ReminderModule {
  readonly planner: ReminderPlanner;
  readonly scheduler: ReminderScheduler;
  start(): void;
  status(): Promise<FollowerStatus>;
  readonly healthy: boolean;
  stop(): Promise<void>;
}

// Catching up a long log after a rebuild may take a while; the planner retries if it takes longer.
const CATCH_UP_TIMEOUT_MS = 120_000;

/**
 * Reminders before each session: the planner keeps every session's plan from the log, the scheduler sends what is
 * due through the notification log (topic `reminder`, see topic.ts), and is woken whenever any node's plan change
 * reaches this node's read models.
 */
export const createReminderModule = (deps: ReminderModuleDeps): ReminderModule => {
  const waitForReadModels = (position: number) => deps.projections.waitFor(position, CATCH_UP_TIMEOUT_MS);
  const planner = new ReminderPlanner({
    store: deps.store,
    checkpoints: deps.checkpoints,
    log: deps.log,
    // The planner reads the settings (the offsets) and the plans: it is handed only events they include.
    dependsOn: { waitFor: waitForReadModels },
    queries: deps.queries,
    offsetsSeconds: deps.offsetsSeconds,
    waitForReadModels,
    newId: deps.newId,
  });
  const scheduler = new ReminderScheduler({
    store: deps.store,
    queries: deps.queries,
    notices: deps.notices,
    clock: deps.clock,
    newId: deps.newId,
    log: deps.log,
    ...(deps.recheckMs !== undefined ? { recheckMs: deps.recheckMs } : {}),
    ...(deps.notifyInstructor !== undefined ? { notifyInstructor: deps.notifyInstructor } : {}),
  });
  let started = false;
  deps.projections.onProjected((event) => {
    if (started && event.streamName.startsWith(reminderStreamPrefix)) scheduler.wake();
  });
  const startScheduler = async () => {
    try {
      await waitForReadModels(await deps.store.headPosition());
    } catch (error) {
      deps.log.warn({ err: error }, 'read models not caught up; looking at the reminders they show');
    }
    if (started) scheduler.start();
  };
  return {
    planner,
    scheduler,
    start: () => {
      started = true;
      planner.start();
      startScheduler().catch((error: unknown) => deps.log.error({ err: error }, 'cannot start the reminders'));
    },
    status: () => planner.status(),
    get healthy() {
      return planner.healthy;
    },
    stop: async () => {
      started = false;
      await planner.stop();
      await scheduler.stop();
    },
  };
};
