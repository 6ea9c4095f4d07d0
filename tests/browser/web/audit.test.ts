import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, missingTranslations, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import type { Page } from 'playwright-core';
import { aChangedMeeting, devClient } from './audit-data.ts';

// The audit log in the app: filters that narrow it, CSV export of the filtered range fetched with the token in a
// header (never in a URL), each entry's record linked to its history, and nothing an auditor could change.
let web: WebHarness;
let cora: Awaited<ReturnType<typeof aChangedMeeting>>;
let cam: Awaited<ReturnType<typeof aChangedMeeting>>;

beforeAll(async () => {
  web = await startWeb();
  cora = await aChangedMeeting(web.url, 5, 'Cardio');
  cam = await aChangedMeeting(web.url, 8, 'Balance', 'customer-2');
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

const madridDate = (offsetDays = 0): string =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Madrid' }).format(
    new Date(Date.now() + offsetDays * 86_400_000),
  );

const openAudit = async (page: Page) => {
  await web.signIn(page, 'auditor-1');
  await page.goto(`${web.url}/app/audit`);
  await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
  await page.locator('.audit__entry').first().waitFor();
};

const show = async (page: Page) => {
  const response = page.waitForResponse((r) => new URL(r.url()).pathname === '/audit');
  await page.getByRole('button', { name: 'Show' }).click();
  await response;
  await page.waitForFunction(() => !document.querySelector('.audit button[type="submit"]')?.hasAttribute('disabled'));
};

const types = (page: Page) =>
  page.locator('.audit__entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')));

describe('the audit log', { timeout: 120_000 }, () => {
  it('exports the filtered range as CSV, with the token in no URL the page asked for', async () => {
    const page = await web.page();
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await openAudit(page);
    // An entry concerns a person when it is by them or names them (a booking names its member; a cancellation not).
    await page.getByLabel('Kind of event').selectOption('MeetingScheduled');
    await page.getByLabel('Concerning').fill('Cam Customer');
    await show(page);
    const shown = await types(page);
    expect(shown.length).toBeGreaterThanOrEqual(1);
    expect(new Set(shown)).toEqual(new Set(['MeetingScheduled']));
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export as CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^audit-start-now\.csv$/);
    const csv = readFileSync(await file.path(), 'utf8');
    const lines = csv.split('\r\n').filter((l) => l.length > 0);
    expect(lines[0]).toBe('at,actor,actor_roles,type,stream,summary,data');
    expect(lines).toHaveLength(shown.length + 1);
    const rows = lines.slice(1).map((l) => l.split(','));
    for (const fields of rows) expect(fields[3]).toBe('MeetingScheduled');
    expect(rows.find((f) => f[4] === `meeting-${cam.id}`)?.slice(1, 3)).toEqual(['instructor-1', 'instructor']);
    expect(rows.every((f) => !f.includes(`meeting-${cora.id}`))).toBe(true);
    await page
      .getByRole('status')
      .getByText(/Saved audit-start-now\.csv/)
      .waitFor();
    expect(urls.some((u) => /token|eyJ|access/i.test(new URL(u).search))).toBe(false);
    expect(
      urls.some((u) => new URL(u).pathname === '/audit' && new URL(u).searchParams.get('personId') === 'customer-2'),
    ).toBe(true);
  });

  it('narrows the list by kind, by date in the viewer’s zone, by who did it and by whom it concerns', async () => {
    const page = await web.page();
    await openAudit(page);
    const everything = await page.locator('.audit__entry').count();
    expect(new Set(await types(page)).size).toBeGreaterThan(3);

    await page.getByLabel('Kind of event').selectOption('MeetingRescheduled');
    await show(page);
    expect(await types(page)).toEqual(['MeetingRescheduled', 'MeetingRescheduled']);

    await page.getByLabel('Kind of event').selectOption('');
    await page.getByLabel('Done by').fill('Ivan Instructor');
    await show(page);
    const byIvan = page.locator('.audit__who');
    expect(await byIvan.count()).toBeGreaterThanOrEqual(8);
    expect(await byIvan.count()).toBeLessThan(everything);
    for (const text of await byIvan.allInnerTexts()) expect(text).toBe('Ivan Instructor (Trainer)');

    await page.getByLabel('Done by').fill('');
    await page.getByLabel('Concerning').fill('Cora Customer');
    await show(page);
    const streams = await page.locator('.audit__entry a').allInnerTexts();
    expect(streams.some((s) => s.includes(cora.id))).toBe(true);
    expect(streams.some((s) => s.includes(cam.id))).toBe(false);

    await page.getByLabel('Concerning').fill('');
    await page.getByLabel('From (date)').fill(madridDate());
    await page.getByLabel('To (date, included)').fill(madridDate());
    await show(page);
    expect(await page.locator('.audit__entry').count()).toBeGreaterThanOrEqual(everything);
    await page.getByLabel('From (date)').fill(madridDate(1));
    await page.getByLabel('To (date, included)').fill(madridDate(2));
    await show(page);
    await page.getByText('No entries match.').waitFor();
    expect(new URL(page.url()).search).toBe('');

    // An end before the start is said next to the field.
    await page.getByLabel('To (date, included)').fill(madridDate(-3));
    await page.getByRole('button', { name: 'Show' }).click();
    const to = page.getByLabel('To (date, included)');
    await page.locator('#audit-to-error').waitFor();
    expect(await to.getAttribute('aria-invalid')).toBe('true');
    expect(await to.getAttribute('aria-describedby')).toContain('audit-to-error');
  });

  it('links a meeting’s entries to its history', async () => {
    const page = await web.page();
    await openAudit(page);
    await page.getByLabel('Kind of event').selectOption('MeetingScheduled');
    await page.getByLabel('Concerning').fill('Cora Customer');
    await show(page);
    await page.locator('.audit__entry a', { hasText: cora.id }).click();
    await page.waitForURL(new RegExp(`/app/sessions/${cora.id}/history$`));
    await page.getByRole('heading', { level: 1, name: 'Session history' }).waitFor();
    await page.locator('.history__item').nth(3).waitFor();
  });

  it('gives an auditor no control that changes anything, wherever the app takes them', async () => {
    const page = await web.page();
    await openAudit(page);
    const links = await page
      .locator('nav[aria-label="Main"] a')
      .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).pathname));
    expect(links).toContain('/app/audit');
    const write =
      /save|edit|delete|remove|create|new |schedule|retry|move|confirm|reinstate|deactivate|rotate|invite|book|add|cancel/i;
    for (const path of [
      ...new Set([
        ...links,
        '/app/me',
        `/app/sessions/${cora.id}`,
        `/app/sessions/${cora.id}/history`,
        `/app/series/none/history`,
      ]),
    ]) {
      await page.goto(`${web.url}${path}`);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      const controls = await page
        .locator('main button, main input[type="submit"], main a[role="button"], main a.button')
        .evaluateAll((els) => els.map((e) => (e.textContent ?? '').trim()));
      expect(
        controls.filter((c) => write.test(c)),
        path,
      ).toEqual([]);
    }
  });

  it('pages with “Load more” and filters by keyboard alone', async () => {
    const ada = await devClient(web.url, 'admin-1');
    for (let i = 0; i < 120; i++) {
      const put = await ada.request('PUT', `/people/extra-${i}`, {
        name: `Extra ${i}`,
        email: `extra-${i}@example.com`,
      });
      expect(put.status).toBeLessThan(300);
    }
    const page = await web.page();
    await openAudit(page);
    const first = await page.locator('.audit__entry').count();
    expect(first).toBeGreaterThan(50); // a page of the log (bookkeeping left out)
    await page.getByRole('button', { name: 'Load more' }).click();
    await page
      .getByRole('status')
      .getByText(/more entr(y|ies) shown/)
      .waitFor();
    const positions = await page.locator('.audit__entry').evaluateAll((els) => els.length);
    expect(positions).toBeGreaterThan(first);

    // Keyboard only: from the heading, Tab to the kind of event, pick one with the arrow keys, Enter shows it.
    await page.locator('main h1').focus();
    for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement?.id === 'audit-type')); i++)
      await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('audit-type');
    await page.locator('#audit-type').selectOption('PersonRegistered'); // as the arrow keys would
    await page.keyboard.press('Tab');
    await page.keyboard.type('Ada Admin');
    await page.locator('#audit-actor').press('Enter');
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('.audit__entry')).every(
        (e) => e.getAttribute('data-type') === 'PersonRegistered',
      ),
    );
    expect(await page.locator('.audit__entry').count()).toBe(100);
    // The next page keeps the filters.
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.locator('.audit__entry').nth(119).waitFor();
    expect(await page.locator('.audit__entry').count()).toBe(120);
    expect(await types(page)).toEqual(Array(120).fill('PersonRegistered'));
    for (const who of await page.locator('.audit__who').allInnerTexts()) expect(who).toBe('Ada Admin (Staff)');
  });

  it('is closed to members and trainers', async () => {
    const page = await web.page();
    await web.signIn(page, 'customer-1');
    await page.goto(`${web.url}/app/audit`);
    await page.getByRole('heading', { level: 1, name: 'Your account cannot open this page.' }).waitFor();
    expect(await page.locator('.audit__entry').count()).toBe(0);
    expect(await page.locator('a[href="/app/audit"]').count()).toBe(0);
  });

  it('reads in Spanish without untranslated words', async () => {
    const page = await web.page({ locale: 'es-ES' });
    await web.signIn(page, 'auditor-1');
    await page.goto(`${web.url}/app/audit`);
    await page.getByRole('heading', { level: 1, name: 'Registro de auditoría' }).waitFor();
    await page.locator('.audit__entry').first().waitFor();
    expect(await missingTranslations(page)).toEqual([]);
    // The kinds of event in Spanish too, in the list and in the filter.
    await page.locator('.audit__entry[data-type="MeetingScheduled"]').getByText('Sesión programada').first().waitFor();
    expect(await page.getByLabel('Tipo de evento').locator('option[value="MeetingRescheduled"]').innerText()).toContain(
      'Sesión movida',
    );
  });

  for (const [name, viewport] of [
    ['desktop', undefined],
    ['phone', PHONE],
  ] as const) {
    it(`passes axe with entries and a field error shown (${name})`, async () => {
      const page = await web.page({ viewport, bypassCSP: true });
      await openAudit(page);
      await expectAccessible(page);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        viewport?.width ?? 1280,
      );
      await page.getByLabel('From (date)').fill(madridDate(1));
      await page.getByLabel('To (date, included)').fill(madridDate(-1));
      await page.getByRole('button', { name: 'Show' }).click();
      await page.locator('#audit-to-error').waitFor();
      await expectAccessible(page);
    });
  }
});
