import { joinLinkHeadings } from '../../domain/email-defaults.ts';
import { escapeHtml } from '../../domain/template.ts';

import type { CancellationSnapshot, JoinLinkFacts, RecipientRole } from '../../domain/notification.ts';

/** Signs a recipient's join link to one session from recorded facts (application/join-links.ts `linkFrom`). */
export interface EmailJoinLinks {
  /** The facts recorded with a prepared email: the site's address and the recipient's feed epoch now. */
  factsFor(personId: string): JoinLinkFacts;
  linkFrom(input: {
    readonly personId: string;
    readonly meetingId: string;
    readonly role: RecipientRole;
    readonly end: string;
    readonly epoch: number;
    readonly baseUrl: string;
  }): string;
}

/** The recipient's links to the announced sessions, made from the snapshot and the recorded facts only. */
export const joinLinksOf = (
  links: Pick<EmailJoinLinks, 'linkFrom'>,
  recipient: { readonly personId: string; readonly role: RecipientRole },
  snapshot: Pick<CancellationSnapshot, 'sessions'>,
  announced: ReadonlyArray<string>,
  facts: JoinLinkFacts,
): string[] =>
  snapshot.sessions
    .filter((session) => announced.includes(session.meetingId))
    .map((session) => links.linkFrom({ ...recipient, meetingId: session.meetingId, end: session.end, ...facts }));

interface Body {
  readonly html: string;
  readonly text: string;
}

/**
 * The recipient's join links, added to the email as it is sent and never to the recorded one: a link is a credential
 * and the notification's events are readable by auditors. Links are made from recorded facts (signed, no random
 * part), so every attempt of a round sends the same body under its idempotency key.
 */
export const withJoinLinks = (body: Body, links: ReadonlyArray<string>, language?: string): Body => {
  if (links.length === 0) return body;
  const headings = joinLinkHeadings[language === 'es' ? 'es' : 'en'];
  const heading = links.length === 1 ? headings.one : headings.many;
  const items = links.map((url) => `<li><a href="${escapeHtml(url)}">${escapeHtml(url)}</a></li>`).join('');
  const block = `<p>${heading}:</p><ul>${items}</ul>`;
  const closing = body.html.search(/<\/body\s*>/i);
  const html =
    closing === -1 ? `${body.html}${block}` : `${body.html.slice(0, closing)}${block}${body.html.slice(closing)}`;
  const text = `${body.text}\n\n${heading}:\n${links.map((url) => `- ${url}`).join('\n')}`;
  return { html, text };
};
