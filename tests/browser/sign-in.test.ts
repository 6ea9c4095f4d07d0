import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../apps/config.ts';
import { recordPerson } from '../support/directory.ts';
import { eventually } from '../support/fake-resend.ts';
import { recordingMailer } from '../support/mail.ts';
import { freePort } from '../support/readme.ts';
import { client, startTestSystem, tempDir } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';

// The sign-in page in real Chromium against the real server in dev mode: the demo people's buttons, an emailed link
// opened in the browser, a session picked up from its cookie alone, and accessibility (axe-core) at phone width.
const CHROMIUM = '/usr/bin/chromium';
const WAIT = 60_000;
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const mail = recordingMailer();
let ts: TestSystem;
let browser: Browser;
const contexts: BrowserContext[] = [];

const startOnKnownPort = async (): Promise<TestSystem> => {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dataDir = tempDir();
    try {
      return await startTestSystem({
        dataDir,
        // Dev mode (no secret): the demo people are seeded and the page lists them to this machine.
        env: { PORT: String(port), PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, AUTH_JWT_SECRET: '' },
        system: { notifications: { mailer: mail.mailer } },
      });
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true });
      if (attempt < 5 && error instanceof ConfigError && error.message.includes('already in use')) continue;
      throw error;
    }
  }
};

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required for the browser tests but ${CHROMIUM} is missing`);
  ts = await startOnKnownPort();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: WAIT,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
}, 120_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => {});
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await ts?.destroy();
}, 60_000);

const newPage = async (viewport = { width: 1024, height: 768 }, bypassCSP = false): Promise<Page> => {
  const context = await browser.newContext({ viewport, bypassCSP });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  return page;
};

const storedToken = (page: Page) => page.evaluate(() => sessionStorage.getItem('accessToken'));

/** Whom the API takes a token to be. */
const whoIs = async (token: string | null): Promise<unknown> => {
  expect(token).toMatch(/^eyJ/);
  const me = await client(ts.url, token ?? '').request('GET', '/me');
  expect(me.status).toBe(200);
  return me.body.id;
};

describe('the sign-in page', () => {
  it('signs in as a demo person with one click in dev mode, and goes on to next', async () => {
    const page = await newPage();
    await page.goto(`${ts.url}/sign-in?next=${encodeURIComponent('/docs')}`);
    const button = page.getByRole('button', { name: /customer/ }).first();
    await button.waitFor();
    expect(await page.getByRole('button', { name: /admin/ }).count()).toBeGreaterThan(0);
    await button.click();
    await page.waitForURL(`${ts.url}/docs`);
    expect(await whoIs(await storedToken(page))).toMatch(/^customer-/);
  }, 120_000);

  it('emails a link that signs the person in once opened, with the code gone from the address bar', async () => {
    await recordPerson(ts.system, { id: 'mia', roles: ['customer'], email: 'mia@example.com', name: 'Mia' });
    const page = await newPage();
    await page.goto(`${ts.url}/sign-in`);
    await page.getByLabel('Email address').fill('mia@example.com');
    const before = mail.sent.length;
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByText('a link is on its way').waitFor();
    const message = await eventually(() => mail.sent.slice(before).find((m) => m.to === 'mia@example.com'), 'a link');
    const link = /https?:\/\/\S+\/sign-in#code=[^\s"<]+/.exec(message.text)?.[0];
    expect(link).toBeDefined();

    const opened = await newPage();
    await opened.goto(link!);
    // Signed in, it goes on to `next` (here none: the site's start page), the code in no address on the way.
    await opened.waitForURL(`${ts.url}/`);
    expect(await whoIs(await storedToken(opened))).toBe('mia');
    await opened.goto(`${ts.url}/sign-in`);
    await opened.getByText('Signed in as').waitFor();
    expect(await opened.getByText('Mia (mia@example.com)').count()).toBe(1);
    const visited = await opened.evaluate(() => performance.getEntriesByType('navigation').map((e) => e.name));
    for (const address of [...visited, opened.url()]) expect(address).not.toContain('code=');

    // The same link again signs no one in.
    const again = await newPage();
    await again.goto(link!);
    await again.getByRole('alert').filter({ hasText: /./ }).waitFor();
    expect(await storedToken(again)).toBeNull();
  }, 120_000);

  it('takes the access token from the session cookie alone (as after the identity provider sends one back)', async () => {
    const page = await newPage();
    await page.goto(`${ts.url}/sign-in`);
    const button = page.getByRole('button', { name: /instructor/ }).first();
    await button.waitFor();
    await button.click();
    await page.waitForURL(`${ts.url}/`);
    // A new tab of the same browser: no token in its sessionStorage, only the HttpOnly cookie.
    const tab = await page.context().newPage();
    await tab.goto(`${ts.url}/sign-in?next=${encodeURIComponent('/docs')}`);
    await tab.waitForURL(`${ts.url}/docs`);
    expect(await whoIs(await storedToken(tab))).toMatch(/^instructor-/);
    // Signed out, the cookie is gone: the page asks for an address again.
    const back = await page.context().newPage();
    await back.goto(`${ts.url}/sign-in`);
    await back.getByRole('button', { name: 'Sign out' }).click();
    await back.getByText('You are signed out.').waitFor();
    const later = await page.context().newPage();
    await later.goto(`${ts.url}/sign-in`);
    await later.getByLabel('Email address').waitFor();
    expect(await later.getByText('Signed in as').isVisible()).toBe(false);
  }, 120_000);

  it('has nothing serious for axe and no sideways scrolling at phone width', async () => {
    // The page's CSP forbids inline scripts, axe's included: only this check's context may bypass it.
    const page = await newPage({ width: 375, height: 740 }, true);
    await page.goto(`${ts.url}/sign-in`);
    await page
      .getByRole('button', { name: /customer/ })
      .first()
      .waitFor();
    await page.addScriptTag({ content: AXE });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: () => Promise<{ violations: Array<Record<string, unknown>> }> } })
        .axe;
      const result = await axe.run();
      return result.violations.map((v) => ({ id: v.id, impact: v.impact }));
    });
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // Keyboard: the address field is reachable and labelled.
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.id ?? '');
    expect(['email', 'sso-link']).toContain(focused);
  }, 120_000);
});
