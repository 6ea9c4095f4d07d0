import type { Context } from 'hono';
import { escapeHtml } from '../../../domain/template.ts';

/**
 * The page a browser sees when single sign-on cannot finish: what went wrong in words, and a way to start again. It
 * runs no script and loads nothing; every value in it is escaped.
 */
export const refusalPage = (
  c: Context,
  status: 400 | 403 | 429 | 503,
  siteName: string,
  heading: string,
  detail: string,
): Response => {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(heading)} · ${escapeHtml(siteName)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}</style>
</head>
<body>
<h1>${escapeHtml(heading)}</h1>
<p role="alert">${escapeHtml(detail)}</p>
<p><a href="/auth/oidc/start">Sign in again</a></p>
</body>
</html>
`;
  c.header(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
  );
  return c.html(html, status);
};
