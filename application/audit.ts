import { readsAll } from './ports/access.ts';
import * as E from 'fp-ts/lib/Either.js';
import type { AuditEntry } from './audit-entry.ts';
import type { AppError, RequestContext } from './service.ts';

export type { AuditEntry } from './audit-entry.ts';

/** Which entries: `at` in `[from, to)`, by this actor, concerning this person, of this type; every one optional. */
export interface AuditFilter {
  readonly from?: string;
  readonly to?: string;
  readonly actor?: string;
  readonly personId?: string;
  readonly type?: string;
}

/** Where a page ended: entries are ordered by `at`, then by log position. */
export interface AuditCursor {
  readonly at: string;
  readonly position: number;
}

export interface AuditQueries {
  /** Entries after `after` (from the start when undefined), oldest first, at most `limit`. */
  auditPage(filter: AuditFilter, after: AuditCursor | undefined, limit: number): ReadonlyArray<AuditEntry>;
  /** How many entries match, counting no further than `atMost`. */
  auditCount(filter: AuditFilter, atMost: number): number;
}

export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1000;
/** The most entries one CSV export holds; a wider range is refused rather than cut short. */
export const AUDIT_CSV_MAX_ROWS = 200_000;
/** Entries read from the read model at a time while a CSV export streams. */
const EXPORT_BATCH = 500;

/** The cursor as the client sees it: opaque, and checked when it comes back. */
export const encodeCursor = (cursor: AuditCursor): string =>
  Buffer.from(JSON.stringify([cursor.at, cursor.position])).toString('base64url');

export const decodeCursor = (text: string): AuditCursor | undefined => {
  if (text.length > 200 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [at, position] = value as [unknown, unknown];
    if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || new Date(at).toISOString() !== at) return undefined;
    if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) return undefined;
    return { at, position };
  } catch {
    return undefined;
  }
};

export interface AuditPage {
  readonly items: ReadonlyArray<AuditEntry>;
  /** Present when the page is full: the cursor of the next one. */
  readonly next?: string;
}

/** The export would hold more than the cap: the caller is to ask for a narrower range. */
export interface AuditExportTooLarge {
  readonly _tag: 'AuditExportTooLarge';
  readonly limit: number;
}

export interface AuditServiceDeps {
  readonly queries: AuditQueries;
  readonly csvMaxRows?: number;
}

const forbidden: AppError = { _tag: 'Forbidden', message: 'only admins and auditors may read the audit log' };
const mayRead = (ctx: RequestContext) => readsAll(ctx.user);

/** The audit log for admins and auditors: pages of it, and the whole of a filtered range for export. */
export const createAuditService = (deps: AuditServiceDeps) => {
  const maxRows = deps.csvMaxRows ?? AUDIT_CSV_MAX_ROWS;

  /** Every matching entry, a batch at a time, so that an export never holds more than one batch. */
  function* batches(filter: AuditFilter): Generator<ReadonlyArray<AuditEntry>> {
    let after: AuditCursor | undefined;
    for (;;) {
      const batch = deps.queries.auditPage(filter, after, EXPORT_BATCH);
      if (batch.length > 0) yield batch;
      if (batch.length < EXPORT_BATCH) return;
      const last = batch[batch.length - 1]!;
      after = { at: last.at, position: last.position };
    }
  }

  return {
    list(
      ctx: RequestContext,
      request: { readonly filter: AuditFilter; readonly after?: AuditCursor; readonly limit?: number },
    ): E.Either<AppError, AuditPage> {
      if (!mayRead(ctx)) return E.left(forbidden);
      const limit = Math.min(AUDIT_PAGE_MAX, Math.max(1, request.limit ?? AUDIT_PAGE_DEFAULT));
      const items = deps.queries.auditPage(request.filter, request.after, limit);
      const last = items[items.length - 1];
      return E.right(
        items.length === limit && last !== undefined
          ? { items, next: encodeCursor({ at: last.at, position: last.position }) }
          : { items },
      );
    },

    /**
     * The whole filtered range, checked against the cap before anything is sent (an answer cannot turn into a
     * refusal halfway). Entries written while it streams may or may not be in it.
     */
    exportAll(
      ctx: RequestContext,
      filter: AuditFilter,
    ): E.Either<AppError | AuditExportTooLarge, Iterable<ReadonlyArray<AuditEntry>>> {
      if (!mayRead(ctx)) return E.left(forbidden);
      if (deps.queries.auditCount(filter, maxRows + 1) > maxRows)
        return E.left({ _tag: 'AuditExportTooLarge', limit: maxRows });
      return E.right({ [Symbol.iterator]: () => batches(filter) });
    },
  };
};

export type AuditService = ReturnType<typeof createAuditService>;
