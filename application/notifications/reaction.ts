import * as E from 'fp-ts/lib/Either.js';
import type { RecipientRole } from '../../domain/notification.ts';
import { scheduleStreamPrefix } from '../../domain/schedule.ts';
import { LogFollower } from '../log-follower.ts';
import type { FollowerStatus, LogFollowerDeps } from '../log-follower.ts';
import type { RecordedEvent } from '../ports/event-store.ts';
import type { MeetingQueries } from '../ports/read-models.ts';
import { cancellationEventTypes, notificationIdFor, notificationKey, readCancellation } from './prepare.ts';
import type { Cancellation, RoundPreparer } from './prepare.ts';
import { claimDepsOf, claimNotice, isPoison, noticeRecipients } from './claim.ts';
import type { ClaimDeps } from './claim.ts';

export interface ReactionDeps extends LogFollowerDeps {
  readonly queries: Pick<MeetingQueries, 'getSettings'>;
  readonly prepare: RoundPreparer;
  readonly schedule: (notificationId: string, at?: string) => void;
  readonly clock: () => Date;
  readonly newId: () => string;
}

export interface ReactionStatus extends FollowerStatus {
  /** Cancellations left behind since start because they can never be turned into notices (each one is logged). */
  readonly parked?: number;
}

/**
 * Follows the event log from its own durable checkpoint and turns each cancellation into one notification per
 * recipient. Claiming a notification is the first append to its stream, so a replay (lost checkpoint, rebuilt read
 * models, a second node) finds it claimed and sends nothing new. Sending is left to the sender: a slow or failing
 * mail provider never holds up the log.
 */
export class CancellationReaction extends LogFollower {
  private parked = 0;
  /** The reaction's claims answer no request: recorded, neither refused nor waited for. */
  private readonly claims: ClaimDeps;

  constructor(private readonly deps: ReactionDeps) {
    super(deps, 'cancellation-notices', 'cancellation notices paused; resuming from the checkpoint');
    this.claims = claimDepsOf(deps);
  }

  // Cancellations are meetings' and series' events; the two schedule events of every booking need not be decoded.
  protected override ignoredStreamPrefixes(): ReadonlyArray<string> {
    return [scheduleStreamPrefix];
  }

  protected async handle(recorded: RecordedEvent): Promise<void> {
    if (cancellationEventTypes.has(recorded.type)) {
      try {
        await this.react(recorded);
      } catch (error) {
        // Store outages and the like are retried from the checkpoint; an event that fails the same way every time
        // would block every later cancellation, so it is parked: logged, counted in the status, and passed.
        if (!isPoison(error)) throw error;
        this.park(recorded, error);
      }
      this.recovered();
      this.advance(recorded.position, true);
    } else {
      this.advance(recorded.position, false);
    }
  }

  private park(recorded: RecordedEvent, error: unknown): void {
    this.parked += 1;
    this.deps.log.error(
      {
        eventId: recorded.id,
        type: recorded.type,
        position: recorded.position,
        error: error instanceof Error ? error.message : String(error),
      },
      'cancellation parked: its notices can never be stored; no notice sent, later cancellations go on',
    );
  }

  private async react(recorded: RecordedEvent): Promise<void> {
    const read = await readCancellation(this.deps.store, recorded);
    if (E.isLeft(read)) {
      // A cancellation that cannot be read would stop every later one; it is logged and left behind.
      this.deps.log.error(
        { eventId: recorded.id, position: recorded.position, error: read.left },
        'cancellation cannot be read; no notice sent',
      );
      return;
    }
    const cancellation = read.right;
    if (cancellation === undefined) return;
    const settings = this.deps.queries.getSettings().notifications.cancellation;
    for (const recipient of noticeRecipients(cancellation.snapshot, settings.notifyInstructor))
      await this.claim(cancellation, recipient);
  }

  private async claim(cancellation: Cancellation, recipient: { personId: string; role: RecipientRole }): Promise<void> {
    const key = notificationKey(cancellation.cancellationEventId, recipient.personId);
    await claimNotice(this.claims, {
      notificationId: notificationIdFor(key),
      key,
      topic: 'cancelled',
      kind: cancellation.kind,
      meetingIds: cancellation.meetingIds,
      ...(cancellation.seriesId !== undefined ? { seriesId: cancellation.seriesId } : {}),
      causeEventId: cancellation.cancellationEventId,
      snapshot: cancellation.snapshot,
      current: cancellation.stillCancelled,
      recipient,
    });
  }

  override async status(): Promise<ReactionStatus> {
    const status = await super.status();
    return { ...status, ...(this.parked > 0 ? { parked: this.parked } : {}) };
  }
}
