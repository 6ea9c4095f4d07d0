import * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { AuditEntry, AuditFilter, AuditService } from '../../../application/audit.ts';
import { requestContext as ctx } from '../kit/context.ts';
import type { Env } from '../kit/context.ts';
import { appErrorResponse, problem, validationProblem } from '../kit/problem.ts';
import { decodeBody } from '../validation.ts';
import { AUDIT_QUERY_KEYS, AuditQuery } from './shapes.ts';

export const CSV_HEADER = ['at', 'actor', 'actor_roles', 'type', 'stream', 'summary', 'data'];

/**
 * One CSV field: a leading `=`, `+`, `-`, `@`, tab or CR gets a `'` so that spreadsheets show it rather than run
 * it as a formula (OWASP's advice), then RFC 4180 quoting where the field needs it.
 */
export const csvField = (value: string): string => {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

const csvRow = (fields: ReadonlyArray<string>): string => `${fields.map(csvField).join(',')}\r\n`;

const csvRowOf = (entry: AuditEntry): string =>
  csvRow([
    entry.at,
    entry.actor.id,
    entry.actor.roles.join(' '),
    entry.type,
    entry.stream,
    entry.summary,
    JSON.stringify(entry.data),
  ]);

/** `2026-03-01T00:00:00.000Z` → `20260301T000000Z`: safe in a file name, still sortable. */
const fileStamp = (instant: string | undefined, otherwise: string): string =>
  instant === undefined ? otherwise : instant.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/** The entries as CSV, read a batch at a time as the client takes them: a month never sits in memory at once. */
const csvStream = (batches: Iterable<ReadonlyArray<AuditEntry>>): ReadableStream<Uint8Array> => {
  const encoder = new TextEncoder();
  const iterator = batches[Symbol.iterator]();
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(csvRow(CSV_HEADER)));
        return;
      }
      const next = iterator.next();
      if (next.done === true) controller.close();
      else controller.enqueue(encoder.encode(next.value.map(csvRowOf).join('')));
    },
    cancel() {
      iterator.return?.();
    },
  });
};

const wantsCsv = (c: Context<Env>): boolean => /(^|,)\s*text\/csv\s*(;|,|$)/i.test(c.req.header('accept') ?? '');

const exportCsv = (c: Context<Env>, service: AuditService, filter: AuditFilter) => {
  const result = service.exportAll(ctx(c), filter);
  if (E.isLeft(result)) {
    const error = result.left;
    return error._tag === 'AuditExportTooLarge'
      ? problem(
          c,
          422,
          'Export too large',
          `the export would hold more than ${error.limit} entries; ask for a narrower range (from, to) or filter it`,
        )
      : appErrorResponse(c, error);
  }
  const name = `audit-${fileStamp(filter.from, 'start')}-${fileStamp(filter.to, 'now')}.csv`;
  return c.body(csvStream(result.right), 200, {
    'Content-Type': 'text/csv; charset=utf-8; header=present',
    'Content-Disposition': `attachment; filename="${name}"`,
  });
};

/** `GET /audit`: the whole log as audit entries, as JSON pages or (`Accept: text/csv`) one CSV; admins and auditors. */
export const auditRoutes = (service: AuditService): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.get('/audit', (c) => {
    const query = decodeBody(AuditQuery, c.req.query(), AUDIT_QUERY_KEYS);
    if (E.isLeft(query)) return validationProblem(c, query.left);
    const { cursor, limit, ...filter } = query.right;
    if (filter.from !== undefined && filter.to !== undefined && filter.from >= filter.to)
      return validationProblem(c, [{ path: 'to', message: 'must be after from' }]);
    if (wantsCsv(c)) {
      const paging = [...(cursor !== undefined ? ['cursor'] : []), ...(limit !== undefined ? ['limit'] : [])];
      if (paging.length > 0)
        return validationProblem(
          c,
          paging.map((path) => ({ path, message: 'does not apply to CSV, which holds the whole filtered range' })),
        );
      return exportCsv(c, service, filter);
    }
    const page = service.list(ctx(c), { filter, after: cursor, limit });
    return E.isLeft(page) ? appErrorResponse(c, page.left) : c.json(page.right);
  });
  return routes;
};
