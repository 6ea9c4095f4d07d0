import * as E from 'fp-ts/lib/Either.js';
import { Settings, SettingsEvent, defaultSettings } from '../../domain/settings.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import type { MeetingQueries, ProjectionSink } from '../../application/ports/read-models.ts';
import { decodeOrThrow, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

const schema = 'CREATE TABLE IF NOT EXISTS settings (id TEXT PRIMARY KEY, doc TEXT NOT NULL);';

export interface SettingsReadModel {
  readonly sink: ProjectionSink;
  readonly queries: Pick<MeetingQueries, 'getSettings'>;
}

/** The global settings as last changed; the defaults until then. */
export const openSettingsReadModel = (db: Db): SettingsReadModel => {
  db.exec(schema);
  const putSettings = db.prepare(
    "INSERT INTO settings(id, doc) VALUES ('global', ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
  );
  const settingsStmt = db.prepare<[], { doc: string }>("SELECT doc FROM settings WHERE id = 'global'");
  const handle = (recorded: RecordedEvent): void => {
    if (recorded.type !== 'SettingsChanged') return;
    const event = decodeOrThrow(SettingsEvent, recorded);
    putSettings.run(JSON.stringify(event.data.settings));
  };
  return {
    sink: sqliteSink(db, 'settings', handle, () => db.exec('DELETE FROM settings;')),
    queries: {
      getSettings: () => {
        const row = settingsStmt.get();
        if (row === undefined) return defaultSettings;
        const decoded = Settings.decode(JSON.parse(row.doc));
        return E.isRight(decoded) ? decoded.right : defaultSettings;
      },
    },
  };
};
