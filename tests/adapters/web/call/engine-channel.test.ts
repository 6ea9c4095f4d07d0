import { afterEach, describe, expect, it } from 'vitest';
import { CHAT_MAX_LENGTH } from '../../../../adapters/web/src/features/call/engine/call.ts';
import { FakeStream, FakeTrack, eventually, link, pair, sleep, startSide } from './fakes.ts';
import type { Side } from './fakes.ts';

const sides: Side[] = [];
const side = (...args: Parameters<typeof startSide>): Side => {
  const s = startSide(...args);
  sides.push(s);
  return s;
};
afterEach(() => {
  for (const s of sides.splice(0)) s.call.leave();
});

const HOSTILE = '<img src=x onerror=alert(1)> & "quotes" \'single\'';

describe('call engine: mic and camera over the data channel', () => {
  it('applies the initial media to the tracks, tells the partner on connect and on every change', async () => {
    const mic = new FakeTrack('audio', 'mic');
    const cam = new FakeTrack('video', 'cam');
    const a = side({ localStream: new FakeStream([mic, cam]), media: { mic: false, cam: true } });
    const b = side();
    expect([mic.enabled, cam.enabled]).toEqual([false, true]);
    await pair(a, b);
    expect(a.peer().frames()).toEqual([{ v: 1, type: 'media', mic: false, cam: true }]);
    // b has no tracks: it says both are off
    expect(b.peer().frames()).toEqual([{ v: 1, type: 'media', mic: false, cam: false }]);
    await eventually(() => expect(b.remoteMedia).toEqual([{ mic: false, cam: true }]));
    expect(a.remoteMedia).toEqual([{ mic: false, cam: false }]);

    a.call.setMedia({ mic: true });
    expect([mic.enabled, cam.enabled]).toEqual([true, true]);
    a.call.setMedia({ cam: false });
    expect([mic.enabled, cam.enabled]).toEqual([true, false]);
    await eventually(() =>
      expect(b.remoteMedia).toEqual([
        { mic: false, cam: true },
        { mic: true, cam: true },
        { mic: true, cam: false },
      ]),
    );
  });

  it('sends the media again on every new connection, and changes made before one are kept', async () => {
    const mic = new FakeTrack('audio', 'mic');
    const a = side({ localStream: new FakeStream([mic]) });
    const b = side();
    a.call.setMedia({ mic: false });
    expect(mic.enabled).toBe(false);
    await pair(a, b);
    expect(a.peer().frames()).toEqual([{ v: 1, type: 'media', mic: false, cam: false }]);
    a.socket().receive({ type: 'peer-left', peerId: 'b' });
    b.socket().receive({ type: 'peer-joined', peer: { peerId: 'a' }, connectionId: 'c2', initiator: false });
    a.socket().receive({ type: 'peer-joined', peer: { peerId: 'b' }, connectionId: 'c2', initiator: true });
    link(a.peer(), b.peer());
    expect(a.peers).toHaveLength(2);
    expect(a.peer().frames()).toEqual([{ v: 1, type: 'media', mic: false, cam: false }]);
  });
});

describe('call engine: media without an initial state', () => {
  it('leaves the tracks as they are and tells what they say', async () => {
    const mic = new FakeTrack('audio', 'mic');
    mic.enabled = false;
    const cam = new FakeTrack('video', 'cam');
    const a = side({ localStream: new FakeStream([mic, cam]) });
    const b = side();
    expect([mic.enabled, cam.enabled]).toEqual([false, true]);
    await pair(a, b);
    expect(a.peer().frames()).toEqual([{ v: 1, type: 'media', mic: false, cam: true }]);
  });
});

describe('call engine: chat', () => {
  it('sends a message as text, reports sending then delivered, and the partner gets it once', async () => {
    const a = side();
    const b = side();
    await pair(a, b);
    expect(a.call.sendChat('   ')).toEqual({ ok: false, reason: 'empty' });
    expect(a.call.sendChat('x'.repeat(CHAT_MAX_LENGTH + 1))).toEqual({ ok: false, reason: 'too_long' });
    expect(a.call.sendChat(`  ${'x'.repeat(CHAT_MAX_LENGTH)}  `).ok).toBe(true);
    const sent = a.call.sendChat(`  ${HOSTILE}\r\n `);
    if (!sent.ok) throw new Error('refused');
    expect(sent.message).toMatchObject({ text: HOSTILE, from: 'me' });
    expect(sent.message.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(sent.message.sentAt)).toBeGreaterThan(Date.now() - 5000);
    // nothing is reported before sendChat returns
    expect(a.deliveries.filter(([id]) => id === sent.message.id)).toEqual([]);
    await eventually(() =>
      expect(a.deliveries.filter(([id]) => id === sent.message.id)).toEqual([
        [sent.message.id, 'sending'],
        [sent.message.id, 'delivered'],
      ]),
    );
    const received = b.chats.at(-1)!;
    expect(received).toEqual({ ...sent.message, from: 'partner', receivedAt: received.receivedAt });
    // the partner's message says when it came here, by this side's clock
    expect(Date.parse(received.receivedAt!)).toBeGreaterThanOrEqual(Date.parse(sent.message.sentAt));
    expect(Date.parse(received.receivedAt!)).toBeLessThanOrEqual(Date.now());
    expect(b.chats).toHaveLength(2);

    // the same frame again (a retry whose ack was lost): acked again, not shown twice
    const frame = a.peer().sent.find((f) => f.includes(sent.message.id))!;
    b.peer().emit('data', Buffer.from(frame));
    await sleep(20);
    expect(b.chats).toHaveLength(2);
    expect(
      b
        .peer()
        .frames()
        .filter((f) => f.type === 'chat-ack' && f.id === sent.message.id),
    ).toHaveLength(2);
    expect(a.deliveries.filter(([id]) => id === sent.message.id)).toHaveLength(2);
  });

  it('sends nothing after leaving: a message typed just before fails, the bye is the last frame', async () => {
    const a = side();
    const b = side();
    await pair(a, b);
    const sent = a.call.sendChat('one more thing');
    if (!sent.ok) throw new Error('refused');
    a.call.leave();
    a.call.setMedia({ mic: false });
    await eventually(() => expect(a.deliveries.at(-1)).toEqual([sent.message.id, 'failed']));
    expect(
      a
        .peer()
        .frames()
        .map((f) => f.type),
    ).toEqual(['media', 'bye']);
    await sleep(20);
    expect(b.chats).toEqual([]);
  });

  it('reports failed without an open data channel', async () => {
    const a = side();
    const sent = a.call.sendChat('hello');
    if (!sent.ok) throw new Error('refused');
    await eventually(() =>
      expect(a.deliveries).toEqual([
        [sent.message.id, 'sending'],
        [sent.message.id, 'failed'],
      ]),
    );
  });

  it('reports failed when no ack comes in time, and delivered after all when a late one does', async () => {
    const a = side();
    const b = side();
    await pair(a, b);
    const bPeer = b.peer();
    bPeer.removeAllListeners('data'); // b's engine never sees the frame: no ack
    const sent = a.call.sendChat('anyone there?');
    if (!sent.ok) throw new Error('refused');
    await sleep(100);
    expect(a.deliveries).toEqual([[sent.message.id, 'sending']]);
    await eventually(() => expect(a.deliveries.at(-1)).toEqual([sent.message.id, 'failed']));
    a.peer().emit('data', JSON.stringify({ v: 1, type: 'chat-ack', id: sent.message.id }));
    expect(a.deliveries.at(-1)).toEqual([sent.message.id, 'delivered']);
    // an ack for nothing of mine changes nothing
    a.peer().emit('data', JSON.stringify({ v: 1, type: 'chat-ack', id: 'not-mine' }));
    expect(a.deliveries).toHaveLength(3);
  });

  it('a retry of a failed message goes out under the same id: the partner shows it once and acks it', async () => {
    const a = side();
    const b = side();
    await pair(a, b);
    // the first attempt reaches b, but its ack is lost on the way back
    const aPeer = a.peer();
    const listeners = aPeer.listeners('data');
    aPeer.removeAllListeners('data');
    const first = a.call.sendChat('did you get this?');
    if (!first.ok) throw new Error('refused');
    const id = first.message.id;
    await eventually(() => expect(b.chats).toHaveLength(1));
    await eventually(() => expect(a.deliveries.at(-1)).toEqual([id, 'failed']));
    for (const l of listeners) aPeer.on('data', l as (data: unknown) => void);

    const retry = a.call.sendChat('did you get this?', { id });
    if (!retry.ok) throw new Error('refused');
    expect(retry.message).toMatchObject({ id, text: 'did you get this?', from: 'me' });
    await eventually(() => expect(a.deliveries.at(-1)).toEqual([id, 'delivered']));
    expect(a.deliveries).toEqual([
      [id, 'sending'],
      [id, 'failed'],
      [id, 'sending'],
      [id, 'delivered'],
    ]);
    expect(
      aPeer
        .frames()
        .filter((f) => f.type === 'chat')
        .map((f) => f.id),
    ).toEqual([id, id]);
    await sleep(20);
    expect(b.chats.map((m) => m.id)).toEqual([id]);
    // a fresh message still gets a fresh id
    const other = a.call.sendChat('and this?');
    expect(other.ok && other.message.id !== id).toBe(true);
  });

  it('a retry id must be a chat id', async () => {
    const a = side();
    expect(() => a.call.sendChat('hi', { id: '' })).toThrow(TypeError);
    expect(() => a.call.sendChat('hi', { id: 'x'.repeat(65) })).toThrow(TypeError);
    expect(() => a.call.sendChat('hi', { id: '<script>' })).toThrow(TypeError);
    await sleep(10);
    expect(a.deliveries).toEqual([]);
  });

  it('reports failed when the data channel closes before the ack', async () => {
    const a = side();
    const b = side();
    await pair(a, b);
    b.peer().removeAllListeners('data');
    const sent = a.call.sendChat('bye soon');
    if (!sent.ok) throw new Error('refused');
    await eventually(() => expect(a.deliveries).toEqual([[sent.message.id, 'sending']]));
    a.peer().emit('close');
    expect(a.deliveries).toEqual([
      [sent.message.id, 'sending'],
      [sent.message.id, 'failed'],
    ]);
  });

  it('bounds the messages waiting for an ack: beyond 50 they fail at once', async () => {
    const a = side({ chatAckTimeoutMs: 5000 });
    const b = side();
    await pair(a, b);
    b.peer().removeAllListeners('data');
    const ids = Array.from({ length: 51 }, (_, i) => {
      const r = a.call.sendChat(`message ${i}`);
      if (!r.ok) throw new Error('refused');
      return r.message.id;
    });
    await sleep(10);
    const failed = a.deliveries.filter(([, d]) => d === 'failed').map(([id]) => id);
    expect(failed).toEqual([ids[50]]);
    expect(
      a
        .peer()
        .frames()
        .filter((f) => f.type === 'chat'),
    ).toHaveLength(50);
  });

  it("bounds the partner's messages: beyond 30 in 10 s they are dropped unacked", async () => {
    const a = side();
    const b = side();
    await pair(a, b);
    const sentAt = new Date().toISOString();
    for (let i = 0; i < 40; i++) {
      a.peer().emit('data', JSON.stringify({ v: 1, type: 'chat', id: `m${i}`, text: `flood ${i}`, sentAt }));
    }
    expect(a.chats).toHaveLength(30);
    expect(a.chats.at(-1)?.text).toBe('flood 29');
    expect(
      a
        .peer()
        .frames()
        .filter((f) => f.type === 'chat-ack'),
    ).toHaveLength(30);
  });

  it('takes no orders and nothing malformed from the other side', async () => {
    const a = side();
    const b = side();
    await pair(a, b);
    const before = { states: [...a.states], partner: [...a.partner] };
    const hostile: unknown[] = [
      JSON.stringify({ v: 1, type: 'leave' }),
      JSON.stringify({ action: 'leave' }),
      JSON.stringify({ v: 2, type: 'bye' }),
      JSON.stringify({
        v: 1,
        type: 'chat',
        id: 'x',
        text: 'x'.repeat(CHAT_MAX_LENGTH + 1),
        sentAt: new Date().toISOString(),
      }),
      JSON.stringify({ v: 1, type: 'chat', id: 'x', text: 'hi', sentAt: 'now', __proto__: 1 }),
      '{"v":1,"type":"media","mic":true,"cam":true,"__proto__":{"admin":true}}',
      JSON.stringify({ v: 1, type: 'media', mic: 'yes', cam: true }),
      Buffer.alloc(9000, 0x61),
      'garbage',
    ];
    for (const data of hostile) a.peer().emit('data', data);
    await sleep(20);
    expect(a.chats).toEqual([]);
    expect(a.remoteMedia).toEqual([{ mic: false, cam: false }]);
    expect({ states: a.states, partner: a.partner }).toEqual(before);
    expect(a.call.state).toBe('connected');
    expect(
      a
        .peer()
        .frames()
        .filter((f) => f.type !== 'media'),
    ).toEqual([]);
  });
});

describe('call engine: the partner', () => {
  it('goes absent → connecting → connected, and left when they say bye; bye and socket leave go out at once', async () => {
    const a = side();
    const b = side();
    expect(b.partner).toEqual(['absent']);
    await pair(a, b);
    expect(b.partner).toEqual(['absent', 'connecting', 'connected']);
    const aPeer = a.peer();
    const aSocket = a.socket();
    const order: string[] = [];
    const peerSend = aPeer.send.bind(aPeer);
    aPeer.send = (data: string) => {
      order.push(`channel ${(JSON.parse(data) as { type: string }).type}`);
      peerSend(data);
    };
    const socketSend = aSocket.send.bind(aSocket);
    aSocket.send = (data: string) => {
      order.push(`socket ${(JSON.parse(data) as { type: string }).type}`);
      socketSend(data);
    };
    a.call.leave();
    // synchronously (a page being unloaded runs no timer): the bye, then the socket's leave, and the socket closed
    expect(order).toEqual(['channel bye', 'socket leave']);
    expect(a.call.state).toBe('ended');
    expect(aSocket.closed).toEqual({ code: 1000, reason: 'left' });
    // the peer is kept a moment for the channel to send the bye
    expect(aPeer.destroyed).toBe(false);
    await eventually(() => expect(b.partner.at(-1)).toBe('left'));
    await eventually(() => expect(aPeer.destroyed).toBe(true));
    expect(order).toEqual(['channel bye', 'socket leave']);
    // the server then says the peer left: still left, no reconnecting in between
    b.socket().receive({ type: 'peer-left', peerId: 'a' });
    expect(b.partner).toEqual(['absent', 'connecting', 'connected', 'left']);
    expect(b.call.state).toBe('waiting-for-peer');
    // the peer closing and the server's peer-left do not make b start signaling again
    await sleep(120);
    expect(b.states).not.toContain('reconnecting');
  });

  it('is reconnecting when lost without a bye, connected again when back, and left after the grace', async () => {
    const a = side();
    const b = side();
    await pair(a, b);
    b.socket().receive({ type: 'peer-left', peerId: 'a' });
    expect(b.partner.at(-1)).toBe('reconnecting');
    expect(b.call.state).toBe('waiting-for-peer');
    // back within the grace: a fresh pairing
    await sleep(50);
    b.socket().receive({ type: 'peer-joined', peer: { peerId: 'a' }, connectionId: 'c2', initiator: false });
    expect(b.partner.at(-1)).toBe('connecting');
    b.peer().emit('connect');
    expect(b.partner).toEqual(['absent', 'connecting', 'connected', 'reconnecting', 'connecting', 'connected']);
    await sleep(300);
    expect(b.partner.at(-1)).toBe('connected');

    // lost again, for longer than the grace (200 ms here)
    b.socket().receive({ type: 'peer-left', peerId: 'a' });
    await sleep(100);
    expect(b.partner.at(-1)).toBe('reconnecting');
    await eventually(() => expect(b.partner.at(-1)).toBe('left'));
  });

  it('follows the ICE state: disconnected is reconnecting (our call stays connected), connected again is back', async () => {
    const a = side({ withPc: true });
    const b = side({ withPc: true });
    await pair(a, b);
    const pc = b.peer()._pc!;
    pc.setIce('checking');
    pc.setIce('connected');
    expect(b.partner).toEqual(['absent', 'connecting', 'connected']);
    pc.setIce('disconnected');
    expect(b.partner.at(-1)).toBe('reconnecting');
    expect(b.call.state).toBe('connected');
    pc.setIce('connected');
    expect(b.partner.at(-1)).toBe('connected');
    pc.setIce('failed');
    expect(b.partner.at(-1)).toBe('reconnecting');
    pc.setIce('connected');
    expect(b.partner.at(-1)).toBe('connected');
    // after a bye, the connection's last breaths do not bring them back
    b.peer().emit('data', JSON.stringify({ v: 1, type: 'bye' }));
    expect(b.partner.at(-1)).toBe('left');
    pc.setIce('disconnected');
    pc.setIce('connected');
    expect(b.partner.at(-1)).toBe('left');
    pc.setIce('failed');
    b.peer().emit('close');
    expect(b.call.state).toBe('waiting-for-peer');
    expect(b.partner.at(-1)).toBe('left');
  });

  it('a peer that fails without a bye leaves the partner reconnecting', async () => {
    const a = side({ withPc: true });
    const b = side({ withPc: true });
    await pair(a, b);
    b.peer()._pc!.setIce('failed');
    expect(b.partner.at(-1)).toBe('reconnecting');
    // simple-peer destroys itself on failed ICE: an error, then the peer closes
    b.peer().emit('error', Object.assign(new Error('Ice connection failed.'), { code: 'ERR_ICE_CONNECTION_FAILURE' }));
    expect(b.call.state).toBe('waiting-for-peer');
    expect(b.partner.at(-1)).toBe('reconnecting');
    expect(b.errors.map((e) => e.code)).toEqual(['ERR_ICE_CONNECTION_FAILURE']);
  });

  it('keeps our own reconnecting apart: our socket drops, we reconnect and pair again', async () => {
    const a = side();
    const b = side();
    await pair(a, b);
    a.socket().drop();
    expect(a.call.state).toBe('reconnecting');
    // our outage, not the partner's: what we know of them is untouched
    expect(a.partner).toEqual(['absent', 'connecting', 'connected']);
    await eventually(() => expect(a.sockets).toHaveLength(2));
    b.socket().receive({ type: 'peer-left', peerId: 'a' });
    await pair(a, b, 'c2');
    expect(a.call.state).toBe('connected');
    // back (welcome): reconnecting until the server pairs us again, then connecting → connected
    expect(a.partner).toEqual(['absent', 'connecting', 'connected', 'reconnecting', 'connecting', 'connected']);
    expect(b.partner.at(-1)).toBe('connected');
  });
});

describe('call engine: the page', () => {
  it('a callback that throws breaks nothing: the call goes on and the others are still told', async () => {
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args[0]);
    try {
      const boom = (): never => {
        throw new Error('page bug');
      };
      const a = side({ onState: boom, onPartner: boom, onRemoteMedia: boom, onChat: boom });
      const b = side();
      await pair(a, b);
      expect(a.call.state).toBe('connected');
      b.call.sendChat('still there?');
      await eventually(() => expect(b.deliveries.at(-1)?.[1]).toBe('delivered'));
      expect(errors).toContain('[call] onState failed');
      expect(errors).toContain('[call] onChat failed');
      a.call.leave();
      expect(a.call.state).toBe('ended');
    } finally {
      console.error = original;
    }
  });
});

describe('call engine: replacing a track', () => {
  it('while connected: replaced in the peer and the stream, the old one stopped, on/off kept', async () => {
    const cam = new FakeTrack('video', 'front');
    const stream = new FakeStream([new FakeTrack('audio', 'mic'), cam]);
    const a = side({ localStream: stream, media: { mic: true, cam: false } });
    const b = side();
    await pair(a, b);
    const back = new FakeTrack('video', 'back');
    await a.call.replaceTrack(back as unknown as MediaStreamTrack);
    expect(a.peer().replaced).toEqual([[cam, back, stream]]);
    expect(stream.getTracks().map((t) => t.label)).toEqual(['mic', 'back']);
    expect(cam.stopped).toBe(true);
    expect(back.enabled).toBe(false);
    expect(a.call.state).toBe('connected');
    expect(a.peers).toHaveLength(1);
    // and the next one replaces that
    const third = new FakeTrack('video', 'usb');
    await a.call.replaceTrack(third as unknown as MediaStreamTrack);
    expect(a.peer().replaced.at(-1)).toEqual([back, third, stream]);
    expect(back.stopped).toBe(true);
  });

  it('before a peer: the stream changes and the peer created later sends it', async () => {
    const mic = new FakeTrack('audio', 'built-in');
    const stream = new FakeStream([mic]);
    const a = side({ localStream: stream, media: { mic: false, cam: true } });
    const b = side();
    const headset = new FakeTrack('audio', 'headset');
    await a.call.replaceTrack(headset as unknown as MediaStreamTrack);
    expect(mic.stopped).toBe(true);
    expect(headset.enabled).toBe(false);
    await pair(a, b);
    expect(a.peer().options.stream).toBe(stream);
    expect(stream.getTracks()).toEqual([headset]);
    expect(a.peer().replaced).toEqual([]);
  });

  it('a kind the call had no track of is added to the peer (negotiated), and the partner told', async () => {
    const stream = new FakeStream([new FakeTrack('audio', 'mic')]);
    const a = side({ localStream: stream });
    const b = side();
    await pair(a, b);
    const cam = new FakeTrack('video', 'cam');
    await a.call.replaceTrack(cam as unknown as MediaStreamTrack);
    expect(a.peer().added).toEqual([[cam, stream]]);
    expect(a.peer().frames().at(-1)).toEqual({ v: 1, type: 'media', mic: true, cam: true });
    await expect(a.call.replaceTrack({ kind: 'data' } as unknown as MediaStreamTrack)).rejects.toThrow();
  });
});
