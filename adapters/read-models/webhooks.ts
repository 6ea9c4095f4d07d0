import { WebhookEvent, webhookEventTypesStored, webhookStreamPrefix } from '../../domain/webhook.ts';
import {
  WebhookDeliveryEvent,
  webhookDeliveryEventTypes,
  webhookDeliveryStreamPrefix,
} from '../../domain/webhook-delivery.ts';
import { WebhookAlertEvent, webhookAlertEventTypes, webhookAlertStreamPrefix } from '../../domain/webhook-alert.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import type { ProjectionSink } from '../../application/ports/read-models.ts';
import type {
  DeliveryAttemptView,
  DeliveryView,
  WebhookQueries,
  WebhookView,
} from '../../application/ports/webhooks.ts';
import { assertNever } from '../../domain/shared.ts';
import { decodeOrThrow, docOf, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

/**
 * Webhook endpoints and their delivery log for admins, projected from the endpoint and delivery streams. No secret
 * is projected: the sender reads it from the endpoint's stream when it signs.
 */

const schema = `
CREATE TABLE IF NOT EXISTS webhooks (
  id TEXT PRIMARY KEY, status TEXT NOT NULL, registered_position INTEGER NOT NULL, doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL, position INTEGER NOT NULL, status TEXT NOT NULL,
  next_attempt_at TEXT, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_log ON webhook_deliveries(webhook_id, position);
CREATE INDEX IF NOT EXISTS webhook_deliveries_status ON webhook_deliveries(webhook_id, status, position);
CREATE INDEX IF NOT EXISTS webhook_deliveries_pending ON webhook_deliveries(status, position);
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
  webhook_id TEXT NOT NULL, position INTEGER NOT NULL, enabled INTEGER NOT NULL, events TEXT NOT NULL,
  PRIMARY KEY (webhook_id, position)
);
CREATE TABLE IF NOT EXISTS webhook_alerts (id TEXT PRIMARY KEY, status TEXT NOT NULL, next_attempt_at TEXT);
`;

/** The last attempts a delivery's view keeps (the stream keeps every one). */
export const MAX_ATTEMPTS_SHOWN = 20;

const endpointTypes = new Set<string>(webhookEventTypesStored);
const deliveryTypes = new Set<string>(webhookDeliveryEventTypes);
const alertTypes = new Set<string>(webhookAlertEventTypes);

/** An admin alert's status as the sender needs it at start: sent, given up, or pending until when. */
const alertRow = (event: WebhookAlertEvent): { status: string; next: string | null } => {
  switch (event.type) {
    case 'WebhookAlertRequested':
      return { status: 'pending', next: null };
    case 'WebhookAlertAttemptFailed':
      return event.data.nextAttemptAt === undefined
        ? { status: 'abandoned', next: null }
        : { status: 'pending', next: event.data.nextAttemptAt };
    case 'WebhookAlertSent':
      return { status: 'sent', next: null };
    default:
      return assertNever(event);
  }
};

type Stored = WebhookView & { readonly deleted?: true };

const without = <T extends object, K extends keyof T>(value: T, ...keys: K[]): Omit<T, K> => {
  const copy = { ...value };
  for (const key of keys) delete copy[key];
  return copy;
};

const projectEndpoint = (
  current: Stored | undefined,
  event: WebhookEvent,
  recorded: RecordedEvent,
): Stored | undefined => {
  const at = event.data.at;
  const common = { updatedAt: at, revision: recorded.revision };
  if (event.type === 'WebhookRegistered') {
    const d = event.data;
    return {
      id: d.webhookId,
      url: d.url,
      events: d.events,
      ...(d.description !== undefined ? { description: d.description } : {}),
      status: 'enabled',
      createdAt: at,
      ...common,
    };
  }
  if (current === undefined) return undefined;
  switch (event.type) {
    case 'WebhookUpdated': {
      const { description, ...changes } = event.data.changes;
      const base =
        description === undefined
          ? current
          : description === ''
            ? without(current, 'description')
            : { ...current, description };
      return { ...base, ...changes, ...common };
    }
    case 'WebhookSecretRotated':
      return { ...current, secretRotatedAt: at, previousSecretValidUntil: event.data.previousValidUntil, ...common };
    case 'WebhookDisabled':
      return {
        ...current,
        status: 'disabled',
        disabledReason: event.data.reason,
        ...(event.data.detail !== undefined ? { disabledDetail: event.data.detail } : {}),
        disabledAt: at,
        ...common,
      };
    case 'WebhookEnabled':
      return {
        ...without(current, 'disabledReason', 'disabledDetail', 'disabledAt', 'failingSince'),
        status: 'enabled',
        ...common,
      };
    case 'WebhookDeleted':
      return { ...current, deleted: true, ...common };
    default:
      return current;
  }
};

const attemptsWith = (view: DeliveryView, attempt: DeliveryAttemptView): DeliveryAttemptView[] =>
  [...view.attempts, attempt].slice(-MAX_ATTEMPTS_SHOWN);

const parsePayload = (payload: string): unknown => {
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return payload;
  }
};

const projectDelivery = (
  current: DeliveryView | undefined,
  event: WebhookDeliveryEvent,
  recorded: RecordedEvent,
): DeliveryView | undefined => {
  if (event.type === 'DeliveryRequested') {
    const d = event.data;
    return {
      id: d.deliveryId,
      webhookId: d.webhookId,
      eventId: d.eventId,
      type: d.type,
      messageId: d.messageId,
      status: 'pending',
      payload: parsePayload(d.payload),
      attempts: [],
      attemptCount: 0,
      round: 0,
      createdAt: d.at,
      updatedAt: d.at,
      position: recorded.position,
    };
  }
  if (current === undefined) return undefined;
  const base = { ...without(current, 'nextAttemptAt'), updatedAt: event.data.at };
  switch (event.type) {
    case 'DeliveryAttemptStarted':
      return { ...base, attemptCount: event.data.attempt };
    case 'DeliverySucceeded': {
      const { attempt, status, response, durationMs, at } = event.data;
      return {
        ...without(base, 'lastError'),
        status: 'delivered',
        deliveredAt: at,
        attempts: attemptsWith(current, {
          attempt,
          at,
          ok: true,
          status,
          durationMs,
          ...(response !== undefined ? { response } : {}),
        }),
      };
    }
    case 'DeliveryAttemptFailed': {
      const { attempt, status, response, durationMs, at, error, nextAttemptAt } = event.data;
      return {
        ...base,
        lastError: error,
        ...(nextAttemptAt !== undefined ? { nextAttemptAt } : {}),
        attempts: attemptsWith(current, {
          attempt,
          at,
          ok: false,
          error,
          ...(status !== undefined ? { status } : {}),
          ...(response !== undefined ? { response } : {}),
          ...(durationMs !== undefined ? { durationMs } : {}),
        }),
      };
    }
    case 'DeliveryFailed':
      return { ...base, status: 'failed', lastError: event.data.error };
    case 'DeliveryRedeliveryRequested':
      return { ...without(base, 'deliveredAt'), status: 'pending', round: event.data.round };
    default:
      return current;
  }
};

export interface WebhookReadModel {
  readonly sink: ProjectionSink;
  readonly queries: WebhookQueries;
}

/** The endpoints' subscription history (what each took from which log position on) and the admin alerts. */
const sideTables = (db: Db) => {
  const putSubscription = db.prepare(
    'INSERT OR REPLACE INTO webhook_subscriptions(webhook_id, position, enabled, events) VALUES (?, ?, ?, ?)',
  );
  const subscriptionAt = db.prepare<[string, number], { enabled: number; events: string }>(
    `SELECT enabled, events FROM webhook_subscriptions WHERE webhook_id = ? AND position < ?
     ORDER BY position DESC LIMIT 1`,
  );
  const listed = db.prepare<[], { id: string }>(
    "SELECT id FROM webhooks WHERE status != 'deleted' ORDER BY registered_position",
  );
  const putAlert = db.prepare(
    `INSERT INTO webhook_alerts(id, status, next_attempt_at) VALUES (?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET status = excluded.status, next_attempt_at = excluded.next_attempt_at`,
  );
  const pendingAlerts = db.prepare<[], { id: string; next_attempt_at: string | null }>(
    "SELECT id, next_attempt_at FROM webhook_alerts WHERE status = 'pending'",
  );

  return { putSubscription, subscriptionAt, listed, putAlert, pendingAlerts };
};

export const openWebhookReadModel = (db: Db): WebhookReadModel => {
  db.exec(schema);
  const getEndpoint = db.prepare<[string], { doc: string }>('SELECT doc FROM webhooks WHERE id = ?');
  const putEndpoint = db.prepare(
    `INSERT INTO webhooks(id, status, registered_position, doc) VALUES (?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET status = excluded.status, doc = excluded.doc`,
  );
  const listEndpoints = db.prepare<[], { doc: string }>(
    "SELECT doc FROM webhooks WHERE status != 'deleted' ORDER BY registered_position",
  );
  const getDelivery = db.prepare<[string], { doc: string }>('SELECT doc FROM webhook_deliveries WHERE id = ?');
  const putDelivery = db.prepare(
    `INSERT INTO webhook_deliveries(id, webhook_id, position, status, next_attempt_at, doc) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET status = excluded.status, next_attempt_at = excluded.next_attempt_at, doc = excluded.doc`,
  );
  const page = {
    all: db.prepare<[string, number, number], { doc: string }>(
      'SELECT doc FROM webhook_deliveries WHERE webhook_id = ? AND position < ? ORDER BY position DESC LIMIT ? + 0',
    ),
    byStatus: db.prepare<[string, string, number, number], { doc: string }>(
      'SELECT doc FROM webhook_deliveries WHERE webhook_id = ? AND status = ? AND position < ? ORDER BY position DESC LIMIT ? + 0',
    ),
  };
  const pending = db.prepare<[], { doc: string }>(
    "SELECT doc FROM webhook_deliveries WHERE status = 'pending' ORDER BY position",
  );

  const { putSubscription, subscriptionAt, listed, putAlert, pendingAlerts } = sideTables(db);

  const readEndpoint = (id: string) => docOf<Stored>(getEndpoint.get(id));
  const writeEndpoint = (view: Stored, registeredPosition: number) =>
    putEndpoint.run(view.id, view.deleted === true ? 'deleted' : view.status, registeredPosition, JSON.stringify(view));
  const readDelivery = (id: string) => docOf<DeliveryView>(getDelivery.get(id));

  /** Deliveries tell their endpoint whether it is failing: since the first failure after the last success. */
  const touchFailing = (webhookId: string, event: WebhookDeliveryEvent) => {
    const endpoint = readEndpoint(webhookId);
    if (endpoint === undefined) return;
    if (event.type === 'DeliverySucceeded' && endpoint.failingSince !== undefined)
      writeEndpoint(without(endpoint, 'failingSince'), 0);
    if (event.type === 'DeliveryAttemptFailed' && endpoint.failingSince === undefined)
      writeEndpoint({ ...endpoint, failingSince: event.data.at }, 0);
  };

  const handle = (recorded: RecordedEvent): void => {
    if (recorded.streamName.startsWith(webhookAlertStreamPrefix) && alertTypes.has(recorded.type)) {
      const row = alertRow(decodeOrThrow(WebhookAlertEvent, recorded));
      putAlert.run(recorded.streamName.slice(webhookAlertStreamPrefix.length), row.status, row.next);
      return;
    }
    if (recorded.streamName.startsWith(webhookStreamPrefix) && endpointTypes.has(recorded.type)) {
      const event = decodeOrThrow(WebhookEvent, recorded);
      const id = recorded.streamName.slice(webhookStreamPrefix.length);
      const view = projectEndpoint(event.type === 'WebhookRegistered' ? undefined : readEndpoint(id), event, recorded);
      if (view === undefined) return;
      writeEndpoint(view, recorded.position);
      // What it took from here on in the log: the reaction decides by the event's position, not by today's state.
      if (event.type !== 'WebhookSecretRotated' && !(event.type === 'WebhookUpdated' && !event.data.changes.events))
        putSubscription.run(
          id,
          recorded.position,
          view.status === 'enabled' && view.deleted !== true ? 1 : 0,
          JSON.stringify(view.events),
        );
      return;
    }
    if (recorded.streamName.startsWith(webhookDeliveryStreamPrefix) && deliveryTypes.has(recorded.type)) {
      const event = decodeOrThrow(WebhookDeliveryEvent, recorded);
      const id = recorded.streamName.slice(webhookDeliveryStreamPrefix.length);
      const view = projectDelivery(event.type === 'DeliveryRequested' ? undefined : readDelivery(id), event, recorded);
      if (view === undefined) return;
      putDelivery.run(
        view.id,
        view.webhookId,
        view.position,
        view.status,
        view.nextAttemptAt ?? null,
        JSON.stringify(view),
      );
      touchFailing(view.webhookId, event);
    }
  };

  const shown = (stored: Stored | undefined): WebhookView | undefined => {
    if (stored === undefined || stored.deleted === true) return undefined;
    const { deleted: _deleted, ...view } = stored;
    return view;
  };
  const docs = <A>(rows: ReadonlyArray<{ doc: string }>) => rows.map((row) => JSON.parse(row.doc) as A);

  return {
    sink: sqliteSink(db, 'webhooks', handle, () =>
      db.exec(
        'DELETE FROM webhooks; DELETE FROM webhook_deliveries; DELETE FROM webhook_alerts; DELETE FROM webhook_subscriptions;',
      ),
    ),
    queries: {
      getWebhook: (id) => shown(readEndpoint(id)),
      listWebhooks: () => docs<Stored>(listEndpoints.all()).flatMap((s) => shown(s) ?? []),
      subscribersAt: (position) =>
        listed.all().flatMap(({ id }) => {
          const row = subscriptionAt.get(id, position);
          return row === undefined || row.enabled !== 1 ? [] : [{ id, events: JSON.parse(row.events) as string[] }];
        }),
      getDelivery: readDelivery,
      listDeliveries: ({ webhookId, status, before, limit }) => {
        const below = before ?? Number.MAX_SAFE_INTEGER;
        return status === undefined
          ? docs<DeliveryView>(page.all.all(webhookId, below, limit))
          : docs<DeliveryView>(page.byStatus.all(webhookId, status, below, limit));
      },
      pendingAlerts: () =>
        pendingAlerts.all().map((row) => ({
          id: row.id,
          ...(row.next_attempt_at !== null ? { nextAttemptAt: row.next_attempt_at } : {}),
        })),
      pendingDeliveries: () =>
        docs<DeliveryView>(pending.all()).map((d) => ({
          id: d.id,
          webhookId: d.webhookId,
          ...(d.nextAttemptAt !== undefined ? { nextAttemptAt: d.nextAttemptAt } : {}),
        })),
    },
  };
};
