import * as t from 'io-ts';
import type { AuthUser } from '../../../application/ports/access.ts';
import type { HistoryEntry } from '../../../application/ports/read-models.ts';

/** `?after=<revision>&limit=<n>` of a history (meetings, series, settings); both are checked as numbers later. */
export const HistoryQuery = t.partial({ after: t.string, limit: t.string });
/** The most events a history page holds, and its default size. */
export const HISTORY_PAGE = 1000;

const hiddenFields = (user: AuthUser, participants: { instructorId: string }): ReadonlyArray<string> =>
  user.roles.includes('admin')
    ? []
    : participants.instructorId === user.id
      ? ['instructorMetadata']
      : ['customerMetadata', 'instructorMetadata'];

const withoutFields = (value: unknown, fields: ReadonlyArray<string>): unknown => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (!fields.includes(key)) copy[key] = field;
  return copy;
};

/** The audit history shows what the caller could read on the meeting or series itself, and nothing more. */
export const presentHistory = (
  user: AuthUser,
  participants: { instructorId: string },
  entries: ReadonlyArray<HistoryEntry>,
): ReadonlyArray<HistoryEntry> => {
  const hidden = hiddenFields(user, participants);
  if (hidden.length === 0) return entries;
  return entries.map((entry) => {
    const data = withoutFields(entry.data, hidden) as Record<string, unknown>;
    return { ...entry, data: 'changes' in data ? { ...data, changes: withoutFields(data.changes, hidden) } : data };
  });
};
