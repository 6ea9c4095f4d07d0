import Database from 'better-sqlite3';
import { DuplicateEventIdError } from './embedded-support.ts';
import type { AppendOutcome, AppendRequest } from './sqlite-group-commit.ts';

/**
 * What the SQLite store's main thread and its commit worker (sqlite-commit-worker.ts) say to each other. Everything
 * is plain data (structured clone): errors travel as their kind and text and are built again on the main thread, so
 * that a caller sees the same error classes as with the commit on the main thread.
 */

/** Appends requested in one turn of the main thread's event loop, stamped with one time. */
export interface AppendGroupMessage {
  readonly type: 'append';
  readonly id: number;
  readonly recordedAt: string;
  readonly appends: ReadonlyArray<AppendRequest>;
}

export type ToWorker = AppendGroupMessage | { readonly type: 'close' };

export type WireError =
  | { readonly kind: 'duplicate'; readonly streamName: string; readonly eventIds: ReadonlyArray<string> }
  | { readonly kind: 'sqlite'; readonly message: string; readonly code: string }
  | { readonly kind: 'other'; readonly name: string; readonly message: string };

export type WireOutcome =
  Extract<AppendOutcome, { kind: 'result' }> | { readonly kind: 'error'; readonly error: WireError };

/** A group's answer: one outcome per append, in order, or the failure of the whole transaction. */
export type GroupAnswer =
  | { readonly id: number; readonly outcomes: ReadonlyArray<WireOutcome> }
  | { readonly id: number; readonly failure: WireError };

/** Sent after each transaction: the answers of every group in it, once the commit is durable (or failed). */
export type FromWorker = { readonly type: 'committed'; readonly groups: ReadonlyArray<GroupAnswer> };

export function toWire(error: unknown): WireError {
  if (error instanceof DuplicateEventIdError) {
    return { kind: 'duplicate', streamName: error.streamName, eventIds: [...error.eventIds] };
  }
  if (error instanceof Database.SqliteError) return { kind: 'sqlite', message: error.message, code: error.code };
  if (error instanceof Error) return { kind: 'other', name: error.name, message: error.message };
  return { kind: 'other', name: 'Error', message: String(error) };
}

export function fromWire(error: WireError): Error {
  switch (error.kind) {
    case 'duplicate':
      return new DuplicateEventIdError(error.streamName, error.eventIds);
    case 'sqlite':
      return new Database.SqliteError(error.message, error.code);
    case 'other': {
      const rebuilt = new Error(error.message);
      rebuilt.name = error.name;
      return rebuilt;
    }
  }
}

export const outcomeToWire = (outcome: AppendOutcome): WireOutcome =>
  outcome.kind === 'error' ? { kind: 'error', error: toWire(outcome.error) } : outcome;

export const outcomeFromWire = (outcome: WireOutcome): AppendOutcome =>
  outcome.kind === 'error' ? { kind: 'error', error: fromWire(outcome.error) } : outcome;
