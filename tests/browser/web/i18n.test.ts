import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { missingTranslations, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';

// The Spanish UI for every role: each page of the navigation renders with no key missing and no raw key or
// unfilled {placeholder} on screen. New slices' pages are covered as soon as they add a nav item.
let web: WebHarness;

beforeAll(async () => {
  web = await startWeb();
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

const RAW_KEY = /\b[a-z]+\.[a-z]+\.[a-zA-Z]+\b/;
// A vue-i18n placeholder left unfilled (`{name}`); email templates' `{{token}}`s on the settings page are content.
const PLACEHOLDER = /(?<!\{)\{[a-zA-Z]+\}(?!\})/;

const checkPage = async (page: Page, where: string) => {
  await page.locator('main h1').waitFor();
  await page.waitForTimeout(400); // what the page loads after its heading
  const text = await page.locator('body').innerText();
  expect(text, where).not.toMatch(RAW_KEY);
  expect(text, where).not.toMatch(PLACEHOLDER);
  expect(await missingTranslations(page), where).toEqual([]);
};

describe('the Spanish UI', { timeout: 180_000 }, () => {
  for (const [personId, roleName] of [
    ['customer-1', 'Miembro'],
    ['instructor-1', 'Entrenador'],
    ['admin-1', 'Personal'],
    ['auditor-1', 'Auditor'],
  ] as const) {
    it(`renders every page of ${personId}'s navigation in Spanish`, async () => {
      const page = await web.page({ locale: 'en-US' });
      await page.goto(`${web.url}/app/sign-in`);
      await page.getByLabel('Language').selectOption('es');
      await page.getByRole('heading', { level: 1, name: 'Iniciar sesión' }).waitFor();
      await checkPage(page, 'sign-in');
      await page.locator(`[data-person-id="${personId}"]`).click();
      await page.waitForURL((u) => !u.pathname.startsWith('/app/sign-in'));
      await page.getByText('Sesión iniciada como').waitFor();
      await checkPage(page, 'start page');
      const nav = page.getByRole('navigation', { name: 'Principal' });
      // Every role but the auditor has pages of this slice in its navigation; the auditor's come with the audit slice.
      const links = await page
        .locator('nav.app-nav a')
        .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).pathname));
      if (personId !== 'auditor-1') expect(links.length).toBeGreaterThan(0);
      for (const href of links) {
        await nav.locator(`a[href="${href}"]`).click();
        await page.waitForURL((u) => u.pathname === href);
        await checkPage(page, href);
      }
      await page.getByRole('link', { name: /Sesión iniciada como/ }).click();
      await page.waitForURL(`${web.url}/app/me`);
      await checkPage(page, '/app/me');
      expect(await page.locator('main').innerText()).toContain(roleName);
    });
  }
});
