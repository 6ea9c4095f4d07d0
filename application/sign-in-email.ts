import { escapeHtml } from '../domain/template.ts';
import type { LinkPurpose } from '../domain/sign-in.ts';

/** Strips what could break a header or a line of the text body: names and site names are one plain line each. */
const oneLine = (value: string): string => value.replace(/[\u0000-\u001F\u007F]+/g, ' ').trim();

/**
 * The email with a sign-in link: a subject, a text body, and an HTML body in which everything that came from data
 * (the site's and the person's names, the link) is escaped.
 */
export const renderSignInEmail = (input: {
  readonly purpose: LinkPurpose;
  readonly link: string;
  readonly siteName: string;
  readonly name: string;
  readonly expiresAt: Date;
}): { subject: string; text: string; html: string } => {
  const site = oneLine(input.siteName);
  const name = oneLine(input.name);
  const until = `${input.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const invitation = input.purpose === 'invitation';
  const subject = invitation ? `You are invited to ${site}` : `Sign in to ${site}`;
  const lead = invitation
    ? `You have been invited to ${site}. Open this link to sign in:`
    : `Open this link to sign in to ${site}:`;
  const text = [
    `Hello ${name},`,
    '',
    lead,
    input.link,
    '',
    `The link works once, until ${until}.`,
    'If you did not ask for it, ignore this email: nobody can sign in without opening it.',
    '',
  ].join('\n');
  const html = [
    '<!doctype html><html><body>',
    `<p>Hello ${escapeHtml(name)},</p>`,
    `<p>${escapeHtml(lead)}</p>`,
    `<p><a href="${escapeHtml(input.link)}">${escapeHtml(invitation ? `Accept the invitation` : `Sign in to ${site}`)}</a></p>`,
    `<p>The link works once, until ${escapeHtml(until)}.</p>`,
    '<p>If you did not ask for it, ignore this email: nobody can sign in without opening it.</p>',
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
};
