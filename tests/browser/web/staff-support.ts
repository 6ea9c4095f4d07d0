import { client } from '../../support/system.ts';
import type { Client } from '../../support/system.ts';
import type { WebHarness } from '../../support/web.ts';

/**
 * An API client acting as a person of the dev directory, signed in as the dev picker does (`POST /auth/dev-session`):
 * the web tests' servers run in dev mode, where there is no secret to mint tokens with directly.
 */
export const apiAs = async (web: WebHarness, personId: string): Promise<Client> => {
  const response = await fetch(`${web.url}/auth/dev-session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: web.url },
    body: JSON.stringify({ personId }),
  });
  if (response.status !== 200) throw new Error(`dev sign-in as ${personId} answered ${response.status}`);
  const { accessToken } = (await response.json()) as { accessToken: string };
  return client(web.url, accessToken);
};

/** A start `days` from now at `hour`:00 UTC, and its end an hour later. */
export const slot = (days: number, hour: number, minutes = 60): { start: string; end: string } => {
  const start = new Date(Date.now() + days * 24 * 3600_000);
  start.setUTCHours(hour, 0, 0, 0);
  return { start: start.toISOString(), end: new Date(start.getTime() + minutes * 60_000).toISOString() };
};
