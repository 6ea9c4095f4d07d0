import { escapeHtml } from '../../domain/template.ts';

/** The recipient's own join link to one session, or undefined (unknown meeting, or not theirs). */
export type PersonalJoinLink = (personId: string, meetingId: string) => string | undefined;

interface Body {
  readonly html: string;
  readonly text: string;
}

/**
 * The recipient's join links, added to the email as it is sent and never to the recorded one: a link is a credential
 * and the notification's events are readable by auditors. Links are deterministic (signed, no random part), so every
 * attempt of a round sends the same body under its idempotency key, unless the recipient's feed was rotated since.
 */
export const withJoinLinks = (
  body: Body,
  personId: string,
  meetingIds: ReadonlyArray<string>,
  joinLink: PersonalJoinLink,
): Body => {
  const links = meetingIds.flatMap((id) => {
    const url = joinLink(personId, id);
    return url === undefined ? [] : [url];
  });
  if (links.length === 0) return body;
  const heading =
    links.length === 1
      ? 'Your own link to the session (do not share it)'
      : 'Your own links to the sessions (do not share them)';
  const items = links.map((url) => `<li><a href="${escapeHtml(url)}">${escapeHtml(url)}</a></li>`).join('');
  const block = `<p>${heading}:</p><ul>${items}</ul>`;
  const closing = body.html.search(/<\/body\s*>/i);
  const html =
    closing === -1 ? `${body.html}${block}` : `${body.html.slice(0, closing)}${block}${body.html.slice(closing)}`;
  const text = `${body.text}\n\n${heading}:\n${links.map((url) => `- ${url}`).join('\n')}`;
  return { html, text };
};
