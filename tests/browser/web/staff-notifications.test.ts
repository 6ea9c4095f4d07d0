import * as E from 'fp-ts/lib/Either.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Mailer, MailMessage } from '../../../application/ports/mailer.ts';
import { expectAccessible, missingTranslations, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import type { Client } from '../../support/system.ts';
import { apiAs, slot } from './staff-support.ts';

// The notification log: filters by state (the server), by recipient (the page), the last error as a sentence, and an
// admin's retry of a failed email, whose new state the page shows. The mailer refuses while `failing` is set.
let web: WebHarness;
let admin: Client;
let failing = true;
const delivered: MailMessage[] = [];
const mailer: Mailer = {
  name: 'flaky',
  send: async (message) => {
    if (failing) return E.left({ retryable: false, status: 550, message: 'mailbox unavailable' });
    delivered.push(message);
    return E.right({ providerMessageId: `ok-${delivered.length}` });
  },
};

const statusesOf = async () =>
  (
    (await admin.request('GET', '/notifications')).body.items as Array<{
      status: string;
      recipient: { personId: string };
    }>
  ).map((n) => `${n.recipient.personId}:${n.status}`);

/** Waits until the log holds `wanted` (a hook cannot use expect.poll). */
const waitForStatus = async (wanted: string) => {
  for (let i = 0; i < 100; i++) {
    if ((await statusesOf()).includes(wanted)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the notification log never showed ${wanted}: ${JSON.stringify(await statusesOf())}`);
};

beforeAll(async () => {
  web = await startWeb({ system: { notifications: { mailer, maxAttempts: 1 } } });
  admin = await apiAs(web, 'admin-1');
  for (const [id, name, role] of [
    ['tess', 'Tess Trainer', 'instructor'],
    ['milo', 'Milo Member', 'customer'],
    ['nia', 'Nia Member', 'customer'],
  ] as const) {
    expect(
      (await admin.request('PUT', `/people/${id}`, { name, email: `${id}@example.com`, roles: [role] })).status,
    ).toBe(200);
  }
  const bookAndCancel = async (customerId: string, hour: number) => {
    const res = await admin.request('POST', '/meetings', {
      title: 'Kettlebells',
      instructorId: 'tess',
      customerId,
      ...slot(2, hour),
      trainingType: '1-1',
    });
    expect(res.status).toBe(201);
    expect((await admin.request('POST', `/meetings/${res.body.id}/cancel`, { reason: 'Gym closed' })).status).toBe(200);
  };
  await bookAndCancel('milo', 15);
  await waitForStatus('milo:failed');
  failing = false;
  await bookAndCancel('nia', 17);
  await waitForStatus('nia:sent');
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

describe('the notification log', { timeout: 120_000 }, () => {
  it('filters by state and recipient, shows the last error as a sentence, and retries a failed email', async () => {
    const page = await web.page({ bypassCSP: true });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/notifications`);
    await page.getByRole('heading', { level: 1, name: 'Notification log' }).waitFor();
    const items = page.locator('li.notification');
    await page.getByRole('heading', { name: 'To Milo Member (Member)' }).waitFor();
    await page.getByRole('heading', { name: 'To Nia Member (Member)' }).waitFor();
    await expectAccessible(page);

    // The server filters by state.
    await page.getByLabel('State').selectOption('failed');
    await page.getByRole('heading', { name: 'To Nia Member (Member)' }).waitFor({ state: 'detached' });
    expect(await items.count()).toBe(1);
    const milo = items.first();
    expect(await milo.textContent()).toContain('The last attempt failed: mailbox unavailable.');
    expect(await milo.textContent()).toContain('milo@example.com');
    expect(await milo.locator('.state').textContent()).toBe('Failed');

    // The page filters by recipient.
    await page.getByLabel('State').selectOption('');
    await page.getByRole('heading', { name: 'To Nia Member (Member)' }).waitFor();
    await page.getByLabel('Recipient name or email contains').fill('nia@');
    await page.getByRole('heading', { name: 'To Milo Member (Member)' }).waitFor({ state: 'detached' });
    expect(await items.count()).toBe(1);
    expect(await items.first().locator('.state').textContent()).toBe('Sent');
    expect(await items.first().getByRole('button').count()).toBe(0);
    await page.getByLabel('Recipient name or email contains').fill('');

    // A retry of the failed one: a new round, sent now that the mailer works.
    const before = delivered.length;
    const retry = page.getByRole('button', { name: 'Send again to Milo Member' });
    await retry.focus();
    await page.keyboard.press('Enter');
    const card = page.locator('li.notification', { hasText: 'To Milo Member' });
    await card.getByRole('status').filter({ hasText: 'Sent again. It is now: Sent.' }).waitFor();
    expect(await card.locator('.state').textContent()).toBe('Sent');
    expect(await card.textContent()).toContain('2 in 2 round(s)');
    expect(delivered.length).toBe(before + 1);
    expect(delivered.at(-1)?.to).toContain('milo@example.com');
    expect(await statusesOf()).toContain('milo:sent');
    await expectAccessible(page);
  });

  it('shows an auditor the log without retry, at phone width, and renders in Spanish', async () => {
    const page = await web.page({ bypassCSP: true, viewport: PHONE, locale: 'es-ES' });
    await web.signIn(page, 'auditor-1');
    await page.goto(`${web.url}/app/notifications`);
    await page.getByRole('heading', { level: 1, name: 'Registro de notificaciones' }).waitFor();
    await page.getByRole('heading', { name: 'Para Nia Member (Miembro)' }).waitFor();
    expect(await page.getByRole('button', { name: /Enviar de nuevo/ }).count()).toBe(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await expectAccessible(page);
    expect(await missingTranslations(page)).toEqual([]);
  });
});
