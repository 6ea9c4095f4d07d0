/** The operation of `/audit` in the OpenAPI document (admins and auditors). */

import { MAX_ID_LENGTH } from '../../../domain/shared.ts';
import { AUDIT_CSV_MAX_ROWS } from '../../../application/audit.ts';
import { json, operation, problemJson, reply, response } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, AuditPageShape, EVENT_TYPE_PATTERN } from './shapes.ts';

const exampleEntry = {
  position: 4711,
  at: '2026-03-02T09:15:00.000Z',
  actor: { id: 'ada', roles: ['admin'] },
  type: 'PersonRolesChanged',
  stream: 'person-cust-42',
  summary: 'Roles of person cust-42 changed from customer to customer, instructor.',
  data: {
    personId: 'cust-42',
    roles: ['customer', 'instructor'],
    previous: ['customer'],
    at: '2026-03-02T09:15:00.000Z',
    by: { id: 'ada', roles: ['admin'] },
  },
};

const instant = (name: string, description: string): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type: 'string', format: 'date-time' },
});
const id = (name: string, description: string): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH },
});

const csvExample =
  'at,actor,actor_roles,type,stream,summary,data\r\n' +
  '2026-03-02T09:15:00.000Z,ada,admin,PersonRolesChanged,person-cust-42,"Roles of person cust-42 changed from customer to customer, instructor.","{""personId"":""cust-42"",""roles"":[""customer"",""instructor""],""previous"":[""customer""],""at"":""2026-03-02T09:15:00.000Z"",""by"":{""id"":""ada"",""roles"":[""admin""]}}"\r\n';

const auditPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'listAudit',
    summary: 'The audit log: who did what, when, in which stream',
    description:
      'Admins and auditors only (403 for others). Every event of the log except bookkeeping (booking schedules, ' +
      'call tickets, Idempotency-Key claims), oldest first by `at` (then log position), with secrets redacted. ' +
      'Filters combine. Unknown or malformed query parameters are refused (400 naming them).\n\n' +
      'With `Accept: text/csv` the answer is the whole filtered range as one RFC 4180 CSV file (header ' +
      '`at,actor,actor_roles,type,stream,summary,data`, `actor_roles` space-separated, `data` as compact JSON, CRLF ' +
      "line ends), streamed; a field starting with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'` so that " +
      `spreadsheets do not run it as a formula. CSV takes no \`cursor\` or \`limit\` (400); a range of more than ` +
      `${AUDIT_CSV_MAX_ROWS} entries answers 422: ask for a narrower one.`,
    tags: ['audit'],
    parameters: [
      instant('from', 'Only entries at or after this instant.'),
      instant('to', 'Only entries before this instant (after `from`).'),
      id('actor', 'Only entries by this user id.'),
      id(
        'personId',
        'Only entries concerning this person: by them, or naming them as `personId`, `customerId`, `instructorId` or `userId`.',
      ),
      {
        name: 'type',
        in: 'query',
        required: false,
        description: 'Only entries of this event type.',
        schema: { type: 'string', pattern: EVENT_TYPE_PATTERN },
        example: 'PersonRolesChanged',
      },
      {
        name: 'cursor',
        in: 'query',
        required: false,
        description: 'The `next` of the previous page, unchanged (JSON only).',
        schema: { type: 'string', maxLength: 200 },
      },
      {
        name: 'limit',
        in: 'query',
        required: false,
        description: `At most this many entries (JSON only; default ${AUDIT_PAGE_DEFAULT}).`,
        schema: { type: 'integer', minimum: 1, maximum: AUDIT_PAGE_MAX, default: AUDIT_PAGE_DEFAULT },
      },
    ],
    responses: {
      '200': reply(
        'A page of entries, or with `Accept: text/csv` the whole filtered range as CSV.',
        {
          ...json(schema(AuditPageShape), {
            items: [exampleEntry],
            next: 'WyIyMDI2LTAzLTAyVDA5OjE1OjAwLjAwMFoiLDQ3MTFd',
          }),
          'text/csv': { schema: { type: 'string' }, example: csvExample },
        },
        {
          'Content-Disposition': {
            description: 'CSV only: `attachment; filename="audit-<from>-<to>.csv"`.',
            schema: { type: 'string' },
          },
        },
      ),
      '400': response('BadRequest'),
      '403': response('Forbidden'),
      '422': reply(
        'CSV only: the range holds too many entries; ask for a narrower one.',
        problemJson({
          type: 'about:blank',
          title: 'Export too large',
          status: 422,
          detail: `the export would hold more than ${AUDIT_CSV_MAX_ROWS} entries; ask for a narrower range (from, to) or filter it`,
        }),
      ),
    },
  }),
});

export const auditPaths: PathsOf = (schema) => ({ '/audit': auditPath(schema) });
