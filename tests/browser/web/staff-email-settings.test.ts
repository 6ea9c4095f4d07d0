import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, missingTranslations, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import { apiAs } from './staff-support.ts';

// The settings of every kind of email (issue 14): per-kind switches, the coalescing window, the reminder offsets and
// the templates per topic, reader and language, with the topic's tokens and the server's preview; saved without
// touching the cancellation section.
let web: WebHarness;

beforeAll(async () => {
  web = await startWeb();
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

describe('staff settings of every kind of email', { timeout: 120_000 }, () => {
  it('an admin switches kinds, sets the window and the reminders, edits a Spanish template and previews it', async () => {
    const page = await web.page({ bypassCSP: true });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/settings`);
    const section = page.getByRole('region', { name: 'Emails about bookings and changes' });
    await section.waitFor();
    await section.getByLabel('Reminder: Send it').uncheck();
    await section.getByLabel('Moved session: Also to the trainer').uncheck();
    await section.getByLabel('Wait before sending a change (seconds, 0 to 3600)').fill('30');
    await section.getByLabel('Reminders, minutes before the session').fill('1440, 30');
    await section.getByLabel('Language').selectOption('es');
    await section.getByLabel('Email', { exact: true }).selectOption('booked');
    // The topic's own tokens are listed.
    await section.locator('.kind-tokens code', { hasText: '{{location}}' }).waitFor();
    await section.getByLabel('Template subject').fill('Reserva: {{meetingTitle}} ({{trainingType}})');
    await section.getByRole('button', { name: 'Preview this template' }).click();
    await section
      .locator('.kind-preview-subject', { hasText: /^Reserva: .+ \(una videollamada en la aplicación\)$/ })
      .waitFor();
    await expectAccessible(page);

    // A token the topic cannot fill is refused by the save, next to the templates.
    await section.getByLabel('Template message (HTML)').fill('<p>{{reason}}</p>');
    await section.getByRole('button', { name: 'Save these emails' }).click();
    await section.getByRole('alert').filter({ hasText: 'booked' }).first().waitFor();
    await section.getByLabel('Template message (HTML)').fill('<p>Hola {{customerName}}: {{startDate}}</p>');
    await section.getByRole('button', { name: 'Save these emails' }).click();
    await section.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    const n = (await (await apiAs(web, 'admin-1')).request('GET', '/settings')).body.notifications;
    expect(n.kinds.reminder.enabled).toBe(false);
    expect(n.kinds.rescheduled).toEqual({ enabled: true, notifyInstructor: false });
    expect(n.coalesceSeconds).toBe(30);
    expect(n.reminders.offsetsMinutes).toEqual([1440, 30]);
    expect(n.templates.es.booked.customer).toEqual({
      subject: 'Reserva: {{meetingTitle}} ({{trainingType}})',
      bodyTemplate: '<p>Hola {{customerName}}: {{startDate}}</p>',
    });
    // The cancellation section is as it was.
    expect(n.cancellation.enabled).toBe(true);
    // Only the pair edited was sent and kept: the built-in ones stay built-in.
    const history = JSON.stringify((await (await apiAs(web, 'admin-1')).request('GET', '/settings/history')).body);
    expect(history).toContain('Reserva: {{meetingTitle}}');
    expect(history).not.toContain('you are booked for');

    // "Reset to default" takes the pair back to the built-in one; an emptied window goes back to the server's.
    await section.getByRole('button', { name: 'Reset to default' }).click();
    await section.getByRole('status').filter({ hasText: 'Back to the built-in template.' }).waitFor();
    await expect.poll(() => section.getByLabel('Template subject').inputValue()).toContain('reserva confirmada');
    await section.getByLabel('Wait before sending a change (seconds, 0 to 3600)').fill('');
    await section.getByRole('button', { name: 'Save these emails' }).click();
    await section.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const after = (await (await apiAs(web, 'admin-1')).request('GET', '/settings')).body.notifications;
    expect(after.templates.es.booked.customer.subject).toContain('reserva confirmada');
    expect(after.coalesceSeconds).toBeUndefined();
  });

  it('renders in Spanish without untranslated words', async () => {
    const page = await web.page({ locale: 'es-ES', bypassCSP: true });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/settings`);
    await page.getByRole('region', { name: 'Correos de reservas y cambios' }).waitFor();
    expect(await missingTranslations(page)).toEqual([]);
    await expectAccessible(page);
  });
});
