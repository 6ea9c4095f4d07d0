/** The operations of `/series` in the OpenAPI document; openapi/builder.ts adds the answers they share. */

import { body, header, json, operation, param, reply, response } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import { SeriesBody, SeriesCancelBody, SeriesPatchBody, SeriesPreviewShape, SeriesResource } from './shapes.ts';
import { HistoryShape } from '../history/shapes.ts';

const exampleSeriesInput = {
  title: 'Weekly yoga',
  customerId: 'cust-42',
  instructorId: 'inst-9',
  trainingType: 'link',
  remoteLink: 'https://meet.example.com/yoga-42',
  description: 'Mat required.',
  timezone: 'Europe/Amsterdam',
  startDate: '2026-03-02',
  startTime: '10:00',
  durationMinutes: 45,
  rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4',
  exclusions: ['2026-03-04'],
};

const exampleSeriesId = '9a1e4c3b-77d2-4f0e-8c51-2b6a9d0e3f44';

const exampleOccurrence = (localDate: string, state = 'planned') => ({
  meetingId: `${exampleSeriesId}_${localDate}`,
  localDate,
  start: `${localDate}T09:00:00.000Z`,
  end: `${localDate}T09:45:00.000Z`,
  state,
});

const exampleSeries = {
  ...exampleSeriesInput,
  id: exampleSeriesId,
  state: 'active',
  occurrences: ['2026-03-02', '2026-03-09', '2026-03-11', '2026-03-16'].map((date) => exampleOccurrence(date)),
  createdAt: '2026-02-20T14:05:00.000Z',
  updatedAt: '2026-02-20T14:05:00.000Z',
  revision: 0,
};

const seriesResponse = (schema: SchemaOf, description: string, example: unknown = exampleSeries): Json =>
  reply(description, json(schema(SeriesResource), example), { ETag: header('ETag') });

const seriesPath = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'createSeries',
    idempotent: 'replay',
    summary: 'Schedule a recurring series',
    description:
      'Admins for anyone; instructors for their own. Every occurrence becomes a meeting. When an occurrence would ' +
      'overlap an existing meeting of the customer or the instructor, nothing is created and 409 lists the `conflicts`. ' +
      'Both people must be known (by default: in the people directory); an unknown `customerId` or `instructorId` answers 400 naming it.',
    tags: ['series'],
    requestBody: body(schema(SeriesBody), 'The series.', exampleSeriesInput),
    responses: {
      '201': reply('Created, with its occurrences.', json(schema(SeriesResource), exampleSeries), {
        ETag: header('ETag'),
        Location: header('Location'),
      }),
      '403': response('Forbidden'),
      '409': response('Conflict'),
    },
  }),
});

const seriesPreviewPath = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'previewSeries',
    summary: 'Preview the occurrences of a series before scheduling it',
    description:
      'The same body, the same authorization (admins for anyone; instructors for their own) and the same 400s as ' +
      '`POST /series`, but nothing is written: answers every occurrence that `POST /series` would create for this ' +
      'body (computed by the same code, so the instants match), each with the existing meetings of the customer or ' +
      'the instructor it would overlap now (the other meeting only when the caller may see it, else just the slot).',
    tags: ['series'],
    requestBody: body(schema(SeriesBody), 'The series as it would be scheduled.', exampleSeriesInput),
    responses: {
      '200': reply(
        'The occurrences.',
        json(schema(SeriesPreviewShape), {
          occurrences: ['2026-03-02', '2026-03-09', '2026-03-11', '2026-03-16'].map((localDate) => ({
            localDate,
            start: `${localDate}T09:00:00.000Z`,
            end: `${localDate}T09:45:00.000Z`,
            conflicts: [],
          })),
        }),
      ),
      '400': response('BadRequest'),
      '403': response('Forbidden'),
    },
  }),
});

const seriesIdPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getSeries',
    summary: 'Read a series with its occurrences',
    description: 'Admins, its customer and its instructor.',
    tags: ['series'],
    parameters: [param('SeriesId')],
    responses: { '200': seriesResponse(schema, 'The series.'), '404': response('NotFound') },
  }),
  patch: operation({
    operationId: 'updateSeries',
    summary: 'Change a series',
    description:
      'Change the recurrence or other fields (see SeriesPatch for what happens to occurrences). Admins and its instructor. A cancelled series cannot be changed (409).',
    tags: ['series'],
    parameters: [param('SeriesId'), param('IfMatch')],
    requestBody: body(schema(SeriesPatchBody), 'The fields to change.', {
      startTime: '11:00',
      rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=6',
    }),
    responses: {
      '200': seriesResponse(schema, 'The series after the change.'),
      '403': response('Forbidden'),
      '404': response('NotFound'),
      '409': response('Conflict'),
      '412': response('PreconditionFailed'),
    },
  }),
});

const seriesIdCancelPath = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'cancelSeries',
    idempotent: 'replay',
    summary: 'Cancel a series from a point in time',
    description:
      'Cancels every occurrence starting at or after `from` (default now); earlier ones are kept. The customer gets one ' +
      'email listing the cancelled sessions. Admins and its instructor.',
    tags: ['series'],
    parameters: [param('SeriesId'), param('IfMatch')],
    requestBody: body(
      schema(SeriesCancelBody),
      'Optional; an empty body is fine.',
      { reason: 'Studio closed for renovation', from: '2026-03-09T00:00:00Z' },
      false,
    ),
    responses: {
      '200': seriesResponse(schema, 'The series after the cancellation.', {
        ...exampleSeries,
        state: 'cancelled',
        revision: 1,
      }),
      '403': response('Forbidden'),
      '404': response('NotFound'),
      '409': { ...response('Conflict'), description: 'The series is already cancelled.' },
      '412': response('PreconditionFailed'),
    },
  }),
});

const seriesIdHistoryPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getSeriesHistory',
    summary: 'Audit history of a series',
    description: 'As the meeting history, for the series stream. Who may read it: as `GET /series/{id}`.',
    tags: ['series'],
    parameters: [param('SeriesId'), param('HistoryAfter'), param('HistoryLimit')],
    responses: {
      '200': reply('The history.', json(schema(HistoryShape))),
      '400': response('BadRequest'),
      '404': response('NotFound'),
    },
  }),
});

export const seriesPaths: PathsOf = (schema) => ({
  '/series': seriesPath(schema),
  '/series/preview': seriesPreviewPath(schema),
  '/series/{id}': seriesIdPath(schema),
  '/series/{id}/cancel': seriesIdCancelPath(schema),
  '/series/{id}/history': seriesIdHistoryPath(schema),
});
