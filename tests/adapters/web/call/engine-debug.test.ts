import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeStream, FakeTrack, JOIN, eventually, pair, sleep, startSide } from './fakes.ts';
import type { FakePeer, Side } from './fakes.ts';

const sides: Side[] = [];
afterEach(() => {
  for (const s of sides.splice(0)) s.call.leave();
  vi.restoreAllMocks();
});

// A browser's statistics, addresses and ports included.
const stats = (received: number, lost: number, rtt: number): Map<string, Record<string, unknown>> =>
  new Map(
    [
      { id: 'T', type: 'transport', selectedCandidatePairId: 'CP' },
      {
        id: 'CP',
        type: 'candidate-pair',
        state: 'succeeded',
        nominated: true,
        localCandidateId: 'L',
        remoteCandidateId: 'R',
        currentRoundTripTime: rtt,
      },
      {
        id: 'L',
        type: 'local-candidate',
        candidateType: 'srflx',
        protocol: 'udp',
        address: '203.0.113.7',
        port: 54321,
      },
      { id: 'R', type: 'remote-candidate', candidateType: 'relay', protocol: 'tcp', ip: '198.51.100.9', port: 3478 },
      { id: 'IA', type: 'inbound-rtp', kind: 'audio', packetsReceived: received, packetsLost: lost },
    ].map((s) => [s.id, s]),
  );

const SDP =
  'v=0\r\no=- 4611731400430051336 2 IN IP4 192.168.1.23\r\nc=IN IP4 192.168.1.23\r\na=candidate:1 1 udp 2122260223 192.168.1.23 61234 typ host';
const CANDIDATE = {
  type: 'candidate',
  candidate: {
    candidate: 'candidate:842163049 1 udp 1677729535 203.0.113.7 54321 typ srflx raddr 10.0.0.5 rport 61234',
    sdpMid: '0',
  },
};

/** Signals with SDP and candidates, relayed between the two sides as the server would. */
const exchangeSignals = (a: Side, b: Side): void => {
  const emitSignals = (p: FakePeer, kind: 'offer' | 'answer'): void => {
    p.emit('signal', { type: kind, sdp: SDP });
    p.emit('signal', CANDIDATE);
  };
  emitSignals(a.peer(), 'offer');
  for (const m of a.socket().sent.filter((m) => m.type === 'signal')) {
    b.socket().receive({ type: 'signal', from: 'a', connectionId: 'c1', data: m.data });
  }
  emitSignals(b.peer(), 'answer');
  for (const m of b.socket().sent.filter((m) => m.type === 'signal')) {
    a.socket().receive({ type: 'signal', from: 'b', connectionId: 'c1', data: m.data });
  }
};

const FORBIDDEN = [
  /\d+\.\d+\.\d+\.\d+/, // any IPv4 address
  /54321|61234|3478|8443/, // ports
  /sdp|v=0|IN IP4|typ (host|srflx)|candidate:/i,
  new RegExp(JOIN.ticket.slice(0, 10)),
  /calls\.example|wss:/,
  /secret words/,
  /raddr|rport/,
];

describe('call engine: debug output', () => {
  it('with debugLevel > 0 logs states, ICE, the route and quality, never SDP, candidates, addresses or ports', async () => {
    const join = { ...JOIN, debugLevel: 2 };
    const a = startSide({ join, withPc: true, localStream: new FakeStream([new FakeTrack('audio', 'mic')]) });
    const b = startSide({ join, withPc: true });
    sides.push(a, b);
    a.socket().receive({ type: 'surprise', note: 'from 10.1.2.3:4444' });
    a.socket().receive({ type: 'welcome from 10.1.2.3', note: 'x' });
    await pair(a, b);
    exchangeSignals(a, b);
    // the relayed signals arrived unchanged (the log is what hides them, not the relay)
    expect(b.peer().received).toEqual([{ type: 'offer', sdp: SDP }, CANDIDATE]);
    const pc = a.peer()._pc!;
    pc.reports = [stats(1000, 0, 0.05), stats(1200, 10, 0.12), stats(1400, 10, 0.12)];
    pc.setIce('checking');
    pc.setIce('connected');
    pc.setConnection('connected');
    await eventually(() => expect(a.qualities.length).toBeGreaterThanOrEqual(3));
    a.call.sendChat('secret words');
    a.call.setMedia({ mic: false });
    a.peer().emit(
      'data',
      JSON.stringify({ v: 1, type: 'chat', id: 'x', text: 'secret words from 10.9.9.9', sentAt: 'no' }),
    );
    a.peer().emit(
      'error',
      Object.assign(new Error('Ice connection failed at 203.0.113.7:54321'), { code: 'ERR_ICE_CONNECTION_FAILURE' }),
    );
    await sleep(30);
    a.call.leave();

    const lines = a.logs.map((args) => args.map(String).join(' '));
    const text = lines.join('\n');
    for (const pattern of FORBIDDEN) expect(text, String(pattern)).not.toMatch(pattern);
    // nothing but plain values reaches the sink (no objects to expand in the console)
    for (const args of a.logs) {
      for (const arg of args) expect(arg === null || ['string', 'number', 'boolean'].includes(typeof arg)).toBe(true);
    }
    expect(lines).toContain('[call] state socket-connecting -> waiting-for-peer');
    expect(lines).toContain('[call] state connecting-peer -> connected');
    expect(lines).toContain('[call] partner connecting -> connected');
    expect(lines).toContain('[call] local signal offer');
    expect(lines).toContain('[call] local signal candidate');
    expect(lines).toContain('[call] ice checking');
    expect(lines).toContain('[call] connection connected');
    expect(lines).toContain('[call] ignored message (other)');
    expect(lines).toContain('[call] ignored data-channel frame: bad chat sentAt');
    expect(lines).toContain('[call] error ERR_ICE_CONNECTION_FAILURE');
    // the route once, though three samples had it
    expect(lines.filter((l) => l.includes('route'))).toEqual(['[call] route local srflx/udp remote relay/tcp']);
    expect(lines).toContain('[call] quality good rtt ms 50 loss % null');
    expect(lines).toContain('[call] quality fair rtt ms 120 loss % 4.8');
    expect(a.qualities.slice(0, 2)).toEqual([
      { rttMs: 50, lossPct: null, level: 'good' },
      { rttMs: 120, lossPct: 4.8, level: 'fair' },
    ]);
  });

  it('with debugLevel 0 logs nothing, to the given sink or to the console', async () => {
    const debugSpy = vi.spyOn(console, 'debug').mockImplementation(() => {});
    const logSpy = vi.spyOn(console, 'log').mockImplementation(() => {});
    const a = startSide({ withPc: true });
    const b = startSide({ withPc: true, log: undefined });
    sides.push(a, b);
    await pair(a, b);
    exchangeSignals(a, b);
    a.peer()._pc!.reports = [stats(10, 0, 0.05)];
    a.peer()._pc!.setIce('disconnected');
    await eventually(() => expect(a.qualities.length).toBeGreaterThan(0));
    a.call.sendChat('hi');
    a.socket().receive({ type: 'surprise' });
    await sleep(30);
    a.call.leave();
    b.call.leave();
    await sleep(120);
    expect(a.logs).toEqual([]);
    expect(debugSpy).not.toHaveBeenCalled();
    expect(logSpy).not.toHaveBeenCalled();
  });

  it('uses console.debug by default when debugging', async () => {
    const debugSpy = vi.spyOn(console, 'debug').mockImplementation(() => {});
    const a = startSide({ join: { ...JOIN, debugLevel: 1 }, log: undefined });
    sides.push(a);
    await eventually(() => expect(debugSpy).toHaveBeenCalledWith('[call]', 'opening the signaling socket'));
  });
});

describe('call engine: quality samples', () => {
  it('samples every statsIntervalMs while connected and stops when the peer goes or the call ends', async () => {
    const a = startSide({ withPc: true });
    const b = startSide();
    sides.push(a, b);
    await pair(a, b);
    const pc = a.peer()._pc!;
    pc.reports = [stats(100, 0, 0.9)];
    await eventually(() => expect(a.qualities.length).toBeGreaterThanOrEqual(2));
    expect(a.qualities[0]).toEqual({ rttMs: 900, lossPct: null, level: 'poor' });
    a.socket().receive({ type: 'peer-left', peerId: 'b' });
    const calls = pc.statsCalls;
    await sleep(80);
    expect(pc.statsCalls).toBe(calls);
    // a side whose peer has no RTCPeerConnection (a fake) just has no quality
    expect(b.qualities).toEqual([]);
  });
});
