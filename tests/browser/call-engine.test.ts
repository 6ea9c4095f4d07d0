import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import type { Rollup } from 'vite';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../apps/bench/web-demo.ts';
import { CHROMIUM, WAIT } from '../support/web.ts';
import { CUSTOMER, INSTRUCTOR, MEETING, startHarness } from '../adapters/signaling/harness.ts';
import type { Harness } from '../adapters/signaling/harness.ts';
import type { CallRole } from '../../application/calls.ts';

// The call engine in a real Chromium with real simple-peer and WebRTC (fake camera and microphone), two pages
// through the real signaling server: what the Node tests fake (data channel bytes, ICE, stats, replaceTrack, the bye
// getting out before the peer connection closes) done by the browser. The call page itself is tested elsewhere.
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

let browser: Browser;
let harness: Harness;
let pages: http.Server;
let origin: string;

const PAGE = `<!doctype html><html lang="en"><head><title>engine</title>
<script src="/simplepeer.min.js"></script><script type="module" src="/run.js"></script></head>
<body><video id="remote" muted autoplay playsinline></video></body></html>`;

// Runs in the page: starts a call and records everything the engine reports on window.rec.
const RUN = `
import { startCall } from '/engine.js';
window.startEngine = async (join, receiveOnly) => {
  const local = receiveOnly ? undefined : await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const rec = { states: [], partner: [], media: [], chats: [], deliveries: [], quality: [], logs: [], errors: [] };
  window.rec = rec;
  window.local = local;
  window.call = startCall({
    join, SimplePeer: window.SimplePeer, ...(local ? { localStream: local } : {}), statsIntervalMs: 300,
    log: (...args) => rec.logs.push(args.map(String).join(' ')),
    onState: (s) => rec.states.push(s),
    onPartner: (p) => rec.partner.push(p),
    onRemoteMedia: (m) => rec.media.push(m),
    onChat: (m) => rec.chats.push(m),
    onChatDelivery: (id, d) => rec.deliveries.push([id, d]),
    onQuality: (q) => rec.quality.push(q),
    onError: (e) => rec.errors.push(e.code),
    onRemoteStream: (s) => { const v = document.getElementById('remote'); v.srcObject = s; if (s) void v.play(); },
  });
};
window.frames = () => document.getElementById('remote').getVideoPlaybackQuality().totalVideoFrames;
`;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required for the browser tests but ${CHROMIUM} is missing`);
  // The engine alone, bundled by the web app's own build tool (no Vue, no app around it).
  const built = await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: false,
      target: 'es2022',
      lib: {
        entry: join(here, '../../adapters/web/src/features/call/engine/call.ts'),
        formats: ['es'],
        fileName: 'engine',
      },
    },
  });
  const output = (Array.isArray(built) ? built[0] : built) as Rollup.RollupOutput;
  const engine = output.output.find((file): file is Rollup.OutputChunk => file.type === 'chunk')?.code ?? '';
  const simplePeer = await readFile(join(dirname(require.resolve('simple-peer/package.json')), 'simplepeer.min.js'));
  const files: Record<string, [string, string | Buffer]> = {
    '/': ['text/html', PAGE],
    '/engine.js': ['text/javascript', engine],
    '/run.js': ['text/javascript', RUN],
    '/simplepeer.min.js': ['text/javascript', simplePeer],
  };
  pages = http.createServer((req, res) => {
    const file = files[req.url ?? ''];
    res.writeHead(file ? 200 : 404, { 'content-type': file ? file[0] : 'text/plain' }).end(file ? file[1] : '');
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  harness = await startHarness({ allowedOrigins: [origin] });
  browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await new Promise<void>((resolve) => (pages ? pages.close(() => resolve()) : resolve()));
}, 60_000);

interface Recorded {
  states: string[];
  partner: string[];
  media: Array<{ mic: boolean; cam: boolean }>;
  chats: Array<{ id: string; text: string; from: string }>;
  deliveries: Array<[string, string]>;
  quality: Array<{ rttMs: number | null; lossPct: number | null; level: string }>;
  logs: string[];
  errors: string[];
}

const rec = (page: Page): Promise<Recorded> => page.evaluate(() => (window as unknown as { rec: Recorded }).rec);

const open = async (userId: string, role: CallRole, receiveOnly = false): Promise<Page> => {
  const context = await browser.newContext();
  await context.grantPermissions(['camera', 'microphone'], { origin });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => 'startEngine' in window);
  const join = {
    signalingUrl: harness.url,
    ticket: harness.ticket(userId, MEETING, role),
    iceServers: [],
    role,
    debugLevel: 1,
  };
  await page.evaluate(
    ([j, r]) => (window as unknown as { startEngine(j: unknown, r: boolean): Promise<void> }).startEngine(j, r),
    [join, receiveOnly] as const,
  );
  return page;
};

const until = async (page: Page, check: (r: Recorded) => boolean, what: string): Promise<Recorded> => {
  const end = Date.now() + WAIT;
  for (;;) {
    const r = await rec(page);
    if (check(r)) return r;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify({ ...r, logs: [] })}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const framesOf = (page: Page): Promise<number> =>
  page.evaluate(() => (window as unknown as { frames(): number }).frames());

describe('the call engine in Chromium over real WebRTC', () => {
  it('connects, tells mic and camera, chats both ways, samples quality, keeps video across a camera switch, and says bye', async () => {
    const customer = await open(CUSTOMER, 'customer');
    const instructor = await open(INSTRUCTOR, 'instructor');
    for (const page of [customer, instructor]) {
      await until(page, (r) => r.states.at(-1) === 'connected' && r.partner.at(-1) === 'connected', 'connected');
      await until(page, (r) => r.media.length > 0, 'the partner media');
    }
    expect((await rec(customer)).media[0]).toEqual({ mic: true, cam: true });

    await customer.evaluate(() =>
      (window as unknown as { call: { setMedia(m: object): void } }).call.setMedia({ cam: false }),
    );
    await until(instructor, (r) => r.media.at(-1)?.cam === false, 'camera off told');
    expect((await rec(instructor)).media.at(-1)).toEqual({ mic: true, cam: false });

    const hostile = '<img src=x onerror=alert(1)> ¿qué tal? 💪';
    type Chat = { sendChat(t: string): { ok: boolean; message?: { id: string } } };
    const sent = await customer.evaluate((t) => (window as unknown as { call: Chat }).call.sendChat(t), hostile);
    expect(sent.ok).toBe(true);
    await until(customer, (r) => r.deliveries.some(([id, d]) => id === sent.message!.id && d === 'delivered'), 'ack');
    const got = await until(instructor, (r) => r.chats.length === 1, 'the chat');
    expect(got.chats[0]).toMatchObject({ id: sent.message!.id, text: hostile, from: 'partner' });
    await instructor.evaluate(() => (window as unknown as { call: Chat }).call.sendChat('Hola'));
    await until(customer, (r) => r.chats.some((c) => c.text === 'Hola'), 'the answer');

    const q = await until(customer, (r) => r.quality.some((x) => x.rttMs !== null), 'a round trip');
    expect(q.quality.find((x) => x.rttMs !== null)!.level).toMatch(/^(good|fair|poor)$/);

    // a new camera track in place of the old: the call stays, the partner's video keeps coming
    await customer.evaluate(async () => {
      const w = window as unknown as {
        call: { replaceTrack(t: MediaStreamTrack): Promise<void>; setMedia(m: object): void };
        local: MediaStream;
      };
      w.call.setMedia({ cam: true });
      const fresh = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
      const old = w.local.getVideoTracks()[0]!;
      await w.call.replaceTrack(fresh.getVideoTracks()[0]!);
      if (old.readyState !== 'ended') throw new Error('the old track still runs');
      if (w.local.getVideoTracks()[0] !== fresh.getVideoTracks()[0]) throw new Error('not in the stream');
    });
    const before = await framesOf(instructor);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await framesOf(instructor)).toBeGreaterThan(before);
    expect((await rec(customer)).states.at(-1)).toBe('connected');

    await customer.evaluate(() => (window as unknown as { call: { leave(): void } }).call.leave());
    const after = await until(instructor, (r) => r.partner.at(-1) === 'left', 'left');
    // the bye arrived before the connection went: never "lost the connection" in between
    expect(after.partner.slice(after.partner.lastIndexOf('connected'))).toEqual(['connected', 'left']);
    await until(instructor, (r) => r.states.at(-1) === 'waiting-for-peer', 'waiting again');

    // real SDP and candidates went through; none of it, nor an address, reached the debug output
    for (const page of [customer, instructor]) {
      const { logs, errors } = await rec(page);
      expect(errors).toEqual([]);
      const text = logs.join('\n');
      expect(text).toContain('[call] state connecting-peer -> connected');
      expect(text).toMatch(/\[call\] route local (host|srflx|prflx|relay)\/(udp|tcp) remote /);
      expect(text).toMatch(/\[call\] quality (good|fair|poor|unknown) rtt ms/);
      expect(text).not.toMatch(/\d+\.\d+\.\d+\.\d+|[0-9a-f-]{36}\.local|sdp|a=candidate|candidate:|IN IP4|ticket/i);
      // every signal simple-peer sent passed the engine's allow-list
      expect(text).not.toContain('dropped remote signal');
    }
  }, 120_000);

  // The offer of an initiator without camera or microphone has no place for the other side's tracks: simple-peer's
  // non-initiator asks for them with a transceiverRequest, which the allow-list lets through (once per kind).
  it("a receive-only initiator still gets the partner's video (simple-peer's transceiver requests pass)", async () => {
    const instructor = await open(INSTRUCTOR, 'instructor', true);
    const customer = await open(CUSTOMER, 'customer');
    for (const page of [customer, instructor]) {
      await until(page, (r) => r.states.at(-1) === 'connected' && r.partner.at(-1) === 'connected', 'connected');
    }
    const end = Date.now() + WAIT;
    while ((await framesOf(instructor)) === 0 && Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const before = await framesOf(instructor);
    expect(before).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await framesOf(instructor)).toBeGreaterThan(before);
    const logs = (await rec(instructor)).logs.join('\n');
    expect(logs).toContain('[call] remote signal transceiverRequest');
    expect(logs).not.toContain('dropped remote signal');
    for (const page of [customer, instructor]) {
      await page.evaluate(() => (window as unknown as { call: { leave(): void } }).call.leave());
    }
  }, 120_000);
});
