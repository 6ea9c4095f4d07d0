import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, missingTranslations, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import type { Client } from '../../support/system.ts';
import { apiAs } from './staff-support.ts';

// An admin imports people from the CRM's export on the people page: a dry run first, then for real, with every line
// that was not imported listed with why.
let web: WebHarness;
let admin: Client;

beforeAll(async () => {
  web = await startWeb();
  admin = await apiAs(web, 'admin-1');
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

const csv = [
  'id,name,email,roles,member level',
  'crm-ana,Ana Import,ana.import@example.com,customer,gold',
  'crm-bad,Bad Line,not-an-address,customer,',
  'crm-ben,Ben Import,ben.import@example.com,customer;instructor,silver',
].join('\n');

describe('importing people on the people page', { timeout: 120_000 }, () => {
  it('checks the file first, then imports it and lists the lines it did not import', async () => {
    const page = await web.page({ bypassCSP: true });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/people`);
    await page.getByRole('heading', { level: 2, name: 'Import people from a file' }).waitFor();
    await page.getByLabel('File (CSV or JSON)').setInputFiles({
      name: 'export.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv),
    });
    expect(await page.getByLabel('Try it first: check every line and save nothing').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Check the file' }).click();
    const status = page.getByRole('status').filter({ hasText: 'Checked, nothing saved.' });
    await status.waitFor();
    expect(await status.textContent()).toContain('3 lines: 2 new, 0 updated, 0 unchanged, 1 not imported.');
    const row = page.locator('table', { hasText: 'Lines not imported' }).locator('tbody tr');
    expect(await row.count()).toBe(1);
    expect(await row.locator('td').allTextContents()).toEqual(['3', 'crm-bad', expect.stringContaining('email:')]);
    expect((await admin.request('GET', '/people/crm-ana')).status).toBe(404);
    await expectAccessible(page);

    await page.getByLabel('Try it first: check every line and save nothing').uncheck();
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByRole('status').filter({ hasText: 'Imported.' }).waitFor();
    await page.getByRole('link', { name: 'Ana Import' }).waitFor();
    expect((await admin.request('GET', '/people/crm-ben')).body).toMatchObject({
      roles: ['instructor', 'customer'],
      crm: { fields: { 'member level': 'silver' } },
    });
  });

  it('says so when the file cannot be read, and lets the admin try again', async () => {
    const page = await web.page({ bypassCSP: true });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/people`);
    await page.getByRole('heading', { level: 2, name: 'Import people from a file' }).waitFor();
    await page.getByLabel('File (CSV or JSON)').setInputFiles({
      name: 'again.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('id,name,email\ncrm-cy,Cy Again,cy.again@example.com\n'),
    });
    // The file changed on disk after it was chosen: the browser cannot read it (once).
    await page.evaluate(() => {
      const original = File.prototype.text;
      File.prototype.text = function () {
        File.prototype.text = original;
        return Promise.reject(new DOMException('the file changed', 'NotReadableError'));
      };
    });
    await page.getByRole('button', { name: 'Check the file' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'The file could not be sent' });
    await alert.waitFor();
    const button = page.getByRole('button', { name: 'Check the file' });
    expect(await button.isEnabled()).toBe(true);
    await button.click();
    await page.getByRole('status').filter({ hasText: 'Checked, nothing saved.' }).waitFor();
    expect(await alert.count()).toBe(0);
  });

  it('fits a phone and renders in Spanish without untranslated words', async () => {
    const page = await web.page({ viewport: PHONE, locale: 'es-ES' });
    await web.signIn(page, 'admin-1');
    await page.goto(`${web.url}/app/people`);
    await page.getByRole('heading', { level: 2, name: 'Importar personas desde un archivo' }).waitFor();
    await page.getByLabel('Archivo (CSV o JSON)').setInputFiles({
      name: 'people.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify([{ id: 'crm-eva', name: 'Eva', email: 'eva' }])),
    });
    await page.getByRole('button', { name: 'Revisar el archivo' }).click();
    await page.getByRole('status').filter({ hasText: 'Revisado, no se guardó nada.' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(await missingTranslations(page)).toEqual([]);
  });
});
