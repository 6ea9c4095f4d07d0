import { isAdmin, readsAll } from '../ports/access.ts';
import * as E from 'fp-ts/lib/Either.js';
import type { NotificationStatus, NotificationTopic } from '../../domain/notification.ts';
import { notifications } from '../aggregates.ts';
import { causedBy } from '../command-handler.ts';
import { actorOf } from '../execute.ts';
import type { Executor } from '../execute.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { NotificationQueries, NotificationView } from '../ports/notifications.ts';
import type { AppError, RequestContext } from '../service.ts';
import { topicHandler } from './topics.ts';
import type { NoticeTopics } from './topics.ts';

export const MAX_NOTIFICATION_LIST = 500;

export interface NotificationServiceDeps {
  readonly store: EventStore;
  readonly executor: Pick<Executor, 'execute' | 'load'>;
  readonly queries: NotificationQueries;
  /** Each topic's round preparation and current-state check. */
  readonly topics: NoticeTopics;
  readonly waitForProjections: (position: number | undefined) => Promise<void>;
  readonly schedule: (notificationId: string, at?: string) => void;
  readonly clock: () => Date;
  readonly newId: () => string;
  /** Why a write may not run now (the read models a retry renders from are behind the log); undefined: it may. */
  readonly writable?: () => AppError | undefined;
}

const forbidden: AppError = { _tag: 'Forbidden', message: 'only admins may see or retry notifications' };
const notFound: AppError = { _tag: 'NotFound', message: 'notification not found' };

/** The admin's side of the notification log: list it and retry what failed. */
export const createNotificationService = (deps: NotificationServiceDeps) => {
  // Auditors read the log; only admins retry.
  const reads = (ctx: RequestContext) => readsAll(ctx.user);

  return {
    async list(
      ctx: RequestContext,
      filter: { meetingId?: string; status?: NotificationStatus; topic?: NotificationTopic; limit?: number },
    ): Promise<E.Either<AppError, ReadonlyArray<NotificationView>>> {
      if (!reads(ctx)) return E.left(forbidden);
      const limit = Math.min(MAX_NOTIFICATION_LIST, Math.max(1, filter.limit ?? MAX_NOTIFICATION_LIST));
      return E.right(
        deps.queries.listNotifications({
          limit,
          meetingId: filter.meetingId,
          status: filter.status,
          topic: filter.topic,
        }),
      );
    },

    async get(ctx: RequestContext, notificationId: string): Promise<E.Either<AppError, NotificationView>> {
      if (!reads(ctx)) return E.left(forbidden);
      const view = deps.queries.getNotification(notificationId);
      return view === undefined ? E.left(notFound) : E.right(view);
    },

    /**
     * A new round for a failed or undeliverable notification: the address is looked up again and the email rendered
     * again, then sent with the same idempotency key (the provider never sends one key twice).
     */
    async retry(ctx: RequestContext, notificationId: string): Promise<E.Either<AppError, NotificationView>> {
      if (!isAdmin(ctx.user)) return E.left(forbidden);
      if (!/^[0-9a-f]{32}$/.test(notificationId)) return E.left(notFound);
      const refusal = deps.writable?.();
      if (refusal !== undefined) return E.left(refusal);
      const loaded = await deps.executor.load(notifications, notificationId);
      if (E.isLeft(loaded)) return loaded;
      const state = loaded.right.state;
      if (state.status === 'none') return E.left(notFound);
      // An earlier attempt of this same idempotent request retried it already: answer as it would have.
      const earlier = causedBy(loaded.right.events, ctx.idempotency?.causation);
      if (earlier !== undefined) {
        await deps.waitForProjections(earlier.position);
        const done = deps.queries.getNotification(notificationId);
        return done === undefined ? E.left(notFound) : E.right(done);
      }
      if (state.status !== 'failed' && state.status !== 'undeliverable')
        return E.left(notifications.mapError({ _tag: 'NotificationNotRetryable', status: state.status }));
      const handler = topicHandler(deps.topics, state.topic);
      if (E.isLeft(handler)) return E.left({ _tag: 'Conflict', message: handler.left });
      const still = await handler.right.current(state);
      if (E.isLeft(still))
        return E.left({ _tag: 'Conflict', message: `the notification's meetings cannot be read: ${still.left}` });
      const facts = handler.right.prepare({
        topic: state.topic,
        kind: state.kind,
        snapshot: state.cancellation,
        current: still.right,
        personId: state.recipient.personId,
        role: state.recipient.role,
        at: deps.clock().toISOString(),
      });
      const result = await deps.executor.execute(
        ctx,
        notifications,
        notificationId,
        { type: 'RetryNotification', data: { ...facts, by: actorOf(ctx.user) } },
        { expectedRevision: loaded.right.revision, wait: false },
      );
      if (E.isLeft(result)) {
        return result.left._tag === 'StaleRevision'
          ? E.left({ _tag: 'Conflict', message: 'the notification changed meanwhile; try again' })
          : result;
      }
      await deps.waitForProjections(result.right.position);
      if (result.right.state.status === 'pending') deps.schedule(notificationId);
      const view = deps.queries.getNotification(notificationId);
      return view === undefined ? E.left(notFound) : E.right(view);
    },
  };
};

export type NotificationService = ReturnType<typeof createNotificationService>;
