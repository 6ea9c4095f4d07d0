import { EventEmitter } from 'node:events';
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
  Quality,
  SimplePeerConstructor,
  SimplePeerOptions,
  StartCallOptions,
} from '../../../../adapters/web/src/features/call/engine/call.ts';

// Node has no WebRTC and no browser WebSocket: a scripted socket (the test plays the signaling server) and a fake
// simple-peer whose data channel two tests' peers can share.

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const eventually = async (check: () => void, timeoutMs = 3000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(5);
    }
  }
};

export class FakeSocket {
  readyState = 0;
  readonly sent: Array<Record<string, unknown>> = [];
  closed: { code?: number; reason?: string } | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {
    queueMicrotask(() => {
      if (this.closed) return;
      this.readyState = 1;
      this.onopen?.({});
    });
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.readyState = 3;
    this.closed = { code, reason };
  }

  /** A frame from the server. */
  receive(message: object): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  /** The connection ends from the other end (network, server). */
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

export class FakeTrack {
  enabled = true;
  stopped = false;
  constructor(
    readonly kind: 'audio' | 'video',
    readonly label: string,
  ) {}
  stop(): void {
    this.stopped = true;
  }
}

export class FakeStream {
  private tracks: FakeTrack[];
  constructor(tracks: FakeTrack[] = []) {
    this.tracks = [...tracks];
  }
  getTracks(): FakeTrack[] {
    return [...this.tracks];
  }
  addTrack(track: FakeTrack): void {
    if (!this.tracks.includes(track)) this.tracks.push(track);
  }
  removeTrack(track: FakeTrack): void {
    this.tracks = this.tracks.filter((t) => t !== track);
  }
}

/** An RTCPeerConnection's events, ICE state and statistics, as the test sets them. */
export class FakePc extends EventTarget {
  iceConnectionState = 'new';
  connectionState = 'new';
  reports: Array<Map<string, Record<string, unknown>>> = [];
  statsCalls = 0;
  setIce(state: string): void {
    this.iceConnectionState = state;
    this.dispatchEvent(new Event('iceconnectionstatechange'));
  }
  setConnection(state: string): void {
    this.connectionState = state;
    this.dispatchEvent(new Event('connectionstatechange'));
  }
  async getStats(): Promise<Map<string, Record<string, unknown>>> {
    this.statsCalls += 1;
    return this.reports.length > 1 ? this.reports.shift()! : (this.reports[0] ?? new Map());
  }
}

export class FakePeer extends EventEmitter {
  readonly received: unknown[] = [];
  readonly sent: string[] = [];
  readonly replaced: Array<[FakeTrack, FakeTrack, FakeStream]> = [];
  readonly added: Array<[FakeTrack, FakeStream]> = [];
  partner: FakePeer | null = null;
  destroyed = false;
  bufferSize = 0;
  _pc: FakePc | undefined;
  constructor(
    readonly options: SimplePeerOptions,
    withPc: boolean,
  ) {
    super();
    if (withPc) this._pc = new FakePc();
  }
  signal(data: unknown): void {
    this.received.push(data);
  }
  /** Delivered to the linked peer as bytes, as simple-peer does. */
  send(data: string): void {
    if (this.destroyed) throw new Error('cannot send after peer is destroyed');
    this.sent.push(data);
    const to = this.partner;
    setTimeout(() => {
      if (to && !to.destroyed) to.emit('data', Buffer.from(data));
    }, 0);
  }
  replaceTrack(oldTrack: FakeTrack, newTrack: FakeTrack, stream: FakeStream): void {
    this.replaced.push([oldTrack, newTrack, stream]);
  }
  addTrack(track: FakeTrack, stream: FakeStream): void {
    this.added.push([track, stream]);
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    setTimeout(() => this.emit('close'), 0);
  }
  /** The frames this peer sent, parsed. */
  frames(): Array<Record<string, unknown>> {
    return this.sent.map((f) => JSON.parse(f) as Record<string, unknown>);
  }
}

export interface Side {
  readonly call: CallHandle;
  readonly sockets: FakeSocket[];
  readonly peers: FakePeer[];
  readonly states: CallState[];
  readonly partner: PartnerState[];
  readonly chats: ChatMessage[];
  readonly deliveries: Array<[string, ChatDelivery]>;
  readonly remoteMedia: MediaState[];
  readonly qualities: Quality[];
  readonly streams: unknown[];
  readonly errors: CallError[];
  readonly logs: unknown[][];
  socket(): FakeSocket;
  peer(): FakePeer;
}

export const JOIN: NativeJoinResponse = {
  signalingUrl: 'wss://calls.example:8443/signaling',
  ticket: 'dGlja2V0.c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC1zZWM',
  iceServers: [{ urls: 'stun:stun.example:3478' }],
  role: 'customer',
  debugLevel: 0,
};

export const startSide = (
  options: Partial<Omit<StartCallOptions, 'SimplePeer' | 'WebSocket' | 'localStream'>> & {
    localStream?: FakeStream;
    withPc?: boolean;
  } = {},
): Side => {
  const sockets: FakeSocket[] = [];
  const peers: FakePeer[] = [];
  const side = {
    sockets,
    peers,
    states: [] as CallState[],
    partner: [] as PartnerState[],
    chats: [] as ChatMessage[],
    deliveries: [] as Array<[string, ChatDelivery]>,
    remoteMedia: [] as MediaState[],
    qualities: [] as Quality[],
    streams: [] as unknown[],
    errors: [] as CallError[],
    logs: [] as unknown[][],
    socket: () => sockets.at(-1)!,
    peer: () => peers.at(-1)!,
  };
  const Socket = class extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  };
  const withPc = options.withPc ?? false;
  const Peer = class extends FakePeer {
    constructor(peerOptions: SimplePeerOptions) {
      super(peerOptions, withPc);
      peers.push(this);
    }
  };
  const { localStream, withPc: _withPc, ...rest } = options;
  const call = startCall({
    join: JOIN,
    reconnect: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 5, peerLostGraceMs: 50, partnerGraceMs: 200 },
    chatAckTimeoutMs: 200,
    statsIntervalMs: 20,
    rejoin: async () => JOIN,
    log: (...args: unknown[]) => side.logs.push(args),
    onState: (s) => side.states.push(s),
    onPartner: (p) => side.partner.push(p),
    onChat: (m) => side.chats.push(m),
    onChatDelivery: (id, d) => side.deliveries.push([id, d]),
    onRemoteMedia: (m) => side.remoteMedia.push(m),
    onQuality: (q) => side.qualities.push(q),
    onRemoteStream: (s) => side.streams.push(s),
    onError: (e) => side.errors.push(e),
    ...rest,
    ...(localStream ? { localStream: localStream as unknown as MediaStream } : {}),
    SimplePeer: Peer as unknown as SimplePeerConstructor,
    WebSocket: Socket as unknown as typeof WebSocket,
  });
  return { ...side, call };
};

/** Plays the server for two sides: welcome to both, then the pairing (`a` initiates), then links their channels. */
export const pair = async (a: Side, b: Side, connectionId = 'c1'): Promise<void> => {
  await eventually(() => {
    if (a.socket().readyState !== 1 || b.socket().readyState !== 1) throw new Error('not open');
  });
  for (const s of [a, b]) {
    if (s.call.state === 'socket-connecting' || s.call.state === 'reconnecting') {
      s.socket().receive({ type: 'welcome', peerId: 'x', meetingId: 'm', role: 'customer', iceServers: [] });
    }
  }
  a.socket().receive({ type: 'peer-joined', peer: { peerId: 'b', role: 'customer' }, connectionId, initiator: true });
  b.socket().receive({
    type: 'peer-joined',
    peer: { peerId: 'a', role: 'instructor' },
    connectionId,
    initiator: false,
  });
  link(a.peer(), b.peer());
};

/** The two peers' data channel opens. */
export const link = (p: FakePeer, q: FakePeer): void => {
  p.partner = q;
  q.partner = p;
  p.emit('connect');
  q.emit('connect');
};
