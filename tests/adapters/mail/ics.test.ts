import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { createIcsCancellationBuilder, meetingUid, parseMailbox } from '../../../adapters/mail/ics.ts';
import type { CalendarCancellation } from '../../../application/ports/mailer.ts';
import { contactOf, parseCalendar, unfoldLines as unfold } from '../../support/ical.ts';

const build = createIcsCancellationBuilder({
  publicBaseUrl: 'https://coaching.example.com:8443',
  sender: 'Virtual Y <no-reply@example.com>',
});

const cancellation = (overrides: Partial<CalendarCancellation> = {}): CalendarCancellation => ({
  event: {
    meetingId: 'm-1',
    sequence: 3,
    start: '2030-03-02T15:00:00.000Z',
    end: '2030-03-02T16:00:00.000Z',
    title: 'Yoga',
  },
  instructor: { name: 'Ivan Instructor', email: 'ivan@example.com' },
  attendee: { name: 'Cora Customer', email: 'cora@example.com' },
  stamp: '2030-03-01T12:00:00.000Z',
  ...overrides,
});

const built = (input: CalendarCancellation): string => {
  const result = build(input);
  if (E.isLeft(result)) throw new Error(result.left);
  return result.right;
};

describe('iCalendar cancellation', () => {
  it('is a METHOD:CANCEL calendar with the stable UID, the bumped SEQUENCE and STATUS:CANCELLED', () => {
    const ics = built(
      cancellation({
        event: {
          meetingId: 'm-1',
          sequence: 3,
          start: '2030-03-02T15:00:00.000Z',
          end: '2030-03-02T16:00:00.000Z',
          title: 'Strength; basics, <b>',
          description: 'Cancelled: sick',
        },
      }),
    );
    const lines = unfold(ics);
    expect(lines[0]).toBe('BEGIN:VCALENDAR');
    expect(lines).toContain('METHOD:CANCEL');
    expect(lines).toContain('UID:m-1@coaching.example.com');
    expect(lines).toContain('SEQUENCE:3');
    expect(lines).toContain('STATUS:CANCELLED');
    expect(lines).toContain('DTSTART:20300302T150000Z');
    expect(lines).toContain('DTEND:20300302T160000Z');
    expect(lines).toContain('DTSTAMP:20300301T120000Z');
    expect(lines).toContain('SUMMARY:Strength\\; basics\\, <b>');
    expect(lines).toContain(
      'ORGANIZER;CN="Ivan Instructor";SENT-BY="mailto:no-reply@example.com":mailto:ivan@example.com',
    );
    expect(lines).toContain('ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=FALSE;CN="Cora Customer":mailto:cora@example.com');
    expect(ics.endsWith('END:VCALENDAR\r\n')).toBe(true);
  });

  it('cannot be made to carry extra properties through a title, a reason or a name', () => {
    const ics = built(
      cancellation({
        event: {
          meetingId: 'm-9',
          sequence: 1,
          start: '2030-03-02T15:00:00.000Z',
          end: '2030-03-02T16:00:00.000Z',
          title: 'Yoga\rATTENDEE:mailto:evil@example.com',
          description: 'ill\rORGANIZER:mailto:evil@example.com',
        },
        instructor: { name: 'Ivan\r\nORGANIZER:mailto:evil@example.com', email: 'ivan@example.com' },
        attendee: { name: 'Eve":mailto:evil@example.com;X="', email: 'cora@example.com' },
      }),
    );
    expect(ics).not.toMatch(/\r(?!\n)/);
    const lines = unfold(ics);
    expect(lines.filter((l) => l.startsWith('ATTENDEE'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('ORGANIZER'))).toHaveLength(1);
    // The name stays inside its quoted CN value (RFC 6868 carets for the quotes); the one address is the attendee's own.
    expect(lines.find((l) => l.startsWith('ATTENDEE'))).toBe(
      `ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=FALSE;CN="Eve^':mailto:evil@example.com;X=^'":mailto:cora@example.com`,
    );
    const [event] = parseCalendar(ics).getAllSubcomponents('vevent');
    expect(contactOf(event!.getFirstProperty('organizer'))?.address).toBe('mailto:ivan@example.com');
    expect(contactOf(event!.getFirstProperty('organizer'))?.params.cn).toBe('Ivan\nORGANIZER:mailto:evil@example.com');
  });

  it('writes ROLE as a bare token and CN values a parser reads back exactly, however hostile the name', () => {
    const names = [
      'Eve":mailto:evil@example.com;X="',
      'Quote "me" ^n ^^ caret',
      'Colon: semi; comma, ROLE=CHAIR',
      'Line\nbreak',
      'Ünïcödé 日本語',
    ];
    for (const name of names) {
      const ics = built(
        cancellation({
          attendee: { name, email: 'cora@example.com' },
          instructor: { name, email: 'ivan@example.com' },
        }),
      );
      // RFC 5545 §3.2.16: ROLE's value is a token; a quoted value is not a ROLE some clients know.
      const attendeeLine = unfold(ics).find((l) => l.startsWith('ATTENDEE'))!;
      expect(attendeeLine).toMatch(/;ROLE=REQ-PARTICIPANT[;:]/);
      const [event] = parseCalendar(ics).getAllSubcomponents('vevent');
      const attendees = event!.getAllProperties('attendee');
      expect(attendees).toHaveLength(1);
      expect(contactOf(attendees[0]!)).toEqual({
        address: 'mailto:cora@example.com',
        params: { cn: name, role: 'REQ-PARTICIPANT', rsvp: 'FALSE' },
      });
      expect(contactOf(event!.getFirstProperty('organizer'))).toEqual({
        address: 'mailto:ivan@example.com',
        params: { cn: name, 'sent-by': 'mailto:no-reply@example.com' },
      });
    }
  });

  it("names the site's sender as the organizer when the instructor has no address, without SENT-BY", () => {
    for (const instructor of [
      { name: 'Ivan' },
      { name: 'Ivan', email: '' },
      { name: 'Ivan', email: 'bad address@example.com' },
    ]) {
      const [event] = parseCalendar(built(cancellation({ instructor }))).getAllSubcomponents('vevent');
      expect(contactOf(event!.getFirstProperty('organizer'))).toEqual({
        address: 'mailto:no-reply@example.com',
        params: { cn: 'Virtual Y' },
      });
    }
  });

  it('is one calendar object with one event: a series is cancelled one object per session', () => {
    const calendar = parseCalendar(built(cancellation()));
    expect(calendar.getFirstPropertyValue('method')).toBe('CANCEL');
    expect(calendar.getAllSubcomponents('vevent')).toHaveLength(1);
  });

  it('refuses an attendee address that cannot be written as a calendar address', () => {
    const result = build(cancellation({ attendee: { email: 'cora@example.com\r\nATTENDEE:mailto:evil@example.com' } }));
    expect(E.isLeft(result) && result.left).toMatch(/cannot be written as a calendar address/);
  });

  it('parses mailboxes and makes UIDs from the public host', () => {
    expect(parseMailbox('Virtual Y <no-reply@localhost>')).toEqual({ name: 'Virtual Y', email: 'no-reply@localhost' });
    expect(parseMailbox('"Virtual Y" <a@b.c>')).toEqual({ name: 'Virtual Y', email: 'a@b.c' });
    expect(parseMailbox('a@b.c')).toEqual({ email: 'a@b.c' });
    expect(meetingUid('m1', 'http://localhost:8080')).toBe('m1@localhost');
  });
});

describe('iCalendar invitation (METHOD:REQUEST)', () => {
  const request = (event: Partial<CalendarCancellation['event']>) =>
    parseCalendar(
      built(cancellation({ method: 'REQUEST', event: { ...cancellation().event, ...event } })),
    ).getFirstSubcomponent('vevent')!;

  it('says TENTATIVE for a planned session and CONFIRMED for a scheduled one, as the feed does', () => {
    expect(request({ state: 'planned' }).getFirstPropertyValue('status')).toBe('TENTATIVE');
    expect(request({ state: 'scheduled' }).getFirstPropertyValue('status')).toBe('CONFIRMED');
  });

  it('asks no REPLY of the member (RSVP=FALSE), since the app takes none', () => {
    expect(contactOf(request({}).getFirstProperty('attendee'))?.params).toMatchObject({
      partstat: 'NEEDS-ACTION',
      rsvp: 'FALSE',
    });
  });

  it('writes the link once: an outside link as LOCATION, the call page as URL', () => {
    const outside = request({ location: 'https://meet.example/room-7' });
    expect(outside.getFirstPropertyValue('location')).toBe('https://meet.example/room-7');
    expect(outside.getFirstProperty('url')).toBeNull();
    const call = request({ url: 'https://coaching.example.com/call?meeting=m-1' });
    expect(call.getFirstPropertyValue('url')).toBe('https://coaching.example.com/call?meeting=m-1');
    expect(call.getFirstProperty('location')).toBeNull();
  });
});
