import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { launchChromium } from '../../apps/bench/web-demo.ts';
import { ConfigError } from '../../apps/config.ts';
import type { SystemOptions } from '../../apps/compose.ts';
import { recordingMailer } from './mail.ts';
import { freePort } from './readme.ts';
import { client, startTestSystem, tempDir } from './system.ts';
import type { Client, TestSystem } from './system.ts';

/**
 * The web app end to end: the real server (in this process, dev mode, the real SQLite store in a fresh directory) on
 * a real port, and Debian's Chromium driven by playwright-core. The app is the one `npm start` serves, built by the
 * test setup (tests/support/web-build-setup.ts) before any test file runs.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const WAIT = 60_000;
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

export interface WebHarness {
  readonly ts: TestSystem;
  readonly url: string;
  readonly browser: Browser;
  readonly mail: ReturnType<typeof recordingMailer>;
  /** A fresh browser profile (cookies, storage) with one page; closed by `closeContexts`. */
  page(options?: {
    viewport?: { width: number; height: number };
    bypassCSP?: boolean;
    locale?: string;
    timezoneId?: string;
    permissions?: string[];
  }): Promise<Page>;
  /** Signs this page in as a person of the directory (dev mode's picker, as a person would click it). */
  signIn(page: Page, personId: string): Promise<void>;
  closeContexts(): Promise<void>;
  close(): Promise<void>;
}

const startOnKnownPort = async (system: SystemOptions, env: Record<string, string>): Promise<TestSystem> => {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dataDir = tempDir();
    try {
      return await startTestSystem({
        dataDir,
        // Dev mode (no secret): the demo people are seeded and the sign-in page lists them to this machine.
        env: { PORT: String(port), PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, AUTH_JWT_SECRET: '', ...env },
        system,
      });
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true });
      if (attempt < 5 && error instanceof ConfigError && error.message.includes('already in use')) continue;
      throw error;
    }
  }
};

export const startWeb = async (
  options: { env?: Record<string, string>; system?: SystemOptions; browserArgs?: ReadonlyArray<string> } = {},
): Promise<WebHarness> => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required for the browser tests but ${CHROMIUM} is missing`);
  const mail = recordingMailer();
  const ts = await startOnKnownPort(
    { ...options.system, notifications: { mailer: mail.mailer, ...options.system?.notifications } },
    options.env ?? {},
  );
  const browser = await launchChromium(options.browserArgs);
  const contexts: BrowserContext[] = [];
  const harness: WebHarness = {
    ts,
    url: ts.url,
    browser,
    mail,
    async page(o = {}) {
      const context = await browser.newContext({
        viewport: o.viewport ?? DESKTOP,
        bypassCSP: o.bypassCSP ?? false,
        locale: o.locale ?? 'en-US',
        baseURL: ts.url,
        ...(o.timezoneId !== undefined ? { timezoneId: o.timezoneId } : {}),
        ...(o.permissions !== undefined ? { permissions: o.permissions } : {}),
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT);
      return page;
    },
    async signIn(page, personId) {
      await page.goto(`${ts.url}/app/sign-in`);
      await page.locator(`[data-person-id="${personId}"]`).click();
      await page.waitForURL((u) => !u.pathname.startsWith('/app/sign-in'));
    },
    async closeContexts() {
      for (const context of contexts.splice(0)) await context.close().catch(() => {});
    },
    async close() {
      await harness.closeContexts();
      await browser.close().catch(() => {});
      await ts.destroy();
    },
  };
  return harness;
};

/** The serious and critical accessibility violations axe-core finds on the page as it is now. */
export const axeViolations = async (page: Page): Promise<Array<{ id: string; impact: string; nodes: string[] }>> => {
  await page.addScriptTag({ content: AXE });
  const results = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (o: unknown) => Promise<any> } }).axe;
    const r = await axe.run({ resultTypes: ['violations'] });
    return (r.violations as any[]).map((v) => ({
      id: v.id as string,
      impact: v.impact as string,
      nodes: (v.nodes as any[]).slice(0, 5).map((n) => String(n.target)),
    }));
  });
  return results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
};

/** Asserts axe finds nothing serious or critical, naming what it found when it does. */
export const expectAccessible = async (page: Page): Promise<void> => {
  expect(await axeViolations(page)).toEqual([]);
};

/** The i18n keys the app looked up and its language lacked (the app records them for tests). */
export const missingTranslations = (page: Page): Promise<string[]> =>
  page.evaluate(() => [...((window as unknown as { __i18nMissing?: string[] }).__i18nMissing ?? [])]);

/**
 * An API client acting as a person of the dev directory, signed in as the dev picker does (`POST /auth/dev-session`
 * from this machine with the site's own Origin): the web tests' servers run in dev mode, with no secret to mint with.
 */
export const devClient = async (url: string, personId: string): Promise<Client> => {
  const response = await fetch(`${url}/auth/dev-session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ personId }),
  });
  if (response.status !== 200) throw new Error(`dev sign-in as ${personId} answered ${response.status}`);
  const { accessToken } = (await response.json()) as { accessToken: string };
  return client(url, accessToken);
};
