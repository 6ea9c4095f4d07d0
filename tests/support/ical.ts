import ICAL from 'ical.js';

/**
 * ical.js, the reference parser, for reading what we write. RFC 5545 §3.8.8.2 gives non-standard properties the
 * default value type TEXT, and calendar apps unescape `X-WR-CALNAME` as TEXT; ical.js leaves unknown properties raw
 * unless told, so the calendar name is registered as TEXT here.
 */
const properties = ICAL.design.defaultSet.property as Record<string, { defaultType: string }>;
properties['x-wr-calname'] ??= { defaultType: 'text' };

export interface ParsedContact {
  readonly address: string;
  readonly params: Readonly<Record<string, unknown>>;
}

export const parseCalendar = (text: string): ICAL.Component => new ICAL.Component(ICAL.parse(text));

export const contactOf = (property: ICAL.Property | null): ParsedContact | undefined => {
  if (property === null) return undefined;
  const json = property.toJSON() as [string, Record<string, unknown>, string, string];
  return { address: String(property.getFirstValue()), params: json[1] };
};

/** RFC 5545 §3.1: lines are folded with CRLF + one space or tab. */
export const unfoldLines = (ics: string): string[] =>
  ics
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n')
    .filter((l) => l.length > 0);

export { ICAL };
