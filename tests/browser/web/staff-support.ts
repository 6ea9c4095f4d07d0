import { devClient } from '../../support/web.ts';
import type { Client } from '../../support/system.ts';
import type { WebHarness } from '../../support/web.ts';

/** An API client acting as a person of the dev directory (see `devClient`). */
export const apiAs = (web: WebHarness, personId: string): Promise<Client> => devClient(web.url, personId);

/** A start `days` from now at `hour`:00 UTC, and its end an hour later. */
export const slot = (days: number, hour: number, minutes = 60): { start: string; end: string } => {
  const start = new Date(Date.now() + days * 24 * 3600_000);
  start.setUTCHours(hour, 0, 0, 0);
  return { start: start.toISOString(), end: new Date(start.getTime() + minutes * 60_000).toISOString() };
};
