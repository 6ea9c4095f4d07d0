import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { client } from '../../support/system.ts';
import { DESKTOP, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';

// The README's pictures of the sign-in page and the member's pages: taken only when asked
// (`SCREENSHOTS=1 npx vitest run tests/browser/web/member-screenshots.test.ts`), so a normal run changes no file.
const DIR = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const wanted = process.env.SCREENSHOTS === '1';
let web: WebHarness;

beforeAll(async () => {
  if (wanted) web = await startWeb();
}, 180_000);
afterAll(() => web?.close(), 60_000);

describe.runIf(wanted)('README screenshots', { timeout: 180_000 }, () => {
  it('of sign-in, sessions, a session and the feed', async () => {
    mkdirSync(DIR, { recursive: true });
    const admin = client(web.url, web.ts.system.demoTokens.find((t) => t.sub === 'admin-1')!.token);
    const soon = await admin.request('POST', '/meetings', {
      title: 'Kettlebell intro',
      customerId: 'customer-2',
      instructorId: 'instructor-1',
      timezone: 'America/New_York',
      trainingType: '1-1',
      description: 'Bring water and comfortable shoes.',
      start: new Date(Date.now() + 3 * 3_600_000).toISOString(),
      end: new Date(Date.now() + 4 * 3_600_000).toISOString(),
    });
    for (const [suffix, viewport] of [
      ['', DESKTOP],
      ['-phone', PHONE],
    ] as const) {
      const page = await web.page({ viewport });
      await page.goto(`${web.url}/app/sign-in`);
      await page.locator('[data-person-id]').first().waitFor();
      await page.screenshot({ path: `${DIR}sign-in${suffix}.png`, fullPage: true });
      await web.signIn(page, 'customer-2');
      await page.getByRole('listitem').filter({ hasText: 'Kettlebell intro' }).waitFor();
      await page.screenshot({ path: `${DIR}member-sessions${suffix}.png`, fullPage: true });
      await page.goto(`${web.url}/app/sessions/${soon.body.id as string}`);
      await page.getByText('Ivan Instructor').waitFor();
      await page.screenshot({ path: `${DIR}member-session${suffix}.png`, fullPage: true });
      await page.goto(`${web.url}/app/feed`);
      await page.locator('main h1').waitFor();
      await page.screenshot({ path: `${DIR}member-feed${suffix}.png`, fullPage: true });
      await web.closeContexts();
    }
  });
});
