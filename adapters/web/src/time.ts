import { session } from './session';

/** The zone a person sees times in: their directory zone, else the browser's. */
export const viewerZone = (): string =>
  session.state.person?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';

const formatters = new Map<string, Intl.DateTimeFormat>();
const formatter = (locale: string, zone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat => {
  const key = `${locale}|${zone}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat(locale, { ...options, timeZone: zone });
    formatters.set(key, f);
  }
  return f;
};

const dateOptions: Intl.DateTimeFormatOptions = { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' };
const timeOptions: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit' };

/** `Tue, 3 Mar 2026` in the zone. */
export const formatDate = (iso: string, zone: string, locale: string): string =>
  formatter(locale, zone, dateOptions).format(new Date(iso));

/** `10:00` in the zone. */
export const formatTime = (iso: string, zone: string, locale: string): string =>
  formatter(locale, zone, timeOptions).format(new Date(iso));

/** The zone's short name at that instant (`CET`, `GMT-5`). */
export const zoneAbbreviation = (iso: string, zone: string, locale: string): string =>
  formatter(locale, zone, { timeZoneName: 'short' })
    .formatToParts(new Date(iso))
    .find((p) => p.type === 'timeZoneName')?.value ?? zone;

/** `Tue, 3 Mar 2026, 10:00–11:00 CET (Europe/Berlin)`: a range in one zone, the zone always named. */
export const formatRange = (start: string, end: string, zone: string, locale: string): string => {
  const sameDay = formatDate(start, zone, locale) === formatDate(end, zone, locale);
  const from = `${formatDate(start, zone, locale)}, ${formatTime(start, zone, locale)}`;
  const to = sameDay
    ? formatTime(end, zone, locale)
    : `${formatDate(end, zone, locale)}, ${formatTime(end, zone, locale)}`;
  return `${from}–${to} ${zoneAbbreviation(start, zone, locale)} (${zone})`;
};

/** An instant in one zone with the zone named: `Tue, 3 Mar 2026, 10:00 CET (Europe/Berlin)`. */
export const formatInstant = (iso: string, zone: string, locale: string): string =>
  `${formatDate(iso, zone, locale)}, ${formatTime(iso, zone, locale)} ${zoneAbbreviation(iso, zone, locale)} (${zone})`;

/** The offset of a zone at an instant, in minutes east of UTC. */
export const zoneOffsetMinutes = (iso: string, zone: string): number => {
  const parts = formatter('en-US', zone, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(new Date(iso).getTime() / 1000) * 1000) / 60_000);
};

/** Every IANA zone the browser knows, for pickers. */
export const knownZones = (): ReadonlyArray<string> => {
  const supported = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
  return supported === undefined ? ['UTC'] : ['UTC', ...supported('timeZone').filter((z) => z !== 'UTC')];
};
