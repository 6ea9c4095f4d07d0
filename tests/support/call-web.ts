import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { mintToken } from '../../adapters/http/auth.ts';
import { aMeeting } from './builders.ts';
import { client } from './system.ts';
import type { Client, TestSystem } from './system.ts';
import { devClient, startWeb, WAIT } from './web.ts';
import type { WebHarness } from './web.ts';

/**
 * The call page's browser tests: Chromium with a fake camera (three of them, to switch) and microphone that need no
 * prompt, real WebRTC between two browser contexts, and meetings between fresh pairs of people around the real now.
 */
export const FAKE_MEDIA = ['--use-fake-device-for-media-stream=device-count=3', '--use-fake-ui-for-media-stream'];
export const MEDIA_PERMISSIONS = ['camera', 'microphone'];

/**
 * A call test file's server and Chromium (fake media): started once before its tests (then `ready` gets them and an
 * admin client), each test's browser contexts closed after it, everything stopped after the file.
 */
export const useCallWeb = (ready: (web: WebHarness, admin: Client) => void | Promise<void>): void => {
  let web: WebHarness | undefined;
  beforeAll(async () => {
    web = await startWeb({ browserArgs: FAKE_MEDIA });
    await ready(web, await devClient(web.url, 'admin-1'));
  }, 120_000);
  afterEach(async () => {
    await web?.closeContexts();
  }, 60_000);
  afterAll(async () => {
    await web?.close();
  }, 60_000);
};

export interface Booked {
  readonly id: string;
  readonly title: string;
  readonly customerId: string;
  readonly instructorId: string;
  readonly customer: Client;
  readonly instructor: Client;
  readonly customerToken: string;
  readonly instructorToken: string;
}

let pairs = 0;

/** A bearer token for a person: the web tests' servers run in dev mode, whose secret the system knows. */
export const tokenFor = (ts: TestSystem, sub: string, roles: string[]): Promise<string> => {
  const secret = ts.system.jwtSecret;
  return secret === undefined ? ts.token(sub, roles) : mintToken(secret, { sub, roles }, 3600);
};
export const minutes = (n: number): string => new Date(Date.now() + n * 60_000).toISOString();

/** A meeting between a fresh customer and trainer (5 minutes ago to 55 from now unless overridden). */
export const book = async (ts: TestSystem, admin: Client, overrides: Record<string, unknown> = {}): Promise<Booked> => {
  pairs += 1;
  const customerId = `cora-${pairs}-${process.pid}`;
  const instructorId = `ivan-${pairs}-${process.pid}`;
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
  const customerToken = await tokenFor(ts, customerId, ['customer']);
  const instructorToken = await tokenFor(ts, instructorId, ['instructor']);
  return {
    id: res.body.id as string,
    title: body.title as string,
    customerId,
    instructorId,
    customer: client(ts.url, customerToken),
    instructor: client(ts.url, instructorToken),
    customerToken,
    instructorToken,
  };
};

/** The person's join link for the meeting, from the join answer (path and fragment on this server). */
export const joinLinkPath = async (who: Client, meetingId: string): Promise<string> => {
  const res = await who.request('POST', `/meetings/${encodeURIComponent(meetingId)}/join`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const link = new URL(res.body.link as string);
  return `${link.pathname}${link.search}${link.hash}`;
};

/** The legacy address with a bearer token in the fragment. */
export const tokenPath = (meetingId: string, token: string): string =>
  `/call?meeting=${encodeURIComponent(meetingId)}#token=${encodeURIComponent(token)}`;

/** Uncaught exceptions and console errors of a page (CSP violations show there), except refused API answers. */
export const watchProblems = (page: Page): string[] => {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (/the server responded with a status of (401|403|404|409)/.test(text)) return;
    problems.push(`console: ${text}`);
  });
  return problems;
};

export const waitPhase = async (page: Page, phase: string): Promise<void> => {
  try {
    await page.waitForSelector(`.call-page[data-phase="${phase}"]`, { timeout: WAIT });
  } catch (error) {
    const seen = await page
      .locator('.call-page')
      .getAttribute('data-phase')
      .catch(() => '?');
    const text = await page
      .locator('main')
      .innerText()
      .catch(() => '?');
    throw new Error(`never reached phase '${phase}' (at '${seen}'): ${text}`, { cause: error });
  }
};

export const waitCallState = (page: Page, state: string) =>
  page.waitForSelector(`[data-call][data-call-state="${state}"]`, { timeout: WAIT });

export const waitPartner = (page: Page, partner: string) =>
  page.waitForSelector(`[data-status][data-partner="${partner}"]`, { timeout: WAIT });

/** The remote video shows pictures. */
export const remoteVideoPlays = (page: Page) =>
  page.waitForFunction(
    () => {
      const video = document.querySelector<HTMLVideoElement>('[data-remote-video]');
      return video !== null && video.srcObject !== null && video.videoWidth > 0 && video.currentTime > 0;
    },
    null,
    { timeout: WAIT },
  );

/** Frames the remote video has shown so far. */
export const remoteFrames = (page: Page): Promise<number> =>
  page.evaluate(
    () =>
      document.querySelector<HTMLVideoElement>('[data-remote-video]')?.getVideoPlaybackQuality().totalVideoFrames ?? 0,
  );

/** Records every value the call's state and the partner's state take (sampled every 25 ms, so brief ones too). */
export const recordStates = (context: BrowserContext) =>
  context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __states: string[] }).__states = seen;
    let last = '';
    setInterval(() => {
      const call = document.querySelector('[data-call]')?.getAttribute('data-call-state') ?? '-';
      const partner = document.querySelector('[data-status]')?.getAttribute('data-partner') ?? '-';
      const now = `call:${call} partner:${partner}`;
      if (now !== last) seen.push(now);
      last = now;
    }, 25);
  });

export const statesOf = (page: Page): Promise<string[]> =>
  page.evaluate(() => [...((window as unknown as { __states?: string[] }).__states ?? [])]);
