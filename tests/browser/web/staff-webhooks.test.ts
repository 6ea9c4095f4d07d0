import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/fake-resend.ts';
import { expectAccessible, missingTranslations, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import type { Client } from '../../support/system.ts';
import { startWebhookReceiver, verify } from '../../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../../support/webhook-receiver.ts';
import { apiAs, slot } from './staff-support.ts';

// The webhooks page: an admin adds an endpoint (its secret shown once, and it verifies what the receiver gets), reads
// the delivery log, sends a delivery again, and switches the endpoint off; in Spanish at phone width too.
let web: WebHarness;
let admin: Client;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  web = await startWeb({
    env: { WEBHOOKS_ALLOW_INSECURE_TARGETS: 'true' },
    system: { webhooks: { retryDelaysMs: [100, 100], timeoutMs: 2_000 } },
  });
  admin = await apiAs(web, 'admin-1');
  for (const [id, name, role] of [
    ['tess', 'Tess Trainer', 'instructor'],
    ['milo', 'Milo Member', 'customer'],
  ] as const) {
    expect(
      (await admin.request('PUT', `/people/${id}`, { name, email: `${id}@example.com`, roles: [role] })).status,
    ).toBe(200);
  }
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(async () => {
  await web?.close();
  await receiver?.close();
}, 60_000);

describe('the webhooks page', { timeout: 120_000 }, () => {
  it('adds an endpoint whose secret verifies its deliveries, shows the log, sends again and switches it off', async () => {
    const page = await web.page({ bypassCSP: true });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/webhooks`);
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await page.getByText('No endpoints yet.').waitFor();
    await expectAccessible(page);

    // No event chosen: said so, nothing sent to the server.
    await page.getByLabel('Address (https://…)').fill(`${receiver.url}/web`);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByRole('alert').filter({ hasText: 'Choose at least one event.' }).waitFor();
    await page.getByLabel('Every session event').check();
    await page.getByLabel('What it is for').fill('The CRM');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const shown = page.getByRole('status').filter({ hasText: 'The signing secret for' });
    await shown.waitFor();
    const secret = (await shown.locator('code').textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    const card = page.locator('li.webhook', { hasText: `${receiver.url}/web` });
    await card.waitFor();
    expect(await card.locator('.state').textContent()).toBe('Active');
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await shown.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(secret);

    const booked = await admin.request('POST', '/meetings', {
      title: 'Kettlebells',
      instructorId: 'tess',
      customerId: 'milo',
      ...slot(3, 15),
      trainingType: '1-1',
    });
    expect(booked.status).toBe(201);
    await eventually(() => receiver.at('/web').length === 1, 'the delivery');
    expect(verify(secret, receiver.at('/web')[0]!)).toMatchObject({ type: 'meeting.scheduled' });

    await card.getByRole('button', { name: 'Show deliveries' }).click();
    const row = card.locator('tr.delivery', { hasText: 'meeting.scheduled' });
    await row.waitFor();
    await eventually(async () => {
      await card.getByRole('button', { name: 'Show deliveries' }).click();
      return (await row.textContent())?.includes('Delivered');
    }, 'the delivery shown delivered');
    await row.getByRole('button', { name: 'Send meeting.scheduled again' }).click();
    await card.getByRole('status').filter({ hasText: 'meeting.scheduled will be sent again.' }).waitFor();
    await eventually(() => receiver.at('/web').length === 2, 'the redelivery');
    const [first, again] = receiver.at('/web');
    expect(again!.headers['webhook-id']).toBe(first!.headers['webhook-id']);

    await card.getByRole('button', { name: 'Switch off' }).click();
    await card.getByRole('status').filter({ hasText: 'Switched off: nothing more is sent to it.' }).waitFor();
    expect(await card.locator('.state').textContent()).toBe('Switched off');
    await expectAccessible(page);
  });

  it('renders in Spanish at phone width, with every word translated', async () => {
    const page = await web.page({ bypassCSP: true, viewport: PHONE, locale: 'es-ES' });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/webhooks`);
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await page.getByRole('button', { name: 'Añadir destino' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await expectAccessible(page);
    expect(await missingTranslations(page)).toEqual([]);
  });
});
