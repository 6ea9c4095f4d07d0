import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { expectAccessible, missingTranslations, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import type { Client } from '../../support/system.ts';
import { devClient } from './trainer-support.ts';

// Series and session management in Chromium against the real server: a twice-weekly series built across the end of
// daylight saving time whose preview equals what is saved, cancel this and following, a 412 that offers to reload,
// confirm and reinstate, and axe on each page at desktop and phone width.
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

const pickMember = async (page: Page, id: string, name: RegExp) => {
  await page.locator(`#${id}`).fill(name.source.slice(0, 3));
  await page.getByRole('option', { name }).click();
};

/** Builds the twice-weekly New York series of the DST test on the builder, up to (not including) saving it. */
const buildSeries = async (page: Page) => {
  await page.goto(`${web.url}/app/series/new`);
  await page.getByRole('heading', { level: 1, name: 'New series' }).waitFor();
  await pickMember(page, 'series-member', /Cora Customer/);
  await page.locator('#series-title').fill('Autumn strength');
  // The member's zone by default; the series is kept in the trainer's.
  expect(await page.locator('#series-zone').inputValue()).toBe('America/Chicago');
  await page.locator('#series-zone').selectOption('America/New_York');
  await page.locator('#series-start').fill('2027-10-19');
  // Until weekdays are picked, the series falls on its start's weekday (19 Oct 2027 is a Tuesday), whatever today is.
  expect(await page.locator('.series-form__day input:checked').evaluateAll((els) => els.length)).toBe(1);
  expect(await page.getByLabel('Tuesday').isChecked()).toBe(true);
  await page.getByLabel('Tuesday').check();
  await page.getByLabel('Thursday').check();
  await page.locator('#series-time').fill('07:00');
  await page.locator('#series-duration').fill('45');
  await page.locator('#series-count').fill('8');
  await page.locator('#series-exclusion').fill('2027-10-28');
  await page.getByRole('button', { name: 'Skip this date' }).click();
};

const previewStarts = (page: Page) =>
  page.locator('[data-testid="preview-start"]').evaluateAll((els) => els.map((e) => e.getAttribute('datetime')));

describe('series and session management', { timeout: 150_000 }, () => {
  let seriesId = '';

  it('builds a twice-weekly series across a DST change; the preview shows the change and equals what is saved', async () => {
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    await buildSeries(page);
    await page.getByText('7 sessions.').waitFor();
    expect(await page.getByTestId('rule-words').textContent()).toBe(
      'Every Tuesday and Thursday at 07:00 for 8 dates, except Thu, Oct 28, 2027.',
    );
    const starts = await previewStarts(page);
    // 07:00 in New York: 11:00Z under EDT; from 9 Nov (clocks went back on 7 Nov 2027) 12:00Z under EST.
    expect(starts).toEqual([
      '2027-10-19T11:00:00.000Z',
      '2027-10-21T11:00:00.000Z',
      '2027-10-26T11:00:00.000Z',
      '2027-11-02T11:00:00.000Z',
      '2027-11-04T11:00:00.000Z',
      '2027-11-09T12:00:00.000Z',
      '2027-11-11T12:00:00.000Z',
    ]);
    // Shown in the member's zone (Chicago): 06:00 all along, and the rows after the change say so.
    const rows = page.locator('.series-preview tbody tr');
    expect(await rows.nth(0).textContent()).toMatch(/06:00\sAM–06:45\sAM CDT/);
    expect(await rows.nth(0).textContent()).toMatch(/07:00\sAM EDT in America\/New_York/);
    expect(await rows.nth(4).textContent()).not.toContain('Clocks change');
    expect(await rows.nth(5).textContent()).toContain('Clocks change: now UTC−06:00');
    expect(await rows.nth(5).textContent()).toMatch(/06:00\sAM–06:45\sAM CST/);
    expect(await page.locator('.series-preview__change').count()).toBe(2);
    await page.getByRole('button', { name: 'Schedule series' }).click();
    await page.waitForURL(/\/app\/series\/(?!new$)[^/]+$/);
    seriesId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    await page.getByRole('heading', { level: 1, name: 'Autumn strength' }).waitFor();
    await page.locator('[data-testid="occurrence"]').first().waitFor();
    const shown = await page
      .locator('[data-testid="occurrence"] time')
      .evaluateAll((els) => els.map((e) => e.getAttribute('datetime')));
    expect(shown).toEqual(starts);
    const saved = await ivan.request('GET', `/series/${encodeURIComponent(seriesId)}`);
    expect(saved.body.occurrences.map((o: { start: string }) => o.start)).toEqual(starts);
    expect(saved.body).toMatchObject({ timezone: 'America/New_York', rrule: 'FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8' });
    expect(await page.getByTestId('rule-words').textContent()).toBe(
      'Every Tuesday and Thursday at 07:00 for 8 dates, except Thu, Oct 28, 2027.',
    );
  });

  it('cancels this and following from an occurrence: later ones cancelled, earlier ones kept', async () => {
    expect(seriesId).not.toBe('');
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/series/${encodeURIComponent(seriesId)}`);
    const rows = page.locator('[data-testid="occurrence"]');
    await rows.first().waitFor();
    const opener = rows.nth(3).getByRole('button', { name: /Cancel this and following/ });
    await opener.click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this and every later session of the series?' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('series-cancel-dialog-reason');
    await page.keyboard.type('Studio closed in November');
    await dialog.getByRole('button', { name: 'Cancel these sessions' }).click();
    await page.getByText('That session and every later one were cancelled.').waitFor();
    const states = await page.getByTestId('occurrence-state').allTextContents();
    expect(states).toEqual(['Planned', 'Planned', 'Planned', 'Cancelled', 'Cancelled', 'Cancelled', 'Cancelled']);
    const saved = await ivan.request('GET', `/series/${encodeURIComponent(seriesId)}`);
    expect(saved.body.occurrences.map((o: { state: string }) => o.state)).toEqual([
      'planned',
      'planned',
      'planned',
      'cancelled',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
  });

  it('edits the series from here on, saying it reaches future sessions only', async () => {
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/series/${encodeURIComponent(seriesId)}`);
    await page.getByRole('button', { name: 'Edit from here on' }).click();
    await page.getByText(/Changes apply to sessions that have not started yet/).waitFor();
    await page.locator('#edit-series-title').fill('Autumn strength and mobility');
    await page.getByRole('button', { name: 'Save for future sessions' }).click();
    await page.getByText('The series was changed for its future sessions.').waitFor();
    await page.getByRole('heading', { level: 1, name: 'Autumn strength and mobility' }).waitFor();
    const first = (await ivan.request('GET', `/series/${encodeURIComponent(seriesId)}`)).body.occurrences[0];
    const meeting = await ivan.request('GET', `/meetings/${encodeURIComponent(first.meetingId)}`);
    expect(meeting.body.title).toBe('Autumn strength and mobility');
    expect(await page.getByRole('link', { name: 'History' }).getAttribute('href')).toBe(
      `/app/series/${encodeURIComponent(seriesId)}/history`,
    );
  });

  it('confirms, cancels with a reason and reinstates a session', async () => {
    const created = await ivan.request('POST', '/meetings', {
      title: 'Lifecycle',
      customerId: 'customer-2',
      instructorId: 'instructor-1',
      start: '2031-06-03T09:00:00Z',
      end: '2031-06-03T10:00:00Z',
      timezone: 'Europe/London',
      trainingType: '1-1',
    });
    expect(created.status).toBe(201);
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/sessions/${encodeURIComponent(created.body.id)}/manage`);
    const state = page.getByTestId('session-state');
    await state.waitFor();
    expect(await state.textContent()).toBe('Planned');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('The session is confirmed.').waitFor();
    await page.getByTestId('session-state').getByText('Confirmed').waitFor();
    await page.getByRole('button', { name: 'Cancel session' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this session?' });
    await dialog.waitFor();
    await dialog.getByLabel('Reason (optional)').fill('Member is ill');
    await dialog.getByRole('button', { name: 'Cancel session' }).click();
    await page.getByText('The session was cancelled.').waitFor();
    await page.getByTestId('session-state').getByText('Cancelled').waitFor();
    const history = await ivan.request('GET', `/meetings/${encodeURIComponent(created.body.id)}/history`);
    expect(JSON.stringify(history.body)).toContain('Member is ill');
    await page.getByRole('button', { name: 'Reinstate' }).click();
    await page.getByText('The session is planned again.').waitFor();
    await page.getByTestId('session-state').getByText('Planned').waitFor();
    expect((await ivan.request('GET', `/meetings/${encodeURIComponent(created.body.id)}`)).body.state).toBe('planned');
  });

  it('offers to reload when someone changed the session meanwhile (412), and moves it after reloading', async () => {
    const created = await ivan.request('POST', '/meetings', {
      title: 'Contested',
      customerId: 'customer-1',
      instructorId: 'instructor-1',
      start: '2031-07-01T13:00:00Z',
      end: '2031-07-01T14:00:00Z',
      timezone: 'America/New_York',
      trainingType: '1-1',
    });
    const id = encodeURIComponent(created.body.id);
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/sessions/${id}/manage`);
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    await page.locator('#move-time').waitFor();
    expect(await page.locator('#move-time').inputValue()).toBe('09:00');
    // Someone else changes it between loading and saving.
    expect((await admin.request('PATCH', `/meetings/${id}`, { title: 'Contested (renamed)' })).status).toBe(200);
    await page.locator('#move-time').fill('11:00');
    await page.getByRole('button', { name: 'Move session' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Someone changed this session since you opened it.' });
    await alert.waitFor();
    expect((await ivan.request('GET', `/meetings/${id}`)).body.start).toBe('2031-07-01T13:00:00.000Z');
    await alert.getByRole('button', { name: 'Reload' }).click();
    await alert.waitFor({ state: 'detached' });
    // The form stays open, with the session as it is now.
    expect(await page.locator('#move-time').inputValue()).toBe('09:00');
    await page.locator('#move-time').fill('11:00');
    await page.getByRole('button', { name: 'Move session' }).click();
    await page.getByText('The session was moved.').waitFor();
    const moved = (await ivan.request('GET', `/meetings/${id}`)).body;
    expect(moved).toMatchObject({ title: 'Contested (renamed)', start: '2031-07-01T15:00:00.000Z' });
  });

  it('shows a move that clashes next to the time field', async () => {
    const a = await ivan.request('POST', '/meetings', {
      title: 'Morning block',
      customerId: 'customer-2',
      instructorId: 'instructor-1',
      start: '2031-08-05T08:00:00Z',
      end: '2031-08-05T09:00:00Z',
      timezone: 'Europe/London',
      trainingType: '1-1',
    });
    const b = await ivan.request('POST', '/meetings', {
      title: 'Later block',
      customerId: 'customer-2',
      instructorId: 'instructor-1',
      start: '2031-08-05T12:00:00Z',
      end: '2031-08-05T13:00:00Z',
      timezone: 'Europe/London',
      trainingType: '1-1',
    });
    expect([a.status, b.status]).toEqual([201, 201]);
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/sessions/${encodeURIComponent(b.body.id)}/manage`);
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    await page.locator('#move-time').fill('09:30');
    await page.getByRole('button', { name: 'Move session' }).click();
    await page
      .locator('#move-time-error')
      .getByText(/Clashes with Morning block/)
      .waitFor();
    expect(await page.locator('#move-time').getAttribute('aria-describedby')).toBe('move-time-error');
  });

  it('marks a clashing occurrence in the preview, and saving tells the clash at the time field', async () => {
    const busy = await ivan.request('POST', '/meetings', {
      title: 'Assessment',
      customerId: 'customer-2',
      instructorId: 'instructor-1',
      start: '2032-03-09T12:30:00Z',
      end: '2032-03-09T13:30:00Z',
      timezone: 'America/New_York',
      trainingType: '1-1',
    });
    expect(busy.status).toBe(201);
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/series/new`);
    await pickMember(page, 'series-member', /Cam Customer/);
    await page.locator('#series-title').fill('Spring');
    await page.locator('#series-zone').selectOption('America/New_York');
    await page.locator('#series-start').fill('2032-03-02');
    await page.getByLabel('Tuesday').check();
    await page.locator('#series-time').fill('08:00');
    await page.locator('#series-count').fill('3');
    await page.getByText('3 sessions. One clashes with an existing session.').waitFor();
    const clashRow = page.locator('.series-preview__clash');
    expect(await clashRow.count()).toBe(1);
    expect(await clashRow.textContent()).toContain('Clashes with Assessment');
    await page.getByRole('button', { name: 'Schedule series' }).click();
    await page
      .locator('#series-time-error')
      .getByText(/Clashes with Assessment/)
      .waitFor();
    expect(await page.locator('#series-time').getAttribute('aria-invalid')).toBe('true');
    expect(page.url()).toMatch(/\/app\/series\/new$/);
  });

  it('cancels this and following from the session page of an occurrence', async () => {
    const created = await ivan.request('POST', '/series', {
      title: 'Winter',
      customerId: 'customer-2',
      instructorId: 'instructor-1',
      trainingType: '1-1',
      timezone: 'Europe/London',
      startDate: '2032-01-05',
      startTime: '18:00',
      durationMinutes: 60,
      rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=4',
    });
    expect(created.status).toBe(201);
    const second = created.body.occurrences[1].meetingId as string;
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/sessions/${encodeURIComponent(second)}/manage`);
    await page.getByRole('button', { name: 'Cancel this and following' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this and every later session of the series?' });
    await dialog.getByRole('button', { name: 'Cancel these sessions' }).click();
    await page.getByText('This session and every later one of the series were cancelled.').waitFor();
    await page.getByTestId('session-state').getByText('Cancelled').waitFor();
    const saved = await ivan.request('GET', `/series/${encodeURIComponent(created.body.id)}`);
    expect(saved.body.occurrences.map((o: { state: string }) => o.state)).toEqual([
      'planned',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
  });

  it('passes axe on the series builder, the series page and the manage page, desktop and phone', async () => {
    const meeting = (await ivan.request('GET', `/series/${encodeURIComponent(seriesId)}`)).body.occurrences[0];
    for (const viewport of [undefined, PHONE]) {
      const page = await web.page({ bypassCSP: true, ...(viewport ? { viewport } : {}) });
      await web.signIn(page, 'instructor-1');
      await buildSeries(page);
      await page.getByText('7 sessions.').waitFor();
      await expectAccessible(page);
      if (viewport) expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.goto(`${web.url}/app/series/${encodeURIComponent(seriesId)}`);
      await page.locator('[data-testid="occurrence"]').first().waitFor();
      await expectAccessible(page);
      if (viewport) expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.goto(`${web.url}/app/sessions/${encodeURIComponent(meeting.meetingId)}/manage`);
      await page.getByRole('button', { name: 'Move', exact: true }).click();
      await page.locator('#move-time').waitFor();
      await expectAccessible(page);
      if (viewport) expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.getByRole('button', { name: 'Cancel session' }).click();
      await page.getByRole('dialog').waitFor();
      await expectAccessible(page);
    }
  });

  it('renders the builder and the series page in Spanish without a missing key', async () => {
    const page = await web.page({ locale: 'es-ES' });
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/series/new`);
    await page.getByRole('heading', { level: 1, name: 'Nueva serie' }).waitFor();
    await pickMember(page, 'series-member', /Cora Customer/);
    // The start first: until weekdays are picked, the series falls on the start's weekday (a Tuesday here).
    await page.locator('#series-start').fill('2027-10-19');
    await page.getByLabel('Martes').check();
    await page.getByLabel('Jueves').check();
    await page.locator('#series-time').fill('07:00');
    await page
      .locator('.series-preview')
      .waitFor({ timeout: 10_000 })
      .catch(async () => {
        throw new Error(await page.locator('#series-preview-heading').locator('..').innerText());
      });
    await page.getByText('10 sesiones.', { exact: true }).waitFor();
    expect(await page.getByTestId('rule-words').textContent()).toBe(
      'Cada martes y jueves a las 07:00 durante 10 sesiones.',
    );
    await page.goto(`${web.url}/app/series/${encodeURIComponent(seriesId)}`);
    await page.getByRole('link', { name: 'Historial' }).waitFor();
    expect(await missingTranslations(page)).toEqual([]);
  });
});
