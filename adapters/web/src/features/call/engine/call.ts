// The call engine: a native 1-1 call over simple-peer with the /signaling WebSocket (see docs/api-contract.md).
// No Vue here: the page hands in the SimplePeer constructor (window.SimplePeer from /static/simplepeer.min.js), the
// local stream and callbacks, and gets a handle back. Its parts are the functions below, each taking the call.

const CLOSE_REPLACED = 4009;
const CLOSE_FORBIDDEN = 4003;

export type CallState =
  'socket-connecting' | 'waiting-for-peer' | 'connecting-peer' | 'connected' | 'reconnecting' | 'ended';

export interface NativeJoinResponse {
  readonly signalingUrl: string;
  readonly ticket: string;
  readonly iceServers?: ReadonlyArray<unknown>;
  readonly role?: 'customer' | 'instructor';
  readonly debugLevel?: number;
}

export type CallError = Error & { code?: string };

/** What the engine uses of simple-peer's instance (`_pc` is its RTCPeerConnection, absent in fakes). */
export interface SimplePeerInstance {
  on(event: 'signal', listener: (data: unknown) => void): unknown;
  on(event: 'connect' | 'close', listener: () => void): unknown;
  on(event: 'stream', listener: (stream: MediaStream) => void): unknown;
  on(event: 'data', listener: (data: unknown) => void): unknown;
  on(event: 'error', listener: (err: { code?: unknown; message?: unknown } | undefined) => void): unknown;
  signal(data: unknown): void;
  destroy(): void;
}

export interface SimplePeerOptions {
  readonly initiator: boolean;
  readonly stream?: MediaStream;
  readonly config: { readonly iceServers: unknown[] };
}

export type SimplePeerConstructor = new (options: SimplePeerOptions) => SimplePeerInstance;

export interface OriginVerdict {
  readonly allowed: boolean;
  readonly origin?: string;
  readonly suggestedOrigin?: string;
}

export interface ReconnectOptions {
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly maxAttempts?: number;
  readonly peerLostGraceMs?: number;
}

export interface StartCallOptions {
  /** The `POST /meetings/:id/join` answer in mode native. */
  readonly join: NativeJoinResponse;
  readonly SimplePeer: SimplePeerConstructor;
  /** May be absent (no devices, or denied): the call then only receives. */
  readonly localStream?: MediaStream;
  /** A fresh join answer; an error with a 4xx `status` ends the call. */
  readonly rejoin?: () => Promise<NativeJoinResponse>;
  /**
   * Asked when a socket closes without ever opening (browsers hide a refused upgrade's status): may this page's
   * origin connect? `allowed: false` ends the call with the error `origin_refused`; null or a throw: reconnect.
   */
  readonly checkOrigin?: () => Promise<OriginVerdict | null>;
  readonly reconnect?: ReconnectOptions;
  /** Defaults to `globalThis.WebSocket`. */
  readonly WebSocket?: typeof WebSocket;
  /** Debug sink (default console.debug), used only when `join.debugLevel` is above 0. */
  readonly log?: (...args: unknown[]) => void;
  onState?(state: CallState): void;
  /** `null` when the remote side went away. */
  onRemoteStream?(stream: MediaStream | null): void;
  onError?(err: CallError): void;
}

export interface CallHandle {
  readonly state: CallState;
  leave(): void;
}

type Timer = ReturnType<typeof setTimeout>;

/** One call: its options with defaults, and its mutable state (socket, peer, timers, counters). */
interface Call {
  readonly options: StartCallOptions;
  readonly SimplePeer: SimplePeerConstructor;
  readonly localStream: MediaStream | undefined;
  readonly WebSocketImpl: typeof WebSocket;
  readonly log: (...args: unknown[]) => void;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
  readonly peerLostGraceMs: number;
  join: NativeJoinResponse;
  state: CallState;
  ended: boolean;
  socket: WebSocket | null;
  peer: SimplePeerInstance | null;
  connectionId: string | null;
  iceServers: unknown[];
  /** Socket losses since the last welcome. */
  attempts: number;
  /** Peer connections that failed since the last one that worked. */
  peerFailures: number;
  retryTimer: Timer | null;
  peerLostTimer: Timer | null;
  lastServerError: unknown;
}

function createCall(options: StartCallOptions): Call {
  return {
    options,
    SimplePeer: options.SimplePeer,
    localStream: options.localStream,
    WebSocketImpl: options.WebSocket ?? globalThis.WebSocket,
    log: options.log ?? ((...args: unknown[]) => console.debug(...args)),
    initialDelayMs: options.reconnect?.initialDelayMs ?? 500,
    maxDelayMs: options.reconnect?.maxDelayMs ?? 15000,
    maxAttempts: options.reconnect?.maxAttempts ?? 10,
    peerLostGraceMs: options.reconnect?.peerLostGraceMs ?? 3000,
    join: options.join,
    state: 'socket-connecting',
    ended: false,
    socket: null,
    peer: null,
    connectionId: null,
    iceServers: [...(options.join.iceServers ?? [])],
    attempts: 0,
    peerFailures: 0,
    retryTimer: null,
    peerLostTimer: null,
    lastServerError: null,
  };
}

function debug(call: Call, ...args: unknown[]): void {
  if ((call.join.debugLevel ?? 0) > 0) call.log('[call]', ...args);
}

/** A callback of the page that throws must not break the call. */
function notify<A extends unknown[]>(
  call: Call,
  name: string,
  callback: ((...args: A) => void) | undefined,
  ...args: A
): void {
  if (!callback) return;
  try {
    callback.apply(call.options, args);
  } catch (err) {
    console.error(`[call] ${name} failed`, err);
  }
}

function setState(call: Call, next: CallState): void {
  if (call.state === next) return;
  debug(call, 'state', call.state, '->', next);
  call.state = next;
  notify(call, 'onState', call.options.onState, next);
}

function fail(call: Call, code: string, message: string): void {
  const err: CallError = new Error(message);
  err.code = code;
  debug(call, 'error', code);
  notify(call, 'onError', call.options.onError, err);
}

const errorMessage = (err: unknown, fallback: string): string => {
  const message = err && typeof err === 'object' ? (err as { message?: unknown }).message : undefined;
  return typeof message === 'string' && message !== '' ? message : fallback;
};

function send(call: Call, message: object): void {
  if (call.socket && call.socket.readyState === 1) call.socket.send(JSON.stringify(message));
}

function clearPeerLostTimer(call: Call): void {
  if (call.peerLostTimer) clearTimeout(call.peerLostTimer);
  call.peerLostTimer = null;
}

function closeSocket(call: Call, reason: string): void {
  const s = call.socket;
  call.socket = null;
  if (!s) return;
  try {
    s.close(1000, reason);
  } catch {
    debug(call, 'socket close failed');
  }
}

/** Ends the call for good: timers, peer and socket go, and the state says `ended`. */
function finish(call: Call): void {
  call.ended = true;
  if (call.retryTimer) clearTimeout(call.retryTimer);
  call.retryTimer = null;
  clearPeerLostTimer(call);
  destroyPeer(call);
  closeSocket(call, 'left');
  setState(call, 'ended');
}

// ---- Peer: one simple-peer connection per pairing (connectionId) ----

function destroyPeer(call: Call): void {
  const old = call.peer;
  call.peer = null;
  call.connectionId = null;
  if (!old) return;
  debug(call, 'destroying peer');
  try {
    old.destroy();
  } catch {
    debug(call, 'peer destroy failed');
  }
  notify(call, 'onRemoteStream', call.options.onRemoteStream, null);
}

interface PeerJoined {
  readonly connectionId: string;
  readonly initiator?: unknown;
}

function createPeer(call: Call, message: PeerJoined): void {
  destroyPeer(call);
  clearPeerLostTimer(call);
  const cid = message.connectionId;
  call.connectionId = cid;
  debug(call, 'peer-joined, initiator', message.initiator === true);
  const p = new call.SimplePeer({
    initiator: message.initiator === true,
    ...(call.localStream ? { stream: call.localStream } : {}),
    config: { iceServers: call.iceServers },
  });
  call.peer = p;
  setState(call, 'connecting-peer');
  listenToPeer(call, p, cid);
}

const signalKind = (data: unknown): string => {
  const type = data && typeof data === 'object' ? (data as { type?: unknown }).type : undefined;
  return typeof type === 'string' && /^[a-z-]{1,20}$/.test(type) ? type : 'candidate';
};

/** Events of a peer that has been replaced since are ignored. */
function listenToPeer(call: Call, p: SimplePeerInstance, cid: string): void {
  p.on('signal', (data) => {
    if (call.peer !== p) return;
    debug(call, 'local signal', signalKind(data));
    send(call, { type: 'signal', connectionId: cid, data });
  });
  p.on('connect', () => {
    if (call.peer !== p) return;
    debug(call, 'peer connected');
    call.peerFailures = 0;
    setState(call, 'connected');
  });
  p.on('stream', (stream) => {
    if (call.peer !== p) return;
    debug(call, 'remote stream');
    notify(call, 'onRemoteStream', call.options.onRemoteStream, stream);
  });
  // We take no orders from the other side's data channel.
  p.on('data', () => {
    debug(call, 'ignored data-channel message');
  });
  p.on('error', (err) => {
    if (call.peer !== p) return;
    const code =
      err && (typeof err.code === 'string' || typeof err.code === 'number') ? String(err.code) : 'peer_error';
    fail(call, code, errorMessage(err, 'Peer connection failed.'));
    peerLost(call);
  });
  p.on('close', () => {
    if (call.peer !== p) return;
    debug(call, 'peer closed');
    peerLost(call);
  });
}

// The peer connection died without a peer-left: give the server a moment to report the other side leaving; if it
// does not, both sockets are still there and only a fresh signaling connection gets us a new pairing.
function peerLost(call: Call): void {
  destroyPeer(call);
  setState(call, 'waiting-for-peer');
  call.peerFailures += 1;
  clearPeerLostTimer(call);
  call.peerLostTimer = setTimeout(() => {
    call.peerLostTimer = null;
    if (!call.ended && !call.peer && call.state === 'waiting-for-peer') restartSignaling(call);
  }, call.peerLostGraceMs);
}

// ---- Messages from the signaling server ----

type ServerMessage = { readonly type?: unknown; readonly [key: string]: unknown };

function onSignal(call: Call, message: ServerMessage): void {
  if (!call.peer || message.connectionId !== call.connectionId) {
    debug(call, 'dropped signal for another connection');
    return;
  }
  debug(call, 'remote signal', signalKind(message.data));
  try {
    call.peer.signal(message.data);
  } catch (err) {
    fail(call, 'peer_error', errorMessage(err, 'Bad signal.'));
  }
}

function onMessage(call: Call, event: MessageEvent): void {
  if (typeof event.data !== 'string') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.data);
  } catch {
    return;
  }
  if (!parsed || typeof parsed !== 'object') return;
  const message = parsed as ServerMessage;
  switch (message.type) {
    case 'welcome':
      debug(call, 'welcome, role', message.role);
      call.attempts = 0;
      if (Array.isArray(message.iceServers)) call.iceServers = message.iceServers;
      setState(call, 'waiting-for-peer');
      return;
    case 'peer-joined':
      if (typeof message.connectionId !== 'string') return;
      createPeer(call, { connectionId: message.connectionId, initiator: message.initiator });
      return;
    case 'signal':
      onSignal(call, message);
      return;
    case 'peer-left':
      debug(call, 'peer-left');
      destroyPeer(call);
      setState(call, 'waiting-for-peer');
      return;
    case 'error':
      call.lastServerError = message;
      fail(
        call,
        typeof message.code === 'string' ? message.code : 'error',
        typeof message.message === 'string' ? message.message : 'Signaling error.',
      );
      return;
    default:
      debug(
        call,
        'ignored message',
        typeof message.type === 'string' ? message.type.slice(0, 40) : typeof message.type,
      );
  }
}

// ---- Join: the signaling socket, opened with the current ticket ----

function connect(call: Call): void {
  if (call.ended) return;
  call.lastServerError = null;
  const { signalingUrl, ticket } = call.join;
  const sep = signalingUrl.includes('?') ? '&' : '?';
  debug(call, 'opening the signaling socket');
  const s = new call.WebSocketImpl(`${signalingUrl}${sep}ticket=${encodeURIComponent(ticket)}`);
  call.socket = s;
  let opened = false;
  s.onopen = () => {
    opened = true;
  };
  s.onmessage = (event) => {
    if (call.socket === s) onMessage(call, event);
  };
  s.onerror = () => {
    debug(call, 'socket error');
  };
  s.onclose = (event) => {
    if (call.socket !== s) return;
    call.socket = null;
    debug(call, 'socket closed', event.code);
    onSocketClosed(call, event, opened);
  };
}

/** Replaced or forbidden ends the call; a socket that never opened may be a refused origin; else reconnect. */
function onSocketClosed(call: Call, event: CloseEvent, opened: boolean): void {
  if (call.ended) return;
  if (event.code === CLOSE_REPLACED) {
    fail(call, 'replaced', 'This call was opened in another window.');
    finish(call);
    return;
  }
  if (event.code === CLOSE_FORBIDDEN) {
    if (!call.lastServerError) fail(call, 'forbidden', 'You cannot join this call.');
    finish(call);
    return;
  }
  destroyPeer(call);
  if (!opened && call.options.checkOrigin) {
    void diagnoseRefusal(call, call.options.checkOrigin);
    return;
  }
  scheduleReconnect(call);
}

// The socket never opened: if the server refuses this page's origin, no retry can help, so say so and stop.
async function diagnoseRefusal(call: Call, checkOrigin: () => Promise<OriginVerdict | null>): Promise<void> {
  let verdict: OriginVerdict | null = null;
  try {
    verdict = await checkOrigin();
  } catch {
    debug(call, 'origin check failed');
  }
  if (call.ended) return;
  if (verdict && verdict.allowed === false) {
    const origin = typeof verdict.origin === 'string' ? verdict.origin : 'this address';
    const where =
      typeof verdict.suggestedOrigin === 'string' ? ` Open this page from ${verdict.suggestedOrigin} instead.` : '';
    fail(
      call,
      'origin_refused',
      `The server refused the connection from this address (origin ${origin} is not allowed).${where}`,
    );
    finish(call);
    return;
  }
  scheduleReconnect(call);
}

// ---- Reconnect: backoff with jitter, a fresh ticket from `rejoin`, then a new socket ----

function scheduleReconnect(call: Call): void {
  if (call.ended || call.retryTimer) return;
  if (call.attempts >= call.maxAttempts || call.peerFailures > call.maxAttempts) {
    fail(call, 'unreachable', 'Could not reconnect to the call.');
    finish(call);
    return;
  }
  setState(call, 'reconnecting');
  const base = Math.min(call.maxDelayMs, call.initialDelayMs * 2 ** (call.attempts + call.peerFailures));
  const delay = base / 2 + Math.random() * (base / 2);
  call.attempts += 1;
  debug(call, 'reconnecting in', Math.round(delay), 'ms, attempt', call.attempts);
  call.retryTimer = setTimeout(() => {
    call.retryTimer = null;
    void rejoinAndConnect(call);
  }, delay);
}

/** A 4xx from `rejoin` ends the call (the meeting cannot be joined any more); any other failure retries. */
async function rejoinAndConnect(call: Call): Promise<void> {
  if (call.ended) return;
  const rejoin = call.options.rejoin;
  if (!rejoin) {
    fail(call, 'disconnected', 'The call connection was lost.');
    finish(call);
    return;
  }
  try {
    const fresh = await rejoin();
    if (call.ended) return;
    call.join = fresh;
    if (Array.isArray(fresh.iceServers)) call.iceServers = [...fresh.iceServers];
    connect(call);
  } catch (err) {
    if (call.ended) return;
    const status = err && typeof err === 'object' ? (err as { status?: unknown }).status : undefined;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      fail(call, 'rejoin_refused', errorMessage(err, 'The call cannot be joined any more.'));
      finish(call);
      return;
    }
    debug(call, 'rejoin failed');
    scheduleReconnect(call);
  }
}

function restartSignaling(call: Call): void {
  if (call.ended) return;
  destroyPeer(call);
  closeSocket(call, 'restart');
  scheduleReconnect(call);
}

export function startCall(options: StartCallOptions): CallHandle {
  const call = createCall(options);
  notify(call, 'onState', options.onState, 'socket-connecting');
  connect(call);
  return {
    leave() {
      if (call.ended) return;
      debug(call, 'leaving');
      send(call, { type: 'leave' });
      finish(call);
    },
    get state() {
      return call.state;
    },
  };
}
