import * as E from 'fp-ts/lib/Either.js';
import type {
  CancellationSnapshot,
  NotificationKind,
  NotificationTopic,
  RecipientRole,
} from '../../domain/notification.ts';
import { notifications } from '../aggregates.ts';
import { createRecorder } from '../execute.ts';
import type { Recorder } from '../execute.ts';
import { AppendTooLargeError } from '../ports/event-store.ts';
import type { Log } from '../ports/logger.ts';
import type { RoundPreparer } from './prepare.ts';

/** The store or the decider refuses this claim, and will refuse it every time: retrying cannot help. */
export class ClaimRefused extends Error {
  override readonly name = 'ClaimRefused';
}

/** Errors a follower parks (logs and passes) rather than retries: they would stop every later event the same way. */
export const isPoison = (error: unknown): boolean =>
  error instanceof AppendTooLargeError || error instanceof ClaimRefused;

/** One notice to claim: its deterministic id and key, what it is about, and for whom. */
export interface NoticeClaim {
  readonly notificationId: string;
  readonly key: string;
  readonly topic: NotificationTopic;
  readonly kind: NotificationKind;
  readonly meetingIds: ReadonlyArray<string>;
  readonly seriesId?: string;
  /** The log event that caused it (for a reminder: the event that planned it). */
  readonly causeEventId: string;
  readonly snapshot: CancellationSnapshot;
  /** The snapshot's sessions still as the notice announces them. */
  readonly current: ReadonlyArray<string>;
  readonly recipient: { readonly personId: string; readonly role: RecipientRole };
}

export interface ClaimDeps {
  readonly commands: Recorder;
  readonly prepare: RoundPreparer;
  readonly schedule: (notificationId: string, at?: string) => void;
  readonly clock: () => Date;
  readonly log: Log;
}

/**
 * Claims one notification: its first append records the request and the first round's outcome (the email, a skip, or
 * why it failed), so a replay or a second node finds it claimed and sends nothing new. A pending one found claimed
 * is (re)scheduled. An email the store refuses as too large is recorded as failed without it, visible in the log.
 * Throws on store trouble (the follower retries from its checkpoint) and ClaimRefused when the claim can never be
 * recorded.
 */
export const claimNotice = async (deps: ClaimDeps, claim: NoticeClaim): Promise<void> => {
  const { notificationId, recipient } = claim;
  const existing = await deps.commands.load(notifications, notificationId);
  if (E.isLeft(existing)) {
    deps.log.error({ notificationId, error: existing.left.message }, 'notification cannot be read');
    return;
  }
  const found = existing.right.state;
  if (found.status !== 'none') {
    if (found.status === 'pending') deps.schedule(notificationId, found.nextAttemptAt);
    return;
  }
  const facts = deps.prepare({
    topic: claim.topic,
    kind: claim.kind,
    snapshot: claim.snapshot,
    current: claim.current,
    personId: recipient.personId,
    role: recipient.role,
    at: deps.clock().toISOString(),
  });
  const request = (roundFacts: typeof facts) =>
    deps.commands.record(
      notifications,
      notificationId,
      {
        type: 'RequestNotification',
        data: {
          ...roundFacts,
          notificationId,
          key: claim.key,
          topic: claim.topic,
          kind: claim.kind,
          meetingIds: claim.meetingIds,
          ...(claim.seriesId !== undefined ? { seriesId: claim.seriesId } : {}),
          cancellationEventId: claim.causeEventId,
          cancellation: claim.snapshot,
        },
      },
      { maxRetries: 1 },
    );
  let result: Awaited<ReturnType<typeof request>>;
  try {
    result = await request(facts);
  } catch (error) {
    if (!(error instanceof AppendTooLargeError) || facts.message === undefined) throw error;
    // The store refuses the record with its email (its limit is lower than the domain's bound). Without the email
    // the record is small: it is kept as a failed notice that says why, visible in the notification log.
    deps.log.error(
      { notificationId, recipient: recipient.personId, error: error.message },
      'notice too large for the event store; recorded as failed, without its email',
    );
    const { message: _dropped, ...withoutMessage } = facts;
    result = await request({
      ...withoutMessage,
      renderError: `the notice is too large to store with its email: ${error.message}`,
    });
  }
  if (E.isLeft(result)) {
    if (result.left._tag === 'TooMuchContention')
      throw new Error(`cannot claim notification ${notificationId}: too much contention`);
    if (result.left._tag !== 'NotificationAlreadyRequested') {
      throw new ClaimRefused(`cannot claim notification ${notificationId}: ${JSON.stringify(result.left)}`);
    }
    return;
  }
  const state = result.right.state;
  deps.log.info(
    { notificationId, topic: claim.topic, recipient: recipient.personId, status: state.status },
    'notice claimed',
  );
  if (state.status === 'pending') deps.schedule(notificationId);
};

/** Deps of claimNotice from a follower's own: a recorder of its commands (its claims answer no request) and the rest. */
export const claimDepsOf = (deps: Omit<ClaimDeps, 'commands'> & Parameters<typeof createRecorder>[0]): ClaimDeps => ({
  commands: createRecorder(deps),
  prepare: deps.prepare,
  schedule: deps.schedule,
  clock: deps.clock,
  log: deps.log,
});

/** Who a notice about a session goes to: its member, and its instructor when the topic's settings say so. */
export const noticeRecipients = (
  session: { readonly customerId: string; readonly instructorId: string },
  withInstructor: boolean,
): ReadonlyArray<{ readonly personId: string; readonly role: RecipientRole }> => [
  { personId: session.customerId, role: 'customer' },
  ...(withInstructor ? [{ personId: session.instructorId, role: 'instructor' as const }] : []),
];
