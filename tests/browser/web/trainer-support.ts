import { devClient as devClientAt } from '../../support/web.ts';
import type { Client } from '../../support/system.ts';
import type { WebHarness } from '../../support/web.ts';

/** An API client signed in as a demo person (dev mode has no bearer secret to mint tokens with). */
export const devClient = (harness: WebHarness, personId: string): Promise<Client> => devClientAt(harness.url, personId);
