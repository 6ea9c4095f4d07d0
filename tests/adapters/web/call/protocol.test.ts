import { describe, expect, it } from 'vitest';
import {
  CHAT_MAX_LENGTH,
  MAX_FRAME_BYTES,
  MAX_CANDIDATE_LENGTH,
  MAX_SDP_LENGTH,
  decodeFrame,
  decodeSignal,
  encodeFrame,
  normalizeChatText,
} from '../../../../adapters/web/src/features/call/engine/protocol.ts';
import type { Frame } from '../../../../adapters/web/src/features/call/engine/protocol.ts';

const ID = '0b6a4c1e-2f0e-4d8b-9a57-3f1f2a9c8d11';
const AT = '2026-12-02T01:50:00.000Z';
const refused = (data: unknown): string => {
  const d = decodeFrame(data);
  if (d.ok) throw new Error(`taken: ${JSON.stringify(d.frame)}`);
  return d.reason;
};

describe('data channel protocol v1', () => {
  it('encodes every frame and decodes it back the same, from text and from bytes (simple-peer hands a Buffer)', () => {
    const frames: Frame[] = [
      { v: 1, type: 'media', mic: true, cam: false },
      { v: 1, type: 'chat', id: ID, text: 'Hola, ¿lista? 💪\nsecond line', sentAt: AT },
      { v: 1, type: 'chat-ack', id: ID },
      { v: 1, type: 'bye' },
    ];
    for (const frame of frames) {
      const text = encodeFrame(frame);
      expect(JSON.parse(text)).toEqual(frame);
      expect(decodeFrame(text)).toEqual({ ok: true, frame });
      expect(decodeFrame(new TextEncoder().encode(text))).toEqual({ ok: true, frame });
      expect(decodeFrame(Buffer.from(text))).toEqual({ ok: true, frame });
      expect(decodeFrame(new TextEncoder().encode(text).buffer)).toEqual({ ok: true, frame });
    }
  });

  it('takes chat text up to the limit and refuses one character more', () => {
    const longest = 'x'.repeat(CHAT_MAX_LENGTH);
    expect(decodeFrame(encodeFrame({ v: 1, type: 'chat', id: 'a', text: longest, sentAt: AT })).ok).toBe(true);
    expect(refused(JSON.stringify({ v: 1, type: 'chat', id: 'a', text: `${longest}x`, sentAt: AT }))).toBe(
      'bad chat text',
    );
    // the longest text of the widest characters still fits a frame
    const wide = '💪'.repeat(CHAT_MAX_LENGTH / 2);
    expect(decodeFrame(encodeFrame({ v: 1, type: 'chat', id: 'a', text: wide, sentAt: AT })).ok).toBe(true);
  });

  it('refuses unknown versions and types, and what is not a JSON object', () => {
    expect(refused(JSON.stringify({ v: 2, type: 'bye' }))).toBe('unknown version');
    expect(refused(JSON.stringify({ v: '1', type: 'bye' }))).toBe('unknown version');
    expect(refused(JSON.stringify({ type: 'bye' }))).toBe('unknown version');
    expect(refused(JSON.stringify({ v: 1, type: 'leave' }))).toBe('unknown type');
    expect(refused(JSON.stringify({ v: 1, type: 'toString' }))).toBe('unknown type');
    expect(refused(JSON.stringify({ v: 1, type: '__proto__' }))).toBe('unknown type');
    expect(refused(JSON.stringify({ v: 1 }))).toBe('unknown type');
    expect(refused(JSON.stringify({ action: 'leave' }))).toBe('unknown version');
    expect(refused('not json')).toBe('not JSON');
    expect(refused('[1, "bye"]')).toBe('not an object');
    expect(refused('null')).toBe('not an object');
    expect(refused('"bye"')).toBe('not an object');
    expect(refused(42)).toBe('not text');
    expect(refused({ v: 1, type: 'bye' })).toBe('not text');
    expect(refused(undefined)).toBe('not text');
    expect(refused(new Uint8Array([0xff, 0xfe, 0x7b]))).toBe('not UTF-8');
  });

  it('refuses prototype keys and any key a frame does not have', () => {
    expect(refused('{"v":1,"type":"bye","__proto__":{"polluted":true}}')).toBe('bad bye keys');
    expect(refused('{"v":1,"type":"media","mic":true,"cam":true,"constructor":{}}')).toBe('bad media keys');
    expect(refused(JSON.stringify({ v: 1, type: 'chat-ack', id: ID, text: 'extra' }))).toBe('bad chat-ack keys');
    expect(refused(JSON.stringify({ v: 1, type: 'media', mic: true }))).toBe('bad media keys');
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('refuses wrong types and values in every field', () => {
    expect(refused(JSON.stringify({ v: 1, type: 'media', mic: 'true', cam: false }))).toBe('bad media');
    expect(refused(JSON.stringify({ v: 1, type: 'media', mic: 1, cam: 0 }))).toBe('bad media');
    const chat = (over: object): string =>
      JSON.stringify({ v: 1, type: 'chat', id: ID, text: 'hi', sentAt: AT, ...over });
    expect(refused(chat({ id: '' }))).toBe('bad chat id');
    expect(refused(chat({ id: 'a'.repeat(65) }))).toBe('bad chat id');
    expect(decodeFrame(chat({ id: 'a'.repeat(64) })).ok).toBe(true);
    expect(refused(chat({ id: 'has space' }))).toBe('bad chat id');
    expect(refused(chat({ id: 12 }))).toBe('bad chat id');
    expect(refused(chat({ text: '' }))).toBe('bad chat text');
    expect(refused(chat({ text: '  \n\t ' }))).toBe('bad chat text');
    expect(refused(chat({ text: ['hi'] }))).toBe('bad chat text');
    expect(refused(chat({ text: 'null\u0000byte' }))).toBe('bad chat text');
    expect(refused(chat({ text: 'spoof\u202etxt.exe' }))).toBe('bad chat text');
    expect(refused(chat({ sentAt: 'yesterday' }))).toBe('bad chat sentAt');
    expect(refused(chat({ sentAt: '2026-13-45T99:99:99Z' }))).toBe('bad chat sentAt');
    expect(refused(chat({ sentAt: '2026-12-02T01:50:00+01:00' }))).toBe('bad chat sentAt');
    expect(refused(chat({ sentAt: 1764640200000 }))).toBe('bad chat sentAt');
    expect(refused(JSON.stringify({ v: 1, type: 'chat-ack', id: null }))).toBe('bad chat-ack id');
  });

  it('refuses frames over 8 KiB, as text and as bytes, before parsing them', () => {
    const huge = JSON.stringify({ v: 1, type: 'chat', id: 'a', text: 'x'.repeat(MAX_FRAME_BYTES), sentAt: AT });
    expect(refused(huge)).toBe('too large');
    expect(refused(Buffer.from(huge))).toBe('too large');
    // under 8 KiB of characters, over 8 KiB of UTF-8
    const wide = `{"v":1,"type":"bye","pad":"${'é'.repeat(4100)}"}`;
    expect(wide.length).toBeLessThan(MAX_FRAME_BYTES);
    expect(refused(wide)).toBe('too large');
    expect(refused('x'.repeat(10_000_000))).toBe('too large');
  });

  it('normalizes typed chat text: line ends, control and override characters out, blanks trimmed', () => {
    expect(normalizeChatText('  hello\r\nthere\r  ')).toBe('hello\nthere');
    expect(normalizeChatText('a\u0000b\u0007c\u202ed\u2066e')).toBe('abcde');
    expect(normalizeChatText(' \t\n ')).toBe('');
    expect(normalizeChatText('tab\tinside')).toBe('tab\tinside');
  });
});

describe('relayed signals', () => {
  const reason = (data: unknown): string => {
    const d = decodeSignal(data);
    if (d.ok) throw new Error(`taken: ${JSON.stringify(d.signal)}`);
    return d.reason;
  };

  it("takes simple-peer's own shapes up to their bounds, rebuilt with only their fields", () => {
    const sdp = 'x'.repeat(MAX_SDP_LENGTH);
    expect(decodeSignal({ type: 'offer', sdp })).toEqual({ ok: true, signal: { type: 'offer', sdp } });
    const candidate = { candidate: 'c'.repeat(MAX_CANDIDATE_LENGTH), sdpMLineIndex: 1, sdpMid: '1' };
    expect(decodeSignal({ type: 'candidate', candidate })).toEqual({
      ok: true,
      signal: { type: 'candidate', candidate },
    });
    expect(decodeSignal({ type: 'renegotiate', renegotiate: true }).ok).toBe(true);
    expect(decodeSignal({ type: 'transceiverRequest', transceiverRequest: { kind: 'audio' } }).ok).toBe(true);
  });

  it('refuses anything else, with a reason that names no content', () => {
    expect(reason({ type: 'offer', sdp: 'x'.repeat(MAX_SDP_LENGTH + 1) })).toBe('bad sdp');
    expect(reason({ type: 'candidate', candidate: { candidate: 'c'.repeat(MAX_CANDIDATE_LENGTH + 1) } })).toBe(
      'bad candidate',
    );
    expect(reason({ type: 'transceiverRequest', transceiverRequest: { kind: 'video', init: {} } })).toBe(
      'bad transceiverRequest',
    );
    expect(reason({ type: 'offer', sdp: 'v=0', renegotiate: true })).toBe('bad offer keys');
    expect(reason({ type: 'rollback' })).toBe('unknown type');
    expect(reason({ type: 'constructor' })).toBe('unknown type');
    expect(reason('{"type":"offer","sdp":"v=0"}')).toBe('not an object');
  });
});
