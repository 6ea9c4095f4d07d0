import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { expectAccessible, missingTranslations, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import type { Client } from '../../support/system.ts';
import { devClient } from './trainer-support.ts';

// The trainer's schedule and the new-session form, in Chromium against the real server: a keyboard-only booking of a
// member picked by name, clashes (409) told next to the time field, an admin's schedule of any trainer, and axe.
let web: WebHarness;
let admin: Client;
let ivan: Client;

beforeAll(async () => {
  web = await startWeb();
  admin = await devClient(web, 'admin-1');
  ivan = await devClient(web, 'instructor-1');
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

const activeId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '');
/** Tab (and only Tab) until the element with this id has the focus. */
const tabTo = async (page: Page, id: string, most = 30) => {
  for (let i = 0; i < most; i++) {
    if ((await activeId(page)) === id) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached #${id} (at #${await activeId(page)})`);
};
const noSideScroll = async (page: Page) =>
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);

describe('the trainer schedule and one session', { timeout: 120_000 }, () => {
  it('schedules a session by keyboard alone: member by name, time in the named zone, saved as typed', async () => {
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/schedule`);
    await page.getByRole('heading', { level: 1, name: 'My schedule' }).waitFor();
    await page.locator('.fc').first().waitFor();
    // From here on: only the keyboard.
    await page.evaluate(() => document.querySelector<HTMLElement>('main h1')?.focus());
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('New session');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Schedule a session' }).waitFor();
    await tabTo(page, 'session-member');
    await page.keyboard.type('cora');
    await page.getByRole('option', { name: /Cora Customer/ }).waitFor();
    await page.keyboard.press('Enter');
    await page.getByText("The member's time zone is America/Chicago.").waitFor();
    await tabTo(page, 'session-title');
    await page.keyboard.type('Keyboard strength');
    await tabTo(page, 'session-zone');
    expect(await page.locator('#session-zone').inputValue()).toBe('America/New_York');
    await tabTo(page, 'session-date');
    await page.keyboard.type('03042031');
    await tabTo(page, 'session-time');
    await page.keyboard.type('0700AM');
    expect(await page.locator('#session-date').inputValue()).toBe('2031-03-04');
    expect(await page.locator('#session-time').inputValue()).toBe('07:00');
    await tabTo(page, 'session-duration');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('45');
    await tabTo(page, 'session-description');
    await page.keyboard.type('Bring water.');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Schedule session');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/app\/sessions\/(?!new$)[^/]+$/);
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    const saved = await ivan.request('GET', `/meetings/${encodeURIComponent(id)}`);
    expect(saved.body).toMatchObject({
      title: 'Keyboard strength',
      customerId: 'customer-1',
      instructorId: 'instructor-1',
      // 07:00 in New York on 4 Mar 2031 (EST, UTC−5), 45 minutes.
      start: '2031-03-04T12:00:00.000Z',
      end: '2031-03-04T12:45:00.000Z',
      timezone: 'America/New_York',
      trainingType: '1-1',
      description: 'Bring water.',
    });
  });

  it('shows a clash next to the time field: the other session when the trainer may see it, else the busy slot', async () => {
    const mine = await ivan.request('POST', '/meetings', {
      title: 'Existing mobility',
      customerId: 'customer-1',
      instructorId: 'instructor-1',
      start: '2031-04-01T14:00:00Z',
      end: '2031-04-01T15:00:00Z',
      timezone: 'America/New_York',
      trainingType: '1-1',
    });
    expect(mine.status).toBe(201);
    const hidden = await admin.request('POST', '/meetings', {
      title: 'Private check-in',
      customerId: 'customer-1',
      instructorId: 'admin-1',
      start: '2031-04-02T14:00:00Z',
      end: '2031-04-02T15:00:00Z',
      trainingType: '1-1',
    });
    expect(hidden.status).toBe(201);
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/sessions/new`);
    await page.locator('#session-member').fill('Cor');
    await page.getByRole('option', { name: /Cora Customer/ }).click();
    await page.locator('#session-title').fill('Clashing');
    await page.locator('#session-date').fill('2031-04-01');
    await page.locator('#session-time').fill('10:30');
    await page.getByRole('button', { name: 'Schedule session' }).click();
    const error = page.locator('#session-time-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(
      /Clashes with Existing mobility, Tue, Apr 1, 2031, 10:00\sAM–11:00\sAM EDT \(America\/New_York\)/,
    );
    expect(await page.locator('#session-time').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#session-time').getAttribute('aria-describedby')).toBe('session-time-error');
    await page.locator('#session-date').fill('2031-04-02');
    await page.getByRole('button', { name: 'Schedule session' }).click();
    await page.getByText(/The member is busy Wed, Apr 2, 2031, 10:30\sAM–11:30\sAM EDT/).waitFor();
    expect(await error.textContent()).not.toContain('Private check-in');
    expect(await page.locator('[role="alert"]').count()).toBe(0);
  });

  it('refuses a link session without an https link at the field, and books it with one', async () => {
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/sessions/new`);
    await page.locator('#session-member').fill('Cam');
    await page.getByRole('option', { name: /Cam Customer/ }).click();
    await page.locator('#session-title').fill('Remote');
    await page.locator('#session-date').fill('2031-05-06');
    await page.getByLabel('Remote link (Zoom, Meet, Teams)').check();
    await page.locator('#session-link').fill('http://meet.example.com/x');
    await page.getByRole('button', { name: 'Schedule session' }).click();
    await page.locator('#remoteLink-error').waitFor();
    expect(await page.locator('#session-link').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('session-link');
    await page.locator('#session-link').fill('https://meet.example.com/x');
    // Cam lives in London: the form may take the time in the member's zone.
    await page.locator('#session-zone').selectOption('Europe/London');
    await page.locator('#session-time').fill('18:00');
    await page.getByRole('button', { name: 'Schedule session' }).click();
    await page.waitForURL(/\/app\/sessions\/(?!new$)[^/]+$/);
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    const saved = await ivan.request('GET', `/meetings/${encodeURIComponent(id)}`);
    expect(saved.body).toMatchObject({
      start: '2031-05-06T17:00:00.000Z',
      timezone: 'Europe/London',
      trainingType: 'link',
      remoteLink: 'https://meet.example.com/x',
    });
  });

  it("lets an admin see any trainer's schedule, cancelled sessions marked", async () => {
    const soon = new Date(Date.now() + 2 * 86_400_000);
    // Not on the demo seed's session of instructor-1 two days out, which starts at the whole hour after the server's
    // start: run between 14:00 and 15:00 UTC, 15:00 was taken (a 409).
    const seededHour = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000).getUTCHours();
    soon.setUTCHours(Math.abs(seededHour - 15) <= 1 ? 19 : 15, 0, 0, 0);
    const created = await ivan.request('POST', '/meetings', {
      title: 'Soon cancelled',
      customerId: 'customer-2',
      instructorId: 'instructor-1',
      start: soon.toISOString(),
      end: new Date(soon.getTime() + 3_600_000).toISOString(),
      trainingType: '1-1',
    });
    expect(created.status).toBe(201);
    expect((await ivan.request('POST', `/meetings/${created.body.id}/cancel`, {})).status).toBe(200);
    const page = await web.page();
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/schedule`);
    await page.getByText('Pick a trainer to see their schedule.').waitFor();
    await page.locator('#schedule-trainer').fill('Iv');
    await page.getByRole('option', { name: /Ivan Instructor/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Schedule of Ivan Instructor' }).waitFor();
    await page.waitForURL(/trainer=instructor-1/);
    await page.locator('.fc-listWeek-button').click();
    const event = page.locator('.cancelled-event', { hasText: 'Cancelled: Soon cancelled' });
    await event.first().waitFor();
    expect(await page.getByRole('link', { name: 'New session' }).getAttribute('href')).toContain(
      'trainer=instructor-1',
    );
    // The admin's form books for that trainer: the trainer is filled in from the schedule.
    await page.getByRole('link', { name: 'New session' }).click();
    await page.locator('#session-trainer').waitFor();
    await expect.poll(() => page.locator('#session-trainer').inputValue(), { timeout: 10_000 }).toBe('Ivan Instructor');
  });

  it('passes axe on the schedule and the form, at desktop and phone width, with no side scroll on a phone', async () => {
    for (const viewport of [undefined, PHONE]) {
      const page = await web.page({ bypassCSP: true, ...(viewport ? { viewport } : {}) });
      await web.signIn(page, 'instructor-1');
      await page.goto(`${web.url}/app/schedule`);
      await page.locator('.fc').first().waitFor();
      await expectAccessible(page);
      if (viewport) await noSideScroll(page);
      await page.goto(`${web.url}/app/sessions/new`);
      await page.locator('#session-member').fill('Cor');
      await page.getByRole('option', { name: /Cora Customer/ }).waitFor();
      await expectAccessible(page);
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: 'Schedule session' }).click();
      await page.locator('#customerId-error, #session-member-error').first().waitFor();
      await expectAccessible(page);
      if (viewport) await noSideScroll(page);
    }
  });

  it('renders in Spanish without a missing key', async () => {
    const page = await web.page({ locale: 'es-ES' });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/schedule?trainer=instructor-1`);
    await page.getByRole('heading', { level: 1, name: 'Agenda de Ivan Instructor' }).waitFor();
    await page.goto(`${web.url}/app/sessions/new`);
    await page.getByRole('heading', { level: 1, name: 'Programar una sesión' }).waitFor();
    await page.getByRole('button', { name: 'Programar sesión' }).click();
    await page.getByText('Elige al miembro de la lista.').waitFor();
    expect(await missingTranslations(page)).toEqual([]);
  });
});
