import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmailAddress, emailProblem, isEmailAddress } from '../../domain/email.ts';
import { createIcsCancellationBuilder } from '../../adapters/mail/ics.ts';

const build = createIcsCancellationBuilder({
  publicBaseUrl: 'https://coaching.example.com',
  sender: 'Virtual Y <no-reply@example.com>',
});

/** What the sending path does with an address: the calendar file of a cancellation email names it as ATTENDEE. */
const calendarTakes = (email: string): boolean => {
  const result = build({
    event: {
      meetingId: 'm-1',
      sequence: 1,
      start: '2030-03-02T15:00:00.000Z',
      end: '2030-03-02T16:00:00.000Z',
      title: 'Strength',
    },
    instructor: { name: 'Ivan', email },
    attendee: { name: 'Cora', email },
    stamp: '2030-03-01T12:00:00.000Z',
  });
  return E.isRight(result) && result.right.replace(/\r\n[ \t]/g, '').includes(`mailto:${email}`);
};

const refused = [
  'ü@exämple.com',
  'a@b..com',
  'a@exämple.com',
  'ü@example.com',
  'cora@exa\u202Emple.com',
  '.a@b.com',
  'a.@b.com',
  'a..b@c.com',
  'a@b',
  'a@localhost',
  'a@-b.com',
  'a@b-.com',
  'a@b.com-',
  'a@b.c_m',
  'a@b_c.com',
  'a@b.com.',
  'a@.b.com',
  'a@1.2.3.4',
  'a@b.123',
  'a@[127.0.0.1]',
  '"a b"@c.com',
  'a b@c.com',
  'a@b.com\r\nBcc: x@y.com',
  'Name <a@b.com>',
  'a@b.com,c@d.com',
  'a@b.com;c@d.com',
  'a@@b.com',
  '@b.com',
  'a@',
  '',
  `${'a'.repeat(65)}@example.com`,
  `a@${'b'.repeat(64)}.com`,
  `${'a'.repeat(60)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`,
];

const accepted = [
  'a@b.co',
  "o'brien+tag@example.co.uk",
  'first.last@sub.example.org',
  "!#$%&'*+/=?^_`{|}~-@example.com",
  'a@xn--exmple-cua.com',
  'UPPER@EXAMPLE.COM',
  'a@b-c.example',
  `${'a'.repeat(64)}@example.com`,
  `a@${'b'.repeat(63)}.com`,
];

describe('the email rule', () => {
  it.each(refused)('refuses %j', (address) => {
    expect(emailProblem(address)).toBeDefined();
    expect(E.isLeft(EmailAddress.decode(address))).toBe(true);
  });

  it.each(accepted)('accepts %j, and the calendar file of an email takes it', (address) => {
    expect(emailProblem(address)).toBeUndefined();
    expect(calendarTakes(address)).toBe(true);
  });

  it('says why an address in Unicode is refused', () => {
    expect(emailProblem('ü@exämple.com')).toMatch(/ASCII/);
    expect(emailProblem('a@b..com')).toMatch(/name@example.com/);
  });

  it('decodes with surrounding whitespace removed, and refuses what is not a string', () => {
    expect(EmailAddress.decode('  cora@example.com \n')).toEqual(E.right('cora@example.com'));
    expect(E.isLeft(EmailAddress.decode(42))).toBe(true);
  });

  it('accepts only addresses the sending path can use (RFC 5322 addresses generated at random)', () => {
    let taken = 0;
    fc.assert(
      fc.property(fc.emailAddress(), (address) => {
        if (!isEmailAddress(address)) return;
        taken++;
        expect(calendarTakes(address), address).toBe(true);
      }),
      { numRuns: 2000 },
    );
    // Not vacuous: most generated addresses are plain enough to be accepted.
    expect(taken).toBeGreaterThan(500);
  });

  it('accepts nothing the calendar file refuses, for any string made of address characters', () => {
    const piece = fc.constantFrom(
      'a',
      'Z',
      '0',
      '.',
      '-',
      '_',
      '+',
      '@',
      'ü',
      'ä',
      ' ',
      '"',
      '<',
      '>',
      ',',
      '[',
      ']',
      '\u202E',
      '\n',
      'xn--',
      'com',
    );
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 24 }), (parts) => {
        const address = parts.join('');
        if (isEmailAddress(address)) expect(calendarTakes(address), address).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});
