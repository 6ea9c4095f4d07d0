import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { expectAccessible, missingTranslations, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import { apiAs, slot } from './staff-support.ts';

// The branch schedule: every trainer's sessions of a day or a week on one calendar (and as a table), trainers left
// out by their boxes, cancelled sessions marked.
let web: WebHarness;
const day = slot(1, 15).start;

/** How many days after today the sessions' day is, in the viewer's zone (the admin's New York by default). */
const daysAhead = (timeZone = 'America/New_York'): number => {
  const local = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone, dateStyle: 'short' }).format(d);
  return Math.round((Date.parse(local(new Date(day))) - Date.parse(local(new Date()))) / (24 * 3600_000));
};

beforeAll(async () => {
  web = await startWeb();
  const admin = await apiAs(web, 'admin-1');
  const people = [
    ['tess', 'Tess Trainer', 'instructor'],
    ['rex', 'Rex Trainer', 'instructor'],
    ['milo', 'Milo Member', 'customer'],
    ['nia', 'Nia Member', 'customer'],
  ] as const;
  for (const [id, name, role] of people) {
    const res = await admin.request('PUT', `/people/${id}`, { name, email: `${id}@example.com`, roles: [role] });
    expect(res.status).toBe(200);
  }
  const book = async (title: string, instructorId: string, customerId: string, hour: number) => {
    const res = await admin.request('POST', '/meetings', {
      title,
      instructorId,
      customerId,
      ...slot(1, hour),
      trainingType: '1-1',
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  await book('Kettlebells', 'tess', 'milo', 15);
  await book('Rowing', 'rex', 'nia', 15);
  const cancelled = await book('Stretching', 'tess', 'nia', 18);
  expect((await admin.request('POST', `/meetings/${cancelled}/cancel`, { reason: 'Ill' })).status).toBe(200);
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

const open = async (page: Page, who: string) => {
  await web.signIn(page, who);
  await page.goto(`${web.url}/app/branch`);
  await page.getByRole('heading', { level: 1, name: 'Branch schedule' }).waitFor();
  await page.getByRole('checkbox', { name: 'Tess Trainer' }).waitFor();
};

describe('the branch schedule', { timeout: 120_000 }, () => {
  it("shows two trainers' sessions on one day, marks the cancelled one, and filters by trainer", async () => {
    const page = await web.page({ bypassCSP: true });
    await open(page, 'admin-1');
    for (let i = 0; i < daysAhead(); i++) await page.locator('.fc-next-button').click();
    const events = page.locator('.fc-timegrid .fc-event');
    await page.locator('.fc-event', { hasText: 'Tess Trainer: Kettlebells · Milo Member' }).waitFor();
    await page.locator('.fc-event', { hasText: 'Rex Trainer: Rowing · Nia Member' }).waitFor();
    const cancelled = page.locator('.fc-event', { hasText: 'Cancelled: Tess Trainer: Stretching · Nia Member' });
    await cancelled.waitFor();
    expect(await cancelled.getAttribute('class')).toContain('cancelled-event');
    // One day, one column: both trainers' sessions side by side.
    expect(await page.locator('.fc-timegrid-col.fc-day').count()).toBe(1);
    expect(await events.count()).toBeGreaterThanOrEqual(3);
    await expectAccessible(page);

    await page.getByRole('checkbox', { name: 'Rex Trainer' }).uncheck();
    await page.locator('.fc-event', { hasText: 'Tess Trainer: Kettlebells' }).waitFor();
    await page.locator('.fc-event', { hasText: 'Rex Trainer' }).waitFor({ state: 'detached' });

    // The week holds them too.
    await page.getByRole('checkbox', { name: 'Rex Trainer' }).check();
    await page.getByRole('radio', { name: 'Week' }).check();
    await page.locator('.fc-timegrid-col.fc-day').nth(6).waitFor();
    if (new Date(day).getUTCDay() === 1 && daysAhead() > 0) await page.locator('.fc-next-button').click();
    await page.locator('.fc-event', { hasText: 'Rex Trainer: Rowing · Nia Member' }).waitFor();
  });

  it('lists the same sessions as a table, keyboard only, with the cancelled one marked', async () => {
    const page = await web.page({ bypassCSP: true });
    await open(page, 'admin-1');
    const list = page.getByRole('radio', { name: 'List' });
    await list.focus();
    await page.keyboard.press('Space');
    const next = page.getByRole('button', { name: 'Next day' });
    for (let i = 0; i < daysAhead(); i++) {
      await next.focus();
      await page.keyboard.press('Enter');
    }
    const table = page.getByRole('table');
    await table.getByRole('link', { name: 'Rowing' }).waitFor();
    const rows = await table.locator('tbody tr').allTextContents();
    expect(
      rows.some((r) => r.includes('Tess Trainer') && r.includes('Kettlebells') && r.includes('with Milo Member')),
    ).toBe(true);
    expect(rows.some((r) => r.includes('Rex Trainer') && r.includes('Rowing'))).toBe(true);
    const stretching = table.locator('tbody tr', { hasText: 'Stretching' });
    expect(await stretching.locator('.state--cancelled').textContent()).toBe('Cancelled');
    expect(await table.locator('tbody tr').first().textContent()).toContain('(America/New_York)');
    await expectAccessible(page);
  });

  it('fits a phone as a list, opens for an auditor, and renders in Spanish without untranslated words', async () => {
    const page = await web.page({ viewport: PHONE, bypassCSP: true, locale: 'es-ES' });
    await web.signIn(page, 'auditor-1');
    await page.goto(`${web.url}/app/branch`);
    await page.getByRole('heading', { level: 1, name: 'Agenda de la sede' }).waitFor();
    await page.getByRole('checkbox', { name: 'Tess Trainer' }).waitFor();
    expect(await page.getByRole('radio', { name: 'Lista' }).isChecked()).toBe(true);
    // The auditor sees times in Madrid.
    for (let i = 0; i < daysAhead('Europe/Madrid'); i++)
      await page.getByRole('button', { name: 'Día siguiente' }).click();
    await page.getByRole('table').getByRole('link', { name: 'Rowing' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await expectAccessible(page);
    expect(await missingTranslations(page)).toEqual([]);
  });
});
