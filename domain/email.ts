import * as t from 'io-ts';

/**
 * The one rule for an email address, wherever one enters (the people directory, a token's `email` claim) or leaves
 * (a cancellation email and its calendar file). It is the rule the sending path can deliver to:
 *
 * - the calendar file's ORGANIZER/ATTENDEE are checked by the `ics` package against the WHATWG "valid email address"
 *   grammar (ASCII `atext` and dots before the `@`, ASCII hostname labels after it); an address outside it makes the
 *   calendar file, and so the whole email, fail every time;
 * - Resend and SMTP want an RFC 5321 mailbox: a dot-atom local part (no leading, trailing or doubled dot) of at most
 *   64 octets, a domain of at most 253, at most 254 in all, and no SMTPUTF8 (no raw Unicode on either side).
 *
 * So: a dot-atom of ASCII `atext` before the `@`; after it, two or more hostname labels (letters, digits, inner
 * hyphens, at most 63 each) whose last starts with a letter (a top-level domain, never an IP address). An
 * internationalised domain is accepted in its ASCII (`xn--`) form. Every address this accepts, the WHATWG grammar
 * accepts too (tests/domain/email.test.ts checks it against the real calendar builder).
 */
const atext = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const label = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const topLabel = '[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const addressPattern = new RegExp(`^${atext}(?:\\.${atext})*@(?:${label}\\.)+${topLabel}$`);

/** The grammar as a JSON Schema pattern, for the OpenAPI document (the lengths are checked apart). */
export const EMAIL_PATTERN = addressPattern.source;

export const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;

/** Why `value` is not a deliverable address, or undefined when it is. `value` is taken as it is (trim first). */
export const emailProblem = (value: string): string | undefined => {
  if (value.length === 0) return 'must be an email address';
  if (value.length > MAX_EMAIL_LENGTH) return `must be an email address of at most ${MAX_EMAIL_LENGTH} characters`;
  if (!addressPattern.test(value)) {
    return /[^\x00-\x7F]/.test(value)
      ? 'must be an email address in ASCII (an internationalised domain in its xn-- form)'
      : 'must be an email address like name@example.com';
  }
  if (value.indexOf('@') > MAX_LOCAL_PART_LENGTH)
    return `must be an email address whose part before the @ is at most ${MAX_LOCAL_PART_LENGTH} characters`;
  return undefined;
};

export const isEmailAddress = (value: string): boolean => emailProblem(value) === undefined;

/** The rule as a codec: a string that is a deliverable address, surrounding whitespace removed. */
export const EmailAddress = new t.Type<string, string, unknown>(
  'EmailAddress',
  (u): u is string => typeof u === 'string' && isEmailAddress(u),
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c, 'must be a string');
    const trimmed = u.trim();
    const problem = emailProblem(trimmed);
    return problem === undefined ? t.success(trimmed) : t.failure(u, c, problem);
  },
  t.identity,
);
