import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/fake-resend.ts';
import { client } from '../../support/system.ts';
import type { Client } from '../../support/system.ts';
import { DESKTOP, expectAccessible, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';

// The member's side of the app in Chromium against the real server and SQLite store: sign-in by an emailed link
// taken from the dev outbox (the server's own dev mailer, files in DATA_DIR/outbox: no test mailer replaces it here),
// the sessions list and calendar, a session page whose Join comes alive in its window and leads to the call page, a
// remote-link session, and the calendar feed.
let web: WebHarness;
let admin: Client;
const MIN = 60_000;

const person = (id: string, name: string, roles: string[], timezone: string) =>
  admin.request('PUT', `/people/${id}`, { name, email: `${id}@example.com`, roles, timezone });

const schedule = async (body: Record<string, unknown>, customerId = 'mia', instructorId = 'tess'): Promise<string> => {
  const res = await admin.request('POST', '/meetings', {
    customerId,
    instructorId,
    timezone: 'Europe/London',
    trainingType: '1-1',
    description: 'Bring water.\nWarm up first.',
    ...body,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
};
const inMinutes = (m: number) => new Date(Date.now() + m * MIN).toISOString();

/** The sign-in link in the newest outbox email to `to` written after `since` files. */
const outboxLink = (to: string, seen: ReadonlySet<string>) =>
  eventually(() => {
    const dir = join(web.ts.dataDir, 'outbox');
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.json') && !seen.has(n));
    } catch {
      return undefined;
    }
    for (const name of names) {
      const envelope = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { to: string };
      if (envelope.to !== to) continue;
      const text = readFileSync(join(dir, name.replace(/\.json$/, '.txt')), 'utf8');
      const link = /https?:\/\/\S+\/sign-in#code=[^\s"<]+/.exec(text)?.[0];
      if (link !== undefined) return link;
    }
    return undefined;
  }, 'a sign-in link in the outbox');

const outboxNames = (): Set<string> => {
  try {
    return new Set(readdirSync(join(web.ts.dataDir, 'outbox')));
  } catch {
    return new Set();
  }
};

/** Signs a page in as someone outside the demo people: by an emailed link, as they would. */
const signInByLink = async (page: Page, email: string) => {
  const seen = outboxNames();
  const res = await fetch(`${web.url}/auth/email-link`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email }),
  });
  expect(res.status).toBe(202);
  await page.goto(await outboxLink(email, seen));
  await page.waitForURL((u) => u.pathname.startsWith('/app/') && !u.pathname.startsWith('/app/sign-in'));
  await page
    .getByText('Signed in as')
    .waitFor({ timeout: 20_000 })
    .catch(async (error: unknown) => {
      throw new Error(`not signed in at ${page.url()}: ${await page.locator('body').innerText()}`, { cause: error });
    });
};

const noSidewaysScroll = async (page: Page) => {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
};

beforeAll(async () => {
  // No test mailer: the dev outbox the server writes when RESEND_API_KEY is unset.
  web = await startWeb({
    system: { notifications: { mailer: undefined } },
    env: { SIGN_IN_LIMIT_PER_ADDRESS: '1000', SIGN_IN_LIMIT_PER_CLIENT: '100000' },
  });
  // Dev mode has no bearer secret of the tests' own: the demo admin's printed token.
  admin = client(web.url, web.ts.system.demoTokens.find((t) => t.sub === 'admin-1')!.token);
  for (const [id, name, roles, zone] of [
    ['mia', 'Mia Member', ['customer'], 'America/Chicago'],
    ['tess', 'Tess Trainer', ['instructor'], 'Europe/London'],
    ['nia', 'Nia Newcomer', ['customer'], 'Europe/Madrid'],
    ['moe', 'Moe Member', ['customer'], 'America/Chicago'],
    ['tom', 'Tom Trainer', ['instructor'], 'Europe/London'],
    ['max', 'Max Member', ['customer'], 'America/Chicago'],
    ['tia', 'Tia Trainer', ['instructor'], 'Europe/London'],
    ['pia', 'Pia Phone', ['customer'], 'America/Chicago'],
    ['kia', 'Kia Keys', ['customer'], 'Europe/Madrid'],
    ['kit', 'Kit Trainer', ['instructor'], 'Europe/Madrid'],
    ['dia', 'Dia Desktop', ['customer'], 'America/Chicago'],
  ] as const) {
    const res = await person(id, name, [...roles], zone);
    expect(res.status).toBe(200);
  }
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

describe('the member', { timeout: 120_000 }, () => {
  it('signs in by an emailed link, sees a session made for them, opens it and joins its call', async () => {
    const soon = await schedule({ title: 'Kettlebell intro', start: inMinutes(5), end: inMinutes(35) });
    const page = await web.page();
    await page.goto(`${web.url}/app/sign-in`);
    await page.getByLabel('Email address').fill('mia@example.com');
    const seen = outboxNames();
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByText('a link is on its way').waitFor();
    const link = await outboxLink('mia@example.com', seen);
    expect(link).toMatch(new RegExp(`^${web.url}/sign-in#code=`));

    const opened = await web.page();
    await opened.goto(link);
    await opened.waitForURL(`${web.url}/app/sessions`);
    expect(opened.url()).not.toContain('code=');
    await opened.getByText('Signed in as Mia Member').waitFor();
    const item = opened.getByRole('listitem').filter({ hasText: 'Kettlebell intro' });
    await item.waitFor();
    expect(await item.textContent()).toContain('With Tess Trainer');
    expect(await item.textContent()).toContain('(America/Chicago)');
    expect(await item.textContent()).toContain('Session time:'); // the session's own zone, London, differs
    // In its join window: the list offers Join.
    await item.getByRole('button', { name: 'Join Kettlebell intro' }).waitFor();

    await item.getByRole('link', { name: 'Kettlebell intro' }).click();
    await opened.waitForURL(`${web.url}/app/sessions/${soon}`);
    await opened.getByRole('heading', { level: 1, name: 'Kettlebell intro' }).waitFor();
    const main = opened.locator('main');
    await main.getByText('Tess Trainer').waitFor();
    expect(await main.textContent()).toContain('Mia Member (you)');
    expect(await main.textContent()).toContain('Bring water.');
    expect(await main.textContent()).toContain('Video call here');
    expect(await main.getByRole('link', { name: 'History' }).getAttribute('href')).toBe(
      `/app/sessions/${soon}/history`,
    );
    const join = main.getByRole('button', { name: 'Join' });
    expect(await join.isEnabled()).toBe(true);
    await join.click();
    await opened.waitForURL((u) => u.pathname === `/app/call/${soon}`);
    // The call page takes the link from the fragment (and drops it from the address); it opens its lobby.
    await opened.locator('.call-page[data-phase="lobby"] h1', { hasText: 'Kettlebell intro' }).waitFor();
    expect(new URL(opened.url()).hash).toBe('');
  });

  it('shows Join disabled before the window with its opening time, and brings it alive without a reload', async () => {
    const start = inMinutes(15.15);
    const id = await schedule({ title: 'Core later', start, end: inMinutes(45) }, 'moe', 'tom');
    const page = await web.page();
    await signInByLink(page, 'moe@example.com');
    await page.goto(`${web.url}/app/sessions/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Core later' }).waitFor();
    const join = page.locator('main').getByRole('button', { name: 'Join' });
    await join.waitFor();
    expect(await join.isDisabled()).toBe(true);
    const hint = page.getByText(/^Join opens at /);
    const text = (await hint.textContent()) ?? '';
    const opening = new Date(new Date(start).getTime() - 15 * MIN);
    const local = new Intl.DateTimeFormat('en-US', {
      hour: '2-digit',
      minute: '2-digit',
      timeZone: 'America/Chicago',
    }).format(new Date(new Date(opening).getTime()));
    expect(text).toContain('(America/Chicago)');
    expect(text).toContain(local.replace(/ [AP]M$/, ''));
    expect(await join.getAttribute('aria-describedby')).toBe(await hint.getAttribute('id'));
    // The list does not offer it yet either.
    await page.getByRole('link', { name: 'My sessions' }).click();
    await page.getByRole('listitem').filter({ hasText: 'Core later' }).waitFor();
    expect(await page.getByRole('button', { name: 'Join Core later' }).count()).toBe(0);
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Core later' }).waitFor();
    await page
      .locator('main')
      .getByRole('button', { name: 'Join' })
      .and(page.locator(':enabled'))
      .waitFor({ timeout: 30_000 });
    expect(await page.getByText(/^Join opens at /).count()).toBe(0);
  });

  it('joins a remote-link session in a new tab, and marks a cancelled session', async () => {
    const id = await schedule(
      {
        title: 'Remote mobility',
        start: inMinutes(2),
        end: inMinutes(30),
        trainingType: 'link',
        remoteLink: 'https://meet.example.com/mobility-mia',
      },
      'max',
      'tia',
    );
    const gone = await schedule(
      { title: 'Dropped stretch', start: inMinutes(60 * 24), end: inMinutes(60 * 24 + 30) },
      'max',
      'tia',
    );
    const cancel = await admin.request('POST', `/meetings/${gone}/cancel`, { reason: 'Trainer ill' });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    const page = await web.page();
    await page.context().route('https://meet.example.com/**', (r) => r.fulfill({ body: 'the remote call' }));
    await signInByLink(page, 'max@example.com');
    await page.goto(`${web.url}/app/sessions`);
    const cancelled = page.getByRole('listitem').filter({ hasText: 'Dropped stretch' });
    await cancelled.waitFor();
    expect(await cancelled.textContent()).toContain('Cancelled');
    expect(await cancelled.getByRole('button').count()).toBe(0);
    expect(await cancelled.getByRole('link').evaluate((a) => getComputedStyle(a).textDecorationLine)).toContain(
      'line-through',
    );
    await page.goto(`${web.url}/app/sessions/${gone}`);
    await page.getByText('Cancelled: Trainer ill').waitFor();
    expect(await page.locator('main').getByRole('button', { name: 'Join' }).count()).toBe(0);

    await page.goto(`${web.url}/app/sessions/${id}`);
    const popup = page.context().waitForEvent('page');
    await page.locator('main').getByRole('button', { name: 'Join' }).click();
    const remote = await popup;
    await remote.waitForURL('https://meet.example.com/mobility-mia');
    expect(await remote.evaluate(() => window.opener)).toBeNull();
    const fallback = page.getByRole('link', { name: 'Open the call (new tab)' });
    expect(await fallback.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await fallback.getAttribute('target')).toBe('_blank');
  });

  it('shows sessions on a week calendar and says so when there are none', async () => {
    await schedule({ title: 'Calendar squat', start: inMinutes(90), end: inMinutes(120) });
    const page = await web.page();
    await signInByLink(page, 'mia@example.com');
    await page.getByRole('button', { name: 'Calendar' }).click();
    expect(await page.getByRole('button', { name: 'Calendar' }).getAttribute('aria-pressed')).toBe('true');
    await page.locator('.fc-event', { hasText: 'Calendar squat' }).first().waitFor();
    await page.getByText('Times are in your zone, America/Chicago.').waitFor();

    const empty = await web.page();
    await signInByLink(empty, 'nia@example.com');
    await empty.getByText(/^You have no sessions coming up until /).waitFor();
    await empty.getByRole('button', { name: /^Later/ }).click();
    await empty.getByText(/^You have no sessions coming up until /).waitFor();
  });

  it('works by keyboard alone: from the list to the session page to the call', async () => {
    await schedule({ title: 'Keyboard warm-up', start: inMinutes(3), end: inMinutes(33) }, 'kia', 'kit');
    const page = await web.page();
    await signInByLink(page, 'kia@example.com');
    await page.getByRole('listitem').filter({ hasText: 'Keyboard warm-up' }).waitFor();
    const tabTo = async (match: (el: { tag: string; text: string }) => boolean, limit = 30) => {
      for (let i = 0; i < limit; i++) {
        await page.keyboard.press('Tab');
        const el = await page.evaluate(() => ({
          tag: document.activeElement?.tagName ?? '',
          text: document.activeElement?.textContent?.trim() ?? '',
        }));
        if (match(el)) return;
      }
      throw new Error('not reached by Tab');
    };
    await page.locator('main h1').focus();
    await tabTo((el) => el.tag === 'A' && el.text === 'Keyboard warm-up');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Keyboard warm-up' }).waitFor();
    // Focus moved to the new view's heading; the next stops lead to Join.
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
    await tabTo((el) => el.tag === 'BUTTON' && el.text === 'Join');
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname.startsWith('/app/call/'));
    await page.locator('.call-page h1', { hasText: 'Keyboard warm-up' }).waitFor();
  });

  it('sends someone else away from a session that is not theirs with a sentence', async () => {
    const other = await admin.request('POST', '/meetings', {
      title: 'Not yours',
      customerId: 'nia',
      instructorId: 'tess',
      timezone: 'Europe/Madrid',
      trainingType: '1-1',
      start: inMinutes(60 * 50),
      end: inMinutes(60 * 51),
    });
    expect(other.status).toBe(201);
    const page = await web.page();
    await signInByLink(page, 'mia@example.com');
    await page.goto(`${web.url}/app/sessions/${other.body.id as string}`);
    await page.getByRole('alert').filter({ hasText: 'This was not found, or you may not see it.' }).waitFor();
    expect(await page.locator('main').textContent()).not.toContain('{');
  });
});

describe('the calendar feed', { timeout: 120_000 }, () => {
  const feedStatus = (url: string) => fetch(url).then((r) => r.status);

  it(
    'turns on with an address shown once, copies it, replaces it after a confirmation, and turns off',
    { timeout: 240_000 },
    async () => {
      const page = await web.page();
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: web.url });
      await signInByLink(page, 'mia@example.com');
      await page.getByRole('link', { name: 'Calendar feed' }).click();
      await page.getByRole('heading', { level: 1, name: 'Calendar feed' }).waitFor();
      await page.getByRole('button', { name: 'Turn on the feed' }).click();
      const field = page.getByLabel('Your private feed address');
      await field.waitFor();
      const enabledAt = Date.now();
      const first = await field.inputValue();
      expect(first).toMatch(/\/calendar\.ics\?token=/);
      expect(await field.getAttribute('readonly')).not.toBeNull();
      await page.getByText('This address is shown only once.').waitFor();
      expect(await feedStatus(first)).toBe(200);
      await page.getByRole('button', { name: 'Copy the address' }).click();
      await page.getByText('Copied.').waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(first);
      // Nothing of it in the page's address or storage.
      expect(page.url()).not.toContain('token');
      expect(await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))).not.toContain('token=');

      await page.getByRole('button', { name: 'Replace with a new address' }).click();
      await page.getByText('The join links already emailed to you stop working too.').waitFor();
      // The server allows one new address a minute: said as a sentence, and the old address still works.
      await page.getByRole('button', { name: 'Yes, make a new address' }).click();
      const refusal = page.getByRole('alert').filter({ hasText: 'less than a minute ago' });
      await refusal.waitFor();
      expect(await refusal.textContent()).not.toMatch(/[{}]/);
      expect(await feedStatus(first)).toBe(200);
      await page.waitForTimeout(Math.max(0, enabledAt + 61_000 - Date.now()));
      await page.getByRole('button', { name: 'Yes, make a new address' }).click();
      await page.getByText('Here is your new address. The old one no longer works.').waitFor();
      const second = await field.inputValue();
      expect(second).not.toBe(first);
      expect(await feedStatus(first)).toBe(401);
      expect(await feedStatus(second)).toBe(200);

      await page.getByRole('button', { name: 'Turn off the feed' }).click();
      await page.getByText('Your calendar feed is off.').waitFor();
      expect(await field.count()).toBe(0);
      expect(await feedStatus(second)).toBe(401);
    },
  );

  it('falls back to a selected field when the clipboard refuses', async () => {
    const page = await web.page();
    await signInByLink(page, 'mia@example.com');
    await page.goto(`${web.url}/app/feed`);
    await page.evaluate(() => {
      Object.defineProperty(navigator, 'clipboard', {
        value: { writeText: () => Promise.reject(new Error('denied')) },
      });
    });
    await page.getByRole('button', { name: 'Turn on the feed' }).click();
    await page.getByRole('button', { name: 'Copy the address' }).click();
    await page.getByText('This browser would not copy it.').waitFor();
    const selected = await page.evaluate(() => {
      const input = document.activeElement as HTMLInputElement;
      return input.id === 'feed-url' && input.selectionStart === 0 && input.selectionEnd === input.value.length;
    });
    expect(selected).toBe(true);
  });
});

describe('the member pages for everyone', { timeout: 120_000 }, () => {
  for (const [label, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    it(`have nothing serious for axe and no sideways scroll (${label})`, async () => {
      const at = label === 'phone' ? 60 * 30 : 60 * 33;
      const who = label === 'phone' ? 'pia' : 'dia';
      const id = await schedule({ title: `Axe check ${label}`, start: inMinutes(at), end: inMinutes(at + 60) }, who);
      const page = await web.page({ viewport, bypassCSP: true });
      await page.goto(`${web.url}/app/sign-in`);
      await page.getByLabel('Email address').waitFor();
      await expectAccessible(page);
      await noSidewaysScroll(page);
      await signInByLink(page, `${who}@example.com`);
      await page
        .getByRole('listitem')
        .filter({ hasText: `Axe check ${label}` })
        .waitFor();
      await expectAccessible(page);
      await noSidewaysScroll(page);
      await page.getByRole('button', { name: 'Calendar' }).click();
      await page.locator('.fc-view').waitFor();
      await page.locator('.fc-toolbar-title').waitFor();
      await page.waitForTimeout(300); // the week's sessions arrive
      await expectAccessible(page);
      await noSidewaysScroll(page);
      await page.goto(`${web.url}/app/sessions/${id}`);
      await page.getByRole('heading', { level: 1, name: `Axe check ${label}` }).waitFor();
      await page.getByText('Tess Trainer').waitFor();
      await expectAccessible(page);
      await noSidewaysScroll(page);
      await page.goto(`${web.url}/app/feed`);
      await page.getByRole('button', { name: 'Turn on the feed' }).click();
      await page.getByLabel('Your private feed address').waitFor();
      await page.getByRole('button', { name: 'Replace with a new address' }).click();
      await page.getByRole('button', { name: 'Yes, make a new address' }).waitFor();
      await expectAccessible(page);
      await noSidewaysScroll(page);
      await page.goto(`${web.url}/app/me`);
      await page.getByText('The Language menu at the top changes it').waitFor();
      await expectAccessible(page);
      await noSidewaysScroll(page);
    });
  }
});
