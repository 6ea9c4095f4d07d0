// Connection quality from WebRTC statistics. Pure: two successive `RTCStatsReport`s in, numbers and a level out.
// The candidates' addresses and ports are in the same reports: nothing here reads or returns them.

export interface Quality {
  readonly rttMs: number | null;
  readonly lossPct: number | null;
  readonly level: 'good' | 'fair' | 'poor' | 'unknown';
}

/** What is used of an `RTCStatsReport` (a Map of stats objects by id); a Map of plain objects does too. */
export interface StatsLike {
  forEach(callback: (value: unknown, key: string) => void): void;
}

type Stat = { readonly [key: string]: unknown };

const statsOf = (report: StatsLike): Stat[] => {
  const out: Stat[] = [];
  report.forEach((value) => {
    if (value !== null && typeof value === 'object') out.push(value as Stat);
  });
  return out;
};

const finite = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;

/** The candidate pair in use: the transport's selected one, else a selected or nominated pair that succeeded. */
const selectedPair = (stats: ReadonlyArray<Stat>): Stat | undefined => {
  const byId = new Map(stats.filter((s) => typeof s.id === 'string').map((s) => [s.id as string, s]));
  for (const s of stats) {
    if (s.type !== 'transport' || typeof s.selectedCandidatePairId !== 'string') continue;
    const pair = byId.get(s.selectedCandidatePairId);
    if (pair && pair.type === 'candidate-pair') return pair;
  }
  return stats.find(
    (s) => s.type === 'candidate-pair' && s.state === 'succeeded' && (s.selected === true || s.nominated === true),
  );
};

const roundTripMs = (stats: ReadonlyArray<Stat>): number | null => {
  const pairRtt = finite(selectedPair(stats)?.currentRoundTripTime);
  if (pairRtt !== null) return Math.round(pairRtt * 1000);
  const remote = stats
    .filter((s) => s.type === 'remote-inbound-rtp')
    .map((s) => finite(s.roundTripTime))
    .filter((rtt): rtt is number => rtt !== null);
  return remote.length > 0 ? Math.round(Math.max(...remote) * 1000) : null;
};

/** Lost and received packets of everything coming in, by stream id. */
const inboundCounts = (stats: ReadonlyArray<Stat>): Map<string, { lost: number; received: number }> => {
  const out = new Map<string, { lost: number; received: number }>();
  for (const s of stats) {
    if (s.type !== 'inbound-rtp' || typeof s.id !== 'string') continue;
    const received = finite(s.packetsReceived);
    // packetsLost may go below zero (duplicates); it is a count, not a rate.
    const lost = typeof s.packetsLost === 'number' && Number.isFinite(s.packetsLost) ? s.packetsLost : null;
    if (received !== null && lost !== null) out.set(s.id, { lost, received });
  }
  return out;
};

const lossPercent = (previous: ReadonlyArray<Stat>, current: ReadonlyArray<Stat>): number | null => {
  const before = inboundCounts(previous);
  let lost = 0;
  let received = 0;
  for (const [id, now] of inboundCounts(current)) {
    const then = before.get(id) ?? { lost: 0, received: 0 };
    lost += Math.max(0, now.lost - then.lost);
    received += Math.max(0, now.received - then.received);
  }
  if (lost + received <= 0) return null;
  return Math.round((lost / (lost + received)) * 1000) / 10;
};

export const qualityLevel = (rttMs: number | null, lossPct: number | null): Quality['level'] => {
  if (rttMs === null && lossPct === null) return 'unknown';
  const rtt = rttMs ?? 0;
  const loss = lossPct ?? 0;
  if (rtt < 300 && loss < 2) return 'good';
  if (rtt < 700 && loss < 8) return 'fair';
  return 'poor';
};

/**
 * The quality between two samples: round trip of the candidate pair in use (else the remote-inbound-rtp one), and
 * the share of incoming packets lost since the previous sample (none without a previous one).
 */
export const measureQuality = (previous: StatsLike | null, current: StatsLike): Quality => {
  const now = statsOf(current);
  const rttMs = roundTripMs(now);
  const lossPct = previous === null ? null : lossPercent(statsOf(previous), now);
  return { rttMs, lossPct, level: qualityLevel(rttMs, lossPct) };
};

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';
export interface RouteEnd {
  readonly candidateType: CandidateType | 'unknown';
  readonly protocol: 'udp' | 'tcp' | 'unknown';
}
export interface Route {
  readonly local: RouteEnd;
  readonly remote: RouteEnd;
}

const CANDIDATE_TYPES: ReadonlyArray<string> = ['host', 'srflx', 'prflx', 'relay'];

/** Only the two named fields, each one of its known values: never an address, a port or a candidate string. */
const routeEnd = (candidate: Stat | undefined): RouteEnd => ({
  candidateType:
    typeof candidate?.candidateType === 'string' && CANDIDATE_TYPES.includes(candidate.candidateType)
      ? (candidate.candidateType as CandidateType)
      : 'unknown',
  protocol: candidate?.protocol === 'udp' || candidate?.protocol === 'tcp' ? candidate.protocol : 'unknown',
});

/** How the media flows (the candidate types and protocols of the pair in use), or null when no pair is in use. */
export const selectedRoute = (report: StatsLike): Route | null => {
  const stats = statsOf(report);
  const pair = selectedPair(stats);
  if (!pair) return null;
  const find = (id: unknown): Stat | undefined => (typeof id === 'string' ? stats.find((s) => s.id === id) : undefined);
  return { local: routeEnd(find(pair.localCandidateId)), remote: routeEnd(find(pair.remoteCandidateId)) };
};

export const sameRoute = (a: Route | null, b: Route | null): boolean => JSON.stringify(a) === JSON.stringify(b);
