import { afterEach, describe, expect, it } from 'vitest';
import { JOIN, eventually, pair, sleep, startSide } from './fakes.ts';
import type { Side } from './fakes.ts';

// The partner's state apart from our own connection: our outage never runs their grace, and the server's
// `peer-left` with `reason: "left"` is a goodbye.

const sides: Side[] = [];
const side = (...args: Parameters<typeof startSide>): Side => {
  const s = startSide(...args);
  sides.push(s);
  return s;
};
afterEach(() => {
  for (const s of sides.splice(0)) s.call.leave();
});

/** A rejoin that waits until the test opens it: our outage lasts as long as the test wants. */
const gatedRejoin = (): { rejoin: () => Promise<typeof JOIN>; open: () => void } => {
  let open = (): void => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    rejoin: async () => {
      await gate;
      return JOIN;
    },
    open: () => open(),
  };
};

const GRACE = 100;
const welcome = (s: Side): void =>
  s.socket().receive({ type: 'welcome', peerId: 'x', meetingId: 'm', role: 'customer', iceServers: [] });
const peerJoined = (s: Side, connectionId: string): void =>
  s.socket().receive({ type: 'peer-joined', peer: { peerId: 'b' }, connectionId, initiator: true });

describe('call engine: our own outage and the partner', () => {
  it('an outage of ours longer than the grace never makes the partner left; back, they get a fresh grace', async () => {
    const gate = gatedRejoin();
    const a = side({ rejoin: gate.rejoin, reconnect: { initialDelayMs: 5, maxDelayMs: 20, partnerGraceMs: GRACE } });
    const b = side();
    await pair(a, b);
    a.socket().drop();
    expect(a.call.state).toBe('reconnecting');
    await sleep(GRACE * 3);
    expect(a.partner).toEqual(['absent', 'connecting', 'connected']);
    gate.open();
    await eventually(() => expect(a.sockets).toHaveLength(2));
    await eventually(() => expect(a.socket().readyState).toBe(1));
    welcome(a);
    expect(a.partner.at(-1)).toBe('reconnecting');
    // the grace runs from our welcome: they are back in time
    await sleep(GRACE / 2);
    peerJoined(a, 'c2');
    expect(a.partner.slice(3)).toEqual(['reconnecting', 'connecting']);
    a.peer().emit('connect');
    expect(a.partner.at(-1)).toBe('connected');
    await sleep(GRACE * 2);
    expect(a.partner).not.toContain('left');
  });

  it('back and not paired again within the grace from our welcome: the partner is left', async () => {
    const gate = gatedRejoin();
    const a = side({ rejoin: gate.rejoin, reconnect: { initialDelayMs: 5, maxDelayMs: 20, partnerGraceMs: GRACE } });
    const b = side();
    await pair(a, b);
    a.socket().drop();
    await sleep(GRACE * 2);
    gate.open();
    await eventually(() => expect(a.socket().readyState).toBe(1));
    expect(a.sockets).toHaveLength(2);
    const since = Date.now();
    welcome(a);
    await eventually(() => expect(a.partner.at(-1)).toBe('left'));
    expect(Date.now() - since).toBeGreaterThanOrEqual(GRACE - 5);
    expect(a.partner).toEqual(['absent', 'connecting', 'connected', 'reconnecting', 'left']);
  });

  it('a partner already reconnecting when our socket drops: their grace stops until we are back', async () => {
    const gate = gatedRejoin();
    const a = side({ rejoin: gate.rejoin, reconnect: { initialDelayMs: 5, maxDelayMs: 20, partnerGraceMs: GRACE } });
    const b = side();
    await pair(a, b);
    a.socket().receive({ type: 'peer-left', peerId: 'b' });
    expect(a.partner.at(-1)).toBe('reconnecting');
    await sleep(GRACE / 2);
    a.socket().drop();
    await sleep(GRACE * 3);
    expect(a.partner.at(-1)).toBe('reconnecting');
    gate.open();
    await eventually(() => expect(a.socket().readyState).toBe(1));
    const since = Date.now();
    welcome(a);
    expect(a.partner.at(-1)).toBe('reconnecting');
    await eventually(() => expect(a.partner.at(-1)).toBe('left'));
    // a whole grace from the welcome, not the half left before our outage
    expect(Date.now() - since).toBeGreaterThanOrEqual(GRACE - 5);
  });

  it('a peer lost without a peer-left, then our signaling restarted: no left while we are away', async () => {
    const gate = gatedRejoin();
    const a = side({
      rejoin: gate.rejoin,
      reconnect: { initialDelayMs: 5, maxDelayMs: 20, peerLostGraceMs: 20, partnerGraceMs: GRACE },
    });
    const b = side();
    await pair(a, b);
    a.peer().emit('close');
    expect(a.partner.at(-1)).toBe('reconnecting');
    await eventually(() => expect(a.call.state).toBe('reconnecting'));
    await sleep(GRACE * 3);
    expect(a.partner).toEqual(['absent', 'connecting', 'connected', 'reconnecting']);
    gate.open();
    await eventually(() => expect(a.socket().readyState).toBe(1));
    welcome(a);
    peerJoined(a, 'c2');
    expect(a.partner.at(-1)).toBe('connecting');
  });

  it('a partner still connecting when our socket drops is absent once we are back', async () => {
    const a = side({ reconnect: { initialDelayMs: 5, maxDelayMs: 20, partnerGraceMs: GRACE } });
    await eventually(() => expect(a.socket().readyState).toBe(1));
    welcome(a);
    peerJoined(a, 'c1');
    expect(a.partner).toEqual(['absent', 'connecting']);
    a.socket().drop();
    await eventually(() => expect(a.socket().readyState).toBe(1));
    expect(a.sockets).toHaveLength(2);
    welcome(a);
    expect(a.partner).toEqual(['absent', 'connecting', 'absent']);
    await sleep(GRACE * 2);
    expect(a.partner.at(-1)).toBe('absent');
  });
});

describe("call engine: the server's peer-left", () => {
  it('with reason "left" the partner is left at once, without a grace or reconnecting in between', async () => {
    const a = side();
    const b = side();
    await pair(a, b);
    a.socket().receive({ type: 'peer-left', peerId: 'b', reason: 'left' });
    expect(a.partner).toEqual(['absent', 'connecting', 'connected', 'left']);
    expect(a.call.state).toBe('waiting-for-peer');
    // and they may come back: a new pairing
    peerJoined(a, 'c2');
    expect(a.partner.at(-1)).toBe('connecting');
    a.peer().emit('connect');
    expect(a.partner.at(-1)).toBe('connected');
  });

  it('without a reason (their socket just dropped) the partner is reconnecting, with the grace', async () => {
    const a = side({ reconnect: { partnerGraceMs: GRACE } });
    const b = side();
    await pair(a, b);
    a.socket().receive({ type: 'peer-left', peerId: 'b' });
    expect(a.partner.at(-1)).toBe('reconnecting');
    await eventually(() => expect(a.partner.at(-1)).toBe('left'));
    // any other reason is no goodbye either
    peerJoined(a, 'c2');
    a.peer().emit('connect');
    a.socket().receive({ type: 'peer-left', peerId: 'b', reason: 'whatever' });
    expect(a.partner.at(-1)).toBe('reconnecting');
  });
});
