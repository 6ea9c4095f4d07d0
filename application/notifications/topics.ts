import * as E from 'fp-ts/lib/Either.js';
import type { Notification, NotificationTopic, RoundFacts } from '../../domain/notification.ts';
import type { EventStore } from '../ports/event-store.ts';
import { stillCancelledNow } from './prepare.ts';
import type { RoundPreparer, RoundRequest } from './prepare.ts';

/**
 * What the notification log needs of one topic (cancellations, bookings, changes, reinstatements, reminders): how a
 * round is prepared (the settings switch, the address, the rendered email) and which of a notice's sessions are still
 * as it announces them, asked before every attempt and every admin retry so that an email never announces a state
 * that no longer holds. Each topic's feature supplies its own; the sender, the retry and the claim share them.
 */
export interface NoticeTopic {
  prepare(request: RoundRequest): RoundFacts;
  current(notice: Notification): Promise<E.Either<string, ReadonlyArray<string>>>;
}

export type NoticeTopics = Readonly<Partial<Record<NotificationTopic, NoticeTopic>>>;

/** The cancellation topic: rendered by the cancellation preparer, current while the sessions stay cancelled. */
export const cancellationTopic = (store: EventStore, prepare: RoundPreparer): NoticeTopic => ({
  prepare,
  current: (notice) => stillCancelledNow(store, notice.cancellationEventId, notice.cancellation),
});

/** The handler of a topic; a notice of a topic nobody handles is an error the caller reports (never sent blind). */
export const topicHandler = (topics: NoticeTopics, topic: NotificationTopic): E.Either<string, NoticeTopic> => {
  const handler = topics[topic];
  return handler === undefined ? E.left(`no handler for '${topic}' notifications is configured`) : E.right(handler);
};

/** Prepares a round with its topic's handler; a missing handler fails the round with the reason (visible, retryable). */
export const prepareRound =
  (topics: NoticeTopics) =>
  (request: RoundRequest): RoundFacts => {
    const handler = topicHandler(topics, request.topic);
    if (E.isRight(handler)) return handler.right.prepare(request);
    return {
      enabled: true,
      current: request.current,
      recipient: { personId: request.personId, role: request.role },
      renderError: handler.left,
      at: request.at,
    };
  };
