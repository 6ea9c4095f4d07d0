import { CalendarFeedEvent, calendarFeedEventTypes } from '../../domain/calendar-feed.ts';
import { assertNever } from '../../domain/shared.ts';
import type { CalendarFeedQueries, ProjectionSink } from '../../application/ports/read-models.ts';
import { decodeOrThrow, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

const schema = `
CREATE TABLE IF NOT EXISTS calendar_feeds (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS calendar_feeds_user ON calendar_feeds(user_id);
CREATE TABLE IF NOT EXISTS calendar_feed_epochs (user_id TEXT PRIMARY KEY, epoch INTEGER NOT NULL) WITHOUT ROWID;
`;

const types = new Set<string>(calendarFeedEventTypes);

export interface CalendarFeedReadModel {
  readonly sink: ProjectionSink;
  readonly queries: CalendarFeedQueries;
}

/**
 * Which user a feed token (by its hash) belongs to; one active token per user, so enabling again drops the old one.
 * Also each user's feed epoch, which join links carry.
 */
export const openCalendarFeedReadModel = (db: Db): CalendarFeedReadModel => {
  db.exec(schema);
  const dropUser = db.prepare('DELETE FROM calendar_feeds WHERE user_id = ?');
  const put = db.prepare(
    'INSERT INTO calendar_feeds(token_hash, user_id) VALUES (?, ?) ON CONFLICT(token_hash) DO UPDATE SET user_id = excluded.user_id',
  );
  const bump = db.prepare(
    'INSERT INTO calendar_feed_epochs(user_id, epoch) VALUES (?, 1) ON CONFLICT(user_id) DO UPDATE SET epoch = epoch + 1',
  );
  const epoch = db.prepare<[string], { epoch: number }>('SELECT epoch FROM calendar_feed_epochs WHERE user_id = ?');
  const owner = db.prepare<[string], { user_id: string }>('SELECT user_id FROM calendar_feeds WHERE token_hash = ?');

  const sink = sqliteSink(
    db,
    'calendar-feeds',
    (recorded) => {
      if (!types.has(recorded.type)) return;
      const event = decodeOrThrow(CalendarFeedEvent, recorded);
      // Every enable (a rotation) and disable revokes the join links issued before it.
      bump.run(event.data.userId);
      switch (event.type) {
        case 'CalendarFeedEnabled':
          dropUser.run(event.data.userId);
          put.run(event.data.tokenHash, event.data.userId);
          return;
        case 'CalendarFeedDisabled':
          dropUser.run(event.data.userId);
          return;
        default:
          return assertNever(event);
      }
    },
    () => db.exec('DELETE FROM calendar_feeds; DELETE FROM calendar_feed_epochs;'),
  );

  return {
    sink,
    queries: {
      feedOwner: (tokenHash) => owner.get(tokenHash)?.user_id,
      feedEpoch: (userId) => epoch.get(userId)?.epoch ?? 0,
    },
  };
};
