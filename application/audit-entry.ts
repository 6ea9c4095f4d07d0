import * as E from 'fp-ts/lib/Either.js';
import { callTicketStreamPrefix } from '../domain/call-ticket.ts';
import { scheduleStreamPrefix } from '../domain/schedule.ts';
import { settingsStreamPrefix } from '../domain/settings.ts';
import { Actor } from '../domain/shared.ts';
import { IDEMPOTENCY_STREAM_PREFIX } from './idempotency.ts';
import type { RecordedEvent } from './ports/event-store.ts';
import { auditSummary } from './audit-summary.ts';

/**
 * What the audit log makes of a recorded event: who did what when, a sentence for people, and the payload with its
 * secrets taken out. Pure, so the read model and the tests share it.
 */

export interface AuditEntry {
  /** Position in the global log. */
  readonly position: number;
  readonly at: string;
  readonly actor: Actor;
  readonly type: string;
  readonly stream: string;
  readonly summary: string;
  readonly data: unknown;
}

/** An entry, and the people it concerns (the actor and any person named in its data). */
export interface AuditRecord {
  readonly entry: AuditEntry;
  readonly personIds: ReadonlyArray<string>;
}

/**
 * Bookkeeping, not anyone's doing: bookings' schedules (each meeting's events say what happened), redeemed call
 * tickets and Idempotency-Key claims (which hold whole answers). Every other stream is audited, so aggregates added
 * later are in the log without a change here.
 */
const INTERNAL_PREFIXES = [scheduleStreamPrefix, callTicketStreamPrefix, IDEMPOTENCY_STREAM_PREFIX];
export const isAudited = (streamName: string): boolean =>
  !INTERNAL_PREFIXES.some((prefix) => streamName.startsWith(prefix));

export const REDACTED = '[redacted]';
const SECRET_NAME = /(?:Hash|secret|Secret|token|Token|apiKey|ApiKey)$/;
/** Settings keep credentials for outside services, write-only through the API: under these names too. */
const SETTINGS_SECRET_NAME = /(?:password|Password|privateKey|PrivateKey|credentials|Credentials)$/;
/** Deeper than any payload the domain writes: what lies below is cut off rather than walked. */
const MAX_DEPTH = 32;

/** A copy of `value` with the value of every field whose name says it is a secret replaced, at any depth. */
export const redact = (value: unknown, secretName: (name: string) => boolean = (n) => SECRET_NAME.test(n)): unknown => {
  const walk = (node: unknown, depth: number): unknown => {
    if (typeof node !== 'object' || node === null) return node;
    if (depth >= MAX_DEPTH) return REDACTED;
    if (Array.isArray(node)) return node.map((item) => walk(item, depth + 1));
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(node)) copy[key] = secretName(key) ? REDACTED : walk(field, depth + 1);
    return copy;
  };
  return walk(value, 0);
};

const redactFor = (streamName: string, data: unknown): unknown =>
  streamName.startsWith(settingsStreamPrefix)
    ? redact(data, (name) => SECRET_NAME.test(name) || SETTINGS_SECRET_NAME.test(name))
    : redact(data);

const PERSON_FIELDS = new Set(['personId', 'customerId', 'instructorId', 'userId']);

/** Every string under a person field, at any depth (a notification's `recipient.personId`, say). */
const personIdsIn = (value: unknown): string[] => {
  const found: string[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (typeof node !== 'object' || node === null || depth >= MAX_DEPTH) return;
    if (Array.isArray(node)) return node.forEach((item) => walk(item, depth + 1));
    for (const [key, field] of Object.entries(node)) {
      if (PERSON_FIELDS.has(key) && typeof field === 'string' && field.length > 0) found.push(field);
      else walk(field, depth + 1);
    }
  };
  walk(value, 0);
  return found;
};

const UNKNOWN_ACTOR: Actor = { id: 'unknown', roles: [] };

/** As the history read model does: the data's `by`, else the metadata's actor, else `unknown`. */
const actorOf = (recorded: RecordedEvent): Actor => {
  const data = recorded.data as { by?: unknown } | null;
  const decoded = Actor.decode(data?.by ?? recorded.metadata.actor);
  return E.isRight(decoded) ? { id: decoded.right.id, roles: [...decoded.right.roles] } : UNKNOWN_ACTOR;
};

/** The event's own `at` when it has a readable one, else the recorded time; always as `toISOString` writes it. */
const atOf = (recorded: RecordedEvent): string => {
  const own = (recorded.data as { at?: unknown } | null)?.at;
  const parsed = typeof own === 'string' ? new Date(own) : undefined;
  if (parsed !== undefined && !Number.isNaN(parsed.getTime())) return parsed.toISOString();
  return new Date(recorded.recordedAt).toISOString();
};

export const auditRecordOf = (recorded: RecordedEvent): AuditRecord => {
  const actor = actorOf(recorded);
  const data = redactFor(recorded.streamName, recorded.data);
  const entry: AuditEntry = {
    position: recorded.position,
    at: atOf(recorded),
    actor,
    type: recorded.type,
    stream: recorded.streamName,
    summary: auditSummary(recorded.type, recorded.streamName, data),
    data,
  };
  const concerned = [...personIdsIn(recorded.data), ...(actor.id === UNKNOWN_ACTOR.id ? [] : [actor.id])];
  return { entry, personIds: [...new Set(concerned)] };
};
