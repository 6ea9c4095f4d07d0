import { CalendarFeedEvent, calendarFeedEventTypes } from '../../domain/calendar-feed.ts';
import { assertNever } from '../../domain/shared.ts';
import type { CalendarFeedQueries, ProjectionSink } from '../../application/ports/read-models.ts';
import { decodeOrThrow, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

const schema = `
CREATE TABLE IF NOT EXISTS calendar_feeds (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS calendar_feeds_user ON calendar_feeds(user_id);
`;

const types = new Set<string>(calendarFeedEventTypes);

export interface CalendarFeedReadModel {
  readonly sink: ProjectionSink;
  readonly queries: CalendarFeedQueries;
}

/** Which user a feed token (by its hash) belongs to; one active token per user, so enabling again drops the old one. */
export const openCalendarFeedReadModel = (db: Db): CalendarFeedReadModel => {
  db.exec(schema);
  const dropUser = db.prepare('DELETE FROM calendar_feeds WHERE user_id = ?');
  const put = db.prepare(
    'INSERT INTO calendar_feeds(token_hash, user_id) VALUES (?, ?) ON CONFLICT(token_hash) DO UPDATE SET user_id = excluded.user_id',
  );
  const owner = db.prepare<[string], { user_id: string }>('SELECT user_id FROM calendar_feeds WHERE token_hash = ?');

  const sink = sqliteSink(
    db,
    'calendar-feeds',
    (recorded) => {
      if (!types.has(recorded.type)) return;
      const event = decodeOrThrow(CalendarFeedEvent, recorded);
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
    () => db.exec('DELETE FROM calendar_feeds;'),
  );

  return { sink, queries: { feedOwner: (tokenHash) => owner.get(tokenHash)?.user_id } };
};
