import { afterEach, describe, expect, it } from 'vitest';
import { MAX_CANDIDATE_LENGTH, MAX_SDP_LENGTH } from '../../../../adapters/web/src/features/call/engine/protocol.ts';
import { JOIN, eventually, pair, startSide } from './fakes.ts';
import type { Side } from './fakes.ts';

// Relayed signals go to simple-peer only when they are one of the shapes simple-peer itself emits: it obeys what a
// signal says (a transceiverRequest adds transceivers and renegotiates).

const sides: Side[] = [];
const side = (...args: Parameters<typeof startSide>): Side => {
  const s = startSide(...args);
  sides.push(s);
  return s;
};
afterEach(() => {
  for (const s of sides.splice(0)) s.call.leave();
});

const relay = (s: Side, data: unknown, connectionId = 'c1'): void =>
  s.socket().receive({ type: 'signal', from: 'other', connectionId, data });

const SECRET = 'SECRET-203.0.113.7';
// What simple-peer 9 emits (node_modules/simple-peer/index.js: _createOffer, _createAnswer, _onIceCandidate, negotiate)
const OWN_SIGNALS = [
  { type: 'offer', sdp: `v=0\r\no=- 1 2 IN IP4 ${SECRET}\r\n` },
  { type: 'answer', sdp: 'v=0\r\n' },
  {
    type: 'candidate',
    candidate: { candidate: `candidate:1 1 udp 1 ${SECRET} 5 typ host`, sdpMLineIndex: 0, sdpMid: '0' },
  },
  { type: 'candidate', candidate: { candidate: '', sdpMLineIndex: null, sdpMid: null } },
  { type: 'candidate', candidate: { candidate: 'candidate:2', usernameFragment: 'abcd' } },
  { type: 'renegotiate', renegotiate: true },
];

const HOSTILE: unknown[] = [
  { type: 'transceiverRequest', transceiverRequest: { kind: 'video', init: { sendEncodings: [{}, {}, {}] } } },
  { type: 'transceiverRequest', transceiverRequest: { kind: 'application' } },
  { type: 'offer', sdp: 'v=0', transceiverRequest: { kind: 'video' } },
  { type: 'offer', sdp: 'x'.repeat(MAX_SDP_LENGTH + 1) },
  { type: 'answer', sdp: '' },
  { type: 'answer', sdp: 42 },
  { type: 'pranswer', sdp: 'v=0' },
  { sdp: 'v=0' },
  { type: 'candidate', candidate: { candidate: 'c'.repeat(MAX_CANDIDATE_LENGTH + 1) } },
  { type: 'candidate', candidate: { candidate: 'candidate:1', sdpMLineIndex: -1 } },
  { type: 'candidate', candidate: { candidate: 'candidate:1', sdpMLineIndex: 1.5 } },
  { type: 'candidate', candidate: { candidate: 'candidate:1', sdpMid: 'm'.repeat(65) } },
  { type: 'candidate', candidate: { candidate: 'candidate:1', extra: true } },
  { type: 'candidate', candidate: `candidate:1 ${SECRET}` },
  { type: 'renegotiate', renegotiate: 'yes' },
  JSON.parse('{"type":"renegotiate","renegotiate":true,"__proto__":{"x":1}}'),
  `{"type":"offer","sdp":"${SECRET}"}`,
  null,
  [{ type: 'offer', sdp: 'v=0' }],
];

describe('call engine: relayed signals', () => {
  it("passes simple-peer's own signals on, rebuilt, and drops anything else without logging its content", async () => {
    const a = side({ join: { ...JOIN, debugLevel: 1 } });
    const b = side();
    await pair(a, b);
    for (const data of [...OWN_SIGNALS, ...HOSTILE]) relay(a, data);
    expect(a.peer().received).toEqual(OWN_SIGNALS);
    expect(a.peer().received[0]).not.toBe(OWN_SIGNALS[0]);
    const dropped = a.logs.filter((l) => l.includes('dropped remote signal:'));
    expect(dropped).toHaveLength(HOSTILE.length);
    expect(JSON.stringify(a.logs)).not.toContain('SECRET');
    expect(JSON.stringify(a.logs)).not.toContain('sendEncodings');
    expect(a.call.state).toBe('connected');
    expect(a.errors).toEqual([]);
  });

  it('takes a transceiver request only as the initiator, for audio or video, once per kind', async () => {
    const a = side();
    const b = side();
    await pair(a, b); // a initiates
    const request = (kind: string): object => ({ type: 'transceiverRequest', transceiverRequest: { kind } });
    relay(a, request('video'));
    relay(a, request('video'));
    relay(a, request('audio'));
    relay(b, request('video'));
    expect(a.peer().received).toEqual([request('video'), request('audio')]);
    expect(b.peer().received).toEqual([]);
  });

  it('after 20 dropped signals the peer connection is given up and signaling starts again', async () => {
    const a = side({ join: { ...JOIN, debugLevel: 1 } });
    const b = side();
    await pair(a, b);
    const peer = a.peer();
    const socket = a.socket();
    for (let i = 0; i < 19; i++) relay(a, { type: 'transceiverRequest', transceiverRequest: { kind: 'data' } });
    expect(peer.destroyed).toBe(false);
    expect(a.call.state).toBe('connected');
    relay(a, { type: 'offer', sdp: 'v=0' });
    expect(peer.received).toEqual([{ type: 'offer', sdp: 'v=0' }]);
    relay(a, 'one too many');
    expect(peer.destroyed).toBe(true);
    expect(socket.closed).toEqual({ code: 1000, reason: 'restart' });
    expect(a.call.state).toBe('reconnecting');
    await eventually(() => expect(a.sockets).toHaveLength(2));
    // a new pairing counts afresh
    await pair(a, b, 'c2');
    for (let i = 0; i < 19; i++) relay(a, null, 'c2');
    expect(a.peer().destroyed).toBe(false);
    expect(a.call.state).toBe('connected');
  });
});
