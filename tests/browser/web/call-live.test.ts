import { rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../apps/config.ts';
import { freePort } from '../../support/readme.ts';
import { startTestSystem, tempDir } from '../../support/system.ts';
import type { Client, TestSystem } from '../../support/system.ts';
import { expectAccessible, missingTranslations, PHONE, WAIT } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import {
  book,
  useCallWeb,
  joinLinkPath,
  MEDIA_PERMISSIONS,
  recordStates,
  remoteFrames,
  remoteVideoPlays,
  statesOf,
  tokenFor,
  tokenPath,
  waitCallState,
  waitPartner,
  waitPhase,
  watchProblems,
} from '../../support/call-web.ts';
import type { Booked } from '../../support/call-web.ts';

// Two people in one call: two browser contexts of one Chromium (fake camera and microphone), real WebRTC through the
// real signaling server. What each side sees of the other (media state, chat, leaving, losing the connection), and
// the call ending by itself (cancelled, over).
let web: WebHarness;
let admin: Client;

useCallWeb(async (started, adminClient) => {
  web = started;
  admin = adminClient;
});

interface Side {
  readonly page: Page;
  readonly problems: string[];
}

const open = async (
  path: string,
  options: { bypassCSP?: boolean; base?: string; before?: (page: Page) => Promise<void> } = {},
): Promise<Side> => {
  const page = await web.page({ permissions: MEDIA_PERMISSIONS, bypassCSP: options.bypassCSP ?? false });
  await recordStates(page.context());
  await options.before?.(page);
  const problems = watchProblems(page);
  await page.goto(`${options.base ?? web.url}${path}`);
  await waitPhase(page, 'lobby');
  return { page, problems };
};

const join = async (side: Side) => {
  await side.page.locator('[data-join]').click();
  await waitPhase(side.page, 'call');
};

/** Both in the call, connected, each seeing the other's video. */
const connectBoth = async (
  booked: Booked,
  options: { bypassCSP?: boolean; before?: (page: Page) => Promise<void> } = {},
) => {
  const customer = await open(await joinLinkPath(booked.customer, booked.id), options);
  const instructor = await open(await joinLinkPath(booked.instructor, booked.id), options);
  await join(customer);
  await join(instructor);
  await Promise.all([waitPartner(customer.page, 'connected'), waitPartner(instructor.page, 'connected')]);
  await Promise.all([remoteVideoPlays(customer.page), remoteVideoPlays(instructor.page)]);
  return { customer, instructor };
};

const framesAdvance = async (page: Page) => {
  const before = await remoteFrames(page);
  await page.waitForFunction((n) => {
    const video = document.querySelector<HTMLVideoElement>('[data-remote-video]');
    return (video?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > n + 10;
  }, before);
};

describe('a call between two browsers', () => {
  it('connects from the lobby with video both ways; each side sees the other turn mic and camera off; meters move', async () => {
    const booked = await book(web.ts, admin);
    const customer = await open(await joinLinkPath(booked.customer, booked.id));
    // The trainer is told who is waiting for them.
    await join(customer);
    const instructor = await open(await joinLinkPath(booked.instructor, booked.id));
    await instructor.page.locator('[data-room][data-partner-here="true"]').waitFor();
    expect(await instructor.page.locator('[data-room]').textContent()).toContain('Your member is here.');
    await join(instructor);
    await Promise.all([waitPartner(customer.page, 'connected'), waitPartner(instructor.page, 'connected')]);
    await Promise.all([remoteVideoPlays(customer.page), remoteVideoPlays(instructor.page)]);
    expect(await customer.page.locator('[data-status]').textContent()).toContain('Connected with your trainer');
    expect(await customer.page.locator('[data-remote-label]').textContent()).toBe('Your trainer');
    expect(await instructor.page.locator('[data-remote-label]').textContent()).toBe('Your member');
    expect(web.ts.system.signaling.stats()).toMatchObject({ rooms: 1, sockets: 2 });

    // The partner's sound reaches the meter on their tile (the fake microphone beeps).
    await instructor.page.waitForFunction(
      () => Number(document.querySelector('[data-tile="remote"] [role="meter"]')?.getAttribute('aria-valuenow')) > 0,
    );

    const mic = customer.page.locator('[data-toggle="mic"]');
    const cam = customer.page.locator('[data-toggle="cam"]');
    expect(await mic.getAttribute('aria-pressed')).toBe('true');
    await mic.click();
    expect(await mic.getAttribute('aria-pressed')).toBe('false');
    await instructor.page.locator('[data-remote-mic-off]').waitFor();
    expect(await instructor.page.locator('[data-remote-mic-off]').textContent()).toContain('Microphone off');
    await cam.click();
    await instructor.page.locator('[data-remote-cam-off]').waitFor();
    expect(await instructor.page.locator('[data-tile="remote"]').textContent()).toContain(
      'Your member turned the camera off',
    );
    await mic.click();
    await cam.click();
    await instructor.page.locator('[data-remote-mic-off]').waitFor({ state: 'detached' });
    await instructor.page.locator('[data-remote-cam-off]').waitFor({ state: 'detached' });

    // The connection's quality, in words.
    await customer.page.locator('[data-quality]').waitFor();
    expect(await customer.page.locator('[data-quality]').getAttribute('data-level')).toMatch(/^(good|fair|poor)$/);
    expect(await customer.page.locator('[data-quality]').textContent()).toMatch(/^Connection: (good|fair|weak)/);
    // Side by side instead of the inset, and the whole call full screen (and back): the pictures with the status,
    // the controls and the chat, so Leave, the toggles and the chat stay at hand.
    const layout = customer.page.locator('[data-layout]');
    await layout.click();
    expect(await layout.getAttribute('aria-pressed')).toBe('true');
    expect(await customer.page.locator('[data-stage]').getAttribute('class')).toContain('stage--side');
    await customer.page.locator('[data-fullscreen]').click();
    await customer.page.waitForFunction(() => document.fullscreenElement?.hasAttribute('data-call') === true);
    expect(
      await customer.page.evaluate(() =>
        [
          '[data-stage]',
          '[data-status]',
          '[data-leave]',
          '[data-toggle="mic"]',
          '[data-chat-toggle]',
          '[data-chat]',
        ].every((s) => document.fullscreenElement?.querySelector(s) !== null),
      ),
    ).toBe(true);
    // The page hears of it by the fullscreenchange event, a moment after the browser went full screen.
    await customer.page.locator('[data-fullscreen][aria-pressed="true"]').waitFor();
    await customer.page.locator('[data-fullscreen-exit]').click();
    await customer.page.waitForFunction(() => document.fullscreenElement === null);

    for (const side of [customer, instructor]) {
      expect(await missingTranslations(side.page)).toEqual([]);
      expect(side.problems).toEqual([]);
    }
  }, 180_000);

  it('chats both ways as text, with unread count, delivery and an announcement; a camera switch keeps the call; axe finds nothing', async () => {
    const booked = await book(web.ts, admin);
    const { customer, instructor } = await connectBoth(booked, { bypassCSP: true });
    const hostile = '<img src=x onerror=alert(1)>';
    await customer.page.locator('[data-chat-toggle]').click();
    await customer.page.locator('#chat-input').fill(hostile);
    expect(await customer.page.locator('[data-chat-count]').textContent()).toContain(
      `${1000 - hostile.length} of 1000`,
    );
    expect(await customer.page.locator('#chat-input').getAttribute('maxlength')).toBe('1000');
    await customer.page.locator('[data-chat-send]').click();
    await customer.page.locator('[data-from="me"][data-delivery="delivered"]').waitFor();

    // Closed chat on the other side: an unread count on its toggle, and the message announced.
    await instructor.page.locator('[data-unread]').waitFor();
    expect(await instructor.page.locator('[data-unread]').textContent()).toBe('1');
    expect(await instructor.page.locator('[data-chat-toggle]').getAttribute('aria-label')).toBe('Chat, 1 unread');
    expect(await instructor.page.locator('[data-chat-announce]').textContent()).toContain(
      `Your member says: ${hostile}`,
    );
    await instructor.page.locator('[data-chat-toggle]').click();
    expect(await instructor.page.locator('[data-unread]').count()).toBe(0);
    const received = instructor.page.locator('[data-from="partner"] [data-chat-text]');
    expect(await received.textContent()).toBe(hostile);
    expect(await instructor.page.locator('[data-chat] img').count()).toBe(0);
    await instructor.page.locator('#chat-input').fill('Welcome! Ready?');
    await instructor.page.keyboard.press('Enter');
    await customer.page.locator('[data-from="partner"] [data-chat-text]', { hasText: 'Welcome! Ready?' }).waitFor();

    await expectAccessible(customer.page);
    await customer.page.setViewportSize(PHONE);
    await expectAccessible(customer.page);
    await customer.page.locator('[data-chat-close]').click();
    await expectAccessible(customer.page);
    expect(await customer.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    // The other camera, mid-call: the trainer keeps receiving video, the call never drops.
    await customer.page.locator('.call-settings summary').click();
    const camera = customer.page.locator('select[data-device="camera"]');
    // Chromium's fake cameras: fake_device_1 delivers a format WebRTC does not encode; fake_device_2 is a usable one.
    const other = await camera
      .locator('option', { hasText: 'fake_device_2' })
      .evaluate((o) => (o as HTMLOptionElement).value);
    expect(await camera.inputValue()).not.toBe(other);
    await camera.selectOption(other);
    await customer.page.waitForFunction(
      (id) =>
        (document.querySelector<HTMLVideoElement>('[data-local-video]')?.srcObject as MediaStream | null)
          ?.getVideoTracks()[0]
          ?.getSettings().deviceId === id,
      other,
    );
    await framesAdvance(instructor.page);
    expect(await instructor.page.locator('[data-status]').getAttribute('data-partner')).toBe('connected');
    expect(await statesOf(instructor.page)).not.toContain('call:connected partner:reconnecting');
  }, 180_000);

  it('asks before leaving (Cancel keeps the call), says "left" to the partner, and joins again', async () => {
    const booked = await book(web.ts, admin);
    const { customer, instructor } = await connectBoth(booked);
    await customer.page.locator('[data-leave]').click();
    const dialog = customer.page.locator('[data-leave-dialog]');
    await dialog.waitFor();
    expect(await dialog.evaluate((d) => (d as HTMLDialogElement).open)).toBe(true);
    await customer.page.locator('[data-leave-cancel]').click();
    expect(await dialog.evaluate((d) => (d as HTMLDialogElement).open)).toBe(false);
    // Escape keeps the call too, and the focus goes back to Leave.
    await customer.page.locator('[data-leave]').click();
    await customer.page.keyboard.press('Escape');
    await customer.page.waitForFunction(
      () => !(document.querySelector('[data-leave-dialog]') as HTMLDialogElement).open,
    );
    expect(await customer.page.evaluate(() => document.activeElement?.hasAttribute('data-leave'))).toBe(true);
    expect(await customer.page.locator('.call-page').getAttribute('data-phase')).toBe('call');
    await framesAdvance(customer.page);

    await customer.page.locator('[data-leave]').click();
    await customer.page.locator('[data-leave-confirm]').click();
    await waitPhase(customer.page, 'left');
    expect(await customer.page.locator('[data-end]').textContent()).toBe('You left the call.');
    await waitPartner(instructor.page, 'left');
    expect(await instructor.page.locator('[data-status]').textContent()).toContain('Your member left the call.');
    expect(
      await customer.page.evaluate(() =>
        Array.from(document.querySelectorAll('video')).every((v) => v.srcObject === null),
      ),
    ).toBe(true);

    // Alone, the trainer's message cannot be delivered: it says so, and goes again once the member is back.
    await instructor.page.locator('[data-chat-toggle]').click();
    await instructor.page.locator('#chat-input').fill('Are you coming back?');
    await instructor.page.locator('[data-chat-send]').click();
    const failed = instructor.page.locator('[data-from="me"][data-delivery="failed"]');
    await failed.waitFor();
    expect(await failed.textContent()).toContain('Not delivered');

    await customer.page.locator('[data-again]').click();
    await Promise.all([waitPartner(customer.page, 'connected'), waitPartner(instructor.page, 'connected')]);
    await remoteVideoPlays(instructor.page);
    await instructor.page.locator('[data-chat-retry]').click();
    await instructor.page.locator('[data-from="me"][data-delivery="delivered"]').waitFor();
    expect(await instructor.page.locator('[data-from="me"]').count()).toBe(1);
    await customer.page.locator('[data-chat-toggle]').click();
    await customer.page
      .locator('[data-from="partner"] [data-chat-text]', { hasText: 'Are you coming back?' })
      .waitFor();
    // The retry went under the same id: shown once, at the time it arrived here.
    expect(await customer.page.locator('[data-from="partner"]').count()).toBe(1);
    const arrived = await customer.page.locator('[data-from="partner"] [data-chat-time]').getAttribute('datetime');
    expect(Math.abs(Date.parse(arrived ?? '') - Date.now())).toBeLessThan(60_000);
  }, 180_000);

  it('when a socket drops: our side says it is reconnecting, the partner is told they lost us (not that we left), and both recover', async () => {
    const booked = await book(web.ts, admin);
    // Every socket the page opens, so the test can cut the customer's.
    const keepSockets = async (page: Page) => {
      await page.addInitScript(() => {
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
    };
    const { customer, instructor } = await connectBoth(booked, { before: keepSockets });
    await customer.page.evaluate(() => {
      for (const s of (window as unknown as { __sockets: WebSocket[] }).__sockets) s.close(4000, 'test drop');
    });
    await Promise.all([waitPartner(customer.page, 'connected'), waitPartner(instructor.page, 'connected')]);
    await remoteVideoPlays(instructor.page);
    await framesAdvance(instructor.page);
    const mine = await statesOf(customer.page);
    const theirs = await statesOf(instructor.page);
    expect(
      mine.some((s) => s.startsWith('call:reconnecting')),
      mine.join(' | '),
    ).toBe(true);
    expect(
      theirs.some((s) => s.endsWith('partner:reconnecting')),
      theirs.join(' | '),
    ).toBe(true);
    expect(
      theirs.some((s) => s.endsWith('partner:left')),
      theirs.join(' | '),
    ).toBe(false);
  }, 180_000);

  it('warns in plain words when the connection gets weak, and stops warning when it recovers', async () => {
    const booked = await book(web.ts, admin);
    // A round trip of 1.2 s on the connection in use, on demand (the network here is a loopback).
    const slowable = async (page: Page) => {
      await page.addInitScript(() => {
        const real = RTCPeerConnection.prototype.getStats;
        RTCPeerConnection.prototype.getStats = async function (this: RTCPeerConnection, ...args: []) {
          const report = await real.apply(this, args);
          if ((window as unknown as { __slow?: boolean }).__slow !== true) return report;
          const copy = new Map<string, unknown>();
          report.forEach((value: Record<string, unknown>, key: string) =>
            copy.set(key, value.type === 'candidate-pair' ? { ...value, currentRoundTripTime: 1.2 } : value),
          );
          return copy as unknown as RTCStatsReport;
        };
      });
    };
    const { customer } = await connectBoth(booked, { before: slowable });
    await customer.page.locator('[data-quality][data-level="good"]').waitFor();
    await customer.page.evaluate(() => ((window as unknown as { __slow: boolean }).__slow = true));
    const warning = customer.page.locator('[data-quality-warning]');
    await warning.waitFor();
    expect(await warning.textContent()).toBe('Your connection is weak: video may freeze.');
    expect(await customer.page.locator('[data-quality]').getAttribute('data-level')).toBe('poor');
    await customer.page.evaluate(() => ((window as unknown as { __slow: boolean }).__slow = false));
    await warning.waitFor({ state: 'detached' });
  }, 180_000);

  it('where the browser refuses sound before a click, plays muted and offers "Turn on sound"', async () => {
    const booked = await book(web.ts, admin);
    // The autoplay policy of a browser that saw no gesture: the first unmuted play() of the remote video is refused.
    const strictAutoplay = async (page: Page) => {
      await page.addInitScript(() => {
        const real = HTMLMediaElement.prototype.play;
        let refused = false;
        HTMLMediaElement.prototype.play = function (this: HTMLMediaElement) {
          if (!refused && !this.muted && this.hasAttribute('data-remote-video')) {
            refused = true;
            return Promise.reject(new DOMException('play() needs a gesture', 'NotAllowedError'));
          }
          return real.call(this);
        };
      });
    };
    const { customer } = await connectBoth(booked, { before: strictAutoplay });
    const sound = customer.page.locator('[data-unmute]');
    await sound.waitFor();
    expect(await sound.textContent()).toContain('Turn on sound');
    expect(await customer.page.locator('[data-remote-video]').evaluate((v) => (v as HTMLVideoElement).muted)).toBe(
      true,
    );
    await sound.click();
    await sound.waitFor({ state: 'detached' });
    expect(await customer.page.locator('[data-remote-video]').evaluate((v) => (v as HTMLVideoElement).muted)).toBe(
      false,
    );
  }, 180_000);

  it('ends on both sides with the reason when the session is cancelled during the call', async () => {
    const booked = await book(web.ts, admin);
    const { customer, instructor } = await connectBoth(booked);
    expect((await admin.request('POST', `/meetings/${booked.id}/cancel`, { reason: 'studio closed' })).status).toBe(
      200,
    );
    for (const side of [customer, instructor]) {
      await waitPhase(side.page, 'ended');
      await side.page.locator('[data-notice]', { hasText: 'This session was cancelled: studio closed' }).waitFor();
      expect(await side.page.locator('video').count()).toBe(0);
    }
  }, 180_000);

  it('says "Meeting complete" and leaves when the end of the session passes during the call', async () => {
    const booked = await book(web.ts, admin);
    const { customer, instructor } = await connectBoth(booked, {
      before: async (page) => void (await page.clock.install()),
    });
    await customer.page.clock.fastForward('56:00');
    await waitPhase(customer.page, 'complete');
    expect(await customer.page.locator('[data-complete]').textContent()).toBe('Meeting complete');
    expect(await customer.page.locator('video').count()).toBe(0);
    await waitPartner(instructor.page, 'left');
  }, 180_000);

  it('in dev mode connects a call opened at 127.0.0.1 with one opened at localhost', async () => {
    const booked = await book(web.ts, admin);
    const port = web.ts.system.port;
    const customer = await open(tokenPath(booked.id, booked.customerToken), { base: `http://127.0.0.1:${port}` });
    const instructor = await open(tokenPath(booked.id, booked.instructorToken), { base: `http://localhost:${port}` });
    await join(customer);
    await join(instructor);
    await Promise.all([waitPartner(customer.page, 'connected'), waitPartner(instructor.page, 'connected')]);
    expect(customer.problems).toEqual([]);
    expect(instructor.problems).toEqual([]);
  }, 180_000);
});

describe('a server that refuses the page’s address', () => {
  let strict: TestSystem | undefined;
  afterAll(async () => {
    await strict?.destroy();
  }, 60_000);

  it('says why, and where to go instead', async () => {
    for (let attempt = 1; strict === undefined; attempt++) {
      const port = await freePort();
      const dataDir = tempDir();
      try {
        strict = await startTestSystem({
          dataDir,
          env: {
            PORT: String(port),
            STUN_URLS: '',
            PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
            ALLOWED_ORIGINS: 'https://app.example.com',
          },
        });
      } catch (error) {
        rmSync(dataDir, { recursive: true, force: true });
        if (!(attempt < 5 && error instanceof ConfigError && error.message.includes('already in use'))) throw error;
      }
    }
    const boss = await strict.as('ada', ['admin']);
    const booked = await book(strict, boss);
    const context = await web.browser.newContext({ permissions: MEDIA_PERMISSIONS });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT);
      await page.goto(`${strict.url}${tokenPath(booked.id, await tokenFor(strict, booked.customerId, ['customer']))}`);
      await waitPhase(page, 'lobby');
      await page.locator('[data-join]').click();
      await waitPhase(page, 'ended');
      expect(await page.locator('[data-notice]').textContent()).toBe(
        `The server refused the connection from this address (origin ${strict.url} is not allowed). Open this page from https://app.example.com instead.`,
      );
      expect(await page.locator('[data-again]').isVisible()).toBe(true);
    } finally {
      await context.close();
    }
  }, 120_000);
});

describe('a server restart during a call', () => {
  let node: TestSystem | undefined;
  afterAll(async () => {
    await node?.destroy();
  }, 60_000);

  it('both sides say they are reconnecting, then connect again by themselves once the server is back', async () => {
    const dataDir = tempDir();
    let env: Record<string, string> = {};
    for (let attempt = 1; node === undefined; attempt++) {
      const port = await freePort();
      env = { PORT: String(port), STUN_URLS: '', PUBLIC_BASE_URL: `http://127.0.0.1:${port}` };
      try {
        node = await startTestSystem({ dataDir, env });
      } catch (error) {
        if (!(attempt < 5 && error instanceof ConfigError && error.message.includes('already in use'))) throw error;
      }
    }
    const boss = await node.as('ada', ['admin']);
    const booked = await book(node, boss);
    const base = node.url;
    const customer = await open(tokenPath(booked.id, await tokenFor(node, booked.customerId, ['customer'])), { base });
    const instructor = await open(tokenPath(booked.id, await tokenFor(node, booked.instructorId, ['instructor'])), {
      base,
    });
    await join(customer);
    await join(instructor);
    await Promise.all([waitPartner(customer.page, 'connected'), waitPartner(instructor.page, 'connected')]);

    // A graceful restart on the same port and data: every socket closes with 1001, the pages try again meanwhile.
    await node.close();
    const reconnecting = (page: Page) =>
      page.waitForFunction(
        () =>
          ((window as unknown as { __states?: string[] }).__states ?? []).some((s) =>
            s.startsWith('call:reconnecting'),
          ),
        undefined,
        { timeout: WAIT },
      );
    await Promise.all([reconnecting(customer.page), reconnecting(instructor.page)]);
    node = await startTestSystem({ dataDir, env });
    await Promise.all([waitCallState(customer.page, 'connected'), waitCallState(instructor.page, 'connected')]);
    await Promise.all([waitPartner(customer.page, 'connected'), waitPartner(instructor.page, 'connected')]);
    await remoteVideoPlays(customer.page);
    expect(await customer.page.locator('[data-status]').textContent()).toContain('Connected with your trainer');
    // While the server is away the browser itself logs each socket and request it could not make (refused, or a 503
    // of the server going down); nothing else may go wrong.
    const outage =
      /^console: (WebSocket connection to '.*' failed: .*|Failed to load resource: .*)(ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|status of 503)/;
    expect(customer.problems.filter((p) => !outage.test(p))).toEqual([]);
    expect(instructor.problems.filter((p) => !outage.test(p))).toEqual([]);
  }, 180_000);
});
