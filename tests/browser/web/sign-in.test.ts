import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/fake-resend.ts';
import { DESKTOP, expectAccessible, missingTranslations, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';

// The app's sign-in page in Chromium against the real server in dev mode: the demo people, an emailed link (from the
// recording mailer) opened through the server's /sign-in redirect, bad and used codes, where it goes next, single
// sign-on's button, Spanish, and accessibility at phone and desktop width.
let web: WebHarness;

beforeAll(async () => {
  web = await startWeb({ env: { SIGN_IN_LIMIT_PER_ADDRESS: '1000', SIGN_IN_LIMIT_PER_CLIENT: '100000' } });
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

const requestLink = async (page: Page, email: string): Promise<string> => {
  const before = web.mail.sent.length;
  await page.goto(`${web.url}/app/sign-in`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.getByRole('status').filter({ hasText: 'a link is on its way' }).waitFor();
  const message = await eventually(() => web.mail.sent.slice(before).find((m) => m.to === email), 'a sign-in link');
  const link = /https?:\/\/\S+\/sign-in#code=[^\s"<]+/.exec(message.text)?.[0];
  expect(link).toBeDefined();
  return link!;
};

const path = (page: Page) => {
  const u = new URL(page.url());
  return `${u.pathname}${u.search}${u.hash}`;
};

describe('signing in', { timeout: 120_000 }, () => {
  it('signs in as a demo person in dev mode and goes on to next, in the router’s form and the site’s', async () => {
    for (const [next, lands] of [
      ['/me', '/app/me'],
      ['/app/me', '/app/me'],
      ['/app/sessions?x=1', '/app/sessions?x=1'],
      ['//evil.example/x', '/app/sessions'],
      ['/\\evil.example', '/app/sessions'],
      ['https://evil.example/', '/app/sessions'],
      // Normalised to `//evil.example`: the start page, not a path that resolves off the site.
      ['/..//evil.example', '/app/sessions'],
      ['/app/%2e%2e//evil.example', '/app/sessions'],
    ] as const) {
      const page = await web.page();
      await page.goto(`${web.url}/app/sign-in?next=${encodeURIComponent(next)}`);
      await page.locator('[data-person-id="customer-1"]').click();
      await page.waitForURL((u) => !u.pathname.startsWith('/app/sign-in'));
      await page.getByText('Signed in as Cora Customer').waitFor();
      await page.locator('main h1').waitFor();
      expect(path(page), next).toBe(lands);
      await web.closeContexts();
    }
  });

  it('emails a link that signs the person in once, through /sign-in, with the code in no address', async () => {
    const page = await web.page();
    const link = await requestLink(page, 'cora.customer@example.com');
    expect(new URL(link).pathname).toBe('/sign-in');
    const opened = await web.page();
    await opened.goto(link);
    await opened.waitForURL(`${web.url}/app/sessions`);
    await opened.getByText('Signed in as Cora Customer').waitFor();
    // Not in the address bar, nor in the history entry it came from.
    expect(opened.url()).not.toContain('code=');
    await opened.goBack();
    expect(opened.url()).not.toContain('code=');
    await opened.goForward();
    await opened.waitForURL(`${web.url}/app/sessions`);
    // The token is in no storage a script could read.
    expect(await opened.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))).not.toMatch(/eyJ/);

    // The same link again: a sentence, and the form to ask for a new one.
    const again = await web.page();
    await again.goto(link);
    await again.getByRole('alert').filter({ hasText: 'This sign-in link has been used or has expired.' }).waitFor();
    expect(again.url()).not.toContain('code=');
    await again.getByLabel('Email address').waitFor();
    expect(await again.getByText('Signed in as').count()).toBe(0);
  });

  it('keeps next through the server redirect of an emailed link', async () => {
    const page = await web.page();
    const link = await requestLink(page, 'ivan.instructor@example.com');
    const code = new URL(link).hash;
    const opened = await web.page();
    await opened.goto(`${web.url}/sign-in?next=${encodeURIComponent('/app/me')}${code}`);
    await opened.waitForURL(`${web.url}/app/me`);
    await opened.getByText('Signed in as Ivan Instructor').waitFor();
  });

  it('says a made-up code is not valid, and checks the address before sending', async () => {
    const page = await web.page();
    await page.goto(`${web.url}/app/sign-in#code=not-a-real-code`);
    await page.getByRole('alert').filter({ hasText: 'This sign-in link has been used or has expired.' }).waitFor();
    expect(page.url()).toBe(`${web.url}/app/sign-in`);
    const email = page.getByLabel('Email address');
    await email.fill('not an address');
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    const error = page.getByText('Enter an email address like name@example.com.');
    await error.waitFor();
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await email.getAttribute('aria-describedby')).toBe(await error.getAttribute('id'));
  });

  it('says so when the server refuses for too many requests, as a sentence', async () => {
    const page = await web.page();
    await page.route('**/auth/email-link', (route) =>
      route.fulfill({
        status: 429,
        headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '60' },
        body: JSON.stringify({
          type: 'about:blank',
          title: 'Too many requests',
          status: 429,
          detail: 'too many sign-in requests from this address; see Retry-After',
        }),
      }),
    );
    await page.goto(`${web.url}/app/sign-in`);
    await page.getByLabel('Email address').fill('someone@example.com');
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Too many requests. Wait a moment and try again.' });
    await alert.waitFor();
    expect(await alert.textContent()).not.toMatch(/[{}]/);
  });

  it('goes straight on when already signed in, from the cookie alone in a new tab', async () => {
    const page = await web.page();
    await web.signIn(page, 'instructor-1');
    const tab = await page.context().newPage();
    await tab.goto(`${web.url}/app/sign-in?next=${encodeURIComponent('/me')}`);
    await tab.waitForURL(`${web.url}/app/me`);
    await tab.getByText('Signed in as Ivan Instructor').waitFor();
    await tab.getByRole('button', { name: 'Sign out' }).click();
    await tab.waitForURL(/\/app\/sign-in/);
    const later = await page.context().newPage();
    await later.goto(`${web.url}/app/sign-in`);
    await later.getByLabel('Email address').waitFor();
    expect(await later.getByText('Signed in as').count()).toBe(0);
  });

  it('offers single sign-on when the server has it, keeping next as a path of the site', async () => {
    const page = await web.page();
    await page.route('**/auth/methods', (route) =>
      route.fulfill({ json: { email: true, singleSignOn: true, dev: false } }),
    );
    await page.goto(`${web.url}/app/sign-in?next=${encodeURIComponent('/sessions')}`);
    const sso = page.getByRole('link', { name: 'Sign in with your organisation account' });
    await sso.waitFor();
    expect(await sso.getAttribute('href')).toBe(`/auth/oidc/start?next=${encodeURIComponent('/app/sessions')}`);
    expect(await page.locator('[data-person-id]').count()).toBe(0);
  });

  it('speaks Spanish when asked, with no key left untranslated', async () => {
    const page = await web.page();
    await page.goto(`${web.url}/app/sign-in`);
    await page.getByLabel('Language').selectOption('es');
    await page.getByRole('heading', { level: 1, name: 'Iniciar sesión' }).waitFor();
    await page.getByLabel('Correo electrónico').waitFor();
    await page.getByRole('button', { name: 'Enviarme un enlace para entrar' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('es');
    expect(await missingTranslations(page)).toEqual([]);
  });

  for (const [label, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    it(`has nothing serious for axe, no sideways scroll and a keyboard path (${label})`, async () => {
      const page = await web.page({ viewport, bypassCSP: true });
      await page.goto(`${web.url}/app/sign-in#code=bad`);
      await page.getByRole('alert').waitFor();
      await page.locator('[data-person-id]').first().waitFor();
      await page.getByLabel('Email address').fill('x');
      await page.keyboard.press('Enter');
      await page.getByText('Enter an email address like name@example.com.').waitFor();
      await expectAccessible(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      // By keyboard alone: into the field, type, send.
      await page.getByLabel('Email address').fill('');
      await page.locator('main h1').focus();
      for (let i = 0; i < 10; i++) {
        await page.keyboard.press('Tab');
        if ((await page.evaluate(() => document.activeElement?.id)) === 'email') break;
      }
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('email');
      await page.keyboard.type('cora.customer@example.com');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.getByRole('status').filter({ hasText: 'a link is on its way' }).waitFor();
    });
  }
});
