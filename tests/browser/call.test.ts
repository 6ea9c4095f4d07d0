import { existsSync, rmSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../apps/config.ts';
import { mintToken } from '../../adapters/http/auth.ts';
import { aMeeting } from '../support/builders.ts';
import { freePort } from '../support/readme.ts';
import { client, putPeople, startTestSystem, tempDir } from '../support/system.ts';
import { parseCalendar } from '../support/ical.ts';
import type { Client, TestSystem } from '../support/system.ts';

// Real Chromium, real server, real WebRTC between two tabs (fake camera and microphone). CI installs Chromium:
//   command -v chromium || (apt-get update && apt-get install -y chromium)
const CHROMIUM = '/usr/bin/chromium';
const WAIT = 60_000;

let ts: TestSystem;
let admin: Client;
let browser: Browser;
const contexts: BrowserContext[] = [];
let people = 0;

// The page uses the signalingUrl of the join answer, which comes from PUBLIC_BASE_URL: the server has to know its
// own port up front, so pick a free one (and retry in the unlikely case someone takes it in between).
const startOnKnownPort = async (
  env: (port: number) => Record<string, string> = (port) => ({ PUBLIC_BASE_URL: `http://127.0.0.1:${port}` }),
): Promise<TestSystem> => {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dataDir = tempDir();
    try {
      return await startTestSystem({
        dataDir,
        env: { PORT: String(port), STUN_URLS: '', ...env(port) },
      });
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true });
      if (attempt < 5 && error instanceof ConfigError && error.message.includes('already in use')) continue;
      throw error;
    }
  }
};

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is required for the browser tests but ${CHROMIUM} does not exist. ` +
        'Install it with: apt-get update && apt-get install -y chromium',
    );
  }
  ts = await startOnKnownPort();
  admin = await ts.as('ada', ['admin']);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: WAIT,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
    ],
  });
}, 120_000);

// Closing the tabs also ends their calls, so no test inherits sockets or peer connections from another.
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => {});
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await ts?.destroy();
}, 60_000);

interface Booked {
  readonly id: string;
  readonly title: string;
  readonly customerToken: string;
  readonly instructorToken: string;
}

const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

/** A meeting between a fresh pair of people, around the real now (the browser has its own clock). */
const meeting = async (overrides: Record<string, unknown> = {}): Promise<Booked> => {
  people += 1;
  const customerId = `cora-${people}`;
  const instructorId = `ivan-${people}`;
  await ts.people(customerId, instructorId);
  const body = aMeeting({
    title: 'Morning mobility',
    customerId,
    instructorId,
    start: minutes(-5),
    end: minutes(55),
    ...overrides,
  });
  const res = await admin.request('POST', '/meetings', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return {
    id: res.body.id as string,
    title: body.title as string,
    customerToken: await ts.token(customerId, ['customer']),
    instructorToken: await ts.token(instructorId, ['instructor']),
  };
};

interface Tab {
  readonly page: Page;
  /** Uncaught exceptions and console errors (CSP violations show up there). */
  readonly problems: string[];
}

const openTab = async (
  path: string,
  before?: (page: Page) => Promise<void>,
  options: { base?: string; context?: Parameters<Browser['newContext']>[0] } = {},
): Promise<Tab> => {
  const context = await browser.newContext(options.context);
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await before?.(page);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(`${options.base ?? ts.url}${path}`);
  return { page, problems };
};

const callPath = (b: Booked, token: string) =>
  `/call?meeting=${encodeURIComponent(b.id)}#token=${encodeURIComponent(token)}`;

const state = (page: Page) => page.locator('#status').getAttribute('data-state');

const waitForState = async (page: Page, expected: string) => {
  try {
    await page.waitForSelector(`#status[data-state="${expected}"]`, { timeout: WAIT });
  } catch (error) {
    const seen = await page
      .locator('#status')
      .textContent()
      .catch(() => '?');
    const message = await page
      .locator('#message')
      .textContent()
      .catch(() => '?');
    throw new Error(`page never reached '${expected}' (at '${await state(page)}': ${seen}; message: ${message})`, {
      cause: error,
    });
  }
};

const remoteVideoPlays = (page: Page) =>
  page.waitForFunction(
    () => {
      const video = document.getElementById('remote-video') as HTMLVideoElement | null;
      return video !== null && video.srcObject !== null && video.videoWidth > 0 && video.videoHeight > 0;
    },
    null,
    { timeout: WAIT },
  );

describe('the call page in Chromium', () => {
  it('opened from the join link in a member’s calendar feed, goes straight to the call without asking for a token', async () => {
    const booked = await meeting();
    const linkFromFeed = async (token: string): Promise<string> => {
      const feed = await client(ts.url, token).request('POST', '/calendar/feed');
      expect(feed.status, JSON.stringify(feed.body)).toBe(201);
      const ics = await (await fetch(`${ts.url}/calendar.ics?token=${encodeURIComponent(feed.body.token)}`)).text();
      const event = parseCalendar(ics)
        .getAllSubcomponents('vevent')
        .find((e) => String(e.getFirstPropertyValue('url')).includes(`meeting=${booked.id}`));
      expect(event, 'the meeting is in the feed').toBeDefined();
      return String(event!.getFirstPropertyValue('url'));
    };
    const customerLink = await linkFromFeed(booked.customerToken);
    expect(customerLink).toMatch(/#link=jl1\./);
    // Nothing but the link: a fresh browser context, no pasted token, no stored one.
    const customer = await openTab(customerLink.slice(ts.system.publicBaseUrl.length));
    await waitForState(customer.page, 'waiting-for-peer');
    expect(await customer.page.locator('#token-box').isVisible()).toBe(false);
    expect(await customer.page.locator('#title').textContent()).toBe(booked.title);
    // The link left the address bar and history at once.
    expect(customer.page.url()).toBe(`${ts.url}/call?meeting=${booked.id}`);

    const instructor = await openTab(
      (await linkFromFeed(booked.instructorToken)).slice(ts.system.publicBaseUrl.length),
    );
    await Promise.all([waitForState(customer.page, 'connected'), waitForState(instructor.page, 'connected')]);
    expect(await customer.page.locator('#remote-label').textContent()).toBe('Your instructor');
    expect(customer.problems).toEqual([]);
    expect(instructor.problems).toEqual([]);
  });

  it('connects customer and instructor over WebRTC through the signaling server, shows video, and rejoins', async () => {
    const booked = await meeting();
    const customer = await openTab(callPath(booked, booked.customerToken));
    const instructor = await openTab(callPath(booked, booked.instructorToken));

    await Promise.all([waitForState(customer.page, 'connected'), waitForState(instructor.page, 'connected')]);
    await Promise.all([remoteVideoPlays(customer.page), remoteVideoPlays(instructor.page)]);
    expect(await customer.page.locator('#status').textContent()).toBe('Connected');
    expect(await instructor.page.locator('#remote-label').textContent()).toBe('Your customer');
    expect(await customer.page.locator('#remote-label').textContent()).toBe('Your instructor');
    expect(await customer.page.locator('#title').textContent()).toBe(booked.title);
    // the token left the address bar (and history) for sessionStorage
    expect(customer.page.url()).not.toContain('token');
    expect(await customer.page.evaluate(() => sessionStorage.getItem('oneonone.call.token'))).toBe(
      booked.customerToken,
    );
    expect(ts.system.signaling.stats()).toMatchObject({ rooms: 1, sockets: 2 });

    await instructor.page.screenshot({ path: '/tmp/call.png' });

    await customer.page.click('#leave');
    await waitForState(customer.page, 'ended');
    expect(await customer.page.locator('#status').textContent()).toBe('You left the call.');
    await waitForState(instructor.page, 'waiting-for-peer');

    // "Join again" asks the server for a fresh ticket and the two connect once more.
    await customer.page.click('#again');
    await Promise.all([waitForState(customer.page, 'connected'), waitForState(instructor.page, 'connected')]);
    await remoteVideoPlays(customer.page);

    expect(customer.problems).toEqual([]);
    expect(instructor.problems).toEqual([]);
  }, 180_000);

  it('ends the call on both pages with the server reason when the meeting is cancelled', async () => {
    const booked = await meeting();
    const customer = await openTab(callPath(booked, booked.customerToken));
    const instructor = await openTab(callPath(booked, booked.instructorToken));
    await Promise.all([waitForState(customer.page, 'connected'), waitForState(instructor.page, 'connected')]);

    const cancelled = await admin.request('POST', `/meetings/${booked.id}/cancel`, { reason: 'studio closed' });
    expect(cancelled.status).toBe(200);
    for (const tab of [customer, instructor]) {
      await waitForState(tab.page, 'ended');
      await tab.page.waitForSelector('#message:not([hidden])');
      expect(await tab.page.locator('#message').textContent()).toBe('the meeting was cancelled');
      expect(
        await tab.page.evaluate(() => (document.getElementById('remote-video') as HTMLVideoElement).srcObject),
      ).toBeNull();
    }
  }, 180_000);

  it("shows the server's reason when a cancelled meeting is opened", async () => {
    const booked = await meeting();
    expect((await admin.request('POST', `/meetings/${booked.id}/cancel`, { reason: 'coach ill' })).status).toBe(200);
    const direct = await fetch(`${ts.url}/meetings/${booked.id}/join`, {
      method: 'POST',
      headers: { authorization: `Bearer ${booked.customerToken}` },
    });
    expect(direct.status).toBe(409);
    const { detail } = (await direct.json()) as { detail: string };

    const { page, problems } = await openTab(callPath(booked, booked.customerToken));
    await waitForState(page, 'refused');
    expect(await page.locator('#message').textContent()).toBe(detail);
    expect(await page.locator('#status').textContent()).toBe('You cannot join this call right now.');
    expect(await page.locator('#call-box').isHidden()).toBe(true);
    expect(problems.filter((p) => !p.includes('409'))).toEqual([]);
  }, 120_000);

  it('leaves the call and says "Meeting complete" when the end of the meeting passes during it', async () => {
    const booked = await meeting();
    // The page's clock is faked (and otherwise runs on) so the end can be reached without waiting an hour.
    const fakeClock = (page: Page) => page.clock.install();
    const customer = await openTab(callPath(booked, booked.customerToken), fakeClock);
    const instructor = await openTab(callPath(booked, booked.instructorToken), fakeClock);
    await Promise.all([waitForState(customer.page, 'connected'), waitForState(instructor.page, 'connected')]);

    await customer.page.clock.fastForward('56:00');
    await waitForState(customer.page, 'complete');
    expect(await customer.page.locator('#status').textContent()).toBe('Meeting complete');
    expect(await customer.page.locator('#call-box').isHidden()).toBe(true);
    expect(
      await customer.page.evaluate(() => (document.getElementById('local-video') as HTMLVideoElement).srcObject),
    ).toBeNull();
    // the customer left the room, so the instructor is alone again
    await waitForState(instructor.page, 'waiting-for-peer');
  }, 180_000);

  it('says "Meeting complete" for a meeting that is over', async () => {
    const booked = await meeting({ start: minutes(-120), end: minutes(-60) });
    const { page } = await openTab(callPath(booked, booked.instructorToken));
    await waitForState(page, 'complete');
    expect(await page.locator('#status').textContent()).toBe('Meeting complete');
  }, 120_000);

  it('renders a hostile meeting title as text, asks for a token when none is given, and links out for link meetings', async () => {
    const title = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const booked = await meeting({
      title,
      trainingType: 'link',
      remoteLink: 'https://meet.example/room-7?who=<b>x</b>',
    });
    const { page, problems } = await openTab(`/call?meeting=${encodeURIComponent(booked.id)}`);

    await waitForState(page, 'token');
    await page.fill('#token-input', booked.customerToken);
    await page.click('#token-form button[type="submit"]');
    await waitForState(page, 'link');

    expect(await page.locator('#title').textContent()).toBe(title);
    expect(await page.locator('#title img, #title script').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.title()).toContain(title);

    const link = page.locator('#link');
    expect(await link.getAttribute('href')).toBe(new URL('https://meet.example/room-7?who=<b>x</b>').href);
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await page.locator('#link-host').textContent()).toBe('meet.example');
    expect(problems).toEqual([]);
  }, 120_000);
});

describe('the call page and the address it is opened at', () => {
  const systems: TestSystem[] = [];
  afterAll(async () => {
    for (const system of systems) await system.destroy();
  }, 60_000);

  /** A bookable pair in the directory and a meeting between them around the real now; tokens for both. */
  const bookOn = async (
    system: TestSystem,
    mint: (sub: string, roles: string[]) => Promise<string>,
    overrides: Record<string, unknown> = {},
  ) => {
    people += 1;
    const customerId = `cora-${people}`;
    const instructorId = `ivan-${people}`;
    const boss = client(system.url, await mint('ada', ['admin']));
    await putPeople(boss, { id: customerId, name: 'Cora Customer' }, { id: instructorId, name: 'Ivan Instructor' });
    const res = await boss.request(
      'POST',
      '/meetings',
      aMeeting({
        title: 'Morning mobility',
        customerId,
        instructorId,
        start: minutes(-5),
        end: minutes(55),
        ...overrides,
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return {
      id: res.body.id as string,
      title: 'Morning mobility',
      customerToken: await mint(customerId, ['customer']),
      instructorToken: await mint(instructorId, ['instructor']),
      start: res.body.start as string,
    };
  };

  // npm start printed http://127.0.0.1:PORT while the socket took only http://localhost:PORT: a call opened at the
  // printed address hung on "Connection lost, reconnecting…". In dev mode every loopback spelling is the same server.
  it('in dev mode, connects a call opened at 127.0.0.1 with one opened at localhost', async () => {
    const dev = await startOnKnownPort(() => ({ AUTH_JWT_SECRET: '', SEED_DEMO: 'false' }));
    systems.push(dev);
    expect(dev.system.devMode).toBe(true);
    const secret = dev.system.jwtSecret;
    if (secret === undefined) throw new Error('dev mode without a secret');
    const mint = (sub: string, roles: string[]) => mintToken(secret, { sub, roles }, 3600);
    const booked = await bookOn(dev, mint);
    const customer = await openTab(callPath(booked, booked.customerToken), undefined, {
      base: `http://127.0.0.1:${dev.system.port}`,
    });
    const instructor = await openTab(callPath(booked, booked.instructorToken), undefined, {
      base: `http://localhost:${dev.system.port}`,
    });
    await Promise.all([waitForState(customer.page, 'connected'), waitForState(instructor.page, 'connected')]);
    // The address the server gives out is one of them.
    expect(dev.system.publicBaseUrl).toBe(`http://localhost:${dev.system.port}`);
    expect(customer.problems).toEqual([]);
    expect(instructor.problems).toEqual([]);
  }, 180_000);

  it('says why, and where to go instead, when the server refuses the address the page was opened at', async () => {
    const strict = await startOnKnownPort((port) => ({
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      ALLOWED_ORIGINS: 'https://app.example.com',
    }));
    systems.push(strict);
    const mint = (sub: string, roles: string[]) => strict.token(sub, roles);
    const booked = await bookOn(strict, mint);
    const { page } = await openTab(callPath(booked, booked.customerToken), undefined, { base: strict.url });
    await waitForState(page, 'origin-refused');
    expect(await page.locator('#status').textContent()).toBe('This address cannot open the call.');
    expect(await page.locator('#message').textContent()).toBe(
      `The server refused the connection from this address (origin ${strict.url} is not allowed). Open this page from https://app.example.com instead.`,
    );
    expect(await page.locator('#again').isVisible()).toBe(true);
  }, 180_000);

  it("tells a caller who is too early when joining opens, in the viewer's own zone, named", async () => {
    const times = { start: minutes(180), end: minutes(240) };
    const booked = await bookOn(ts, (sub, roles) => ts.token(sub, roles), { ...times, timezone: 'Europe/London' });
    const direct = await fetch(`${ts.url}/meetings/${booked.id}/join`, {
      method: 'POST',
      headers: { authorization: `Bearer ${booked.customerToken}` },
    });
    expect(direct.status).toBe(409);
    const { opensAt, detail } = (await direct.json()) as { opensAt: string; detail: string };
    expect(detail).toMatch(
      /^Joining opens (on \d{4}-\d{2}-\d{2} )?at \d{2}:\d{2} \(Europe\/London\), 15 minutes before the start\.$/,
    );

    const zone = 'Asia/Tokyo';
    const { page } = await openTab(callPath(booked, booked.customerToken), undefined, {
      context: { timezoneId: zone, locale: 'en-GB' },
    });
    await waitForState(page, 'refused');
    const opens = new Date(opensAt);
    const inZone = (options: Intl.DateTimeFormatOptions, when: Date) =>
      new Intl.DateTimeFormat('en-GB', { ...options, timeZone: zone }).format(when);
    const day =
      inZone({ dateStyle: 'short' }, opens) === inZone({ dateStyle: 'short' }, new Date())
        ? ''
        : ` on ${inZone({ dateStyle: 'full' }, opens)}`;
    expect(await page.locator('#message').textContent()).toBe(
      `Joining opens${day} at ${inZone({ timeStyle: 'short' }, opens)} (${zone}), 15 minutes before the start.`,
    );
    // The session's own time on the page is in the viewer's zone too, and names it.
    const range = new Intl.DateTimeFormat('en-GB', {
      dateStyle: 'full',
      timeStyle: 'short',
      timeZone: zone,
    }).formatRange(new Date(times.start), new Date(times.end));
    expect(await page.locator('#when').textContent()).toBe(`${range} (${zone})`);
  }, 120_000);
});
