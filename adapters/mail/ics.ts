import * as E from 'fp-ts/lib/Either.js';
import { createEvents } from 'ics';
import type { EventAttributes } from 'ics';
import type { CalendarCancellationBuilder } from '../../application/ports/mailer.ts';
import type { CalendarFeed, FeedEvent } from '../../application/calendar-feed.ts';
import { assertNever } from '../../domain/shared.ts';

/** Stable per meeting, so a calendar app matches the CANCEL to the event it already has. */
export const meetingUid = (meetingId: string, publicBaseUrl: string): string => `${meetingId}@${new URL(publicBaseUrl).hostname}`;

/** `Name <address>` or a bare address. */
export const parseMailbox = (mailbox: string): { name?: string; email: string } => {
  const match = /^\s*(?:"?([^"<]*?)"?\s*)?<([^>]+)>\s*$/.exec(mailbox);
  if (match === null) return { email: mailbox.trim() };
  const name = match[1]?.trim();
  return { ...(name !== undefined && name !== '' ? { name } : {}), email: (match[2] ?? '').trim() };
};

const ms = (iso: string): number => Date.parse(iso);

/**
 * iCalendar `METHOD:CANCEL` (RFC 5546 §3.2.5) built with the `ics` package: one VEVENT per cancelled occurrence,
 * each with the meeting's stable UID, its bumped SEQUENCE and `STATUS:CANCELLED`, plus ORGANIZER and ATTENDEE.
 */
export const createIcsCancellationBuilder =
  (options: { publicBaseUrl: string; productId?: string }): CalendarCancellationBuilder =>
  (input) => {
    if (input.events.length === 0) return E.left('a calendar cancellation needs at least one event');
    const organizer = parseMailbox(input.organizer);
    const events = input.events.map(
      (event): EventAttributes =>
        // `timestamp` (DTSTAMP) is accepted by the package's schema but missing from its type definitions.
        ({
          uid: meetingUid(event.meetingId, options.publicBaseUrl),
          sequence: event.sequence,
          status: 'CANCELLED',
          method: 'CANCEL',
          title: plainText(event.title),
          ...(event.description !== undefined ? { description: plainText(event.description) } : {}),
          start: ms(event.start),
          startInputType: 'utc',
          startOutputType: 'utc',
          end: ms(event.end),
          endInputType: 'utc',
          endOutputType: 'utc',
          organizer: { ...(organizer.name !== undefined ? { name: parameterText(organizer.name) } : {}), email: organizer.email },
          attendees: [
            {
              ...(input.attendee.name !== undefined ? { name: parameterText(input.attendee.name) } : {}),
              email: input.attendee.email,
              rsvp: false,
              role: 'REQ-PARTICIPANT',
            },
          ],
          timestamp: ms(input.stamp),
        }) as EventAttributes,
    );
    const result = createEvents(events, { method: 'CANCEL', productId: options.productId ?? '-//Virtual Y//1on1 Meetings//EN' });
    if (result.error !== null || result.value === null) return E.left(`cannot build the calendar cancellation: ${result.error?.message ?? 'no output'}`);
    return E.right(foldIcsLines(result.value));
  };

// ---------- subscribed calendar (ICS feed) ----------

const FEED_REFRESH = 'PT1H';
const MAX_LINE_OCTETS = 75;

/**
 * RFC 5545 §3.1 limits lines to 75 octets. The package folds at 75 characters, which multi-byte text overruns, so its
 * output is unfolded and folded again by octets, never inside a UTF-8 sequence. Escaping stays the package's.
 */
export const foldIcsLines = (ics: string): string =>
  ics
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n')
    .map((line) => {
      if (Buffer.byteLength(line, 'utf8') <= MAX_LINE_OCTETS) return line;
      const parts: string[] = [];
      let current = '';
      let size = 0;
      let limit = MAX_LINE_OCTETS;
      for (const char of line) {
        const octets = Buffer.byteLength(char, 'utf8');
        if (size + octets > limit) {
          parts.push(current);
          current = '';
          size = 0;
          limit = MAX_LINE_OCTETS - 1; // the leading space of a continuation line counts
        }
        current += char;
        size += octets;
      }
      parts.push(current);
      return parts.join('\r\n ');
    })
    .join('\r\n');

/**
 * TEXT values may not hold control characters other than tab and line breaks (RFC 5545 §3.3.11); a lone CR would even
 * break the line structure, since the package escapes only LF and CRLF.
 */
/** A CN parameter value: RFC 5545 has no escape for `"` inside a quoted parameter, so quotes and controls go. */
const parameterText = (text: string): string => text.replace(/["\u0000-\u001F\u007F]/g, '');

const plainText = (text: string): string => text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '');

/** Calendar-level properties the package does not write, added to its header if it has not. */
const withCalendarProperties = (ics: string, lines: ReadonlyArray<string>): string => {
  const missing = lines.filter((line) => !ics.includes(`\r\n${line}\r\n`));
  const endOfHeader = ics.search(/\r\n(BEGIN:VEVENT|END:VCALENDAR)\r\n/);
  if (missing.length === 0 || endOfHeader < 0) return ics;
  return `${ics.slice(0, endOfHeader + 2)}${missing.map((line) => `${line}\r\n`).join('')}${ics.slice(endOfHeader + 2)}`;
};

const feedStatus = (state: FeedEvent['state']): 'CONFIRMED' | 'TENTATIVE' | 'CANCELLED' => {
  switch (state) {
    case 'scheduled':
      return 'CONFIRMED';
    case 'planned':
      return 'TENTATIVE';
    case 'cancelled':
      return 'CANCELLED';
    default:
      return assertNever(state);
  }
};

export type CalendarFeedRenderer = (feed: CalendarFeed) => E.Either<string, string>;

/**
 * A subscribed calendar (`METHOD:PUBLISH`): one VEVENT per meeting with the same UID and SEQUENCE as the cancellation
 * emails, so an emailed CANCEL and the feed agree about the same event. Times are UTC; calendar apps show them in
 * the viewer's zone.
 */
export const createIcsFeedBuilder =
  (options: { publicBaseUrl: () => string; siteName: string; productId?: string }): CalendarFeedRenderer =>
  (feed) => {
    const base = options.publicBaseUrl();
    const events = feed.events.map((event): EventAttributes => {
      const link = `${base}/call?meeting=${encodeURIComponent(event.meetingId)}`;
      const counterpart = `${event.role === 'customer' ? 'Instructor' : 'Customer'}: ${event.counterpartName ?? event.counterpartId}`;
      // `timestamp` (DTSTAMP) is accepted by the package's schema but missing from its type definitions.
      return {
        uid: meetingUid(event.meetingId, base),
        sequence: event.sequence,
        status: feedStatus(event.state),
        transp: event.state === 'cancelled' ? 'TRANSPARENT' : 'OPAQUE',
        title: plainText(event.title),
        description: plainText(`${counterpart}\nJoin: ${link}`),
        url: link,
        start: ms(event.start),
        startInputType: 'utc',
        startOutputType: 'utc',
        end: ms(event.end),
        endInputType: 'utc',
        endOutputType: 'utc',
        lastModified: ms(event.updatedAt),
        timestamp: ms(feed.generatedAt),
      } as EventAttributes;
    });
    const calName = plainText(feed.ownerName !== undefined ? `${options.siteName}: ${feed.ownerName}` : `${options.siteName} sessions`);
    const result = createEvents(events, { method: 'PUBLISH', calName, productId: options.productId ?? '-//Virtual Y//1on1 Meetings//EN' });
    if (result.error !== null || result.value === null) return E.left(`cannot build the calendar feed: ${result.error?.message ?? 'no output'}`);
    return E.right(foldIcsLines(withCalendarProperties(result.value, [`REFRESH-INTERVAL;VALUE=DURATION:${FEED_REFRESH}`, `X-PUBLISHED-TTL:${FEED_REFRESH}`])));
  };
