import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startCall } from '../../../../adapters/web/src/features/call/engine/call.ts';
import type {
  CallError,
  CallHandle,
  CallState,
  ChatDelivery,
  ChatMessage,
  MediaState,
  NativeJoinResponse,
  PartnerState,
  SimplePeerConstructor,
} from '../../../../adapters/web/src/features/call/engine/call.ts';
import type { CallRole } from '../../../../application/calls.ts';
import { CUSTOMER, INSTRUCTOR, MEETING, ORIGIN, eventually, sleep, startHarness } from '../../signaling/harness.ts';
import type { Harness } from '../../signaling/harness.ts';

// Node has no WebRTC: this stands in for simple-peer with its event interface and a scripted offer/answer exchange.
interface PeerOptions {
  initiator: boolean;
  stream?: unknown;
  config: { iceServers: unknown[] };
}

/** Each party's newest peer, so the peers that exchanged an offer and an answer share a data channel. */
const newestPeer = new Map<string, FakePeerBase>();

class FakePeerBase extends EventEmitter {
  readonly received: unknown[] = [];
  readonly sent: string[] = [];
  partner: FakePeerBase | undefined;
  destroyed = false;
  constructor(
    readonly options: PeerOptions,
    readonly owner: string,
  ) {
    super();
    newestPeer.set(owner, this);
    if (options.initiator) {
      setTimeout(() => {
        if (this.destroyed) return;
        this.emit('signal', { type: 'offer', sdp: `offer-from-${owner}` });
        this.emit('signal', { type: 'candidate', candidate: { candidate: `candidate:${owner}`, sdpMLineIndex: 0 } });
      }, 0);
    }
  }

  signal(data: unknown): void {
    this.received.push(data);
    const { type, sdp } = data as { type?: string; sdp?: string };
    const other = typeof sdp === 'string' ? newestPeer.get(sdp.replace(/^(offer|answer)-from-/, '')) : undefined;
    if (other) {
      this.partner = other;
      other.partner = this;
    }
    setTimeout(() => {
      if (this.destroyed) return;
      if (type === 'offer') this.emit('signal', { type: 'answer', sdp: `answer-from-${this.owner}` });
      if (type === 'offer' || type === 'answer') {
        this.emit('connect');
        this.emit('stream', { remoteOf: this.owner });
        // a hostile remote: the client must not act on data-channel messages that are no frame of the protocol
        this.emit('data', JSON.stringify({ action: 'leave' }));
        this.emit('data', Buffer.from(JSON.stringify({ v: 1, type: 'leave' })));
      }
    }, 0);
  }

  send(data: string): void {
    this.sent.push(data);
    const to = this.partner;
    setTimeout(() => {
      if (to && !to.destroyed) to.emit('data', Buffer.from(data));
    }, 0);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    setTimeout(() => this.emit('close'), 0);
  }
}

interface Party {
  readonly peers: FakePeerBase[];
  readonly states: CallState[];
  readonly partner: PartnerState[];
  readonly chats: ChatMessage[];
  readonly deliveries: Array<[string, ChatDelivery]>;
  readonly remoteMedia: MediaState[];
  readonly errors: CallError[];
  readonly streams: unknown[];
  rejoins: number;
  call: CallHandle;
}

let harness: Harness | undefined;
let proxy: net.Server | undefined;
const proxied = new Set<net.Socket>();
const parties: Party[] = [];

afterEach(async () => {
  for (const p of parties.splice(0)) p.call.leave();
  for (const s of proxied) s.destroy();
  proxied.clear();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  proxy = undefined;
  await harness?.close();
  harness = undefined;
});

class OriginWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { origin: ORIGIN });
  }
}

/** A TCP hop between clients and the server, so a test can cut connections like a network would. */
const startProxy = async (targetPort: number): Promise<number> => {
  proxy = net.createServer((inbound) => {
    const outbound = net.connect(targetPort, '127.0.0.1');
    proxied.add(inbound);
    proxied.add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const drop = (): void => {
      inbound.destroy();
      outbound.destroy();
      proxied.delete(inbound);
      proxied.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
  return (proxy.address() as AddressInfo).port;
};

const joinResponse = (h: Harness, userId: string, role: CallRole, port = h.port): NativeJoinResponse => ({
  signalingUrl: `ws://127.0.0.1:${port}/signaling`,
  ticket: h.ticket(userId, MEETING, role),
  iceServers: [{ urls: 'stun:from-join.example' }],
  role,
  debugLevel: 0,
});

const startParty = (
  h: Harness,
  userId: string,
  role: CallRole,
  options: {
    port?: number;
    rejoin?: () => Promise<NativeJoinResponse>;
    join?: NativeJoinResponse;
    WebSocket?: new (url: string) => WebSocket;
    checkOrigin?: Parameters<typeof startCall>[0]['checkOrigin'];
  } = {},
): Party => {
  const party: Partial<Party> &
    Pick<Party, 'peers' | 'states' | 'errors' | 'streams' | 'partner' | 'chats' | 'deliveries' | 'remoteMedia'> = {
    peers: [],
    states: [],
    partner: [],
    chats: [],
    deliveries: [],
    remoteMedia: [],
    errors: [],
    streams: [],
    rejoins: 0,
  };
  const owner = `${role}-${parties.length}`;
  const SimplePeer = class extends FakePeerBase {
    constructor(peerOptions: PeerOptions) {
      super(peerOptions, owner);
      party.peers.push(this);
    }
  };
  party.call = startCall({
    join: options.join ?? joinResponse(h, userId, role, options.port),
    SimplePeer: SimplePeer as unknown as SimplePeerConstructor,
    localStream: { local: owner } as unknown as MediaStream,
    onState: (s) => party.states.push(s),
    onPartner: (p) => party.partner.push(p),
    onChat: (m) => party.chats.push(m),
    onChatDelivery: (id, d) => party.deliveries.push([id, d]),
    onRemoteMedia: (m) => party.remoteMedia.push(m),
    onRemoteStream: (s) => party.streams.push(s),
    onError: (e) => party.errors.push(e),
    rejoin: async () => {
      party.rejoins = (party.rejoins ?? 0) + 1;
      return options.rejoin ? options.rejoin() : joinResponse(h, userId, role, options.port);
    },
    reconnect: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 20 },
    WebSocket: (options.WebSocket ?? OriginWebSocket) as unknown as typeof globalThis.WebSocket,
    ...(options.checkOrigin !== undefined ? { checkOrigin: options.checkOrigin } : {}),
  });
  parties.push(party as Party);
  return party as Party;
};

describe('call engine against the real signaling server', () => {
  it('connects both sides through the states, the instructor initiating, signals relayed unchanged', async () => {
    harness = await startHarness();
    const h = harness;
    const customer = startParty(h, CUSTOMER, 'customer');
    await eventually(() => expect(customer.call.state).toBe('waiting-for-peer'));
    const instructor = startParty(h, INSTRUCTOR, 'instructor');
    await eventually(() => {
      expect(customer.call.state).toBe('connected');
      expect(instructor.call.state).toBe('connected');
    });
    expect(customer.states).toEqual(['socket-connecting', 'waiting-for-peer', 'connecting-peer', 'connected']);
    expect(instructor.states).toEqual(['socket-connecting', 'waiting-for-peer', 'connecting-peer', 'connected']);
    expect(instructor.peers).toHaveLength(1);
    expect(customer.peers).toHaveLength(1);
    expect(instructor.peers[0]!.options.initiator).toBe(true);
    expect(customer.peers[0]!.options.initiator).toBe(false);
    expect(customer.peers[0]!.options.stream).toEqual({ local: 'customer-0' });
    // ICE servers come from the welcome (server-side TURN credentials), not the join response
    const ice = customer.peers[0]!.options.config.iceServers as Array<{ urls: unknown; username?: string }>;
    expect(ice[0]).toEqual({ urls: ['stun:stun.example:3478'] });
    expect(ice[1]?.username).toMatch(new RegExp(`^\\d+:${CUSTOMER}$`));
    expect(customer.peers[0]!.received).toEqual([
      { type: 'offer', sdp: 'offer-from-instructor-1' },
      { type: 'candidate', candidate: { candidate: 'candidate:instructor-1', sdpMLineIndex: 0 } },
    ]);
    expect(instructor.peers[0]!.received).toEqual([{ type: 'answer', sdp: 'answer-from-customer-0' }]);
    expect(customer.streams).toEqual([{ remoteOf: 'customer-0' }]);
    // each side told the other its mic and camera on connecting (off: this stream has no tracks)
    for (const p of [customer, instructor]) {
      expect(p.peers[0]!.sent.map((f) => JSON.parse(f))).toEqual([{ v: 1, type: 'media', mic: false, cam: false }]);
    }
    // the data-channel message changed nothing
    await sleep(50);
    expect(customer.call.state).toBe('connected');
    expect(customer.errors).toEqual([]);
    expect(instructor.errors).toEqual([]);
  });

  it('chat, media and bye go over the data channel: the partner left, not lost', async () => {
    harness = await startHarness();
    const h = harness;
    const customer = startParty(h, CUSTOMER, 'customer');
    const instructor = startParty(h, INSTRUCTOR, 'instructor');
    await eventually(() => expect([customer.call.state, instructor.call.state]).toEqual(['connected', 'connected']));
    await eventually(() => expect(instructor.remoteMedia).toEqual([{ mic: false, cam: false }]));
    const sent = customer.call.sendChat('<b>See you</b> at 10');
    if (!sent.ok) throw new Error('refused');
    await eventually(() => expect(customer.deliveries.at(-1)).toEqual([sent.message.id, 'delivered']));
    expect(instructor.chats).toEqual([{ ...sent.message, from: 'partner', receivedAt: expect.any(String) }]);
    customer.call.leave();
    await eventually(() => expect(instructor.call.state).toBe('waiting-for-peer'));
    await eventually(() => expect(h.handle.stats()).toEqual({ rooms: 1, sockets: 1 }));
    expect(instructor.partner).toEqual(['absent', 'connecting', 'connected', 'left']);
    await sleep(100);
    expect(instructor.states).not.toContain('reconnecting');
  });

  it('leave ends one side; the other destroys its peer and waits again', async () => {
    harness = await startHarness();
    const h = harness;
    const customer = startParty(h, CUSTOMER, 'customer');
    const instructor = startParty(h, INSTRUCTOR, 'instructor');
    await eventually(() => expect([customer.call.state, instructor.call.state]).toEqual(['connected', 'connected']));
    customer.call.leave();
    expect(customer.call.state).toBe('ended');
    await eventually(() => expect(instructor.call.state).toBe('waiting-for-peer'));
    expect(instructor.peers[0]!.destroyed).toBe(true);
    expect(instructor.streams.at(-1)).toBeNull();
    await eventually(() => expect(h.handle.stats()).toEqual({ rooms: 1, sockets: 1 }));
    expect(customer.rejoins).toBe(0);

    // and a new customer session pairs again
    const customer2 = startParty(h, CUSTOMER, 'customer');
    await eventually(() => expect([customer2.call.state, instructor.call.state]).toEqual(['connected', 'connected']));
    expect(instructor.peers).toHaveLength(2);
  });

  it('a second tab of the same user takes over; the first ends once and does not fight back', async () => {
    harness = await startHarness();
    const h = harness;
    const instructor = startParty(h, INSTRUCTOR, 'instructor');
    const tab1 = startParty(h, CUSTOMER, 'customer');
    await eventually(() => expect(tab1.call.state).toBe('connected'));
    const tab2 = startParty(h, CUSTOMER, 'customer');
    await eventually(() => {
      expect(tab1.call.state).toBe('ended');
      expect(tab2.call.state).toBe('connected');
      expect(instructor.call.state).toBe('connected');
    });
    expect(tab1.errors.map((e) => e.code)).toContain('replaced');
    await sleep(400);
    expect(tab1.call.state).toBe('ended');
    expect(tab1.rejoins).toBe(0);
    expect(tab2.call.state).toBe('connected');
    expect(tab2.states.filter((s) => s === 'reconnecting')).toEqual([]);
    expect(instructor.peers).toHaveLength(2);
    expect(h.handle.stats()).toEqual({ rooms: 1, sockets: 2 });
  });

  it('ends without reconnecting when the meeting is cancelled during the call', async () => {
    harness = await startHarness();
    const h = harness;
    const customer = startParty(h, CUSTOMER, 'customer');
    const instructor = startParty(h, INSTRUCTOR, 'instructor');
    await eventually(() => expect([customer.call.state, instructor.call.state]).toEqual(['connected', 'connected']));
    h.meetings.get(MEETING)!.cancelled = true;
    await h.handle.meetingChanged(MEETING);
    await eventually(() => expect([customer.call.state, instructor.call.state]).toEqual(['ended', 'ended']));
    expect(customer.errors.map((e) => e.code)).toContain('cancelled');
    expect(instructor.errors.map((e) => e.code)).toContain('cancelled');
    await sleep(200);
    expect(customer.rejoins + instructor.rejoins).toBe(0);
  });

  it('reconnects with a fresh ticket after the network drops, and pairs again', async () => {
    harness = await startHarness();
    const h = harness;
    const port = await startProxy(h.port);
    const customer = startParty(h, CUSTOMER, 'customer', { port });
    const instructor = startParty(h, INSTRUCTOR, 'instructor', { port });
    await eventually(() => expect([customer.call.state, instructor.call.state]).toEqual(['connected', 'connected']));
    for (const s of [...proxied]) s.destroy();
    await eventually(() => {
      expect(customer.states).toContain('reconnecting');
      expect(instructor.states).toContain('reconnecting');
    });
    await eventually(() => expect([customer.call.state, instructor.call.state]).toEqual(['connected', 'connected']));
    expect(customer.rejoins).toBeGreaterThanOrEqual(1);
    expect(instructor.rejoins).toBeGreaterThanOrEqual(1);
    expect(customer.peers.length).toBeGreaterThanOrEqual(2);
    expect(customer.peers.slice(0, -1).every((p) => p.destroyed)).toBe(true);
    expect(h.handle.stats()).toEqual({ rooms: 1, sockets: 2 });
  });

  it('ends when rejoining is refused (e.g. 409 once the meeting is over)', async () => {
    harness = await startHarness();
    const h = harness;
    const port = await startProxy(h.port);
    const customer = startParty(h, CUSTOMER, 'customer', {
      port,
      rejoin: async () => {
        throw Object.assign(new Error('The meeting has ended.'), { status: 409 });
      },
    });
    await eventually(() => expect(customer.call.state).toBe('waiting-for-peer'));
    for (const s of [...proxied]) s.destroy();
    await eventually(() => expect(customer.call.state).toBe('ended'));
    expect(customer.rejoins).toBe(1);
    expect(customer.errors.map((e) => e.code)).toContain('rejoin_refused');
  });

  // Browsers hide why an upgrade failed: a page on a refused origin used to reconnect forever ("Connection lost").
  it('ends with origin_refused when the socket never opened and the server says this origin is not allowed', async () => {
    harness = await startHarness();
    const h = harness;
    const FOREIGN = 'http://127.0.0.1:1';
    class ForeignWebSocket extends WebSocket {
      constructor(url: string) {
        super(url, { origin: FOREIGN });
      }
    }
    let checks = 0;
    const customer = startParty(h, CUSTOMER, 'customer', {
      WebSocket: ForeignWebSocket,
      checkOrigin: async () => {
        checks += 1;
        return { origin: FOREIGN, allowed: h.handle.originAllowed(FOREIGN), suggestedOrigin: ORIGIN };
      },
    });
    await eventually(() => expect(customer.call.state).toBe('ended'));
    expect(checks).toBe(1);
    expect(customer.rejoins).toBe(0);
    expect(customer.errors.map((e) => [e.code, e.message])).toEqual([
      [
        'origin_refused',
        `The server refused the connection from this address (origin ${FOREIGN} is not allowed). Open this page from ${ORIGIN} instead.`,
      ],
    ]);
  });

  it('reconnects as before when the socket never opened but the origin is allowed (here: a used ticket)', async () => {
    harness = await startHarness();
    const h = harness;
    const used = joinResponse(h, CUSTOMER, 'customer');
    expect((await h.tickets.redeem(used.ticket, h.clock))._tag).toBe('Right');
    let checks = 0;
    const customer = startParty(h, CUSTOMER, 'customer', {
      join: used,
      checkOrigin: async () => {
        checks += 1;
        return { origin: ORIGIN, allowed: h.handle.originAllowed(ORIGIN) };
      },
    });
    await eventually(() => expect(customer.call.state).toBe('waiting-for-peer'));
    expect(checks).toBe(1);
    expect(customer.rejoins).toBe(1);
    expect(customer.errors).toEqual([]);
  });
});
