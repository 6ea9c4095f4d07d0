import { client } from '../../support/system.ts';
import type { Client } from '../../support/system.ts';
import type { WebHarness } from '../../support/web.ts';

/** An API client signed in as a demo person (dev mode has no bearer secret to mint tokens with). */
export const devClient = async (harness: WebHarness, personId: string): Promise<Client> => {
  const response = await fetch(`${harness.url}/auth/dev-session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: harness.url },
    body: JSON.stringify({ personId }),
  });
  if (response.status !== 200) throw new Error(`dev sign-in of ${personId}: ${response.status}`);
  const grant = (await response.json()) as { accessToken: string };
  return client(harness.url, grant.accessToken);
};
