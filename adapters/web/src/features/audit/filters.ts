import { zoneOffsetMinutes } from '../../time';

/** The instant a local date (`2026-03-02`) begins in a zone, through the zone's offset at that moment. */
export const startOfLocalDay = (date: string, zone: string): string => {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  let guess = wall;
  // Two rounds settle on the offset in force at local midnight, across a daylight-saving change too.
  for (let i = 0; i < 3; i++) guess = wall - zoneOffsetMinutes(new Date(guess).toISOString(), zone) * 60_000;
  return new Date(guess).toISOString();
};

/** The local date after this one. */
export const nextLocalDay = (date: string): string => {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
};

/** What the audit log is filtered by, as `GET /audit` takes it. */
export interface AuditQuery {
  from?: string;
  to?: string;
  actor?: string;
  personId?: string;
  type?: string;
}

export const queryString = (query: AuditQuery): string => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (typeof value === 'string' && value.length > 0) params.set(key, value);
  return params.toString();
};

/**
 * `meeting-<id>` and `series-<id>` open their history timelines, and a meeting's `attendance-<id>` its meeting's
 * (which shows the attendance too); other streams have no page.
 */
export const streamLink = (stream: string): string | undefined => {
  const meeting = /^(?:meeting|attendance)-(.+)$/.exec(stream);
  if (meeting?.[1] !== undefined) return `/sessions/${encodeURIComponent(meeting[1])}/history`;
  const series = /^series-(.+)$/.exec(stream);
  if (series?.[1] !== undefined) return `/series/${encodeURIComponent(series[1])}/history`;
  return undefined;
};

/** The file name the server suggests (`Content-Disposition`), else one made from the range. */
export const downloadName = (disposition: string | null): string => {
  const named = /filename="?([^";]+)"?/i.exec(disposition ?? '')?.[1];
  return named !== undefined && /^[\w.-]+$/.test(named) ? named : 'audit.csv';
};

let eventTypes: Promise<ReadonlyArray<string>> | undefined;

/**
 * The event types the API describes: the `<type>Event` payload schemas of its OpenAPI document, read once. The log
 * holds more (people, sign-in, notifications); those the page has seen are added by the view.
 */
export const describedEventTypes = (): Promise<ReadonlyArray<string>> =>
  (eventTypes ??= fetch('/openapi.json', { credentials: 'same-origin' })
    .then((r) => (r.ok ? (r.json() as Promise<{ components?: { schemas?: Record<string, unknown> } }>) : {}))
    .then((doc) =>
      Object.keys((doc as { components?: { schemas?: Record<string, unknown> } }).components?.schemas ?? {})
        .filter((name) => /^[A-Z][A-Za-z0-9]*Event$/.test(name))
        .map((name) => name.slice(0, -'Event'.length)),
    )
    .catch(() => {
      eventTypes = undefined;
      return [];
    }));
