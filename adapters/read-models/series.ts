import { SeriesEvent, seriesEventTypes } from '../../domain/series.ts';
import { projectSeriesDoc, seriesViewOf } from '../../application/projections/series-view.ts';
import type { SeriesDoc } from '../../application/projections/series-view.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import type { MeetingQueries, ProjectionSink } from '../../application/ports/read-models.ts';
import { decodeOrThrow, docOf, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

const schema = 'CREATE TABLE IF NOT EXISTS series (id TEXT PRIMARY KEY, doc TEXT NOT NULL);';

const types = new Set<string>(seriesEventTypes);

export interface SeriesReadModel {
  readonly sink: ProjectionSink;
  readonly queries: Pick<MeetingQueries, 'getSeries'>;
}

/** Each series as a document; its view lists the series' meetings, which `meetingsOfSeries` reads. */
export const openSeriesReadModel = (db: Db, meetingsOfSeries: MeetingQueries['meetingsOfSeries']): SeriesReadModel => {
  db.exec(schema);
  const getSeriesStmt = db.prepare<[string], { doc: string }>('SELECT doc FROM series WHERE id = ?');
  const putSeries = db.prepare(
    'INSERT INTO series(id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc',
  );
  const handle = (recorded: RecordedEvent): void => {
    if (!types.has(recorded.type)) return;
    const event = decodeOrThrow(SeriesEvent, recorded);
    const current = docOf<SeriesDoc>(getSeriesStmt.get(event.data.seriesId));
    const doc = projectSeriesDoc(current, event, recorded);
    if (doc !== undefined) putSeries.run(doc.id, JSON.stringify(doc));
  };
  return {
    sink: sqliteSink(db, 'series', handle, () => db.exec('DELETE FROM series;')),
    queries: {
      getSeries: (seriesId) => {
        const doc = docOf<SeriesDoc>(getSeriesStmt.get(seriesId));
        return doc === undefined ? undefined : seriesViewOf(doc, meetingsOfSeries(seriesId));
      },
    },
  };
};
