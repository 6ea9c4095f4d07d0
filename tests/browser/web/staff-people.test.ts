import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { expectAccessible, missingTranslations, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import type { Client } from '../../support/system.ts';
import { apiAs, slot } from './staff-support.ts';

// The people directory: search, create (an id suggested from the name), a taken email next to its field, roles,
// deactivation after a confirmation, nobody changing their own roles or state, invitations, and a person's calendar.
let web: WebHarness;
let admin: Client;
let coraEmail: string;

beforeAll(async () => {
  web = await startWeb();
  admin = await apiAs(web, 'admin-1');
  coraEmail = (await admin.request('GET', '/people/customer-1')).body.email;
  for (const [id, name, roles] of [
    ['tess', 'Tess Trainer', ['instructor']],
    ['milo', 'Milo Member', ['customer']],
  ] as const) {
    const res = await admin.request('PUT', `/people/${id}`, {
      name,
      email: `${id}@example.com`,
      roles,
      timezone: 'America/New_York',
    });
    expect(res.status).toBe(200);
  }
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

const rowNames = async (page: Page) => page.locator('tbody tr td:first-child').allTextContents();
const waitForRows = async (page: Page, name: string) =>
  page.locator('tbody tr td:first-child', { hasText: name }).first().waitFor();

describe('the people directory', { timeout: 120_000 }, () => {
  it('searches by name, role and state, and pages', async () => {
    const page = await web.page({ bypassCSP: true });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/people`);
    await page.getByRole('heading', { level: 1, name: 'People' }).waitFor();
    await waitForRows(page, 'Ada Admin');
    await page.getByLabel('Name or email starts with').fill('cor');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('tbody tr').first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
    expect(await rowNames(page)).toEqual(['Cora Customer']);
    await page.getByLabel('Name or email starts with').fill('');
    await page.getByLabel('Role').selectOption('instructor');
    await waitForRows(page, 'Tess Trainer');
    const trainers = await rowNames(page);
    expect(trainers).toContain('Ivan Instructor');
    expect(trainers).not.toContain('Cora Customer');
    await expectAccessible(page);
  });

  it('creates a person, refuses a taken email next to its field, edits roles, deactivates and reactivates', async () => {
    const page = await web.page({ bypassCSP: true });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/people`);
    await page.getByRole('link', { name: 'Add a person' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add a person' }).waitFor();
    await page.getByLabel('Name').fill('Zoë Zeta');
    expect(await page.getByLabel('Id', { exact: true }).inputValue()).toBe('zoe-zeta');
    await page.getByLabel('Email').fill(coraEmail);
    await page.getByLabel('Time zone').selectOption('Europe/Madrid');
    await page.getByLabel('Language', { exact: true }).selectOption('es');
    await page.getByRole('checkbox', { name: 'Trainer' }).check();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Add person' }).click();
    const emailError = page.locator('#person-email-error');
    await emailError.waitFor();
    expect(await emailError.textContent()).toBe('Another person already has this email address.');
    expect(await page.getByLabel('Email').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Email').getAttribute('aria-describedby')).toBe('person-email-error');
    expect(await page.getByRole('alert').textContent()).toContain('This clashes with what is already there.');
    expect(await page.getByRole('alert').textContent()).not.toContain('{');
    await page.getByLabel('Email').fill('zoe@example.com');
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.waitForURL(/\/app\/people\/zoe-zeta$/);
    await page.getByRole('heading', { level: 1, name: 'Zoë Zeta' }).waitFor();
    const created = (await admin.request('GET', '/people/zoe-zeta')).body;
    expect(created).toMatchObject({
      name: 'Zoë Zeta',
      email: 'zoe@example.com',
      timezone: 'Europe/Madrid',
      language: 'es',
      active: true,
    });
    expect([...created.roles].sort()).toEqual(['customer', 'instructor']);

    // Roles: no longer a member.
    await page.getByRole('checkbox', { name: 'Member' }).uncheck();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect((await admin.request('GET', '/people/zoe-zeta')).body.roles).toEqual(['instructor']);

    // Deactivate only after confirming; then reactivate.
    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByText('Zoë Zeta will no longer be able to sign in').waitFor();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Keep active' }).click();
    expect((await admin.request('GET', '/people/zoe-zeta')).body.active).toBe(true);
    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('button', { name: 'Yes, deactivate' }).click();
    await page.getByRole('status').filter({ hasText: 'Zoë Zeta is deactivated.' }).waitFor();
    expect((await admin.request('GET', '/people/zoe-zeta')).body.active).toBe(false);
    await page.getByRole('button', { name: 'Reactivate' }).waitFor();

    // The directory finds them among the deactivated.
    await page.getByRole('link', { name: 'Back to people' }).click();
    await page.getByLabel('State').selectOption('false');
    await waitForRows(page, 'Zoë Zeta');
    await page.getByRole('link', { name: 'Zoë Zeta' }).click();
    await page.getByRole('button', { name: 'Reactivate' }).click();
    await page.getByRole('status').filter({ hasText: 'Zoë Zeta is active again.' }).waitFor();
    expect((await admin.request('GET', '/people/zoe-zeta')).body.active).toBe(true);

    // An invitation, with an idempotency key: the outbox gets one email to that address.
    const before = web.mail.sent.length;
    await page.getByRole('button', { name: 'Email a sign-in invitation' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'An invitation to sign in was sent to zoe@example.com.' })
      .waitFor();
    await expect.poll(() => web.mail.sent.length, { timeout: 10_000 }).toBe(before + 1);
  });

  it('keeps an admin from changing their own roles or state: the controls are off, and the server says 403', async () => {
    const page = await web.page({ bypassCSP: true });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/people/admin-1`);
    await page.getByRole('heading', { level: 1, name: 'Ada Admin' }).waitFor();
    expect(await page.getByRole('checkbox', { name: 'Staff' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Deactivate' }).isDisabled()).toBe(true);
    await page.getByText('You cannot change your own roles; another staff member can.').waitFor();
    await page.getByText('You cannot deactivate yourself; another staff member can.').waitFor();
    // Saving the rest works: the form leaves the roles out for oneself.
    await page.getByLabel('Name').fill('Ada A. Admin');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const self = await admin.request('GET', '/people/admin-1');
    expect(self.body.name).toBe('Ada A. Admin');
    const refused = await admin.request('PUT', '/people/admin-1', {
      name: self.body.name,
      email: self.body.email,
      roles: ['customer'],
    });
    expect(refused.status).toBe(403);
    // The server's 403, should a request carry it, is a sentence on the page.
    await page.route('**/people/admin-1', (route) =>
      route.request().method() === 'PUT'
        ? route.fulfill({
            status: 403,
            contentType: 'application/problem+json',
            body: JSON.stringify({ title: 'Forbidden', status: 403, detail: 'you may not change your own `roles`' }),
          })
        : route.continue(),
    );
    await page.getByRole('button', { name: 'Save changes' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('You are not allowed to do this. You may not change your own `roles`.');
    await expectAccessible(page);
  });

  it("shows a person's calendar, and an auditor reads the directory without edit controls", async () => {
    const when = slot(1, 15);
    const meeting = await admin.request('POST', '/meetings', {
      title: 'Kettlebells',
      customerId: 'milo',
      instructorId: 'tess',
      ...when,
      trainingType: '1-1',
    });
    expect(meeting.status).toBe(201);
    const page = await web.page({ bypassCSP: true });
    await web.signIn(page, 'auditor-1');
    await page.goto(`${web.url}/app/people`);
    await page.getByRole('heading', { level: 1, name: 'People' }).waitFor();
    await waitForRows(page, 'Tess Trainer');
    expect(await page.getByRole('link', { name: 'Add a person' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Tess Trainer' }).click();
    await page.getByRole('heading', { level: 1, name: 'Tess Trainer' }).waitFor();
    expect(await page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Deactivate' }).count()).toBe(0);
    // The auditor sees Madrid's week: a Monday session after today is in next week's grid.
    const madrid = (d: Date) =>
      new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Madrid', dateStyle: 'short' }).format(d);
    if (new Date(when.start).getUTCDay() === 1 && madrid(new Date(when.start)) !== madrid(new Date()))
      await page.locator('.fc-next-button').click();
    const event = page.locator('.fc-event', { hasText: 'Kettlebells · leads, with Milo Member' });
    await event.first().waitFor();
    await expectAccessible(page);
  });

  it('fits a phone and renders in Spanish without untranslated words', async () => {
    const page = await web.page({ viewport: PHONE, locale: 'es-ES' });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/people`);
    await page.getByRole('heading', { level: 1, name: 'Personas' }).waitFor();
    await waitForRows(page, 'Cora Customer');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.getByRole('link', { name: 'Cora Customer' }).click();
    await page.getByRole('heading', { level: 1, name: 'Cora Customer' }).waitFor();
    await page.getByRole('button', { name: 'Desactivar' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.goto(`${web.url}/app/people/new`);
    await page.getByRole('heading', { level: 1, name: 'Añadir una persona' }).waitFor();
    expect(await missingTranslations(page)).toEqual([]);
  });
});
