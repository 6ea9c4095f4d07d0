import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { scheduleStreamPrefix } from '../../domain/schedule.ts';
import { WebhookEvent, subscribes, webhookStreamPrefix } from '../../domain/webhook.ts';
import { webhookDeliveryStreamPrefix } from '../../domain/webhook-delivery.ts';
import { webhookAlertStreamPrefix } from '../../domain/webhook-alert.ts';
import { webhookDeliveries } from '../aggregates.ts';
import { decodeRecorded } from '../decode.ts';
import { createRecorder } from '../execute.ts';
import type { Recorder } from '../execute.ts';
import { LogFollower } from '../log-follower.ts';
import type { LogFollowerDeps } from '../log-follower.ts';
import type { RecordedEvent } from '../ports/event-store.ts';
import type { WebhookQueries } from '../ports/webhooks.ts';
import { webhookPayloadOf } from './payload.ts';
import type { ParticipantsOf, WebhookPayload } from './payload.ts';

export interface WebhookReactionDeps extends LogFollowerDeps {
  readonly queries: Pick<WebhookQueries, 'subscribersAt'>;
  /** An event older than this (by when it was recorded) is past every retry: a replay does not deliver it. */
  readonly horizonMs: number;
  readonly participants: ParticipantsOf;
  readonly schedule: (deliveryId: string, webhookId: string, at?: string) => void;
  /**
   * An endpoint was disabled because it kept failing: claims the admins' alerts (event id, endpoint id, why). Awaited
   * before the checkpoint moves past the event, so a crash before it only makes the reaction come to the event again.
   */
  readonly disabledForFailing: (eventId: string, webhookId: string, detail: string) => Promise<void>;
  readonly clock: () => Date;
  readonly newId: () => string;
}

/** How recent a disabling must be for the admins to be emailed about it when the reaction comes to it. */
const TELL_WITHIN_MS = 86_400_000;

/** One delivery per event and endpoint: the same id whichever node or replay makes it. */
export const deliveryIdFor = (eventId: string, webhookId: string): string =>
  createHash('sha256').update(`${eventId}\u0000${webhookId}`).digest('hex').slice(0, 32);

/**
 * Follows the log from its own durable checkpoint and turns each event a webhook can say something about into one
 * delivery per endpoint that took it at its place in the log: registered before it, enabled at it and subscribed
 * to its type at it (not as the endpoint is today), and only for events within the horizon (a replay from a lost
 * checkpoint or a fresh node's read models delivers no months-old events). Claiming a delivery is the first
 * append to its stream, so a replay or a second node finds it claimed and sends nothing new; sending is the sender's.
 */
export class WebhookReaction extends LogFollower {
  private readonly commands: Recorder;

  constructor(private readonly deps: WebhookReactionDeps) {
    super(deps, 'webhooks', 'webhook deliveries paused; resuming from the checkpoint');
    this.commands = createRecorder(deps);
  }

  // Schedules and the deliveries' and alerts' own streams make no webhook.
  protected override ignoredStreamPrefixes(): ReadonlyArray<string> {
    return [scheduleStreamPrefix, webhookDeliveryStreamPrefix, webhookAlertStreamPrefix];
  }

  protected async handle(recorded: RecordedEvent): Promise<void> {
    if (recorded.streamName.startsWith(webhookStreamPrefix)) {
      const claimed = await this.endpointEvent(recorded);
      this.advance(recorded.position, claimed);
      return;
    }
    // Whoever took it then: registered before it, enabled at it (its type is checked once the payload is built). With
    // nobody there (most sites, most of the time), the event costs no payload: no people read, nothing encoded.
    const old = this.deps.clock().getTime() - Date.parse(recorded.recordedAt) > this.deps.horizonMs;
    const registered = old ? [] : this.deps.queries.subscribersAt(recorded.position);
    if (registered.length === 0) {
      this.advance(recorded.position, false);
      return;
    }
    const payload = webhookPayloadOf(recorded, this.deps.participants);
    if (E.isLeft(payload)) {
      // An event that cannot be read would stop every later one: logged and left behind.
      this.deps.log.error(
        { eventId: recorded.id, position: recorded.position, error: payload.left },
        'event cannot be read; no webhook',
      );
      this.advance(recorded.position, false);
      return;
    }
    if (payload.right === undefined || (await this.showsNoChange(recorded, payload.right))) {
      this.advance(recorded.position, false);
      return;
    }
    const type = payload.right.type;
    const subscribers = registered.filter((s) => subscribes(s.events, type));
    for (const subscriber of subscribers) await this.claim(recorded, subscriber.id, payload.right);
    this.recovered();
    // Saved at once after a claim; an event nobody takes is passed over like any other.
    this.advance(recorded.position, subscribers.length > 0);
  }

  /**
   * A person update that changed only what no webhook shows (the CRM record) makes no `person.updated`: its public
   * fields are compared with those of the person's event before it.
   */
  private async showsNoChange(recorded: RecordedEvent, payload: WebhookPayload): Promise<boolean> {
    if (payload.type !== 'person.updated') return false;
    if ((recorded.data as { crm?: unknown } | null)?.crm === undefined) return false;
    const stream = await this.deps.store.readStream(recorded.streamName);
    const before = stream
      .filter((e) => e.revision < recorded.revision && (e.type === 'PersonRegistered' || e.type === 'PersonUpdated'))
      .at(-1);
    if (before === undefined) return false;
    const earlier = webhookPayloadOf(before, this.deps.participants);
    return E.isRight(earlier) && JSON.stringify(earlier.right?.data) === JSON.stringify(payload.data);
  }

  /** Whether it claimed anything (then the checkpoint is saved at once). */
  private async endpointEvent(recorded: RecordedEvent): Promise<boolean> {
    if (recorded.type !== 'WebhookDisabled') return false;
    const decoded = decodeRecorded(WebhookEvent, recorded);
    if (E.isLeft(decoded) || decoded.right.type !== 'WebhookDisabled') return false;
    const d = decoded.right.data;
    // A replay long after (a lost checkpoint) tells nobody again about an old disabling.
    const recent = this.deps.clock().getTime() - Date.parse(d.at) < TELL_WITHIN_MS;
    if (d.reason !== 'failing' || !recent) return false;
    await this.deps.disabledForFailing(recorded.id, d.webhookId, d.detail ?? 'it kept failing');
    return true;
  }

  private async claim(recorded: RecordedEvent, webhookId: string, payload: WebhookPayload): Promise<void> {
    const deliveryId = deliveryIdFor(recorded.id, webhookId);
    const result = await this.commands.record(
      webhookDeliveries,
      deliveryId,
      {
        type: 'RequestDelivery',
        data: {
          deliveryId,
          webhookId,
          eventId: recorded.id,
          type: payload.type,
          messageId: `msg_${deliveryId}`,
          payload: JSON.stringify(payload),
          at: this.deps.clock().toISOString(),
        },
      },
      { maxRetries: 1 },
    );
    if (E.isLeft(result)) {
      if (result.left._tag !== 'DeliveryAlreadyRequested')
        throw new Error(`cannot claim webhook delivery ${deliveryId}: ${JSON.stringify(result.left)}`);
      // Claimed before (a replay): the sender resumes it if it is still pending.
      const loaded = await this.commands.load(webhookDeliveries, deliveryId);
      if (E.isRight(loaded) && loaded.right.state.status === 'pending')
        this.deps.schedule(deliveryId, webhookId, loaded.right.state.nextAttemptAt);
      return;
    }
    this.deps.schedule(deliveryId, webhookId);
  }
}
