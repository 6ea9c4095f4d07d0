import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { createIcsCancellationBuilder, meetingUid, parseMailbox } from '../../../adapters/mail/ics.ts';

/** RFC 5545 §3.1: lines are folded with CRLF + one space or tab. */
const unfold = (ics: string): string[] => ics.replace(/\r\n[ \t]/g, '').split('\r\n').filter((l) => l.length > 0);

const build = createIcsCancellationBuilder({ publicBaseUrl: 'https://coaching.example.com:8443' });

describe('iCalendar cancellation', () => {
  it('is a METHOD:CANCEL calendar with the stable UID, the bumped SEQUENCE and STATUS:CANCELLED', () => {
    const result = build({
      events: [{ meetingId: 'm-1', sequence: 3, start: '2030-03-02T15:00:00.000Z', end: '2030-03-02T16:00:00.000Z', title: 'Strength; basics, <b>', description: 'Cancelled: sick' }],
      organizer: 'Virtual Y <no-reply@example.com>',
      attendee: { name: 'Cora Customer', email: 'cora@example.com' },
      stamp: '2030-03-01T12:00:00.000Z',
    });
    if (E.isLeft(result)) throw new Error(result.left);
    const lines = unfold(result.right);
    expect(lines[0]).toBe('BEGIN:VCALENDAR');
    expect(lines).toContain('METHOD:CANCEL');
    expect(lines).toContain('UID:m-1@coaching.example.com');
    expect(lines).toContain('SEQUENCE:3');
    expect(lines).toContain('STATUS:CANCELLED');
    expect(lines).toContain('DTSTART:20300302T150000Z');
    expect(lines).toContain('DTEND:20300302T160000Z');
    expect(lines).toContain('DTSTAMP:20300301T120000Z');
    expect(lines).toContain('SUMMARY:Strength\\; basics\\, <b>');
    expect(lines.find((l) => l.startsWith('ORGANIZER'))).toMatch(/CN="?Virtual Y"?:mailto:no-reply@example.com/i);
    expect(lines.find((l) => l.startsWith('ATTENDEE'))).toMatch(/mailto:cora@example.com/i);
    expect(result.right.endsWith('END:VCALENDAR\r\n')).toBe(true);
  });

  it('cannot be made to carry extra properties through a title, a reason or a name', () => {
    const result = build({
      events: [{ meetingId: 'm-9', sequence: 1, start: '2030-03-02T15:00:00.000Z', end: '2030-03-02T16:00:00.000Z', title: 'Yoga\rATTENDEE:mailto:evil@example.com', description: 'ill\rORGANIZER:mailto:evil@example.com' }],
      organizer: 'Virtual Y <no-reply@example.com>',
      attendee: { name: 'Eve":mailto:evil@example.com;X="', email: 'cora@example.com' },
      stamp: '2030-03-01T12:00:00.000Z',
    });
    if (E.isLeft(result)) throw new Error(result.left);
    expect(result.right).not.toMatch(/\r(?!\n)/);
    const lines = unfold(result.right);
    expect(lines.filter((l) => l.startsWith('ATTENDEE'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('ORGANIZER'))).toHaveLength(1);
    // The name stays inside its quoted CN value; the one address is the attendee's own.
    expect(lines.find((l) => l.startsWith('ATTENDEE'))).toBe('ATTENDEE;RSVP=FALSE;ROLE="REQ-PARTICIPANT";CN="Eve:mailto:evil@example.com;X=":mailto:cora@example.com');
  });

  it('has one VEVENT per cancelled occurrence, each with its own UID', () => {
    const result = build({
      events: [
        { meetingId: 's_2030-03-04', sequence: 1, start: '2030-03-04T15:00:00.000Z', end: '2030-03-04T16:00:00.000Z', title: 'Series' },
        { meetingId: 's_2030-03-11', sequence: 2, start: '2030-03-11T14:00:00.000Z', end: '2030-03-11T15:00:00.000Z', title: 'Series' },
      ],
      organizer: 'no-reply@example.com',
      attendee: { email: 'cora@example.com' },
      stamp: '2030-03-01T12:00:00.000Z',
    });
    if (E.isLeft(result)) throw new Error(result.left);
    const lines = unfold(result.right);
    expect(lines.filter((l) => l === 'BEGIN:VEVENT')).toHaveLength(2);
    expect(lines.filter((l) => l === 'METHOD:CANCEL')).toHaveLength(1);
    expect(lines).toContain('UID:s_2030-03-04@coaching.example.com');
    expect(lines).toContain('UID:s_2030-03-11@coaching.example.com');
    expect(lines).toContain('SEQUENCE:2');
  });

  it('refuses an empty cancellation', () => {
    expect(E.isLeft(build({ events: [], organizer: 'a@example.com', attendee: { email: 'b@example.com' }, stamp: '2030-03-01T12:00:00.000Z' }))).toBe(true);
  });

  it('parses mailboxes and makes UIDs from the public host', () => {
    expect(parseMailbox('Virtual Y <no-reply@localhost>')).toEqual({ name: 'Virtual Y', email: 'no-reply@localhost' });
    expect(parseMailbox('"Virtual Y" <a@b.c>')).toEqual({ name: 'Virtual Y', email: 'a@b.c' });
    expect(parseMailbox('a@b.c')).toEqual({ email: 'a@b.c' });
    expect(meetingUid('m1', 'http://localhost:8080')).toBe('m1@localhost');
  });
});
