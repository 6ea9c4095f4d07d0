import { describe, expect, it } from 'vitest';
import {
  measureQuality,
  qualityLevel,
  selectedRoute,
} from '../../../../adapters/web/src/features/call/engine/quality.ts';

// Shaped like Chromium's RTCStatsReport entries (a Map of stats by id), addresses included as a browser gives them.
const report = (...stats: Array<Record<string, unknown>>): Map<string, Record<string, unknown>> =>
  new Map(stats.map((s) => [s.id as string, s]));

const local = {
  id: 'ILc1',
  type: 'local-candidate',
  candidateType: 'srflx',
  protocol: 'udp',
  address: '203.0.113.7',
  port: 54321,
};
const remote = {
  id: 'IRc2',
  type: 'remote-candidate',
  candidateType: 'relay',
  protocol: 'udp',
  address: '198.51.100.9',
  port: 3478,
};
const pair = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'CPa',
  type: 'candidate-pair',
  state: 'succeeded',
  nominated: true,
  localCandidateId: 'ILc1',
  remoteCandidateId: 'IRc2',
  currentRoundTripTime: 0.085,
  ...over,
});
const inbound = (id: string, packetsReceived: number, packetsLost: number): Record<string, unknown> => ({
  id,
  type: 'inbound-rtp',
  kind: id.includes('audio') ? 'audio' : 'video',
  packetsReceived,
  packetsLost,
});

describe('connection quality from two stats reports', () => {
  it('takes the round trip of the pair in use and the loss since the previous report', () => {
    const before = report(pair(), local, remote, inbound('audio', 1000, 10), inbound('video', 5000, 20));
    const after = report(pair(), local, remote, inbound('audio', 1100, 10), inbound('video', 5880, 20));
    // 0 lost of 980 received
    expect(measureQuality(before, after)).toEqual({ rttMs: 85, lossPct: 0, level: 'good' });
    const lossy = report(pair(), inbound('audio', 1090, 15), inbound('video', 5880, 35));
    // 5 + 15 lost, 90 + 880 received: 20 / 990
    expect(measureQuality(before, lossy)).toEqual({ rttMs: 85, lossPct: 2, level: 'fair' });
  });

  it("prefers the transport's selected pair to another succeeded one", () => {
    const stats = report(
      { id: 'T1', type: 'transport', selectedCandidatePairId: 'CPb' },
      pair({ currentRoundTripTime: 0.9 }),
      pair({ id: 'CPb', nominated: false, currentRoundTripTime: 0.25 }),
    );
    expect(measureQuality(null, stats).rttMs).toBe(250);
  });

  it('ignores pairs that did not succeed or are not in use, then falls back to remote-inbound-rtp', () => {
    const stats = report(
      pair({ state: 'in-progress', currentRoundTripTime: 0.01 }),
      pair({ id: 'CPc', nominated: false, selected: false, currentRoundTripTime: 0.02 }),
      { id: 'RIa', type: 'remote-inbound-rtp', kind: 'audio', roundTripTime: 0.31 },
      { id: 'RIv', type: 'remote-inbound-rtp', kind: 'video', roundTripTime: 0.42 },
    );
    expect(measureQuality(null, stats)).toEqual({ rttMs: 420, lossPct: null, level: 'fair' });
  });

  it('is unknown without data, and judges on what there is', () => {
    expect(measureQuality(null, report())).toEqual({ rttMs: null, lossPct: null, level: 'unknown' });
    expect(measureQuality(report(inbound('audio', 10, 0)), report(inbound('audio', 10, 0)))).toEqual({
      rttMs: null,
      lossPct: null,
      level: 'unknown',
    });
    // no previous report: no loss figure, but the round trip counts
    expect(measureQuality(null, report(pair({ currentRoundTripTime: 0.8 }), inbound('audio', 10, 5)))).toEqual({
      rttMs: 800,
      lossPct: null,
      level: 'poor',
    });
    // nonsense numbers are no data
    expect(measureQuality(null, report(pair({ currentRoundTripTime: -1 }))).rttMs).toBeNull();
    expect(measureQuality(null, report(pair({ currentRoundTripTime: Number.NaN }))).rttMs).toBeNull();
  });

  it('counts a stream new since the previous report from zero, and never a negative delta', () => {
    const before = report(inbound('audio', 100, 10));
    const after = report(inbound('audio', 200, 5), inbound('video', 90, 10));
    // audio: lost went down (duplicates): 0 of 100; video new: 10 of 100
    expect(measureQuality(before, after).lossPct).toBe(5);
  });

  it('levels: good under 300 ms and 2 %, fair under 700 ms and 8 %, else poor', () => {
    expect(qualityLevel(299, 1.9)).toBe('good');
    expect(qualityLevel(300, 0)).toBe('fair');
    expect(qualityLevel(0, 2)).toBe('fair');
    expect(qualityLevel(699, 7.9)).toBe('fair');
    expect(qualityLevel(700, 0)).toBe('poor');
    expect(qualityLevel(10, 8)).toBe('poor');
    expect(qualityLevel(null, 1)).toBe('good');
    expect(qualityLevel(900, null)).toBe('poor');
    expect(qualityLevel(null, null)).toBe('unknown');
  });

  it('names the route in use by candidate types and protocols only, never an address or a port', () => {
    const route = selectedRoute(report(pair(), local, remote));
    expect(route).toEqual({
      local: { candidateType: 'srflx', protocol: 'udp' },
      remote: { candidateType: 'relay', protocol: 'udp' },
    });
    expect(JSON.stringify(route)).not.toMatch(/203\.0|198\.51|54321|3478/);
    expect(selectedRoute(report(pair({ state: 'failed' }), local, remote))).toBeNull();
    const odd = selectedRoute(
      report(pair(), { ...local, candidateType: '10.0.0.1', protocol: 'udp 10.0.0.1' }, { id: 'IRc2' }),
    );
    expect(odd).toEqual({
      local: { candidateType: 'unknown', protocol: 'unknown' },
      remote: { candidateType: 'unknown', protocol: 'unknown' },
    });
  });
});
