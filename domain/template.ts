import * as E from 'fp-ts/lib/Either.js';

export const meetingTokens = [
  'siteName',
  'meetingTitle',
  'startDate',
  'endDate',
  'instructorName',
  'customerName',
  // The reader and the other participant, whichever role the recipient has: one wording fits both templates.
  'recipientName',
  'counterpartName',
  'reason',
] as const;
export const seriesTokens = ['sessionCount', 'sessionList'] as const;
/**
 * Tokens of the emails of bookings and changes: `trainingType` (native call or outside link), `location` (the
 * outside link, or the call page), `previousStartDate` (where a moved session was). A reader's own join link is no
 * token: it is a credential, added below the message as the email is sent and never recorded with it.
 */
export const changeTokens = ['trainingType', 'location'] as const;
export const rescheduleTokens = ['previousStartDate'] as const;
export const templateTokens: ReadonlyArray<string> = [
  ...meetingTokens,
  ...seriesTokens,
  ...changeTokens,
  ...rescheduleTokens,
];

/** The topics emails are written for (domain/notification.ts NotificationTopic, which this must match). */
export type TemplateTopic = 'cancelled' | 'booked' | 'rescheduled' | 'changed' | 'reinstated' | 'reminder';

/** The tokens one topic's templates may use: a token the email of that topic cannot fill is refused at save. */
export const tokensForTopic = (topic: TemplateTopic): ReadonlyArray<string> => {
  // `reason` is a cancellation's: no other email has one.
  const people = meetingTokens.filter((token) => token !== 'reason');
  const common = [...people, ...seriesTokens, ...changeTokens];
  switch (topic) {
    case 'cancelled':
      return [...meetingTokens, ...seriesTokens];
    case 'rescheduled':
      return [...common, ...rescheduleTokens];
    case 'reminder':
      // A reminder is of one session, as the reminders feature renders it.
      return people;
    case 'booked':
    case 'changed':
    case 'reinstated':
      return common;
    default: {
      const never: never = topic;
      return never;
    }
  }
};

/** The first token of parsed parts that `allowed` does not hold. */
export const foreignToken = (
  parts: ReadonlyArray<TemplatePart>,
  allowed: ReadonlyArray<string>,
): string | undefined => {
  for (const part of parts) if (part.kind === 'token' && !allowed.includes(part.name)) return part.name;
  return undefined;
};

export type TemplatePart =
  { readonly kind: 'text'; readonly text: string } | { readonly kind: 'token'; readonly name: string };

/**
 * Parses `{{token}}` templates. Unknown tokens and unbalanced braces are errors, so a typo in the settings is
 * refused when saved rather than mailed verbatim to every member.
 */
export const parseTemplate = (template: string): E.Either<string, ReadonlyArray<TemplatePart>> => {
  const parts: TemplatePart[] = [];
  let rest = template;
  let offset = 0;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    const close = rest.indexOf('}}');
    if (close !== -1 && (open === -1 || close < open)) {
      return E.left(`unbalanced '}}' at character ${offset + close}`);
    }
    if (open === -1) {
      parts.push({ kind: 'text', text: rest });
      break;
    }
    const end = rest.indexOf('}}', open + 2);
    if (end === -1) return E.left(`unclosed '{{' at character ${offset + open}`);
    const name = rest.slice(open + 2, end).trim();
    if (name.includes('{')) return E.left(`unbalanced '{{' at character ${offset + open}`);
    if (!templateTokens.includes(name)) {
      return E.left(`unknown token '{{${name}}}'; known tokens: ${templateTokens.join(', ')}`);
    }
    if (open > 0) parts.push({ kind: 'text', text: rest.slice(0, open) });
    parts.push({ kind: 'token', name });
    offset += end + 2;
    rest = rest.slice(end + 2);
  }
  return E.right(parts);
};

export const escapeHtml = (value: string): string =>
  value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** Renders parsed parts; `encode` is applied to token values only (HTML-escape for HTML, identity for text). */
export const renderTemplate = (
  parts: ReadonlyArray<TemplatePart>,
  values: Readonly<Record<string, string>>,
  encode: (value: string) => string,
): string => parts.map((part) => (part.kind === 'text' ? part.text : encode(values[part.name] ?? ''))).join('');
