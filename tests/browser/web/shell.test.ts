import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';

// The app shell: served by the API server under /app/, opened from /, signed in through the refresh cookie alone,
// under a CSP without inline scripts, with no token in any storage a script could read.
let web: WebHarness;

beforeAll(async () => {
  web = await startWeb();
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

describe('the web app shell', { timeout: 120_000 }, () => {
  it('opens from / and sends a signed-out visitor to sign-in, keeping where they were going', async () => {
    const root = await fetch(`${web.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/app/');
    const page = await web.page();
    await page.goto(`${web.url}/app/me`);
    await page.waitForURL(/\/app\/sign-in\?next=/);
    expect(new URL(page.url()).searchParams.get('next')).toBe('/me');
    // From / a person lands on their own start page once signed in, and again when they open / signed in.
    const fresh = await web.page();
    await fresh.goto(`${web.url}/`);
    await fresh.waitForURL(/\/app\/sign-in/);
    await fresh.locator('[data-person-id="instructor-1"]').click();
    await fresh.waitForURL(/\/app\/schedule$/);
    await fresh.goto(`${web.url}/`);
    await fresh.waitForURL(/\/app\/schedule$/);
  });

  it('serves the page with a CSP that allows no inline script, and hashed files for a year', async () => {
    const page = await fetch(`${web.url}/app/some/deep/path`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toContain("frame-ancestors 'none'");
    // Sockets only to this origin and the one signaling origin the join answer names, never any ws:/wss: host.
    const signaling = new URL(web.url.replace(/^http/, 'ws')).origin;
    expect(csp).toContain(`connect-src 'self' ${signaling};`);
    expect(csp).not.toMatch(/connect-src[^;]*(ws:|wss:)(\s|;)/);
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script element
    const asset = /src="(\/app\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${web.url}${asset}`);
    expect(js.headers.get('cache-control')).toContain('immutable');
    const gone = await fetch(`${web.url}/app/assets/no-such-chunk.js`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toContain('application/problem+json');
  });

  it('signs in, keeps the token out of web storage, resumes from the cookie on reload, and signs out', async () => {
    const page = await web.page();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
    });
    await web.signIn(page, 'customer-1');
    await page.getByText('Signed in as Cora Customer').waitFor();
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(stored).not.toMatch(/eyJ/);
    await page.reload();
    await page.getByText('Signed in as Cora Customer').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/app\/sign-in/);
    await page.goto(`${web.url}/app/me`);
    await page.waitForURL(/\/app\/sign-in/);
    expect(violations).toEqual([]);
  });

  it('says so and keeps the person signed in when the server cannot be reached to sign out', async () => {
    const page = await web.page();
    await web.signIn(page, 'customer-1');
    await page.getByText('Signed in as Cora Customer').waitFor();
    await page.route('**/auth/sign-out', (route) => route.fulfill({ status: 503, body: '' }));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('alert').filter({ hasText: 'You are still signed in' }).waitFor();
    expect(new URL(page.url()).pathname).not.toBe('/app/sign-in');
    await page.unroute('**/auth/sign-out');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/app\/sign-in/);
  });

  it('tells a person the server cannot be reached, rather than loading forever, when a request fails', async () => {
    const page = await web.page();
    await web.signIn(page, 'admin-1');
    await page.route(/\/settings(\?|$)/, (route) =>
      route.request().resourceType() === 'fetch' ? route.abort('connectionrefused') : route.continue(),
    );
    await page.goto(`${web.url}/app/settings`);
    await page.getByRole('alert').filter({ hasText: 'The server could not be reached' }).waitFor();
  });

  it('signs every tab out when one signs out, and two tabs renewing at once keep the session', async () => {
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    const second = await page.context().newPage();
    await second.goto(`${web.url}/app/me`);
    await second.getByText('Signed in as Ivan Instructor').waitFor();
    // Both renew at the same moment: the Web Lock serializes them, so the rotating cookie is never replayed.
    const renewed = await Promise.all(
      [page, second].map((p) =>
        p.evaluate(() => (window as unknown as { __session: { renew: () => Promise<boolean> } }).__session.renew()),
      ),
    );
    expect(renewed).toEqual([true, true]);
    await page.reload();
    await page.getByText('Signed in as Ivan Instructor').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await second.waitForURL(/\/app\/sign-in/);
  });

  it('has a skip link, a main landmark and a navigation at phone width, and axe finds nothing serious', async () => {
    const page = await web.page({ viewport: PHONE, bypassCSP: true });
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/me`);
    await page.locator('main h1').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('Skip to content');
    expect(await page.locator('nav[aria-label="Main"]').count()).toBe(1);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(PHONE.width);
    await expectAccessible(page);
  });
});
