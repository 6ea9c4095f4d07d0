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
export const templateTokens: ReadonlyArray<string> = [...meetingTokens, ...seriesTokens];

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
