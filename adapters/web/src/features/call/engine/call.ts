// The call engine: a native 1-1 call over simple-peer with the /signaling WebSocket (see docs/api-contract.md).
// No Vue here: the page hands in the SimplePeer constructor (window.SimplePeer from /static/simplepeer.min.js), the
// local stream and callbacks, and gets a handle back. Its parts are the functions below, each taking the call.
// Besides the media, the two engines talk over simple-peer's data channel (protocol v1 in protocol.ts): mic and
// camera on or off, chat with acks, and a goodbye, so each side tells "left" from "lost the connection".

import { CHAT_MAX_LENGTH, decodeFrame, decodeSignal, encodeFrame, isChatId, normalizeChatText } from './protocol.ts';
import type { Frame } from './protocol.ts';
import { measureQuality, sameRoute, selectedRoute } from './quality.ts';
import type { Quality, Route, StatsLike } from './quality.ts';

export { CHAT_MAX_LENGTH } from './protocol.ts';
export type { Quality } from './quality.ts';

const CLOSE_REPLACED = 4009;
const CLOSE_FORBIDDEN = 4003;
/** My chat messages waiting for their ack at once; more are reported failed at once. */
const MAX_PENDING_CHATS = 50;
/** Chat ids of the partner's remembered to drop repeats; failed ids of mine remembered for a late ack. */
const SEEN_CHAT_IDS = 500;
const FAILED_CHAT_IDS = 100;
/** The partner's messages taken per window; more are dropped unacked (their sender sees them fail). */
const INCOMING_CHATS_PER_WINDOW = 30;
const INCOMING_CHAT_WINDOW_MS = 10_000;
/** After saying bye: how long the peer is kept at most for the data channel to send it, then a moment for the wire. */
const BYE_FLUSH_MAX_MS = 300;
const BYE_GRACE_MS = 50;
/** Relayed signals refused on one peer connection before it is given up (and signaling started again). */
const MAX_DROPPED_SIGNALS = 20;

export type CallState =
  'socket-connecting' | 'waiting-for-peer' | 'connecting-peer' | 'connected' | 'reconnecting' | 'ended';

/** absent: not here yet; reconnecting: lost without a bye (for up to partnerGraceMs); left: said bye. */
export type PartnerState = 'absent' | 'connecting' | 'connected' | 'reconnecting' | 'left';

export interface MediaState {
  readonly mic: boolean;
  readonly cam: boolean;
}

export interface ChatMessage {
  readonly id: string;
  readonly text: string;
  readonly sentAt: string;
  readonly from: 'me' | 'partner';
  /** For the partner's messages: when this engine received it (local clock), as an ISO instant. */
  readonly receivedAt?: string;
}

export type ChatDelivery = 'sending' | 'delivered' | 'failed';

export interface NativeJoinResponse {
  readonly signalingUrl: string;
  readonly ticket: string;
  readonly iceServers?: ReadonlyArray<unknown>;
  readonly role?: 'customer' | 'instructor';
  readonly debugLevel?: number;
}

export type CallError = Error & { code?: string };

/** What the engine reads of an RTCPeerConnection (simple-peer's `_pc`). */
export interface PeerConnectionLike {
  readonly iceConnectionState?: string;
  readonly connectionState?: string;
  addEventListener?(type: string, listener: () => void): void;
  removeEventListener?(type: string, listener: () => void): void;
  getStats?(): Promise<StatsLike>;
}

/** What the engine uses of simple-peer's instance (`_pc` is its RTCPeerConnection, absent in fakes). */
export interface SimplePeerInstance {
  on(event: 'signal', listener: (data: unknown) => void): unknown;
  on(event: 'connect' | 'close', listener: () => void): unknown;
  on(event: 'stream', listener: (stream: MediaStream) => void): unknown;
  on(event: 'data', listener: (data: unknown) => void): unknown;
  on(event: 'error', listener: (err: { code?: unknown; message?: unknown } | undefined) => void): unknown;
  signal(data: unknown): void;
  send?(data: string): void;
  replaceTrack?(oldTrack: MediaStreamTrack, newTrack: MediaStreamTrack, stream: MediaStream): void;
  addTrack?(track: MediaStreamTrack, stream: MediaStream): void;
  destroy(): void;
  readonly bufferSize?: number;
  readonly _pc?: PeerConnectionLike;
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
  /** How long a partner lost without a bye stays `reconnecting` before `left` (default 45 000). */
  readonly partnerGraceMs?: number;
}

export interface StartCallOptions {
  /** The `POST /meetings/:id/join` answer in mode native. */
  readonly join: NativeJoinResponse;
  readonly SimplePeer: SimplePeerConstructor;
  /** May be absent (no devices, or denied): the call then only receives. */
  readonly localStream?: MediaStream;
  /** Initial mic and camera on or off (the tracks' `enabled` is set accordingly); default both on. */
  readonly media?: MediaState;
  /** A fresh join answer; an error with a 4xx `status` ends the call. */
  readonly rejoin?: () => Promise<NativeJoinResponse>;
  /**
   * Asked when a socket closes without ever opening (browsers hide a refused upgrade's status): may this page's
   * origin connect? `allowed: false` ends the call with the error `origin_refused`; null or a throw: reconnect.
   */
  readonly checkOrigin?: () => Promise<OriginVerdict | null>;
  readonly reconnect?: ReconnectOptions;
  /** How often the connection's quality is sampled while connected (default 2000 ms). */
  readonly statsIntervalMs?: number;
  /** How long a chat message waits for its ack before it is reported failed (default 5000 ms). */
  readonly chatAckTimeoutMs?: number;
  /** Defaults to `globalThis.WebSocket`. */
  readonly WebSocket?: typeof WebSocket;
  /** Debug sink (default console.debug), used only when `join.debugLevel` is above 0. */
  readonly log?: (...args: unknown[]) => void;
  onState?(state: CallState): void;
  onPartner?(partner: PartnerState): void;
  /** `null` when the remote side went away. */
  onRemoteStream?(stream: MediaStream | null): void;
  /** What the partner told about their mic and camera. */
  onRemoteMedia?(media: MediaState): void;
  /** A message of the partner's (each id once). */
  onChat?(message: ChatMessage): void;
  /** For my own messages, after `sendChat` returned: 'sending', then 'delivered' or 'failed'. */
  onChatDelivery?(id: string, delivery: ChatDelivery): void;
  /** Every statsIntervalMs while connected. */
  onQuality?(quality: Quality): void;
  onError?(err: CallError): void;
}

export type SendChatResult =
  { readonly ok: true; readonly message: ChatMessage } | { readonly ok: false; readonly reason: 'empty' | 'too_long' };

export interface CallHandle {
  readonly state: CallState;
  /** Says bye on the data channel and leave on the socket, both at once; the call ends (state `ended` at once). */
  leave(): void;
  /** Enables or disables the local tracks and tells the partner. */
  setMedia(media: Partial<MediaState>): void;
  /** A new camera or mic track (by kind) in place of the old one, in the local stream and the peer connection. */
  replaceTrack(track: MediaStreamTrack): Promise<void>;
  /**
   * With `id` (a retry of a message of mine that failed) the message goes out again under the same id: the partner
   * shows it once and acks again. An id that is not 1 to 64 of `A-Z a-z 0-9 _ -` throws a TypeError.
   */
  sendChat(text: string, options?: SendChatOptions): SendChatResult;
}

export interface SendChatOptions {
  readonly id?: string;
}

type Timer = ReturnType<typeof setTimeout>;

/** One call: its options with defaults, and its mutable state (socket, peer, timers, counters). */
interface Call {
  readonly options: StartCallOptions;
  readonly SimplePeer: SimplePeerConstructor;
  readonly WebSocketImpl: typeof WebSocket;
  readonly log: (...args: unknown[]) => void;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
  readonly peerLostGraceMs: number;
  readonly partnerGraceMs: number;
  readonly statsIntervalMs: number;
  readonly chatAckTimeoutMs: number;
  localStream: MediaStream | undefined;
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
  media: MediaState;
  partner: PartnerState;
  partnerTimer: Timer | null;
  /** The partner of the current pairing said bye. */
  partnerSaidBye: boolean;
  /** This side initiates the current peer connection. */
  initiator: boolean;
  /** Relayed signals refused on the current peer connection. */
  droppedSignals: number;
  /** Transceiver kinds the partner asked for on the current peer connection (each taken once). */
  transceiverRequests: Set<string>;
  /** The current peer's data channel is open (simple-peer's `connect`). */
  channelOpen: boolean;
  /** Removes the listeners on the current peer's RTCPeerConnection. */
  unwatchPc: (() => void) | null;
  statsTimer: ReturnType<typeof setInterval> | null;
  previousStats: StatsLike | null;
  route: Route | null;
  pendingChats: Map<string, Timer>;
  failedChats: Set<string>;
  seenChats: Set<string>;
  /** When the partner's messages of the current window arrived. */
  incomingChatTimes: number[];
}

function createCall(options: StartCallOptions): Call {
  return {
    options,
    SimplePeer: options.SimplePeer,
    WebSocketImpl: options.WebSocket ?? globalThis.WebSocket,
    log: options.log ?? ((...args: unknown[]) => console.debug(...args)),
    initialDelayMs: options.reconnect?.initialDelayMs ?? 500,
    maxDelayMs: options.reconnect?.maxDelayMs ?? 15000,
    maxAttempts: options.reconnect?.maxAttempts ?? 10,
    peerLostGraceMs: options.reconnect?.peerLostGraceMs ?? 3000,
    partnerGraceMs: options.reconnect?.partnerGraceMs ?? 45000,
    statsIntervalMs: options.statsIntervalMs ?? 2000,
    chatAckTimeoutMs: options.chatAckTimeoutMs ?? 5000,
    localStream: options.localStream,
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
    media: options.media ?? mediaOfTracks(options.localStream),
    partner: 'absent',
    partnerTimer: null,
    partnerSaidBye: false,
    initiator: false,
    droppedSignals: 0,
    transceiverRequests: new Set(),
    channelOpen: false,
    unwatchPc: null,
    statsTimer: null,
    previousStats: null,
    route: null,
    pendingChats: new Map(),
    failedChats: new Set(),
    seenChats: new Set(),
    incomingChatTimes: [],
  };
}

// Debug output names states, kinds and numbers only: never a signal's data (SDP, candidates), an address, a port,
// a URL with its ticket, or a message's text.
function debug(call: Call, ...args: Array<string | number | boolean | null>): void {
  if ((call.join.debugLevel ?? 0) > 0) call.log('[call]', ...args);
}

/** A word from outside (a server message type, an ICE state) as it may be logged: a short name, else a placeholder. */
const word = (value: unknown): string =>
  typeof value === 'string' && /^[A-Za-z][A-Za-z0-9_-]{0,39}$/.test(value) ? value : '(other)';

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
  debug(call, 'error', word(code));
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

function stopTimers(call: Call): void {
  if (call.retryTimer) clearTimeout(call.retryTimer);
  call.retryTimer = null;
  clearPeerLostTimer(call);
  clearPartnerTimer(call);
}

/** Ends the call for good: timers, peer and socket go, and the state says `ended`. */
function finish(call: Call): void {
  call.ended = true;
  stopTimers(call);
  destroyPeer(call);
  closeSocket(call, 'left');
  setState(call, 'ended');
}

// ---- Partner: what we know of the other side, apart from our own connection ----

function clearPartnerTimer(call: Call): void {
  if (call.partnerTimer) clearTimeout(call.partnerTimer);
  call.partnerTimer = null;
}

function setPartner(call: Call, next: PartnerState): void {
  if (next !== 'reconnecting') clearPartnerTimer(call);
  if (call.partner === next) return;
  debug(call, 'partner', call.partner, '->', next);
  call.partner = next;
  notify(call, 'onPartner', call.options.onPartner, next);
}

/** Our own signaling connection is down or not yet welcomed: we cannot tell anything new about the partner. */
const weAreAway = (call: Call): boolean => call.state === 'socket-connecting' || call.state === 'reconnecting';

/** The partner's grace runs only while we are there to see them come back. */
function startPartnerGrace(call: Call): void {
  clearPartnerTimer(call);
  if (call.ended || weAreAway(call) || call.partner !== 'reconnecting') return;
  call.partnerTimer = setTimeout(() => {
    call.partnerTimer = null;
    if (!call.ended && !weAreAway(call) && call.partner === 'reconnecting') setPartner(call, 'left');
  }, call.partnerGraceMs);
}

/** Contact lost: `left` if they said bye, else `reconnecting` until they come back or the grace runs out. */
function partnerLost(call: Call): void {
  if (call.partnerSaidBye) {
    setPartner(call, 'left');
    return;
  }
  if (call.partner === 'absent' || call.partner === 'left' || call.partner === 'reconnecting') return;
  setPartner(call, 'reconnecting');
  startPartnerGrace(call);
}

/** The server says the partner said leave: gone at once, no grace. */
function partnerLeft(call: Call): void {
  call.partnerSaidBye = true;
  setPartner(call, 'left');
}

/**
 * Our own connection is lost: the partner's state stays as it was (it is our outage, not theirs), only its grace
 * stops until we are back.
 */
function pausePartner(call: Call): void {
  clearPartnerTimer(call);
}

/**
 * We are back (welcome): until the server pairs us again, a partner we were connected to (or were waiting for) is
 * `reconnecting` with a fresh grace, one still being connected is `absent`; `absent` and `left` stay.
 */
function partnerAfterWelcome(call: Call): void {
  if (call.partner === 'connected' || call.partner === 'reconnecting') {
    setPartner(call, 'reconnecting');
    startPartnerGrace(call);
  } else if (call.partner === 'connecting') {
    setPartner(call, 'absent');
  }
}

// ---- Media: my mic and camera on or off, the local stream's tracks ----

const tracksOf = (stream: MediaStream | undefined, kind: 'audio' | 'video'): MediaStreamTrack[] =>
  stream && typeof stream.getTracks === 'function' ? stream.getTracks().filter((t) => t.kind === kind) : [];

/** Without an initial media state: on for a kind whose tracks are enabled, or that has none yet. */
const mediaOfTracks = (stream: MediaStream | undefined): MediaState => {
  const on = (tracks: MediaStreamTrack[]): boolean => tracks.length === 0 || tracks.some((t) => t.enabled);
  return { mic: on(tracksOf(stream, 'audio')), cam: on(tracksOf(stream, 'video')) };
};

function applyMedia(call: Call): void {
  for (const t of tracksOf(call.localStream, 'audio')) t.enabled = call.media.mic;
  for (const t of tracksOf(call.localStream, 'video')) t.enabled = call.media.cam;
}

/** What the partner is told: on only when switched on and there is a track to send. */
const sentMedia = (call: Call): MediaState => ({
  mic: call.media.mic && tracksOf(call.localStream, 'audio').length > 0,
  cam: call.media.cam && tracksOf(call.localStream, 'video').length > 0,
});

function sendFrame(call: Call, frame: Frame): boolean {
  const p = call.peer;
  // Nothing goes out once the call ended (leave says bye just before).
  if (!p || call.ended || !call.channelOpen || typeof p.send !== 'function') return false;
  try {
    p.send(encodeFrame(frame));
    return true;
  } catch {
    debug(call, 'data channel send failed', frame.type);
    return false;
  }
}

function sendMedia(call: Call): void {
  const media = sentMedia(call);
  sendFrame(call, { v: 1, type: 'media', mic: media.mic, cam: media.cam });
}

function setMedia(call: Call, change: Partial<MediaState>): void {
  call.media = { mic: change.mic ?? call.media.mic, cam: change.cam ?? call.media.cam };
  debug(call, 'media', 'mic', call.media.mic, 'cam', call.media.cam);
  applyMedia(call);
  sendMedia(call);
}

/** The new track takes the old one's place (same kind) in the stream and the peer connection; the old one stops. */
async function replaceTrack(call: Call, track: MediaStreamTrack): Promise<void> {
  if (track.kind !== 'audio' && track.kind !== 'video') throw new Error('Only an audio or a video track.');
  const kind = track.kind;
  if (!call.localStream && typeof MediaStream === 'function') call.localStream = new MediaStream();
  const stream = call.localStream;
  const old = tracksOf(stream, kind)[0];
  if (old === track) return;
  track.enabled = kind === 'audio' ? call.media.mic : call.media.cam;
  const p = call.peer;
  if (p && stream && !call.ended) {
    // Same kind in the same sender: no renegotiation. A kind the call had no track of yet has to be negotiated.
    if (old && typeof p.replaceTrack === 'function') p.replaceTrack(old, track, stream);
    else if (!old && typeof p.addTrack === 'function') p.addTrack(track, stream);
  }
  if (stream) {
    if (old) stream.removeTrack(old);
    stream.addTrack(track);
  }
  old?.stop();
  debug(call, 'replaced track', kind);
  sendMedia(call);
}

// ---- Chat: my messages with their acks, the partner's once each ----

const randomId = (): string => {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  // randomUUID needs a secure context; getRandomValues does not.
  return Array.from(c.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
};

/** Adds to a set kept to its newest `max` entries. */
const remember = (set: Set<string>, id: string, max: number): void => {
  set.delete(id);
  set.add(id);
  while (set.size > max) set.delete(set.values().next().value as string);
};

function reportDelivery(call: Call, id: string, delivery: ChatDelivery): void {
  debug(call, 'chat', delivery);
  notify(call, 'onChatDelivery', call.options.onChatDelivery, id, delivery);
}

function chatFailed(call: Call, id: string): void {
  const timer = call.pendingChats.get(id);
  if (timer === undefined) return;
  clearTimeout(timer);
  call.pendingChats.delete(id);
  remember(call.failedChats, id, FAILED_CHAT_IDS);
  reportDelivery(call, id, 'failed');
}

function sendChat(call: Call, typed: string, options?: SendChatOptions): SendChatResult {
  const retryId = options?.id;
  if (retryId !== undefined && !isChatId(retryId)) throw new TypeError('A chat id is 1 to 64 of A-Z a-z 0-9 _ -.');
  const text = normalizeChatText(typeof typed === 'string' ? typed : '');
  if (text === '') return { ok: false, reason: 'empty' };
  if (text.length > CHAT_MAX_LENGTH) return { ok: false, reason: 'too_long' };
  const message: ChatMessage = { id: retryId ?? randomId(), text, sentAt: new Date().toISOString(), from: 'me' };
  // Reported after this returns, so the page has the message when its delivery comes.
  queueMicrotask(() => {
    // A retry replaces the attempt before it: one wait for the ack, and an ack of either attempt delivers it.
    const earlier = call.pendingChats.get(message.id);
    if (earlier !== undefined) clearTimeout(earlier);
    call.pendingChats.delete(message.id);
    call.failedChats.delete(message.id);
    reportDelivery(call, message.id, 'sending');
    const sent =
      call.pendingChats.size < MAX_PENDING_CHATS &&
      sendFrame(call, { v: 1, type: 'chat', id: message.id, text, sentAt: message.sentAt });
    if (!sent) {
      remember(call.failedChats, message.id, FAILED_CHAT_IDS);
      reportDelivery(call, message.id, 'failed');
      return;
    }
    call.pendingChats.set(
      message.id,
      setTimeout(() => chatFailed(call, message.id), call.chatAckTimeoutMs),
    );
  });
  return { ok: true, message };
}

function failPendingChats(call: Call): void {
  for (const id of [...call.pendingChats.keys()]) chatFailed(call, id);
}

function onChatAck(call: Call, id: string): void {
  const timer = call.pendingChats.get(id);
  if (timer !== undefined) {
    clearTimeout(timer);
    call.pendingChats.delete(id);
    reportDelivery(call, id, 'delivered');
  } else if (call.failedChats.delete(id)) {
    // It got there after all, later than we waited.
    reportDelivery(call, id, 'delivered');
  } else {
    debug(call, 'ignored chat-ack for no message of mine');
  }
}

/** At most INCOMING_CHATS_PER_WINDOW messages of the partner's in any INCOMING_CHAT_WINDOW_MS. */
function takeIncomingChat(call: Call): boolean {
  const now = Date.now();
  const times = call.incomingChatTimes.filter((t) => now - t < INCOMING_CHAT_WINDOW_MS);
  call.incomingChatTimes = times;
  if (times.length >= INCOMING_CHATS_PER_WINDOW) return false;
  times.push(now);
  return true;
}

function onFrame(call: Call, data: unknown): void {
  const decoded = decodeFrame(data);
  if (!decoded.ok) {
    debug(call, 'ignored data-channel frame:', decoded.reason);
    return;
  }
  const frame = decoded.frame;
  switch (frame.type) {
    case 'media':
      debug(call, 'partner media', 'mic', frame.mic, 'cam', frame.cam);
      notify(call, 'onRemoteMedia', call.options.onRemoteMedia, { mic: frame.mic, cam: frame.cam });
      return;
    case 'chat': {
      if (call.seenChats.has(frame.id)) {
        debug(call, 'repeated chat message');
        sendFrame(call, { v: 1, type: 'chat-ack', id: frame.id });
        return;
      }
      if (!takeIncomingChat(call)) {
        debug(call, 'dropped chat message: too many');
        return;
      }
      sendFrame(call, { v: 1, type: 'chat-ack', id: frame.id });
      remember(call.seenChats, frame.id, SEEN_CHAT_IDS);
      debug(call, 'chat', 'received');
      const message: ChatMessage = {
        id: frame.id,
        text: frame.text,
        sentAt: frame.sentAt,
        from: 'partner',
        receivedAt: new Date().toISOString(),
      };
      notify(call, 'onChat', call.options.onChat, message);
      return;
    }
    case 'chat-ack':
      onChatAck(call, frame.id);
      return;
    case 'bye':
      debug(call, 'partner said bye');
      partnerLeft(call);
      return;
    default: {
      const never: never = frame;
      return never;
    }
  }
}

// ---- Quality and route: sampled from the peer connection's statistics while connected ----

function stopStats(call: Call): void {
  if (call.statsTimer) clearInterval(call.statsTimer);
  call.statsTimer = null;
  call.previousStats = null;
  call.route = null;
}

function startStats(call: Call, p: SimplePeerInstance): void {
  stopStats(call);
  const pc = p._pc;
  if (!pc || typeof pc.getStats !== 'function') return;
  let busy = false;
  call.statsTimer = setInterval(() => {
    if (busy || call.peer !== p || call.ended) return;
    busy = true;
    void sampleStats(call, p, pc).finally(() => {
      busy = false;
    });
  }, call.statsIntervalMs);
}

async function sampleStats(call: Call, p: SimplePeerInstance, pc: PeerConnectionLike): Promise<void> {
  let report: StatsLike;
  try {
    report = await pc.getStats!();
  } catch {
    debug(call, 'stats failed');
    return;
  }
  if (call.peer !== p || call.ended || call.statsTimer === null) return;
  const quality = measureQuality(call.previousStats, report);
  call.previousStats = report;
  const route = selectedRoute(report);
  if (route && !sameRoute(route, call.route)) {
    call.route = route;
    debug(
      call,
      'route',
      `local ${route.local.candidateType}/${route.local.protocol}`,
      `remote ${route.remote.candidateType}/${route.remote.protocol}`,
    );
  }
  debug(call, 'quality', quality.level, 'rtt ms', quality.rttMs, 'loss %', quality.lossPct);
  notify(call, 'onQuality', call.options.onQuality, quality);
}

// ---- Peer: one simple-peer connection per pairing (connectionId) ----

function destroyPeer(call: Call): void {
  const old = call.peer;
  call.peer = null;
  call.connectionId = null;
  call.channelOpen = false;
  stopStats(call);
  call.unwatchPc?.();
  call.unwatchPc = null;
  failPendingChats(call);
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
  call.partnerSaidBye = false;
  call.droppedSignals = 0;
  call.transceiverRequests = new Set();
  call.initiator = message.initiator === true;
  debug(call, 'peer-joined, initiator', message.initiator === true);
  const p = new call.SimplePeer({
    initiator: message.initiator === true,
    ...(call.localStream ? { stream: call.localStream } : {}),
    config: { iceServers: call.iceServers },
  });
  call.peer = p;
  setState(call, 'connecting-peer');
  setPartner(call, 'connecting');
  listenToPeer(call, p, cid);
  watchPeerConnection(call, p);
}

/** ICE and connection states of the RTCPeerConnection behind the peer, when it has one (fakes may not). */
function watchPeerConnection(call: Call, p: SimplePeerInstance): void {
  const pc = p._pc;
  if (!pc || typeof pc.addEventListener !== 'function') return;
  const onIce = (): void => {
    if (call.peer !== p || call.ended) return;
    const ice = pc.iceConnectionState;
    debug(call, 'ice', word(ice));
    if ((ice === 'disconnected' || ice === 'failed') && call.channelOpen) partnerLost(call);
    const back = (ice === 'connected' || ice === 'completed') && call.channelOpen && !call.partnerSaidBye;
    if (back && call.partner !== 'connected') {
      setPartner(call, 'connected');
    }
  };
  const onConnection = (): void => {
    if (call.peer === p && !call.ended) debug(call, 'connection', word(pc.connectionState));
  };
  pc.addEventListener('iceconnectionstatechange', onIce);
  pc.addEventListener('connectionstatechange', onConnection);
  call.unwatchPc = () => {
    pc.removeEventListener?.('iceconnectionstatechange', onIce);
    pc.removeEventListener?.('connectionstatechange', onConnection);
  };
}

const signalKind = (data: unknown): string =>
  word(data && typeof data === 'object' ? (data as { type?: unknown }).type : undefined);

/** Events of a peer that has been replaced since (or of an ended call) are ignored. */
function listenToPeer(call: Call, p: SimplePeerInstance, cid: string): void {
  const current = (): boolean => call.peer === p && !call.ended;
  p.on('signal', (data) => {
    if (!current()) return;
    debug(call, 'local signal', signalKind(data));
    send(call, { type: 'signal', connectionId: cid, data });
  });
  p.on('connect', () => {
    if (!current()) return;
    debug(call, 'peer connected');
    call.peerFailures = 0;
    call.channelOpen = true;
    setState(call, 'connected');
    setPartner(call, 'connected');
    sendMedia(call);
    startStats(call, p);
  });
  p.on('stream', (stream) => {
    if (!current()) return;
    debug(call, 'remote stream');
    notify(call, 'onRemoteStream', call.options.onRemoteStream, stream);
  });
  // Frames are news from the partner, never orders.
  p.on('data', (data) => {
    if (current()) onFrame(call, data);
  });
  p.on('error', (err) => {
    if (!current()) return;
    const code =
      err && (typeof err.code === 'string' || typeof err.code === 'number') ? String(err.code) : 'peer_error';
    fail(call, code, errorMessage(err, 'Peer connection failed.'));
    peerLost(call);
  });
  p.on('close', () => {
    if (!current()) return;
    debug(call, 'peer closed');
    peerLost(call);
  });
}

// The peer connection died without a peer-left: give the server a moment to report the other side leaving; if it
// does not, both sockets are still there and only a fresh signaling connection gets us a new pairing.
function peerLost(call: Call): void {
  destroyPeer(call);
  setState(call, 'waiting-for-peer');
  partnerLost(call);
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
  const decoded = decodeSignal(message.data);
  const refused = !decoded.ok
    ? decoded.reason
    : decoded.signal.type === 'transceiverRequest'
      ? transceiverRefusal(call, decoded.signal.transceiverRequest.kind)
      : null;
  if (!decoded.ok || refused !== null) {
    dropSignal(call, refused ?? 'refused');
    return;
  }
  debug(call, 'remote signal', decoded.signal.type);
  try {
    call.peer.signal(decoded.signal);
  } catch (err) {
    fail(call, 'peer_error', errorMessage(err, 'Bad signal.'));
  }
}

/** simple-peer heeds a transceiver request only as the initiator; one per kind is all a 1-1 call needs. */
function transceiverRefusal(call: Call, kind: 'audio' | 'video'): string | null {
  if (!call.initiator) return 'transceiverRequest to the non-initiator';
  if (call.transceiverRequests.has(kind)) return 'repeated transceiverRequest';
  call.transceiverRequests.add(kind);
  return null;
}

/** A refused signal is logged without its content; too many and this peer connection is given up. */
function dropSignal(call: Call, reason: string): void {
  call.droppedSignals += 1;
  debug(call, 'dropped remote signal:', reason, 'dropped', call.droppedSignals);
  if (call.droppedSignals < MAX_DROPPED_SIGNALS) return;
  debug(call, 'too many bad signals: starting signaling again');
  call.peerFailures += 1;
  restartSignaling(call);
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
      debug(call, 'welcome, role', word(message.role));
      call.attempts = 0;
      if (Array.isArray(message.iceServers)) call.iceServers = message.iceServers;
      setState(call, 'waiting-for-peer');
      partnerAfterWelcome(call);
      return;
    case 'peer-joined':
      if (typeof message.connectionId !== 'string') return;
      createPeer(call, { connectionId: message.connectionId, initiator: message.initiator });
      return;
    case 'signal':
      onSignal(call, message);
      return;
    case 'peer-left':
      debug(call, 'peer-left', message.reason === 'left' ? 'left' : 'lost');
      // The server says the partner went: no need to start signaling again for a peer that closed just before.
      clearPeerLostTimer(call);
      destroyPeer(call);
      setState(call, 'waiting-for-peer');
      // `reason: "left"`: their page said leave on its socket; without it, their socket just dropped.
      if (message.reason === 'left') partnerLeft(call);
      else partnerLost(call);
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
      debug(call, 'ignored message', word(message.type));
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
    if (call.socket === s && !call.ended) onMessage(call, event);
  };
  s.onerror = () => {
    debug(call, 'socket error');
  };
  s.onclose = (event) => {
    if (call.socket !== s) return;
    call.socket = null;
    debug(call, 'socket closed', typeof event.code === 'number' ? event.code : null);
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
  pausePartner(call);
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
  pausePartner(call);
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
  pausePartner(call);
  destroyPeer(call);
  closeSocket(call, 'restart');
  scheduleReconnect(call);
}

// ---- Leave: bye on the data channel and leave on the socket, both at once (a page being hidden or unloaded runs
// no timer); the peer is kept a moment for the channel to send the bye when the page lives on ----

function leave(call: Call): void {
  if (call.ended) return;
  debug(call, 'leaving');
  const saidBye = sendFrame(call, { v: 1, type: 'bye' });
  send(call, { type: 'leave' });
  call.ended = true;
  stopTimers(call);
  stopStats(call);
  closeSocket(call, 'left');
  setState(call, 'ended');
  const p = call.peer;
  if (!saidBye || !p) {
    destroyPeer(call);
    return;
  }
  const since = Date.now();
  const flushed = (): void => {
    if (call.peer !== p) return;
    const buffered = typeof p.bufferSize === 'number' ? p.bufferSize : 0;
    if (buffered > 0 && Date.now() - since < BYE_FLUSH_MAX_MS) setTimeout(flushed, 20);
    else setTimeout(() => destroyPeer(call), BYE_GRACE_MS);
  };
  flushed();
}

export function startCall(options: StartCallOptions): CallHandle {
  const call = createCall(options);
  if (options.media) applyMedia(call);
  notify(call, 'onState', options.onState, 'socket-connecting');
  notify(call, 'onPartner', options.onPartner, 'absent');
  connect(call);
  return {
    leave: () => leave(call),
    setMedia: (media) => setMedia(call, media),
    replaceTrack: (track) => replaceTrack(call, track),
    sendChat: (text, chatOptions) => sendChat(call, text, chatOptions),
    get state() {
      return call.state;
    },
  };
}
