import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, missingTranslations, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import { apiAs, slot } from './staff-support.ts';

// Staff settings: the cancellation email's templates with the server's token list, a live preview rendered by the
// server for the branch's real next session (names shown as text, never as HTML), the save, and the history.
let web: WebHarness;
let meetingId: string;

beforeAll(async () => {
  web = await startWeb();
  const admin = await apiAs(web, 'admin-1');
  const person = await admin.request('PUT', '/people/bo', {
    name: 'Bo <b>Bold</b>',
    email: 'bo@example.com',
    roles: ['customer'],
    timezone: 'Europe/London',
  });
  expect(person.status).toBe(200);
  const created = await admin.request('POST', '/meetings', {
    title: 'Strength & balance',
    customerId: 'bo',
    instructorId: 'instructor-1',
    ...slot(3, 10),
    trainingType: '1-1',
  });
  expect(created.status).toBe(201);
  meetingId = created.body.id;
  // A first change (the debug level), so the one the test makes is shown against it.
  const current = await admin.request('GET', '/settings');
  expect((await admin.request('PUT', '/settings', { ...current.body, debugLevel: 2 })).status).toBe(200);
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

describe('staff settings', { timeout: 120_000 }, () => {
  it('an admin edits a template, previews it for the real session, saves it, and sees the change in the history', async () => {
    const page = await web.page({ bypassCSP: true });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/settings`);
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    // The token list comes from the server.
    const tokens = page.getByRole('complementary').locator('dt');
    await tokens.first().waitFor();
    expect(await tokens.allTextContents()).toContain('{{sessionList}}');

    const subject = page.getByLabel('Subject').first();
    const body = page.getByLabel('Message (HTML)').first();
    await subject.fill('Cancelled: {{meetingTitle}} for {{customerName}}');
    await body.fill('<p class="hello">Dear {{recipientName}}, {{meetingTitle}} is off.</p>');
    // The preview renders the branch's next session by default; the admin picks this one.
    const picker = page.getByLabel('Session', { exact: true });
    await picker.locator(`option[value="${meetingId}"]`).waitFor({ state: 'attached' });
    await picker.selectOption(meetingId);
    await page.locator('.preview-subject', { hasText: 'Cancelled: Strength & balance for Bo <b>Bold</b>' }).waitFor();
    await page.getByText('Rendered for a real session of this branch').waitFor();
    const frame = page.frameLocator('iframe[title="Preview of the email message"]');
    const paragraph = frame.locator('p.hello');
    await paragraph.waitFor();
    expect(await paragraph.textContent()).toBe('Dear Bo <b>Bold</b>, Strength & balance is off.');
    // The name is text in the email, not markup: no <b> element was made from it.
    expect(await frame.locator('p.hello b').count()).toBe(0);

    // A typo in a token is named next to the field while typing (the preview), before any save.
    await body.fill('<p>{{recipientNam}}</p>');
    const bodyError = page.locator('#bodyTemplate-error');
    await bodyError.waitFor();
    expect(await bodyError.textContent()).toContain("unknown token '{{recipientNam}}'");
    expect(await body.getAttribute('aria-invalid')).toBe('true');
    expect(await body.getAttribute('aria-describedby')).toContain('bodyTemplate-error');
    // Saved as it is, the server refuses it next to the field too.
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('alert').filter({ hasText: 'Some of what you entered is not right.' }).waitFor();
    await body.fill('<p class="hello">Dear {{recipientName}}, {{meetingTitle}} is off.</p>');
    await page.locator('#bodyTemplate-error').waitFor({ state: 'detached' });
    await page.getByLabel('Also email the trainer').check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    const history = page.getByRole('region', { name: 'Settings history' });
    const latest = history.locator('li.card').first();
    await latest.getByText(/^Ada Admin changed the settings on .+\(America\/New_York\)$/).waitFor();
    const text = await latest.textContent();
    expect(text).toContain(
      'Member\'s subject: from “{{siteName}}: your session "{{meetingTitle}}" was cancelled” to “Cancelled: {{meetingTitle}} for {{customerName}}”',
    );
    expect(text).toContain("Member's message: changed");
    expect(text).toContain('Email the trainer: from “No” to “Yes”');
    expect(text).not.toContain('Debug level');
    const first = history.locator('li.card').nth(1);
    expect(await first.textContent()).toContain('The first saved settings:');
    expect(await first.textContent()).toContain('Debug level: 2');

    const saved = await (await apiAs(web, 'admin-1')).request('GET', '/settings');
    expect(saved.body.notifications.cancellation.subject).toBe('Cancelled: {{meetingTitle}} for {{customerName}}');
    expect(saved.body.notifications.cancellation.notifyInstructor).toBe(true);
    await expectAccessible(page);
  });

  it('shows an auditor the settings, tokens and history read-only, at phone width, without serious axe findings', async () => {
    const page = await web.page({ bypassCSP: true, viewport: PHONE });
    await web.signIn(page, 'auditor-1');
    await page.goto(`${web.url}/app/settings`);
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    await page.getByText('You can read the settings; only staff can change them.').waitFor();
    expect(await page.getByLabel('Subject').first().isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Save settings' }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Preview' }).count()).toBe(0);
    await page.getByRole('heading', { name: 'Settings history' }).waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(PHONE.width);
    await expectAccessible(page);
  });

  it('renders in Spanish without untranslated words', async () => {
    const page = await web.page({ locale: 'es-ES' });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/settings`);
    await page.getByRole('heading', { level: 1, name: 'Ajustes' }).waitFor();
    await page.locator('.preview-subject').waitFor();
    // Under the real CSP (this page does not bypass it), the sandboxed preview frame shows the email.
    await page.frameLocator('iframe').locator('p').first().waitFor();
    await page.getByRole('heading', { name: 'Historial de ajustes' }).waitFor();
    expect(await missingTranslations(page)).toEqual([]);
  });
});
