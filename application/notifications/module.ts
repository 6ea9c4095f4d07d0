import { writeRefusal } from '../execute.ts';
import type { Executor } from '../execute.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { CalendarCancellationBuilder, Mailer } from '../ports/mailer.ts';
import type { Log } from '../ports/logger.ts';
import type { CheckpointStore, NotificationQueries } from '../ports/notifications.ts';
import type { MeetingQueries } from '../ports/read-models.ts';
import { createRoundPreparer } from './prepare.ts';
import type { PrepareConfig, RoundPreparer } from './prepare.ts';
import { cancellationTopic, prepareRound } from './topics.ts';
import type { NoticeTopics } from './topics.ts';
import { CancellationReaction } from './reaction.ts';
import { ChangeReaction, changeTopic } from './changes.ts';
import type { ReactionStatus } from './reaction.ts';
import { NotificationSender, defaultRetryPolicy } from './sender.ts';
import type { EmailJoinLinks } from './join-links.ts';
import type { RetryPolicy } from './sender.ts';
import { createNotificationService } from './service.ts';
import type { NotificationService } from './service.ts';

export interface NotificationModuleDeps {
  readonly store: EventStore;
  /** The core's: an admin's retry runs through it like every request's commands. */
  readonly executor: Pick<Executor, 'execute' | 'load'>;
  readonly readModels: Pick<MeetingQueries, 'getSettings' | 'getPerson'>;
  readonly queries: NotificationQueries;
  readonly checkpoints: CheckpointStore;
  readonly projections: {
    waitFor(position: number | undefined, timeoutMs?: number): Promise<void>;
    readonly healthy: boolean;
    readonly catchingUp: boolean;
  };
  readonly mailer: Mailer;
  readonly buildCalendar: CalendarCancellationBuilder;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly log: Log;
  readonly config: PrepareConfig;
  readonly policy?: Partial<RetryPolicy>;
  readonly random?: () => number;
  /** Each recipient's own join links in the emails. */
  readonly joinLinks?: EmailJoinLinks;
  /**
   * The topics other features add (bookings and changes, reminders): each prepares its rounds and says what is still
   * current. Cancellations are this module's own.
   */
  readonly topics?: NoticeTopics;
  /**
   * The coalescing window of change emails when the settings set none (`NOTIFY_COALESCE_SECONDS`, 60). Absent: change
   * emails (bookings, moves, training types and links, reinstatements) are not followed by this module.
   */
  readonly coalesceSeconds?: number;
}

export interface NotificationModule {
  readonly service: NotificationService;
  readonly reaction: CancellationReaction;
  /** Bookings, moves, training type or link changes and reinstatements, coalesced per subject (changes.ts). */
  readonly changes?: ChangeReaction;
  readonly sender: NotificationSender;
  readonly policy: RetryPolicy;
  /** Every topic's handler, the cancellations' included: what features claiming notices prepare them with. */
  readonly topics: NoticeTopics;
  /** Prepares a round with its topic's handler (for features that claim notices: claim.ts). */
  readonly prepare: RoundPreparer;
  /** Sends a pending notification now or at `at`. */
  readonly schedule: (notificationId: string, at?: string) => void;
  /** Follows the log and resumes every pending notification once the read models have caught up. */
  start(): void;
  status(): Promise<ReactionStatus>;
  readonly healthy: boolean;
  stop(): Promise<void>;
}

// Catching up a long log after a rebuild may take a while; the reaction retries if it takes longer.
const CATCH_UP_TIMEOUT_MS = 120_000;

export const createNotificationModule = (deps: NotificationModuleDeps): NotificationModule => {
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...deps.policy };
  const cancellations = createRoundPreparer({
    queries: deps.readModels,
    buildCalendar: deps.buildCalendar,
    config: deps.config,
    ...(deps.joinLinks !== undefined ? { joinLinks: deps.joinLinks } : {}),
  });
  const changeHandler = changeTopic(deps.store, cancellations);
  const topics: NoticeTopics = {
    ...(deps.coalesceSeconds !== undefined
      ? { booked: changeHandler, rescheduled: changeHandler, changed: changeHandler, reinstated: changeHandler }
      : {}),
    ...deps.topics,
    cancelled: cancellationTopic(deps.store, cancellations),
  };
  const prepare = prepareRound(topics);
  const sender = new NotificationSender({
    store: deps.store,
    topics,
    mailer: deps.mailer,
    clock: deps.clock,
    newId: deps.newId,
    log: deps.log,
    policy,
    random: deps.random,
    ...(deps.joinLinks !== undefined ? { joinLinks: deps.joinLinks } : {}),
  });
  const schedule = (id: string, at?: string) => sender.schedule(id, at);
  const waitForProjections = (position: number | undefined) => deps.projections.waitFor(position, CATCH_UP_TIMEOUT_MS);
  // Both followers read the settings and the people directory: they are handed only events those include.
  const followerDeps = {
    store: deps.store,
    checkpoints: deps.checkpoints,
    queries: deps.readModels,
    dependsOn: { waitFor: waitForProjections },
    prepare,
    schedule,
    clock: deps.clock,
    newId: deps.newId,
    log: deps.log,
  };
  const reaction = new CancellationReaction(followerDeps);
  const changes =
    deps.coalesceSeconds === undefined
      ? undefined
      : new ChangeReaction({ ...followerDeps, coalesceSeconds: deps.coalesceSeconds });
  const service = createNotificationService({
    store: deps.store,
    executor: deps.executor,
    queries: deps.queries,
    topics,
    waitForProjections,
    schedule,
    clock: deps.clock,
    newId: deps.newId,
    writable: () => writeRefusal(deps.projections),
  });

  const resume = async () => {
    try {
      await waitForProjections(await deps.store.headPosition());
    } catch (error) {
      deps.log.warn({ err: error }, 'read models not caught up; resuming the pending notifications they show');
    }
    const pending = deps.queries.pendingNotifications();
    if (pending.length > 0) deps.log.info({ count: pending.length }, 'resuming pending notifications');
    for (const view of pending) schedule(view.id, view.nextAttemptAt);
  };

  return {
    service,
    reaction,
    ...(changes !== undefined ? { changes } : {}),
    sender,
    policy,
    topics,
    prepare,
    schedule,
    start: () => {
      reaction.start();
      changes?.start();
      resume().catch((error: unknown) => deps.log.error({ err: error }, 'cannot resume pending notifications'));
    },
    status: () => reaction.status(),
    get healthy() {
      return reaction.healthy && (changes?.healthy ?? true);
    },
    stop: async () => {
      await reaction.stop();
      await changes?.stop();
      await sender.stop();
    },
  };
};
