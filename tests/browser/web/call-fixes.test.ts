import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { devClient, WAIT } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import {
  book,
  useCallWeb,
  joinLinkPath,
  MEDIA_PERMISSIONS,
  minutes,
  tokenPath,
  waitPartner,
  waitPhase,
  watchProblems,
} from '../../support/call-web.ts';
import type { Client } from '../../support/system.ts';

// The call page after review: one blocked kind of device leaves the other, the camera goes off when there is nothing
// to join, leaving by navigation asks, the chat gives the focus back, and a join link kept in the tab never acts for
// someone else than the person signed in.
let web: WebHarness;
let admin: Client;
/** A meeting of a dev seed member and the seed trainer, who both sign in with the dev picker. */
let shared: string;
const trainerId = 'instructor-1';

/** Now until the seed's next meeting of either of them (the seed books them around the clock hours). */
const bookShared = async (): Promise<string> => {
  let end = minutes(50);
  for (let round = 0; round < 3; round++) {
    const created = await admin.request('POST', '/meetings', {
      title: 'Shared session',
      customerId: 'customer-2',
      instructorId: trainerId,
      start: minutes(-5),
      end,
      timezone: 'UTC',
      trainingType: '1-1',
    });
    if (created.status === 201) return created.body.id as string;
    expect(created.status, JSON.stringify(created.body)).toBe(409);
    const starts = (created.body.conflicts as Array<{ start: string }>).map((c) => Date.parse(c.start));
    end = new Date(Math.min(...starts)).toISOString();
    expect(Date.parse(end) - Date.now(), 'no free time for the shared meeting').toBeGreaterThan(5 * 60_000);
  }
  throw new Error('no free time for the shared meeting');
};

useCallWeb(async (started, adminClient) => {
  web = started;
  admin = adminClient;
  shared = await bookShared();
});

/** Every track the page is given by getUserMedia, kept in `window.__tracks`; `refuse` fails the asks for a kind. */
const trackMedia = (page: Page, refuse?: { kind: 'video' | 'audio'; error: string }) =>
  page.addInitScript((r) => {
    const tracks: MediaStreamTrack[] = [];
    (window as unknown as { __tracks: MediaStreamTrack[] }).__tracks = tracks;
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
      if (r !== null && constraints?.[r.kind]) throw new DOMException('refused', r.error);
      const stream = await original(constraints);
      tracks.push(...stream.getTracks());
      return stream;
    };
  }, refuse ?? null);

const liveTracks = (page: Page, kind: string) =>
  page.evaluate(
    (k) =>
      (window as unknown as { __tracks: MediaStreamTrack[] }).__tracks.filter(
        (t) => t.kind === k && t.readyState === 'live',
      ).length,
    kind,
  );
const allStopped = (page: Page) =>
  page.waitForFunction(() => {
    const tracks = (window as unknown as { __tracks: MediaStreamTrack[] }).__tracks;
    return tracks.length > 0 && tracks.every((t) => t.readyState === 'ended');
  });
const meterAbove0 = (page: Page, selector: string) =>
  page.waitForFunction((s) => Number(document.querySelector(s)?.getAttribute('aria-valuenow')) > 0, selector, {
    timeout: WAIT,
  });

describe('the call page’s devices', () => {
  it('with only the camera blocked keeps the microphone: said per kind, the camera toggle unavailable, the trainer hears', async () => {
    const booked = await book(web.ts, admin);
    const page = await web.page({ permissions: MEDIA_PERMISSIONS });
    await trackMedia(page, { kind: 'video', error: 'NotAllowedError' });
    // Web Audio starts suspended until a click, as a desktop browser does it (headless Chromium starts it at once).
    await page.addInitScript(() => {
      const Native = window.AudioContext;
      window.AudioContext = class extends Native {
        constructor(options?: AudioContextOptions) {
          super(options);
          void this.suspend();
        }
      };
    });
    const problems = watchProblems(page);
    await page.goto(`${web.url}${await joinLinkPath(booked.customer, booked.id)}`);
    await waitPhase(page, 'lobby');
    const video = page.locator('[data-video-problem]');
    await video.waitFor();
    expect(await video.getAttribute('data-problem')).toBe('denied');
    expect(await video.textContent()).toContain('Your camera is blocked for this site: your trainer cannot see you.');
    expect(await page.locator('[data-audio-problem]').count()).toBe(0);
    expect(await liveTracks(page, 'audio')).toBe(1);
    const cam = page.locator('[data-toggle="cam"]');
    expect(await cam.isDisabled()).toBe(true);
    expect(await cam.textContent()).toContain('unavailable');
    const mic = page.locator('[data-toggle="mic"]');
    expect(await mic.isEnabled()).toBe(true);
    // A click in the lobby wakes Web Audio: the meter follows the (fake, beeping) microphone.
    await page.waitForTimeout(600);
    expect(await page.locator('.lobby__meter [role="meter"]').getAttribute('aria-valuenow')).toBe('0');
    await mic.click();
    await mic.click();
    expect(await mic.getAttribute('aria-pressed')).toBe('true');
    await meterAbove0(page, '.lobby__meter [role="meter"]');

    await page.locator('[data-join]').click();
    await waitPhase(page, 'call');
    const trainer = await web.page({ permissions: MEDIA_PERMISSIONS });
    await trainer.goto(`${web.url}${await joinLinkPath(booked.instructor, booked.id)}`);
    await waitPhase(trainer, 'lobby');
    await trainer.locator('[data-join]').click();
    await Promise.all([waitPartner(page, 'connected'), waitPartner(trainer, 'connected')]);
    // The member's sound reaches the trainer, with no camera: the trainer is told the camera is off, the mic on.
    await meterAbove0(trainer, '[data-tile="remote"] [role="meter"]');
    await trainer.locator('[data-remote-cam-off]').waitFor();
    expect(await trainer.locator('[data-remote-mic-off]').count()).toBe(0);
    expect(problems).toEqual([]);
  }, 120_000);

  it('with no microphone keeps the camera and says the trainer cannot hear', async () => {
    const booked = await book(web.ts, admin);
    const page = await web.page({ permissions: MEDIA_PERMISSIONS });
    await trackMedia(page, { kind: 'audio', error: 'NotFoundError' });
    await page.goto(`${web.url}${tokenPath(booked.id, booked.customerToken)}`);
    await waitPhase(page, 'lobby');
    const audio = page.locator('[data-audio-problem]');
    await audio.waitFor();
    expect(await audio.getAttribute('data-problem')).toBe('missing');
    expect(await audio.textContent()).toContain('No microphone was found: your trainer cannot hear you.');
    expect(await page.locator('[data-video-problem]').count()).toBe(0);
    await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-preview]')?.videoWidth ?? 0) > 0);
    expect(await page.locator('[data-toggle="mic"]').isDisabled()).toBe(true);
    expect(await page.locator('[data-toggle="mic"]').textContent()).toContain('unavailable');
    expect(await page.locator('[data-toggle="cam"]').isEnabled()).toBe(true);

    // While the join is under way the devices stay as they are: no picker, no retry.
    expect(await page.locator('select[data-device="camera"]').isEnabled()).toBe(true);
    let answer: () => void = () => {};
    const held = new Promise<void>((resolve) => (answer = resolve));
    await page.route(`**/meetings/${booked.id}/join`, async (route) => {
      await held;
      await route.continue();
    });
    await page.locator('[data-join]').click();
    await waitPhase(page, 'joining');
    expect(await page.locator('select[data-device="camera"]').isDisabled()).toBe(true);
    expect(await page.locator('select[data-device="mic"]').isDisabled()).toBe(true);
    expect(await page.locator('[data-media-retry]').isDisabled()).toBe(true);
    answer();
    await waitPhase(page, 'call');
  }, 60_000);

  it('lets the camera go when the session is cancelled under the lobby, and when its end passes in the lobby', async () => {
    const cancelled = await book(web.ts, admin);
    const page = await web.page({ permissions: MEDIA_PERMISSIONS });
    await trackMedia(page);
    await page.goto(`${web.url}${tokenPath(cancelled.id, cancelled.customerToken)}`);
    await waitPhase(page, 'lobby');
    await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-preview]')?.videoWidth ?? 0) > 0);
    expect(await liveTracks(page, 'video')).toBe(1);
    const cancel = await admin.request('POST', `/meetings/${cancelled.id}/cancel`, { reason: 'coach ill' });
    expect(cancel.status).toBe(200);
    await page.locator('[data-join]').click();
    await page.locator('[data-lobby-state="cancelled"]').waitFor();
    await allStopped(page);

    const ending = await book(web.ts, admin, { start: minutes(-10), end: new Date(Date.now() + 20_000).toISOString() });
    const late = await web.page({ permissions: MEDIA_PERMISSIONS });
    await trackMedia(late);
    await late.goto(`${web.url}${tokenPath(ending.id, ending.customerToken)}`);
    await waitPhase(late, 'lobby');
    await late.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-preview]')?.videoWidth ?? 0) > 0);
    await waitPhase(late, 'complete');
    await allStopped(late);
  }, 90_000);
});

describe('leaving and the chat', () => {
  it('asks before an in-app navigation during the call (Stay keeps it, Leave goes); the chat closes with Escape, focus back on Chat', async () => {
    const page = await web.page({ permissions: MEDIA_PERMISSIONS });
    await web.signIn(page, 'customer-2');
    await page.goto(`${web.url}/app/call/${shared}`);
    await waitPhase(page, 'lobby');
    await page.locator('[data-join]').click();
    await waitPhase(page, 'call');

    const chatButton = page.locator('[data-chat-toggle]');
    await chatButton.click();
    await page.locator('[data-chat]').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await page.locator('[data-chat]').waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.hasAttribute('data-chat-toggle'))).toBe(true);
    await chatButton.click();
    await page.locator('[data-chat-close]').click();
    await page.locator('[data-chat]').waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.hasAttribute('data-chat-toggle'))).toBe(true);

    const away = page.locator('.app-header nav a').first();
    await away.click();
    await page.locator('[data-leave-dialog][open]').waitFor();
    await page.locator('[data-leave-cancel]').click();
    await page.locator('[data-leave-dialog][open]').waitFor({ state: 'detached' });
    expect(new URL(page.url()).pathname).toBe(`/app/call/${shared}`);
    expect(await page.locator('.call-page').getAttribute('data-phase')).toBe('call');
    expect(web.ts.system.signaling.stats()).toMatchObject({ sockets: 1 });

    await away.click();
    await page.locator('[data-leave-confirm]').click();
    await page.waitForURL((u) => !u.pathname.startsWith('/app/call/'));
    await expect.poll(() => web.ts.system.signaling.stats().sockets, { timeout: WAIT }).toBe(0);
  }, 90_000);
});

describe('the call’s end', () => {
  it('drops the quality line while reconnecting, and says in Spanish that the session was cancelled when the rejoin is refused', async () => {
    const booked = await book(web.ts, admin);
    const member = await web.page({ permissions: MEDIA_PERMISSIONS, locale: 'es-ES' });
    await member.addInitScript(() => {
      const sockets: WebSocket[] = [];
      (window as unknown as { __sockets: WebSocket[] }).__sockets = sockets;
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      } as typeof WebSocket;
    });
    const trainer = await web.page({ permissions: MEDIA_PERMISSIONS });
    for (const [page, who] of [
      [member, booked.customer],
      [trainer, booked.instructor],
    ] as const) {
      await page.goto(`${web.url}${await joinLinkPath(who, booked.id)}`);
      await waitPhase(page, 'lobby');
      await page.locator('[data-join]').click();
      await waitPhase(page, 'call');
    }
    await Promise.all([waitPartner(member, 'connected'), waitPartner(trainer, 'connected')]);
    await member.locator('[data-quality]').waitFor();

    // The member's socket drops; their rejoin reaches the server only after the session was cancelled.
    let cancelled: () => void = () => {};
    const gate = new Promise<void>((resolve) => (cancelled = resolve));
    await member.route(`**/meetings/${booked.id}/join`, async (route) => {
      await gate;
      await route.continue();
    });
    await member.evaluate(() => {
      for (const s of (window as unknown as { __sockets: WebSocket[] }).__sockets) s.close(4000, 'test drop');
    });
    await member.waitForSelector('[data-call][data-call-state="reconnecting"]', { timeout: WAIT });
    expect(await member.locator('[data-quality]').count()).toBe(0);
    expect((await admin.request('POST', `/meetings/${booked.id}/cancel`, { reason: 'estudio cerrado' })).status).toBe(
      200,
    );
    cancelled();
    await waitPhase(member, 'ended');
    await member.locator('[data-notice]', { hasText: 'Esta sesión se canceló: estudio cerrado' }).waitFor();
  }, 120_000);
});

describe('the join link kept in the tab', () => {
  const roomText = (page: Page) => page.locator('[data-room]').textContent();
  const kept = (page: Page) => page.evaluate((m) => sessionStorage.getItem(`oneonone.call.link.${m}`), shared);

  it('is forgotten on sign-out: the next person signed in in the same tab is themself on the call page', async () => {
    const page = await web.page({ permissions: MEDIA_PERMISSIONS });
    await web.signIn(page, 'customer-2');
    await page.goto(`${web.url}/app/call/${shared}`);
    await waitPhase(page, 'lobby');
    expect(await roomText(page)).toContain('Your trainer');
    expect(await kept(page)).toMatch(/^jl1\./);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname === '/app/sign-in');
    expect(await kept(page)).toBeNull();

    await page.locator(`[data-person-id="${trainerId}"]`).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/app/sign-in'));
    await page.goto(`${web.url}/app/call/${shared}`);
    await waitPhase(page, 'lobby');
    expect(await roomText(page)).toContain('Your member');

    // Signed out in another tab of the browser: this tab forgets its link too.
    expect(await kept(page)).toMatch(/^jl1\./);
    const other = await page.context().newPage();
    await other.goto(`${web.url}/app/`);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.waitForURL((u) => u.pathname === '/app/sign-in');
    await expect.poll(() => kept(page), { timeout: WAIT }).toBeNull();
  }, 90_000);

  it('of someone else, crafted into the address while signed in, does not switch who the page acts as', async () => {
    const trainer = await devClient(web.url, trainerId);
    const trainersLink = await joinLinkPath(trainer, shared);
    const page = await web.page({ permissions: MEDIA_PERMISSIONS });
    await web.signIn(page, 'customer-2');
    await page.goto(`${web.url}${trainersLink}`);
    await waitPhase(page, 'lobby');
    expect(await roomText(page)).toContain('Your trainer');
    const mine = await kept(page);
    expect(mine).toMatch(/^jl1\./);
    expect(trainersLink).not.toContain(mine);
  }, 60_000);
});
