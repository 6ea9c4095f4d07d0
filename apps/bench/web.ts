import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { ensureWebApp } from '../web-build.ts';
import type { Metric } from './report.ts';
import { round, summarize } from './stats.ts';
import type { BenchOptions, SuiteResult } from './suite.ts';
import { CHROMIUM, launchChromium, seedTrainerYear, signInThroughPicker, startDemoServer } from './web-demo.ts';

/**
 * Page paint in the real browser: "pages paint in under 1 second on a local server for a trainer with a year of
 * weekly series". The real server (dev mode, SQLite) gets seven weekly series of 52 sessions for one trainer; headless
 * Chromium opens the trainer's schedule (week, then month) and a member's sessions, each as a fresh page load that
 * resumes the session from its cookie, and the figure is the time from navigation start until the sessions are on
 * screen (their links are in the page and two animation frames have passed). Median of a few runs.
 */
const SESSION_LINK = 'main a[href^="/app/sessions/"]';
const PAINT_TIMEOUT = 15_000;

/** Milliseconds since this document's navigation started, once the next frame has been painted. */
const paintedAt = (page: Page): Promise<number> =>
  page.evaluate(
    () =>
      new Promise<number>((resolve) =>
        requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now()))),
      ),
  );

const firstContentfulPaint = (page: Page): Promise<number | undefined> =>
  page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime);

/** A fresh load of `path` until `selector` is on screen: ms from navigation start. */
const loadUntil = async (page: Page, url: string, selector: string): Promise<{ ms: number; fcp?: number }> => {
  await page.goto(url, { waitUntil: 'commit' });
  await page.locator(selector).first().waitFor({ state: 'visible', timeout: PAINT_TIMEOUT });
  return { ms: await paintedAt(page), fcp: await firstContentfulPaint(page) };
};

/** From the month button's click until the month's sessions are on screen. */
const switchToMonth = async (page: Page): Promise<number> => {
  const before = await page.evaluate(() => performance.now());
  await page.locator('.fc-dayGridMonth-button').click();
  await page
    .locator(`.fc-daygrid-body ${SESSION_LINK.replace('main ', '')}`)
    .first()
    .waitFor({ timeout: PAINT_TIMEOUT });
  return (await paintedAt(page)) - before;
};

const target = { op: '<' as const, limit: 1000, text: '< 1000 ms' };

const metric = (id: string, label: string, samples: number[], extra: Record<string, unknown> = {}): Metric => {
  const s = summarize(Float64Array.from(samples));
  return {
    id,
    label,
    value: samples.length === 0 ? Number.POSITIVE_INFINITY : s.p50,
    unit: 'ms',
    target,
    details: { runs: samples.length, samples: samples.map((x) => round(x, 1)), max: round(s.max, 1), ...extra },
  };
};

export const runWeb = async (options: BenchOptions): Promise<SuiteResult> => {
  const { log } = options;
  if (!existsSync(CHROMIUM))
    return {
      metrics: [],
      notes: [`web: no page-paint figures: they need Chromium at ${CHROMIUM} (apt-get install chromium)`],
    };
  if (await ensureWebApp()) log('web: built the app bundle');
  const runs = options.quick ? 3 : 5;
  const server = await startDemoServer('web');
  const browser = await launchChromium();
  const notes: string[] = [];
  try {
    const seeded = performance.now();
    const { series, sessions } = await seedTrainerYear(server);
    log(
      `web: ${series.length} weekly series, ${sessions} sessions for one trainer, in ${(performance.now() - seeded).toFixed(0)} ms`,
    );
    const measure = async (personId: string, path: string, month: boolean) => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
      const page = await context.newPage();
      await signInThroughPicker(page, server.url, personId);
      // One warm-up load (the browser's cache of the bundle, as a returning person has it); then the runs.
      await loadUntil(page, `${server.url}${path}`, SESSION_LINK);
      const loads: number[] = [];
      const fcps: number[] = [];
      const months: number[] = [];
      for (let i = 0; i < runs; i++) {
        const load = await loadUntil(page, `${server.url}${path}`, SESSION_LINK);
        loads.push(load.ms);
        if (load.fcp !== undefined) fcps.push(load.fcp);
        if (month) months.push(await switchToMonth(page));
      }
      await context.close();
      return { loads, fcps, months };
    };
    const metrics: Metric[] = [];
    const schedule = await measure('instructor-1', '/app/schedule', true).catch((error: unknown) => {
      notes.push(`web: the trainer's schedule did not paint its sessions: ${String(error).split('\n')[0]}`);
      return { loads: [], fcps: [], months: [] };
    });
    const fcp = (xs: number[]) => (xs.length > 0 ? round(summarize(Float64Array.from(xs)).p50, 1) : undefined);
    metrics.push(
      metric('web.paint_schedule_ms', 'W trainer schedule (week) painted with its sessions, p50', schedule.loads, {
        fcpP50: fcp(schedule.fcps),
        sessions,
      }),
      metric('web.paint_schedule_month_ms', 'W   switch to month until its sessions are painted, p50', schedule.months),
    );
    const member = await measure('customer-1', '/app/sessions', false).catch((error: unknown) => {
      notes.push(`web: the member's sessions did not paint: ${String(error).split('\n')[0]}`);
      return { loads: [], fcps: [], months: [] };
    });
    metrics.push(
      metric('web.paint_sessions_ms', "W member's sessions painted, p50", member.loads, { fcpP50: fcp(member.fcps) }),
    );
    for (const m of metrics) log(`web: ${m.id} ${Number.isFinite(m.value) ? m.value.toFixed(0) : 'n/a'} ms`);
    notes.push(
      `web: paint = navigation start to the sessions' links on screen (two animation frames later), fresh page loads in headless Chromium resuming the session from its cookie, ${runs} runs after one warm-up; ${sessions} sessions in ${series.length} weekly series`,
    );
    return { metrics, notes };
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
  }
};
