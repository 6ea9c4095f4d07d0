import { describe, expect, it } from 'vitest';
import { parseCalendar } from '../../support/ical.ts';
import { client } from '../../support/system.ts';
import type { Client } from '../../support/system.ts';
import { expectAccessible, missingTranslations, PHONE } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';
import {
  book,
  useCallWeb,
  MEDIA_PERMISSIONS,
  minutes,
  tokenPath,
  waitCallState,
  waitPhase,
  watchProblems,
} from '../../support/call-web.ts';

// The call page's lobby in Chromium (fake camera and microphone) against the real server: how a person gets in (a
// join link from the feed, a legacy token, signing in), what the lobby shows before joining, and the states in which
// there is no call to join (too early, cancelled, over, a remote link).
let web: WebHarness;
let admin: Client;

useCallWeb(async (started, adminClient) => {
  web = started;
  admin = adminClient;
});

const inZone = (iso: string, zone: string) =>
  new Intl.DateTimeFormat('en', { hour: '2-digit', minute: '2-digit', timeZone: zone }).format(new Date(iso));

describe('the call lobby', () => {
  it('opened from the join link of the calendar feed: the link leaves the address bar, the lobby shows the session, the camera and the devices, and nothing joins before Join', async () => {
    const booked = await book(web.ts, admin);
    const feed = await booked.customer.request('POST', '/calendar/feed');
    expect(feed.status, JSON.stringify(feed.body)).toBe(201);
    const ics = await (await fetch(`${web.url}/calendar.ics?token=${encodeURIComponent(feed.body.token)}`)).text();
    const event = parseCalendar(ics)
      .getAllSubcomponents('vevent')
      .find((e) => String(e.getFirstPropertyValue('url')).includes(`meeting=${booked.id}`));
    const link = new URL(String(event?.getFirstPropertyValue('url')));
    expect(link.hash).toMatch(/^#link=jl1\./);

    const page = await web.page({ bypassCSP: true, permissions: MEDIA_PERMISSIONS, timezoneId: 'Asia/Tokyo' });
    const problems = watchProblems(page);
    await page.goto(`${web.url}${link.pathname}${link.search}${link.hash}`);
    await waitPhase(page, 'lobby');
    // The redirect kept the fragment; the page took the link out of the address bar and kept it for this meeting.
    expect(page.url()).toBe(`${web.url}/app/call/${booked.id}`);
    expect(await page.evaluate((id) => sessionStorage.getItem(`oneonone.call.link.${id}`), booked.id)).toBe(
      link.hash.slice('#link='.length),
    );
    expect(await page.locator('h1').textContent()).toBe(booked.title);
    expect(await page.locator('[data-when]').textContent()).toContain('(Asia/Tokyo)');
    expect(await page.title()).toContain(booked.title);

    // The camera preview plays; the lists name the devices (labels come with the permission).
    await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-preview]')?.videoWidth ?? 0) > 0);
    const cameras = await page.locator('select[data-device="camera"] option').allTextContents();
    const mics = await page.locator('select[data-device="mic"] option').allTextContents();
    expect(cameras.length).toBeGreaterThanOrEqual(2);
    expect(mics.length).toBeGreaterThanOrEqual(1);
    expect(cameras.every((label) => label.trim() !== '' && !/^Camera \d+$/.test(label.trim()))).toBe(true);
    expect(await page.locator('[role="meter"]').getAttribute('aria-valuenow')).toMatch(/^\d+$/);
    expect(await page.locator('[data-room]').textContent()).toContain('Your trainer is not here yet.');
    expect(await page.locator('[data-join]').isEnabled()).toBe(true);
    // Joining happens only from the button: nobody is in a call yet.
    expect(web.ts.system.signaling.stats()).toMatchObject({ sockets: 0 });

    // Mic and camera can be turned off before entering.
    await page.locator('[data-toggle="cam"]').click();
    expect(await page.locator('[data-toggle="cam"]').getAttribute('aria-pressed')).toBe('false');
    await page.locator('[data-preview-off]').waitFor();
    await page.locator('[data-toggle="cam"]').click();

    await expectAccessible(page);
    await page.setViewportSize(PHONE);
    await expectAccessible(page);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    // A reload keeps the link (this tab, this meeting).
    await page.reload();
    await waitPhase(page, 'lobby');
    expect(await page.locator('h1').textContent()).toBe(booked.title);
    expect(await missingTranslations(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 120_000);

  it('says when joining opens, in the viewer’s zone, named, and keeps Join off until then', async () => {
    const booked = await book(web.ts, admin, { start: minutes(180), end: minutes(240), timezone: 'Europe/London' });
    const page = await web.page({ bypassCSP: true, permissions: MEDIA_PERMISSIONS, timezoneId: 'Asia/Tokyo' });
    await page.goto(`${web.url}${tokenPath(booked.id, booked.customerToken)}`);
    await waitPhase(page, 'lobby');
    const start = (await admin.request('GET', `/meetings/${booked.id}`)).body.start as string;
    const opens = new Date(Date.parse(start) - 15 * 60_000).toISOString();
    const early = page.locator('[data-lobby-state="early"]');
    await early.waitFor();
    const text = (await early.textContent()) ?? '';
    expect(text).toContain(`Joining opens at`);
    expect(text).toContain(`${inZone(opens, 'Asia/Tokyo')} GMT+9 (Asia/Tokyo)`);
    expect(await page.locator('[data-join]').isDisabled()).toBe(true);
    await expectAccessible(page);
  }, 60_000);

  it('speaks Spanish to a Spanish browser, every word of it', async () => {
    const booked = await book(web.ts, admin);
    const page = await web.page({ permissions: MEDIA_PERMISSIONS, locale: 'es-ES' });
    await page.goto(`${web.url}${tokenPath(booked.id, booked.customerToken)}`);
    await waitPhase(page, 'lobby');
    expect(await page.locator('[data-join]').textContent()).toContain('Unirse a la llamada');
    expect(await page.locator('[data-room]').textContent()).toContain('Tu entrenador todavía no está aquí.');
    expect(await page.locator('[data-toggle="mic"]').textContent()).toContain('Micrófono');
    expect(await missingTranslations(page)).toEqual([]);
  }, 60_000);

  it('shows the reason of a cancelled session and offers no Join', async () => {
    const booked = await book(web.ts, admin);
    expect((await admin.request('POST', `/meetings/${booked.id}/cancel`, { reason: 'coach ill' })).status).toBe(200);
    const page = await web.page({ bypassCSP: true, permissions: MEDIA_PERMISSIONS });
    await page.goto(`${web.url}${tokenPath(booked.id, booked.customerToken)}`);
    await waitPhase(page, 'lobby');
    expect(await page.locator('[data-lobby-state="cancelled"]').textContent()).toContain(
      'This session was cancelled: coach ill',
    );
    expect(await page.locator('[data-join]').count()).toBe(0);
    expect(await page.locator('[data-preview]').count()).toBe(0);
  }, 60_000);

  it('says "Meeting complete" for a session that is over', async () => {
    const booked = await book(web.ts, admin, { start: minutes(-120), end: minutes(-60) });
    const page = await web.page({ bypassCSP: true, permissions: MEDIA_PERMISSIONS });
    await page.goto(`${web.url}${tokenPath(booked.id, booked.instructorToken)}`);
    await waitPhase(page, 'complete');
    expect(await page.locator('[data-complete]').textContent()).toBe('Meeting complete');
  }, 60_000);

  it('renders a hostile title as text and links out, https only and without a referrer, for a remote-link session', async () => {
    const title = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const booked = await book(web.ts, admin, {
      title,
      trainingType: 'link',
      remoteLink: 'https://meet.example/room-7?who=<b>x</b>',
    });
    const page = await web.page({ bypassCSP: true, permissions: MEDIA_PERMISSIONS });
    const problems = watchProblems(page);
    await page.goto(`${web.url}${tokenPath(booked.id, booked.customerToken)}`);
    await waitPhase(page, 'lobby');
    await page.locator('[data-lobby-state="link"]').waitFor();
    expect(await page.locator('h1').textContent()).toBe(title);
    expect(await page.locator('h1 img, h1 script').count()).toBe(0);
    await page.locator('[data-join]').click();
    const out = page.locator('[data-remote-link]');
    await out.waitFor();
    expect(await out.getAttribute('href')).toBe(new URL('https://meet.example/room-7?who=<b>x</b>').href);
    expect(await out.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await page.locator('[data-remote-host]').textContent()).toContain('meet.example');
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.title()).toContain(title);
    expect(problems).toEqual([]);
  }, 60_000);

  it('says plainly that the camera was refused, and still joins to receive only', async () => {
    const booked = await book(web.ts, admin);
    const page = await web.page({ bypassCSP: true });
    await page.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () =>
        Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    });
    await page.goto(`${web.url}${tokenPath(booked.id, booked.customerToken)}`);
    await waitPhase(page, 'lobby');
    const problem = page.locator('[data-media-problem]');
    await problem.waitFor();
    expect(await problem.getAttribute('data-problem')).toBe('denied');
    expect(await problem.textContent()).toContain('You blocked the camera and microphone');
    expect(await problem.textContent()).toContain('they will neither see nor hear you');
    await expectAccessible(page);
    await page.locator('[data-join]').click();
    await waitPhase(page, 'call');
    await waitCallState(page, 'waiting-for-peer');
    expect(web.ts.system.signaling.stats()).toMatchObject({ sockets: 1 });
  }, 60_000);

  it('says the camera is starting while the browser has not answered yet (not that there is none)', async () => {
    const booked = await book(web.ts, admin);
    const page = await web.page();
    await page.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () => new Promise<MediaStream>(() => {});
    });
    await page.goto(`${web.url}${tokenPath(booked.id, booked.customerToken)}`);
    await waitPhase(page, 'lobby');
    const off = page.locator('[data-preview-off]');
    await off.waitFor();
    expect(await off.textContent()).toContain('Starting your camera…');
    expect(await off.textContent()).not.toContain('No camera');
  }, 60_000);

  it('tells a missing device from a busy one', async () => {
    const booked = await book(web.ts, admin);
    for (const [name, problem, words] of [
      ['NotFoundError', 'missing', 'No camera or microphone was found.'],
      ['NotReadableError', 'busy', 'in use by another app or tab'],
    ] as const) {
      const page = await web.page();
      await page.addInitScript((error) => {
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no', error));
      }, name);
      await page.goto(`${web.url}${tokenPath(booked.id, booked.customerToken)}`);
      await waitPhase(page, 'lobby');
      const shown = page.locator('[data-media-problem]');
      await shown.waitFor();
      expect(await shown.getAttribute('data-problem')).toBe(problem);
      expect(await shown.textContent()).toContain(words);
      expect(await page.locator('[data-join]').isEnabled()).toBe(true);
    }
  }, 60_000);

  it('without a link sends a person to sign in and back; signed in, the page gets their own join link', async () => {
    const instructor = `ivan-signin-${process.pid}`;
    await web.ts.people(instructor);
    const created = await admin.request('POST', '/meetings', {
      title: 'Signed-in session',
      customerId: 'customer-2',
      instructorId: instructor,
      start: minutes(-5),
      end: minutes(30),
      timezone: 'UTC',
      trainingType: '1-1',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const page = await web.page({ bypassCSP: true, permissions: MEDIA_PERMISSIONS });
    await page.goto(`${web.url}/app/call/${id}`);
    await page.waitForURL((u) => u.pathname === '/app/sign-in');
    expect(new URL(page.url()).searchParams.get('next')).toBe(`/call/${id}`);
    await page.locator('[data-person-id="customer-2"]').click();
    await page.waitForURL(`${web.url}/app/call/${id}`);
    await waitPhase(page, 'lobby');
    expect(await page.locator('h1').textContent()).toBe('Signed-in session');
    expect(await page.evaluate((m) => sessionStorage.getItem(`oneonone.call.link.${m}`), id)).toMatch(/^jl1\./);
    // The join link opens nothing else: another meeting is not its to read.
    const stored = (await page.evaluate((m) => sessionStorage.getItem(`oneonone.call.link.${m}`), id)) as string;
    expect((await client(web.url, stored).request('GET', '/meetings')).status).toBe(403);
  }, 60_000);
});
