import { zoneOffsetMinutes } from '../../time';

/** A wall-clock date and time in a zone (`2026-11-03`, `07:00`). */
export interface LocalDateTime {
  readonly date: string;
  readonly time: string;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The instant a wall-clock time in a zone names (a time skipped by a clock change lands after it). */
export const localToInstant = (date: string, time: string, zone: string): string | undefined => {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const t = /^(\d{2}):(\d{2})/.exec(time);
  if (d === null || t === null) return undefined;
  const wall = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(t[1]), Number(t[2]));
  if (Number.isNaN(wall)) return undefined;
  const first = wall - zoneOffsetMinutes(new Date(wall).toISOString(), zone) * 60_000;
  const second = wall - zoneOffsetMinutes(new Date(first).toISOString(), zone) * 60_000;
  return new Date(second).toISOString();
};

/** An instant as the wall-clock date and time of a zone. */
export const instantToLocal = (iso: string, zone: string): LocalDateTime => {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    date: `${get('year')}-${pad(get('month'))}-${pad(get('day'))}`,
    time: `${pad(get('hour') % 24)}:${pad(get('minute'))}`,
  };
};

/** Today's date in a zone. */
export const todayIn = (zone: string): string => instantToLocal(new Date().toISOString(), zone).date;

/** `UTC−04:00` for an offset in minutes east of UTC. */
export const offsetLabel = (minutes: number): string => {
  const sign = minutes < 0 ? '−' : '+';
  const abs = Math.abs(minutes);
  return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
};

/** Minutes between two instants. */
export const minutesBetween = (start: string, end: string): number =>
  Math.round((new Date(end).getTime() - new Date(start).getTime()) / 60_000);
