import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { dateFromToday, launchChromium, signInThroughPicker, startDemoServer } from './bench/web-demo.ts';
import type { DemoServer } from './bench/web-demo.ts';
import { ensureWebApp } from './web-build.ts';

/**
 * Screenshots of the web app for the README: the real server in dev mode on a temp data directory, demo data made
 * through the HTTP API, each demo person signed in through the app's dev picker, PNGs written to
 * docs/screenshots/app-*.png. Each page is one entry below (who, where, what to wait for); a page the app does not
 * have (yet) is skipped and named, never shot half-drawn.
 *   npm run screenshots [-- --only=app-audit,app-history]
 */
const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const SESSION_LINK = 'main a[href^="/app/sessions/"]';

interface Demo {
  /** Cora's session that was retitled and moved (its history tells both). */
  readonly changed: string;
  /** Cam's weekly series. */
  readonly series: string;
  /** A session joinable now: its id, and its member (its trainer is instructor-1). */
  readonly live: { readonly id: string; readonly customer: string };
}

/** Browser contexts a shot opened besides its own (the other side of a call), closed after the shot. */
const extraContexts: BrowserContext[] = [];

interface Shot {
  readonly file: string;
  /** The demo person signed in through the picker; '' for a signed-out page. */
  readonly who: string | ((demo: Demo) => string);
  readonly path: (demo: Demo) => string;
  /** Shown once this is on screen. */
  readonly waitFor: string;
  readonly viewport?: { width: number; height: number };
  readonly locale?: string;
  /** Scroll what was waited for into view (a preview below a long form). */
  readonly scroll?: boolean;
  /** Steps on the page before the wait (filling a form). */
  readonly before?: (page: Page, env: ShotEnv) => Promise<void>;
}

interface ShotEnv {
  readonly browser: Browser;
  readonly server: DemoServer;
  readonly demo: Demo;
}

/** The trainer joins the live session from another browser, then the member joins, both chat a little. */
const callWithChat = async (page: Page, env: ShotEnv): Promise<void> => {
  const context = await env.browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
  extraContexts.push(context);
  const trainer = await context.newPage();
  trainer.setDefaultTimeout(30_000);
  await signInThroughPicker(trainer, env.server.url, 'instructor-1');
  await trainer.goto(`${env.server.url}/app/call/${env.demo.live.id}`);
  await trainer.locator('[data-join]:not([disabled])').click();
  await page.locator('[data-room][data-partner-here="true"]').waitFor({ timeout: 30_000 });
  await page.locator('[data-join]:not([disabled])').click();
  await page.locator('[data-status][data-partner="connected"]').waitFor({ timeout: 30_000 });
  await trainer.locator('[data-status][data-partner="connected"]').waitFor({ timeout: 30_000 });
  await trainer.locator('[data-chat-toggle]').click();
  await trainer.locator('#chat-input').fill('Morning! Ready for the warm-up?');
  await trainer.locator('[data-chat-send]').click();
  await page.locator('[data-unread]').waitFor();
  await page.locator('[data-chat-toggle]').click();
  await page.locator('#chat-input').fill('Yes, mat is out. Knee feels better today.');
  await page.locator('[data-chat-send]').click();
  await page.locator('[data-from="me"][data-delivery="delivered"]').waitFor();
  await page.waitForFunction(
    () => (document.querySelector<HTMLVideoElement>('[data-remote-video]')?.videoWidth ?? 0) > 0,
  );
};

const fillSeriesBuilder = async (page: Page): Promise<void> => {
  await page.locator('#series-member').fill('Cor');
  await page.getByRole('option', { name: /Cora Customer/ }).click();
  await page.locator('#series-title').fill('Autumn strength');
  await page.locator('#series-zone').selectOption('America/New_York');
  await page.locator('#series-start').fill('2027-10-19');
  await page.getByLabel('Tuesday').check();
  await page.getByLabel('Thursday').check();
  await page.locator('#series-time').fill('07:00');
  await page.locator('#series-duration').fill('45');
  await page.locator('#series-count').fill('8');
};

export const SHOTS: ReadonlyArray<Shot> = [
  { file: 'app-member-sessions', who: 'customer-1', path: () => '/app/sessions', waitFor: SESSION_LINK },
  {
    file: 'app-member-sessions-phone',
    who: 'customer-1',
    path: () => '/app/sessions',
    waitFor: SESSION_LINK,
    viewport: PHONE,
  },
  { file: 'app-member-session', who: 'customer-1', path: (d) => `/app/sessions/${d.changed}`, waitFor: 'main h1' },
  { file: 'app-trainer-schedule-week', who: 'instructor-1', path: () => '/app/schedule', waitFor: '.fc-event' },
  {
    file: 'app-series-builder',
    who: 'instructor-1',
    path: () => '/app/series/new',
    before: fillSeriesBuilder,
    waitFor: '[data-testid="preview-start"]',
    scroll: true,
  },
  { file: 'app-branch-schedule', who: 'admin-1', path: () => '/app/branch', waitFor: '.fc-event, main table' },
  { file: 'app-people', who: 'admin-1', path: () => '/app/people', waitFor: 'main a[href^="/app/people/"]' },
  { file: 'app-settings', who: 'admin-1', path: () => '/app/settings', waitFor: 'main iframe', scroll: true },
  { file: 'app-notifications', who: 'admin-1', path: () => '/app/notifications', waitFor: 'main table, main li' },
  {
    file: 'app-email-settings',
    who: 'admin-1',
    path: () => '/app/settings',
    waitFor: '#kinds-heading',
    scroll: true,
  },
  { file: 'app-webhooks', who: 'admin-1', path: () => '/app/webhooks', waitFor: '[data-webhook-id]' },
  {
    file: 'app-people-import',
    who: 'admin-1',
    path: () => '/app/people',
    waitFor: '#people-import-title',
    scroll: true,
  },
  { file: 'app-audit', who: 'auditor-1', path: () => '/app/audit', waitFor: '.audit__entry' },
  { file: 'app-audit-phone', who: 'auditor-1', path: () => '/app/audit', waitFor: '.audit__entry', viewport: PHONE },
  {
    file: 'app-history',
    who: 'auditor-1',
    path: (d) => `/app/sessions/${d.changed}/history`,
    waitFor: '.history__item >> nth=2',
  },
  {
    file: 'app-series-history',
    who: 'admin-1',
    path: (d) => `/app/series/${d.series}/history`,
    waitFor: '.history__item >> nth=1',
  },
  {
    file: 'app-member-session-phone',
    who: 'customer-1',
    path: (d) => `/app/sessions/${d.changed}`,
    waitFor: 'main h1',
    viewport: PHONE,
  },
  { file: 'app-member-feed', who: 'customer-1', path: () => '/app/feed', waitFor: 'main h1' },
  {
    file: 'app-trainer-schedule-phone',
    who: 'instructor-1',
    path: () => '/app/schedule',
    waitFor: '.fc-event',
    viewport: PHONE,
  },
  // Signed out (no one to sign in as): the sign-in page with dev mode's demo people.
  { file: 'app-sign-in', who: '', path: () => '/app/sign-in', waitFor: '[data-person-id]' },
  { file: 'app-sign-in-phone', who: '', path: () => '/app/sign-in', waitFor: '[data-person-id]', viewport: PHONE },
  {
    file: 'app-call-lobby',
    who: (d) => d.live.customer,
    path: (d) => `/app/call/${d.live.id}`,
    waitFor: '[data-lobby] [data-join]:not([disabled])',
    before: async (page) => {
      await page.waitForFunction(
        () => (document.querySelector<HTMLVideoElement>('[data-preview]')?.videoWidth ?? 0) > 0,
      );
    },
  },
  {
    file: 'app-call',
    who: (d) => d.live.customer,
    path: (d) => `/app/call/${d.live.id}`,
    before: callWithChat,
    waitFor: '[data-call] [data-chat] [data-from="partner"]',
  },
  {
    file: 'app-member-sessions-es',
    who: 'customer-2',
    path: () => '/app/sessions',
    waitFor: SESSION_LINK,
    locale: 'es-ES',
  },
];

const hour = 3_600_000;
const slot = (days: number, hours: number): { start: string; end: string } => {
  const start = Math.ceil(Date.now() / (24 * hour)) * 24 * hour + days * 24 * hour + hours * hour;
  return { start: new Date(start).toISOString(), end: new Date(start + hour).toISOString() };
};

const ok = (what: string, result: { status: number; body: unknown }, status = 200): unknown => {
  if (result.status !== status) throw new Error(`${what}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
};

/** A few sessions and a series for the demo people, made as the trainer and staff would make them. */
const makeDemo = async (server: DemoServer): Promise<Demo> => {
  const session = (title: string, customerId: string, days: number, hours: number) =>
    server.request('instructor-1', 'POST', '/meetings', {
      title,
      customerId,
      instructorId: 'instructor-1',
      ...slot(days, hours),
      trainingType: '1-1',
      timezone: 'America/New_York',
      description: 'Bring water and a towel.',
    });
  const changed = (ok('session', await session('Strength basics', 'customer-1', 1, 15), 201) as { id: string }).id;
  ok(
    'retitle',
    await server.request('instructor-1', 'PATCH', `/meetings/${changed}`, { title: 'Strength and balance' }),
  );
  ok('move', await server.request('instructor-1', 'PATCH', `/meetings/${changed}`, slot(2, 16)));
  const other = (ok('session', await session('Mobility', 'customer-1', 3, 14), 201) as { id: string }).id;
  ok('confirm', await server.request('instructor-1', 'POST', `/meetings/${other}/confirm`));
  const dropped = (ok('session', await session('Cardio', 'customer-2', 4, 13), 201) as { id: string }).id;
  ok(
    'cancel',
    await server.request('instructor-1', 'POST', `/meetings/${dropped}/cancel`, { reason: 'Member is ill' }),
  );
  const series = ok(
    'series',
    await server.request('admin-1', 'POST', '/series', {
      title: 'Weekly conditioning',
      customerId: 'customer-2',
      instructorId: 'instructor-1',
      trainingType: '1-1',
      timezone: 'Europe/London',
      startDate: dateFromToday(1),
      startTime: '12:00',
      durationMinutes: 45,
      rrule: 'FREQ=WEEKLY;BYDAY=TU,TH;COUNT=12',
    }),
    201,
  ) as { id: string };
  ok('series edit', await server.request('admin-1', 'PATCH', `/series/${series.id}`, { title: 'Conditioning' }));
  ok(
    'webhook',
    await server.request('admin-1', 'POST', '/webhooks', {
      url: 'https://crm.example.com/hooks/coaching',
      events: ['meeting.*', 'series.*', 'attendance.*'],
      description: 'The front desk CRM',
    }),
    201,
  );
  return { changed, series: series.id, live: await liveSession(server) };
};

/**
 * A session of instructor-1 joinable now: Cam's, from a few minutes ago to the next full hour, which is when the
 * seeded "Strength basics" with Cora starts; so close to that hour, that one itself (its joining opens 15 minutes
 * before).
 */
const liveSession = async (server: DemoServer): Promise<Demo['live']> => {
  const now = Date.now();
  const nextHour = Math.ceil(now / hour) * hour;
  if (nextHour - now >= 10 * 60_000) {
    const created = await server.request('instructor-1', 'POST', '/meetings', {
      title: 'Morning mobility',
      customerId: 'customer-2',
      instructorId: 'instructor-1',
      start: new Date(now - 5 * 60_000).toISOString(),
      end: new Date(nextHour).toISOString(),
      trainingType: '1-1',
      timezone: 'Europe/London',
      description: 'Hips and shoulders.',
    });
    return { id: (ok('live session', created, 201) as { id: string }).id, customer: 'customer-2' };
  }
  const range = `from=${new Date(nextHour).toISOString()}&to=${new Date(nextHour + hour).toISOString()}`;
  const listed = ok('calendar', await server.request('instructor-1', 'GET', `/calendar?${range}`)) as {
    items: Array<{ meetingId: string; title: string; start: string }>;
  };
  const seeded = listed.items.find((m) => m.title === 'Strength basics' && Date.parse(m.start) === nextHour);
  if (seeded === undefined) throw new Error('no session to join now');
  return { id: seeded.meetingId, customer: 'customer-1' };
};

const shoot = async (browser: Browser, server: DemoServer, demo: Demo, shot: Shot): Promise<string | undefined> => {
  const who = typeof shot.who === 'string' ? shot.who : shot.who(demo);
  const context = await browser.newContext({ viewport: shot.viewport ?? DESKTOP, locale: shot.locale ?? 'en-US' });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    if (who !== '') await signInThroughPicker(page, server.url, who);
    await page.goto(`${server.url}${shot.path(demo)}`);
    await page.locator('main h1').first().waitFor();
    const heading = await page.locator('main h1').first().innerText();
    if (/There is no page here|Aquí no hay ninguna página/.test(heading)) return 'the app has no such page';
    await shot.before?.(page, { browser, server, demo });
    await page.locator(shot.waitFor).first().waitFor();
    await page.waitForLoadState('networkidle');
    if (shot.scroll === true) await page.locator(shot.waitFor).first().scrollIntoViewIfNeeded();
    // A focus ring where the script last typed or clicked is not part of the picture.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.screenshot({ path: join(OUT, `${shot.file}.png`), fullPage: false });
    return undefined;
  } catch (error) {
    return String(error).split('\n')[0];
  } finally {
    await context.close();
    for (const extra of extraContexts.splice(0)) await extra.close().catch(() => {});
  }
};

const main = async () => {
  const only = process.argv
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  mkdirSync(OUT, { recursive: true });
  await ensureWebApp();
  const server = await startDemoServer('screenshots');
  // A fake camera and microphone (no prompt) for the call's pictures.
  const browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  let failed = 0;
  try {
    const demo = await makeDemo(server);
    for (const shot of SHOTS.filter((s) => only === undefined || only.includes(s.file))) {
      const problem = await shoot(browser, server, demo, shot);
      if (problem !== undefined) failed++;
      process.stdout.write(
        `${problem === undefined ? 'wrote  ' : 'skipped'} docs/screenshots/${shot.file}.png${problem ? `: ${problem}` : ''}\n`,
      );
    }
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
  }
  process.stdout.write(`${failed === 0 ? 'all pages shot' : `${failed} page(s) skipped`}\n`);
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `screenshots failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
