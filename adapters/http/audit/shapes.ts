import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import { Actor, IsoInstant, idProblem } from '../../../domain/shared.ts';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, decodeCursor } from '../../../application/audit.ts';
import type { AuditCursor, AuditEntry } from '../../../application/audit.ts';

/** An actor or person id, under the id rule. */
const IdParam = new t.Type<string, string, unknown>(
  'IdParam',
  (u): u is string => typeof u === 'string' && idProblem(u) === undefined,
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c, 'must be a string');
    const problem = idProblem(u);
    return problem === undefined ? t.success(u) : t.failure(u, c, problem);
  },
  String,
);

export const EVENT_TYPE_PATTERN = '^[A-Za-z][A-Za-z0-9]{0,99}$';
const EventTypeParam = new t.Type<string, string, unknown>(
  'EventTypeParam',
  (u): u is string => typeof u === 'string' && new RegExp(EVENT_TYPE_PATTERN).test(u),
  (u, c) =>
    typeof u === 'string' && new RegExp(EVENT_TYPE_PATTERN).test(u)
      ? t.success(u)
      : t.failure(u, c, 'must be one event type name (letters and digits, e.g. PersonRolesChanged)'),
  String,
);

const LimitParam = new t.Type<number, string, unknown>(
  `integer from 1 to ${AUDIT_PAGE_MAX}`,
  (u): u is number => typeof u === 'number',
  (u, c) => {
    const n = typeof u === 'string' && /^\d{1,4}$/.test(u) ? Number(u) : NaN;
    return n >= 1 && n <= AUDIT_PAGE_MAX
      ? t.success(n)
      : t.failure(u, c, `must be an integer from 1 to ${AUDIT_PAGE_MAX}`);
  },
  String,
);

const CursorParam = new t.Type<AuditCursor, string, unknown>(
  'AuditCursor',
  (u): u is AuditCursor => typeof u === 'object' && u !== null,
  (u, c) => {
    const cursor = typeof u === 'string' ? decodeCursor(u) : undefined;
    return cursor === undefined ? t.failure(u, c, 'must be a `next` of an earlier page, unchanged') : t.success(cursor);
  },
  () => '',
);

export const AUDIT_QUERY_KEYS = ['from', 'to', 'actor', 'personId', 'type', 'cursor', 'limit'];
export const AuditQuery = t.partial({
  from: IsoInstant,
  to: IsoInstant,
  actor: IdParam,
  personId: IdParam,
  type: EventTypeParam,
  cursor: CursorParam,
  limit: LimitParam,
});

// ---------- answers ----------

export const AuditEntryShape = annotate(
  t.type({
    position: annotate(t.number, { type: 'integer', minimum: 0, description: 'Position in the global log.' }),
    at: annotate(IsoInstant, { description: 'When it happened: the event’s own time, else when it was recorded.' }),
    actor: Actor,
    type: annotate(t.string, {
      description: 'Event type (see the `<type>Event` schemas); clients should expect types they do not know.',
    }),
    stream: annotate(t.string, { description: 'The stream it belongs to, e.g. `meeting-<id>`, `person-<id>`.' }),
    summary: annotate(t.string, { description: 'One plain sentence saying what happened.' }),
    data: annotate(t.unknown, {
      type: 'object',
      description:
        'The event payload as recorded, except that every field (at any depth) whose name ends in `Hash`, `secret`, ' +
        '`Secret`, `token`, `Token`, `apiKey` or `ApiKey`, and the write-only secrets of the settings, read `"[redacted]"`.',
    }),
  }),
  { name: 'AuditEntry', description: 'One event of the log, as the audit log shows it.' },
);

export const AuditPageShape = annotate(
  t.intersection([
    t.type({ items: annotate(t.readonlyArray(AuditEntryShape), { description: 'Oldest first (by `at`).' }) }),
    t.partial({
      next: annotate(t.string, { description: 'Present when the page is full: pass it as `cursor` for the next one.' }),
    }),
  ]),
  { name: 'AuditPage' },
);

export { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX };

// Entries are answered as the read model has them: the compiler holds them to the documented shape.
const _auditAnswerFits = (entry: AuditEntry): t.TypeOf<typeof AuditEntryShape> => entry;
