import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { RecipientRole } from '../../domain/notification.ts';
import { emailLanguageOf, type CancellationNotificationSettings } from '../../domain/settings.ts';
import { escapeHtml, parseTemplate, renderTemplate } from '../../domain/template.ts';
import { formatInZone, isValidTimeZone } from '../../domain/time.ts';

export type CancellationTemplates = t.TypeOf<typeof CancellationNotificationSettings>;

export interface CancellationEmailInput {
  /** The recipient's role's templates (`cancellationTemplatesFor`). */
  readonly templates: Pick<CancellationTemplates, 'subject' | 'bodyTemplate'>;
  /** Who reads it: fills `{{recipientName}}` and `{{counterpartName}}`. */
  readonly recipientRole: RecipientRole;
  readonly siteName: string;
  readonly kind: 'meeting' | 'series';
  readonly title: string;
  readonly reason?: string;
  readonly customerName: string;
  readonly instructorName: string;
  /** The reader's zone (people directory), else the meeting's. */
  readonly timezone: string;
  /** The reader's language tag (people directory): dates are written in the email's language. */
  readonly language?: string;
  /** The sessions announced, earliest first. */
  readonly sessions: ReadonlyArray<{ readonly start: string; readonly end: string; readonly previousStart?: string }>;
  /** `{{trainingType}}` as the reader's language names it. */
  readonly trainingType?: string;
  /** `{{location}}`: the outside link, or the call page. */
  readonly location?: string;
}

export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

const identity = (value: string): string => value;

/**
 * Longest email body rendered, in characters. A template may repeat a long token ({{sessionList}} lists up to 500
 * sessions) thousands of times; such a body is refused before it is built, and could never be kept anyway
 * (MAX_NOTIFICATION_APPEND_BYTES in the domain bounds the whole record).
 */
export const MAX_RENDERED_BODY_CHARS = 128 * 1024;

/**
 * The locale an email's dates are written in: the reader's own tag when it is a valid one of the email's language
 * (`es-MX` for a Spanish email), else the language's default (`es-ES`, `en-US`).
 */
export const emailLocaleOf = (tag: string | undefined): string => {
  const language = emailLanguageOf(tag);
  const fallback = language === 'es' ? 'es-ES' : 'en-US';
  if (tag === undefined) return fallback;
  try {
    const [canonical] = Intl.getCanonicalLocales(tag.replace(/_/g, '-'));
    return canonical !== undefined && canonical.split('-')[0]?.toLowerCase() === language ? canonical : fallback;
  } catch {
    return fallback;
  }
};

/** Date and time in the reader's zone and language, with the zone named ("Saturday, March 2, 2030, 9:00 AM CST"). */
export const displayDate = (iso: string, timezone: string, locale = 'en-US'): string =>
  formatInZone(new Date(iso), isValidTimeZone(timezone) ? timezone : 'UTC', locale);

/**
 * The email of any topic (the name is the cancellation's, which came first). Token values are HTML-escaped in the body (the template itself is the admin's HTML);
 * the plain-text part is made from that HTML, so a value is shown literally there, never read as markup.
 */
export const renderCancellationEmail = (input: CancellationEmailInput): E.Either<string, RenderedEmail> => {
  const subjectParts = parseTemplate(input.templates.subject);
  if (E.isLeft(subjectParts)) return E.left(`subject template: ${subjectParts.left}`);
  const bodyParts = parseTemplate(input.templates.bodyTemplate);
  if (E.isLeft(bodyParts)) return E.left(`body template: ${bodyParts.left}`);
  const first = input.sessions[0];
  const last = input.sessions[input.sessions.length - 1];
  if (first === undefined || last === undefined) return E.left('there is no session to announce');
  const locale = emailLocaleOf(input.language);
  const show = (iso: string) => displayDate(iso, input.timezone, locale);
  const dates = input.sessions.map((s) => show(s.start));
  const raw: Record<string, string> = {
    siteName: input.siteName,
    meetingTitle: input.title,
    startDate: show(first.start),
    endDate: show(last.end),
    instructorName: input.instructorName,
    customerName: input.customerName,
    recipientName: input.recipientRole === 'customer' ? input.customerName : input.instructorName,
    counterpartName: input.recipientRole === 'customer' ? input.instructorName : input.customerName,
    reason: input.reason ?? '',
    sessionCount: String(input.sessions.length),
    sessionList: input.kind === 'series' ? dates.join(', ') : '',
    trainingType: input.trainingType ?? '',
    location: input.location ?? '',
    previousStartDate: first.previousStart !== undefined ? show(first.previousStart) : '',
  };
  const escaped: Record<string, string> = Object.fromEntries(
    Object.entries(raw).map(([key, value]) => [key, escapeHtml(value)]),
  );
  escaped.sessionList =
    input.kind === 'series' ? `<ul>${dates.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>` : '';
  const bodyLength = bodyParts.right.reduce(
    (n, part) => n + (part.kind === 'text' ? part.text.length : (escaped[part.name] ?? '').length),
    0,
  );
  if (bodyLength > MAX_RENDERED_BODY_CHARS) {
    return E.left(
      `the email body would be ${bodyLength} characters, more than the ${MAX_RENDERED_BODY_CHARS} allowed; the body template ` +
        `repeats long tokens (such as {{sessionList}}, which lists every session)`,
    );
  }
  const subject = renderTemplate(subjectParts.right, raw, (value) => value.replace(/[\r\n\t]+/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
  // A paragraph whose tokens rendered nothing (no reason given, no list for one session) is left out, and a list in a
  // paragraph of its own (`<p>{{sessionList}}</p>`, as the cancellation default has it) stands alone: HTML has no
  // list inside a paragraph.
  const list = escaped.sessionList;
  const rendered = renderTemplate(bodyParts.right, escaped, identity);
  const html = (list === '' ? rendered : rendered.split(`<p>${list}</p>`).join(list)).replace(/<p>\s*<\/p>/g, '');
  return E.right({ subject, html, text: htmlToText(html) });
};

/** One renderer for every topic: the cancellation's, whose input carries every topic's tokens. */
export const renderNoticeEmail = renderCancellationEmail;

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

const decodeEntities = (text: string): string =>
  text.replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#')) {
      const code =
        name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    const named = name.toLowerCase();
    return Object.hasOwn(NAMED_ENTITIES, named) ? (NAMED_ENTITIES[named] as string) : whole;
  });

const BLOCK = '(?:p|div|h[1-6]|ul|ol|table|tr|blockquote|section|article|header|footer|pre)';

/** A plain-text rendering of simple email HTML: blocks become paragraphs, list items dashes, links "text (url)". */
export const htmlToText = (html: string): string => {
  let s = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|head|title)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/\s+/g, ' ')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(new RegExp(`</?${BLOCK}\\b[^>]*>`, 'gi'), '\n\n')
    .replace(/<\/(td|th)\s*>/gi, ' ')
    .replace(
      /<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')[^>]*>([\s\S]*?)<\/a\s*>/gi,
      (_whole, dq?: string, sq?: string, inner?: string) => {
        const href = decodeEntities(dq ?? sq ?? '');
        const label = (inner ?? '').replace(/<[^>]*>/g, '');
        return href === '' || decodeEntities(label).trim() === href ? label : `${label} (${href})`;
      },
    )
    .replace(/<[^>]*>/g, '');
  s = decodeEntities(s);
  return s
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
};
