import { rmSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { benchFile, startChild } from './child.ts';
import { benchTempDir, expectStatus, jsonRequest, systemEnv } from './suite.ts';

/**
 * The real server in dev mode (demo people seeded, the dev sign-in on) on a free loopback port, in its own process,
 * with a fresh data directory; and Debian's Chromium driven by playwright-core. The bench's page-paint figures and
 * the screenshot script use it; data is made through the HTTP API with tokens the dev sign-in grants.
 */
export const CHROMIUM = '/usr/bin/chromium';

export interface DemoServer {
  readonly url: string;
  /** An access token of a demo person (`POST /auth/dev-session`, as the sign-in page's picker gets one). */
  token(personId: string): Promise<string>;
  request(personId: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });

export const startDemoServer = async (name: string): Promise<DemoServer> => {
  const dataDir = benchTempDir(name);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChild<{ url: string }>(benchFile('./servers/system.ts'), {
    env: {
      ...systemEnv(dataDir),
      PORT: String(port),
      PUBLIC_BASE_URL: url,
      AUTH_JWT_SECRET: '',
      SEED_DEMO: 'true',
      SIGN_IN_LIMIT_PER_CLIENT: '100000',
    },
  }).catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  const tokens = new Map<string, string>();
  const token = async (personId: string): Promise<string> => {
    const known = tokens.get(personId);
    if (known !== undefined) return known;
    const response = await fetch(`${url}/auth/dev-session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({ personId }),
    });
    if (response.status !== 200)
      throw new Error(`dev sign-in of ${personId}: ${response.status} ${await response.text()}`);
    const grant = (await response.json()) as { accessToken: string };
    tokens.set(personId, grant.accessToken);
    return grant.accessToken;
  };
  return {
    url,
    token,
    request: async (personId, method, path, body) => jsonRequest(`${url}${path}`, method, await token(personId), body),
    stop: async () => {
      await child.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

export const launchChromium = (extraArgs: ReadonlyArray<string> = []): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-sync',
      ...extraArgs,
    ],
  });

/** Signs a page in as a demo person through the app's dev picker, as a person would click it. */
export const signInThroughPicker = async (page: Page, url: string, personId: string): Promise<void> => {
  await page.goto(`${url}/app/sign-in`);
  await page.locator(`[data-person-id="${personId}"]`).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/app/sign-in'));
};

/** A local date `days` from today (UTC), `YYYY-MM-DD`. */
export const dateFromToday = (days: number): string =>
  new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/**
 * A year of weekly series for Ivan (instructor-1): one series a weekday, 52 sessions each, with Cora and Cam in turn,
 * in Ivan's zone; so any week shows sessions and any month some thirty. They start three days from today: the demo's
 * own sessions (within the next 49 hours, on the hour) would otherwise clash with one of them at some times of day.
 */
export const seedTrainerYear = async (server: DemoServer): Promise<{ series: string[]; sessions: number }> => {
  const days = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
  const series: string[] = [];
  let sessions = 0;
  for (const [i, day] of days.entries()) {
    const created = await server.request('admin-1', 'POST', '/series', {
      title: `Weekly training ${day}`,
      customerId: i % 2 === 0 ? 'customer-1' : 'customer-2',
      instructorId: 'instructor-1',
      trainingType: '1-1',
      timezone: 'America/New_York',
      startDate: dateFromToday(3),
      startTime: `${String(8 + 2 * (i % 5)).padStart(2, '0')}:00`,
      durationMinutes: 60,
      rrule: `FREQ=WEEKLY;BYDAY=${day};COUNT=52`,
      description: 'A year of weekly sessions.',
    });
    expectStatus(`POST /series (${day})`, created, 201);
    const body = created.body as { id: string; occurrences?: unknown[] };
    series.push(body.id);
    sessions += body.occurrences?.length ?? 0;
  }
  return { series, sessions };
};
