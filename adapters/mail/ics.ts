import * as E from 'fp-ts/lib/Either.js';
import { createEvents } from 'ics';
import type { EventAttributes } from 'ics';
import type { CalendarCancellationBuilder, CalendarUser } from '../../application/ports/mailer.ts';
import type { CalendarFeed, FeedEvent } from '../../application/calendar-feed.ts';
import { assertNever } from '../../domain/shared.ts';

/** Stable per meeting, so a calendar app matches the CANCEL to the event it already has. */
export const meetingUid = (meetingId: string, publicBaseUrl: string): string =>
  `${meetingId}@${new URL(publicBaseUrl).hostname}`;

/** `Name <address>` or a bare address. */
export const parseMailbox = (mailbox: string): { name?: string; email: string } => {
  const match = /^\s*(?:"?([^"<]*?)"?\s*)?<([^>]+)>\s*$/.exec(mailbox);
  if (match === null) return { email: mailbox.trim() };
  const name = match[1]?.trim();
  return { ...(name !== undefined && name !== '' ? { name } : {}), email: (match[2] ?? '').trim() };
};

const ms = (iso: string): number => Date.parse(iso);

/** DTSTART and DTEND of a session, given and written as UTC instants. */
const utcTimes = (event: { readonly start: string; readonly end: string }) =>
  ({
    start: ms(event.start),
    startInputType: 'utc',
    startOutputType: 'utc',
    end: ms(event.end),
    endInputType: 'utc',
    endOutputType: 'utc',
  }) as const;

const PRODUCT_ID = '-//Virtual Y//1on1 Meetings//EN';

/**
 * TEXT values may not hold control characters other than tab and line breaks (RFC 5545 §3.3.11); a lone CR would even
 * break the line structure, since the package escapes only LF and CRLF.
 */
const plainText = (text: string): string =>
  text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '');

/** A TEXT value written by us rather than the package (RFC 5545 §3.3.11): backslash, `;`, `,` and newline escaped. */
export const textValue = (text: string): string =>
  plainText(text).replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\n/g, '\\n');

/**
 * A parameter value, always quoted (a CN may hold `:`, `;` and `,`). RFC 5545 has no escape inside a quoted value, so
 * `"`, line breaks and `^` itself are written as RFC 6868 caret escapes (`^'`, `^n`, `^^`), which ical.js and Apple
 * read back; other control characters (QSAFE-CHAR excludes them) are dropped. The package instead writes `\"`,
 * which ends the quoted value early.
 */
export const quotedParameter = (text: string): string =>
  `"${text
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '')
    .replace(/\^/g, '^^')
    .replace(/"/g, "^'")
    .replace(/\n/g, '^n')}"`;

/**
 * The `mailto:` URI of an address. Addresses come validated from the people directory and the configuration; one
 * that could still break the line (controls, spaces, quotes, angle brackets) is refused rather than written.
 */
const mailto = (email: string): E.Either<string, string> =>
  /^[^\s"<>\u0000-\u001F\u007F]+@[^\s"<>\u0000-\u001F\u007F@]+$/.test(email)
    ? E.right(`mailto:${email}`)
    : E.left(`'${email}' cannot be written as a calendar address`);

/**
 * The session's ORGANIZER, the same in the feed and in the emailed CANCEL (RFC 5546 §3.2.5: a CANCEL comes from the
 * organizer of the event it cancels, and clients match it against the organizer they have). RFC 5546 requires
 * ORGANIZER in PUBLISH and CANCEL objects; it names the instructor, who holds the session and is the person a
 * member's calendar app should show and let them write to. An instructor without a usable address in the directory
 * falls back to the site's sender (MAIL_FROM), so the property is never missing and never points nowhere.
 */
export const sessionOrganizer = (
  instructor: { readonly name?: string; readonly email?: string },
  sender: CalendarUser,
): CalendarUser => {
  const email = instructor.email?.trim();
  if (email === undefined || email === '' || E.isLeft(mailto(email))) return sender;
  return {
    ...(instructor.name !== undefined && instructor.name.trim() !== '' ? { name: instructor.name } : {}),
    email,
  };
};

const organizerLine = (organizer: CalendarUser, sentBy?: string): E.Either<string, string> => {
  const address = mailto(organizer.email);
  if (E.isLeft(address)) return address;
  const sender = sentBy !== undefined ? mailto(sentBy) : undefined;
  if (sender !== undefined && E.isLeft(sender)) return sender;
  const cn = organizer.name !== undefined ? `;CN=${quotedParameter(organizer.name)}` : '';
  // RFC 5545 §3.2.18: SENT-BY names who acts on the organizer's behalf (here: the site that sends the email).
  return E.right(
    `ORGANIZER${cn}${sender !== undefined ? `;SENT-BY=${quotedParameter(sender.right)}` : ''}:${address.right}`,
  );
};

/**
 * RFC 5545 §3.2.16: ROLE's value is a token (`ROLE=REQ-PARTICIPANT`), never quoted. In a REQUEST (RFC 5546 §3.2.2)
 * the invited attendee's PARTSTAT is NEEDS-ACTION with RSVP=FALSE: the app takes no iTIP REPLY (a member answers in
 * the app, not by email), so their calendar app is not asked to send one; the organizer's own copy names them as
 * ACCEPTED, with nothing to answer.
 */
const attendeeLine = (
  attendee: CalendarUser,
  method: 'CANCEL' | 'REQUEST',
  organizer: CalendarUser,
): E.Either<string, string> => {
  const address = mailto(attendee.email);
  if (E.isLeft(address)) return address;
  const cn = attendee.name !== undefined ? `;CN=${quotedParameter(attendee.name)}` : '';
  if (method === 'CANCEL') return E.right(`ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=FALSE${cn}:${address.right}`);
  const own = attendee.email.toLowerCase() === organizer.email.toLowerCase();
  const status = own ? 'PARTSTAT=ACCEPTED;RSVP=FALSE' : 'PARTSTAT=NEEDS-ACTION;RSVP=FALSE';
  return E.right(`ATTENDEE;ROLE=REQ-PARTICIPANT;${status}${cn}:${address.right}`);
};

/** Adds our own lines at the end of each VEVENT of the package's output, in order: one list per event. */
const withEventProperties = (ics: string, perEvent: ReadonlyArray<ReadonlyArray<string>>): E.Either<string, string> => {
  const marker = '\r\nEND:VEVENT\r\n';
  const parts = ics.split(marker);
  if (parts.length - 1 !== perEvent.length)
    return E.left(`expected ${perEvent.length} events in the calendar, found ${parts.length - 1}`);
  return E.right(
    parts.map((part, i) => `${part}${(perEvent[i] ?? []).map((line) => `\r\n${line}`).join('')}`).join(marker),
  );
};

const sequence = <A>(items: ReadonlyArray<E.Either<string, A>>): E.Either<string, A[]> => {
  const values: A[] = [];
  for (const item of items) {
    if (E.isLeft(item)) return item;
    values.push(item.right);
  }
  return E.right(values);
};

/** The STATUS of a session, the same in the feed and in an emailed REQUEST. */
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

/**
 * One iCalendar `METHOD:CANCEL` object (RFC 5546 §3.2.5) for one cancelled session, built with the `ics` package:
 * its VEVENT has the meeting's stable UID, its bumped SEQUENCE and `STATUS:CANCELLED`. ORGANIZER and ATTENDEE are
 * written here, since the package quotes ROLE and cannot escape a `"` in a CN. The organizer is the one the feed
 * names (`sessionOrganizer`); the email comes from the site's sender, named as SENT-BY when it is someone else.
 */
export const createIcsCancellationBuilder =
  (options: { publicBaseUrl: string; sender: string; productId?: string }): CalendarCancellationBuilder =>
  (input) => {
    const sender = parseMailbox(options.sender);
    const organizer = sessionOrganizer(input.instructor, sender);
    const sentBy = organizer.email.toLowerCase() === sender.email.toLowerCase() ? undefined : sender.email;
    const method = input.method ?? 'CANCEL';
    const what = method === 'CANCEL' ? 'calendar cancellation' : 'calendar invitation';
    const lines = sequence([organizerLine(organizer, sentBy), attendeeLine(input.attendee, method, organizer)]);
    if (E.isLeft(lines)) return E.left(`cannot build the ${what}: ${lines.left}`);
    const { event } = input;
    // The link is written once (a long one, in each of a long series' objects, is what fills the notice record): an
    // outside meeting's as LOCATION, where it takes place; the app's own call page as URL, the event's page.
    const location = event.location !== undefined ? plainText(event.location) : undefined;
    const url = event.url !== undefined && /^https?:\/\//.test(event.url) ? event.url : undefined;
    // `timestamp` (DTSTAMP) is accepted by the package's schema but missing from its type definitions.
    const attributes = {
      uid: meetingUid(event.meetingId, options.publicBaseUrl),
      sequence: event.sequence,
      // The same status as the calendar feed shows at this SEQUENCE.
      status: method === 'CANCEL' ? 'CANCELLED' : feedStatus(event.state ?? 'scheduled'),
      method,
      title: plainText(event.title),
      ...(event.description !== undefined ? { description: plainText(event.description) } : {}),
      ...(location !== undefined ? { location } : {}),
      ...(url !== undefined ? { url } : {}),
      ...utcTimes(event),
      timestamp: ms(input.stamp),
    } as EventAttributes;
    const result = createEvents([attributes], { method, productId: options.productId ?? PRODUCT_ID });
    if (result.error !== null || result.value === null)
      return E.left(`cannot build the ${what}: ${result.error?.message ?? 'no output'}`);
    // GREGORIAN is the default calendar scale and a refresh interval means nothing in an iTIP message: each line left
    // out is one less in every object of a long series.
    const trimmed = result.value.replace(/\r\n(CALSCALE:GREGORIAN|X-PUBLISHED-TTL:[^\r\n]*)(?=\r\n)/g, '');
    return E.map(foldIcsLines)(withEventProperties(trimmed, [lines.right]));
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

/** Calendar-level properties the package does not write, added to its header if it has not. */
const withCalendarProperties = (ics: string, lines: ReadonlyArray<string>): string => {
  const missing = lines.filter((line) => !ics.includes(`\r\n${line}\r\n`));
  const endOfHeader = ics.search(/\r\n(BEGIN:VEVENT|END:VCALENDAR)\r\n/);
  if (missing.length === 0 || endOfHeader < 0) return ics;
  return `${ics.slice(0, endOfHeader + 2)}${missing.map((line) => `${line}\r\n`).join('')}${ics.slice(endOfHeader + 2)}`;
};

export type CalendarFeedRenderer = (feed: CalendarFeed) => E.Either<string, string>;

/**
 * A subscribed calendar (`METHOD:PUBLISH`): one VEVENT per meeting with the same UID, SEQUENCE and ORGANIZER as the
 * cancellation emails, so an emailed CANCEL and the feed agree about the same event. Times are UTC; calendar apps
 * show them in the viewer's zone. The calendar's name and each ORGANIZER are written here, escaped (the package
 * writes `X-WR-CALNAME` unescaped and has no escape for a `"` in a CN); `sender` is the site's MAIL_FROM.
 */
export const createIcsFeedBuilder =
  (options: {
    publicBaseUrl: () => string;
    siteName: string;
    sender: string;
    productId?: string;
  }): CalendarFeedRenderer =>
  (feed) => {
    const base = options.publicBaseUrl();
    const sender = parseMailbox(options.sender);
    const organizers = sequence(
      feed.events.map((event) =>
        organizerLine(
          sessionOrganizer(
            {
              ...(event.instructorName !== undefined ? { name: event.instructorName } : {}),
              ...(event.instructorEmail !== undefined ? { email: event.instructorEmail } : {}),
            },
            sender,
          ),
        ),
      ),
    );
    if (E.isLeft(organizers)) return E.left(`cannot build the calendar feed: ${organizers.left}`);
    const events = feed.events.map((event): EventAttributes => {
      // The owner's own join link when the session can still be joined, else the call page that asks for a token.
      const link = event.joinLink ?? `${base}/call?meeting=${encodeURIComponent(event.meetingId)}`;
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
        ...utcTimes(event),
        lastModified: ms(event.updatedAt),
        timestamp: ms(feed.generatedAt),
      } as EventAttributes;
    });
    const calName =
      feed.ownerName !== undefined ? `${options.siteName}: ${feed.ownerName}` : `${options.siteName} sessions`;
    const result = createEvents(events, { method: 'PUBLISH', productId: options.productId ?? PRODUCT_ID });
    if (result.error !== null || result.value === null)
      return E.left(`cannot build the calendar feed: ${result.error?.message ?? 'no output'}`);
    const calendar = withCalendarProperties(result.value, [
      `X-WR-CALNAME:${textValue(calName)}`,
      `REFRESH-INTERVAL;VALUE=DURATION:${FEED_REFRESH}`,
      `X-PUBLISHED-TTL:${FEED_REFRESH}`,
    ]);
    return E.map(foldIcsLines)(
      withEventProperties(
        calendar,
        organizers.right.map((line) => [line]),
      ),
    );
  };
