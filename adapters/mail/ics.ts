import * as E from 'fp-ts/lib/Either.js';
import { createEvents } from 'ics';
import type { EventAttributes } from 'ics';
import type { CalendarCancellationBuilder } from '../../application/ports/mailer.ts';

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
          title: event.title,
          ...(event.description !== undefined ? { description: event.description } : {}),
          start: ms(event.start),
          startInputType: 'utc',
          startOutputType: 'utc',
          end: ms(event.end),
          endInputType: 'utc',
          endOutputType: 'utc',
          organizer: { ...(organizer.name !== undefined ? { name: organizer.name } : {}), email: organizer.email },
          attendees: [
            {
              ...(input.attendee.name !== undefined ? { name: input.attendee.name } : {}),
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
    return E.right(result.value);
  };
