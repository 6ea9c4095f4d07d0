import * as E from 'fp-ts/lib/Either.js';
import { scheduleStreamPrefix } from '../../domain/schedule.ts';
import { Actor } from '../../domain/shared.ts';
import { callTicketStreamPrefix } from '../../domain/call-ticket.ts';
import { webhookStreamPrefix } from '../../domain/webhook.ts';
import { webhookDeliveryStreamPrefix } from '../../domain/webhook-delivery.ts';
import { webhookAlertStreamPrefix } from '../../domain/webhook-alert.ts';
import { IDEMPOTENCY_STREAM_PREFIX } from '../../application/idempotency.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import type { HistoryEntry, MeetingQueries, ProjectionSink } from '../../application/ports/read-models.ts';
import { sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

interface Row {
  revision: number;
  position: number;
  type: string;
  at: string;
  actor: string;
  data: string;
}

const entryOf = (row: Row): HistoryEntry => ({
  revision: row.revision,
  position: row.position,
  type: row.type,
  at: row.at,
  actor: JSON.parse(row.actor) as HistoryEntry['actor'],
  data: JSON.parse(row.data) as unknown,
});

const schema = `
CREATE TABLE IF NOT EXISTS history (
  stream TEXT NOT NULL, revision INTEGER NOT NULL, position INTEGER NOT NULL, type TEXT NOT NULL,
  at TEXT NOT NULL, actor TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (stream, revision)
);
`;

export interface HistoryReadModel {
  readonly sink: ProjectionSink;
  readonly queries: Pick<MeetingQueries, 'history' | 'mergedHistory'>;
}

/** The audit history: every event of every stream, with who did it and when, page by page per stream. */
export const openHistoryReadModel = (db: Db): HistoryReadModel => {
  db.exec(schema);
  const putHistory = db.prepare(
    'INSERT OR IGNORE INTO history(stream, revision, position, type, at, actor, data) VALUES (?,?,?,?,?,?,?)',
  );
  const historyStmt = db.prepare<[string, number, number], Row>(
    'SELECT revision, position, type, at, actor, data FROM history WHERE stream = ? AND revision > ? ORDER BY revision LIMIT ?',
  );
  // The streams' events in log order; their names come as one JSON array.
  const mergedStmt = db.prepare<[string, number, number], Row>(
    'SELECT revision, position, type, at, actor, data FROM history WHERE stream IN (SELECT value FROM json_each(?)) ORDER BY position LIMIT ? OFFSET ?',
  );
  const handle = (recorded: RecordedEvent): void => {
    // Idempotency keys are bookkeeping of requests, with their answers; schedules are bookkeeping of bookings (each
    // meeting's history says what it did); redeemed join tickets are bookkeeping of calls (a meeting's history shows
    // its changes, not who joined its call when): no one's audit history.
    if (recorded.streamName.startsWith(IDEMPOTENCY_STREAM_PREFIX)) return;
    if (recorded.streamName.startsWith(scheduleStreamPrefix)) return;
    if (recorded.streamName.startsWith(callTicketStreamPrefix)) return;
    // Webhook endpoints hold their signing secrets, and deliveries and admin alerts are their bookkeeping: kept out
    // of this table.
    if (recorded.streamName.startsWith(webhookStreamPrefix)) return;
    if (recorded.streamName.startsWith(webhookDeliveryStreamPrefix)) return;
    if (recorded.streamName.startsWith(webhookAlertStreamPrefix)) return;
    const data = recorded.data as { at?: unknown; by?: unknown } | null;
    const actorDecoded = Actor.decode(data?.by ?? recorded.metadata.actor);
    const actor = E.isRight(actorDecoded) ? actorDecoded.right : { id: 'unknown', roles: [] };
    const at = typeof data?.at === 'string' ? data.at : recorded.recordedAt;
    putHistory.run(
      recorded.streamName,
      recorded.revision,
      recorded.position,
      recorded.type,
      at,
      JSON.stringify(actor),
      JSON.stringify(recorded.data),
    );
  };
  return {
    sink: sqliteSink(db, 'history', handle, () => db.exec('DELETE FROM history;')),
    queries: {
      history: (streamName, page = { after: -1, limit: -1 }) =>
        historyStmt.all(streamName, page.after, page.limit).map(entryOf),
      mergedHistory: (streamNames, page = { after: -1, limit: -1 }) =>
        mergedStmt.all(JSON.stringify(streamNames), page.limit, page.after + 1).map(entryOf),
    },
  };
};
