import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, missingTranslations, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import { aChangedMeeting, devClient } from './audit-data.ts';

// History timelines: a meeting's and a series' events folded in order, each saying who, when (in the viewer's
// zone, named) and what changed from what to what.
let web: WebHarness;
let meeting: Awaited<ReturnType<typeof aChangedMeeting>>;
let seriesId: string;

const chicago = (iso: string) =>
  new Intl.DateTimeFormat('en-US', { timeZone: 'America/Chicago', hour: '2-digit', minute: '2-digit' }).format(
    new Date(iso),
  );

beforeAll(async () => {
  web = await startWeb();
  meeting = await aChangedMeeting(web.url, 3);
  const ada = await devClient(web.url, 'admin-1');
  const created = await ada.request('POST', '/series', {
    title: 'Mobility',
    customerId: 'customer-2',
    instructorId: 'instructor-1',
    trainingType: '1-1',
    timezone: 'Europe/London',
    startDate: new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10),
    startTime: '09:00',
    durationMinutes: 45,
    rrule: 'FREQ=WEEKLY;BYDAY=MO,TH;COUNT=6',
  });
  expect(created.status).toBe(201);
  seriesId = created.body.id as string;
  expect((await ada.request('PATCH', `/series/${seriesId}`, { title: 'Mobility plus' })).status).toBe(200);
  expect((await ada.request('POST', `/series/${seriesId}/cancel`, { reason: 'Trainer moved away' })).status).toBe(200);
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

describe('history timelines', { timeout: 120_000 }, () => {
  it('shows a meeting moved from its old time to its new one, its title from → to, and the cancellation reason', async () => {
    const page = await web.page();
    await web.signIn(page, 'customer-1');
    await page.goto(`${web.url}/app/sessions/${meeting.id}/history`);
    await page.getByRole('heading', { level: 1, name: 'Session history' }).waitFor();
    const items = page.locator('.history__item');
    await items.nth(3).waitFor();
    expect(await items.count()).toBe(4);
    expect(await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-type')))).toEqual([
      'MeetingScheduled',
      'MeetingDetailsChanged',
      'MeetingRescheduled',
      'SessionCancelled',
    ]);
    await expect
      .poll(() => items.nth(1).innerText(), { timeout: 10_000 })
      .toContain('Title: from “Strength basics” to “Strength basics II”');
    const moved = await items.nth(2).innerText();
    expect(moved).toContain('Moved the session');
    // Cora sees times in her zone, Chicago, named; the move says where it was and where it went.
    expect(moved).toMatch(
      new RegExp(`Time: from .*${chicago(meeting.first.start)}.* to .*${chicago(meeting.moved.start)}`),
    );
    expect(moved).toContain('(America/Chicago)');
    const cancelled = await items.nth(3).innerText();
    expect(cancelled).toContain('Cancelled the session');
    expect(cancelled).toContain('Reason: “Knee injury”');
    expect(cancelled).toContain('State: from Planned to Cancelled');
    // A member may not read the directory: the trainer is named by role; she is named herself.
    expect(await items.nth(0).innerText()).toContain('by a trainer');
    expect(await page.locator('main').innerText()).not.toMatch(/[{}]"|"\w+":/); // no JSON anywhere
    await page.getByRole('link', { name: 'Back to the session' }).waitFor();
    expect(await missingTranslations(page)).toEqual([]);
  });

  it('names people for staff and auditors from the directory, and shows a series from creation to cancellation', async () => {
    const page = await web.page();
    await web.signIn(page, 'auditor-1');
    await page.goto(`${web.url}/app/series/${seriesId}/history`);
    await page.getByRole('heading', { level: 1, name: 'Series history' }).waitFor();
    const items = page.locator('.history__item');
    await items.nth(2).waitFor();
    const created = await items.nth(0).innerText();
    expect(created).toContain('Created the series “Mobility”');
    expect(created).toContain('Repeats: every week on Monday and Thursday, 6 times');
    expect(created).toContain('6 sessions planned');
    await expect.poll(() => items.nth(0).innerText(), { timeout: 10_000 }).toContain('by Ada Admin (Staff)');
    expect(await items.nth(1).innerText()).toContain('Title: from “Mobility” to “Mobility plus”');
    const cancelled = await items.nth(2).innerText();
    expect(cancelled).toContain('Cancelled the series');
    expect(cancelled).toContain('Reason: “Trainer moved away”');
    expect(cancelled).toMatch(/6 sessions cancelled/);
    // The auditor's own zone, named.
    expect(cancelled).toContain('(Europe/Madrid)');
  });

  it('says in a sentence when a history cannot be read', async () => {
    const page = await web.page();
    await web.signIn(page, 'customer-2');
    await page.goto(`${web.url}/app/sessions/${meeting.id}/history`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(
      /^(This was not found, or you may not see it\.|You are not allowed to do this\.)/,
    );
    expect(await alert.innerText()).not.toContain('{');
  });

  it('reads in Spanish without untranslated words', async () => {
    const page = await web.page({ locale: 'es-ES' });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/sessions/${meeting.id}/history`);
    await page.getByRole('heading', { level: 1, name: 'Historial de la sesión' }).waitFor();
    await page.locator('.history__item').nth(3).waitFor();
    expect(await page.locator('.history__item').nth(3).innerText()).toContain('Motivo: «Knee injury»');
    // Ada (New York) sees the move in her zone and in the session's own, Chicago.
    const moved = await page.locator('.history__item').nth(2).innerText();
    expect(moved).toMatch(/\(America\/New_York\).*Hora de la sesión: .*\(America\/Chicago\)/s);
    expect(await missingTranslations(page)).toEqual([]);
  });

  for (const [name, viewport] of [
    ['desktop', undefined],
    ['phone', PHONE],
  ] as const) {
    it(`passes axe on meeting and series histories (${name})`, async () => {
      const page = await web.page({ viewport, bypassCSP: true });
      await web.signIn(page, 'admin-1');
      for (const path of [`/app/sessions/${meeting.id}/history`, `/app/series/${seriesId}/history`]) {
        await page.goto(`${web.url}${path}`);
        await page.locator('.history__item').nth(2).waitFor();
        await expectAccessible(page);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
          viewport?.width ?? 1280,
        );
      }
    });
  }
});
