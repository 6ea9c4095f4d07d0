import * as t from 'io-ts';
import { annotate, notesOf } from '../../../domain/annotate.ts';
import { MeetingEvent } from '../../../domain/meeting.ts';
import { AttendanceEvent } from '../../../domain/attendance.ts';
import { SeriesEvent } from '../../../domain/series.ts';
import { SettingsChanged } from '../../../domain/settings.ts';
import { Actor, IsoInstant } from '../../../domain/shared.ts';
import type { AuthUser } from '../../../application/ports/access.ts';
import type { HistoryEntry } from '../../../application/ports/read-models.ts';

/** `?after=<revision>&limit=<n>` of a history (meetings, series, settings); both are checked as numbers later. */
export const HistoryQuery = t.partial({ after: t.string, limit: t.string });
/** The most events a history page holds, and its default size. */
export const HISTORY_PAGE = 1000;

/** Every field presentHistory may hide from a reader. */
const HIDABLE = ['customerMetadata', 'instructorMetadata'];

const hiddenFields = (user: AuthUser, participants: { instructorId: string }): ReadonlyArray<string> =>
  user.roles.includes('admin') ? [] : participants.instructorId === user.id ? ['instructorMetadata'] : HIDABLE;

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
): ReadonlyArray<t.TypeOf<typeof HistoryEntryShape>> => {
  const hidden = hiddenFields(user, participants);
  if (hidden.length === 0) return entries;
  return entries.map((entry) => {
    const data = withoutFields(entry.data, hidden) as Record<string, unknown>;
    return { ...entry, data: 'changes' in data ? { ...data, changes: withoutFields(data.changes, hidden) } : data };
  });
};

// ---------- answers ----------

/** An event codec as the domain writes them: `{type: <literal>, data}`. */
interface EventCodec {
  readonly props: { readonly type: { readonly value: string }; readonly data: t.Any };
}

/** A payload as presentHistory shows it: the fields it may hide are optional, the rest as the domain records it. */
const asShown = (codec: t.Any): t.Any => {
  const c = codec as unknown as { _tag?: string; props?: t.Props; types?: ReadonlyArray<t.Mixed> };
  const notes = notesOf(codec) ?? {};
  if (c._tag === 'InterfaceType' && c.props !== undefined) {
    const entries = Object.entries(c.props);
    const hidable = entries.filter(([key]) => HIDABLE.includes(key));
    if (hidable.length === 0) return codec;
    const always = entries.filter(([key]) => !HIDABLE.includes(key));
    return annotate(
      t.intersection([t.type(Object.fromEntries(always)), t.partial(Object.fromEntries(hidable))]),
      notes,
    );
  }
  if (c._tag === 'IntersectionType' && c.types !== undefined) {
    const [first, second, ...more] = c.types.map((part) => asShown(part) as t.Mixed);
    return annotate(t.intersection([first as t.Mixed, second as t.Mixed, ...more] as [t.Mixed, t.Mixed]), notes);
  }
  return codec;
};

/** The payload codec of every event type a history shows, by aggregate. */
const payloadsOf = (codecs: ReadonlyArray<EventCodec>) =>
  codecs.map((codec) => {
    const type = codec.props.type.value;
    return { type, data: annotate(asShown(codec.props.data), { name: `${type}Event` }) };
  });
export const eventPayloads = {
  meetings: payloadsOf(MeetingEvent.types),
  attendance: payloadsOf(AttendanceEvent.types),
  series: payloadsOf(SeriesEvent.types),
  settings: payloadsOf([SettingsChanged]),
};
const allPayloads = [
  ...eventPayloads.meetings,
  ...eventPayloads.attendance,
  ...eventPayloads.series,
  ...eventPayloads.settings,
];
const typesOf = (payloads: ReadonlyArray<{ type: string }>) => payloads.map((p) => p.type).join(', ');

const Position = (description: string) => annotate(t.number, { type: 'integer', minimum: 0, description });

export const HistoryEntryShape = annotate(
  t.type({
    revision: Position('Position within the stream, from 0.'),
    position: Position('Position in the global log.'),
    type: annotate(t.string, {
      description:
        `Event type. Meetings: ${typesOf(eventPayloads.meetings)}; with their attendance: ${typesOf(eventPayloads.attendance)}. ` +
        `Series: ${typesOf(eventPayloads.series)}. ` +
        `Settings: ${typesOf(eventPayloads.settings)}. Clients should skip types they do not know: later capabilities may add some.`,
    }),
    at: annotate(IsoInstant, { description: 'When it happened.' }),
    actor: Actor,
    data: annotate(t.unknown, {
      type: 'object',
      description: 'The event payload as recorded; the `<type>Event` schemas describe the payload of each known type.',
    }),
  }),
  {
    name: 'HistoryEntry',
    description: 'One recorded event of a stream.',
    allOf: allPayloads.map(({ type }) => ({
      if: { properties: { type: { const: type } }, required: ['type'] },
      then: { properties: { data: { $ref: `#/components/schemas/${type}Event` } } },
    })),
  },
);

export const HistoryShape = annotate(
  t.intersection([
    t.type({ events: annotate(t.readonlyArray(HistoryEntryShape), { description: 'Oldest first.' }) }),
    t.partial({
      next: annotate(t.number, {
        type: 'integer',
        description: 'Present when the page is full: pass it as `after` for the next page.',
      }),
    }),
  ]),
  { name: 'History' },
);
