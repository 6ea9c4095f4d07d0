// Browser ES module: native 1-1 call over simple-peer with the /signaling WebSocket (see the API contract).
// Served as-is; no build step, no dependencies besides the SimplePeer constructor handed in. One file on purpose:
// the page imports it from /static/call-client.js, so its parts are the functions below, each taking the call.

const CLOSE_REPLACED = 4009;
const CLOSE_FORBIDDEN = 4003;

/**
 * @typedef {'socket-connecting'|'waiting-for-peer'|'connecting-peer'|'connected'|'reconnecting'|'ended'} CallState
 */

// ---- State: the call's options and everything that changes while it runs ----

/** One call: its options with defaults, and its mutable state (socket, peer, timers, counters). */
function createCall(options) {
  return {
    SimplePeer: options.SimplePeer,
    localStream: options.localStream,
    onState: options.onState ?? (() => {}),
    onRemoteStream: options.onRemoteStream ?? (() => {}),
    onError: options.onError ?? (() => {}),
    rejoin: options.rejoin,
    checkOrigin: options.checkOrigin,
    WebSocketImpl: options.WebSocket ?? globalThis.WebSocket,
    initialDelayMs: options.reconnect?.initialDelayMs ?? 500,
    maxDelayMs: options.reconnect?.maxDelayMs ?? 15000,
    maxAttempts: options.reconnect?.maxAttempts ?? 10,
    peerLostGraceMs: options.reconnect?.peerLostGraceMs ?? 3000,
    join: options.join,
    /** @type {CallState} */
    state: 'socket-connecting',
    ended: false,
    socket: null,
    peer: null,
    connectionId: null,
    iceServers: options.join.iceServers ?? [],
    // Socket losses since the last welcome, and peer connections that failed since the last one that worked.
    attempts: 0,
    peerFailures: 0,
    retryTimer: null,
    peerLostTimer: null,
    lastServerError: null,
  };
}

function debug(call, ...args) {
  if ((call.join.debugLevel ?? 0) > 0) console.log('[call]', ...args);
}

function setState(call, next) {
  if (call.state === next) return;
  debug(call, 'state', call.state, '->', next);
  call.state = next;
  try {
    call.onState(next);
  } catch (err) {
    console.error('[call] onState failed', err);
  }
}

function fail(call, code, message) {
  const err = new Error(message);
  err.code = code;
  debug(call, 'error', code, message);
  try {
    call.onError(err);
  } catch (e) {
    console.error('[call] onError failed', e);
  }
}

function send(call, message) {
  if (call.socket && call.socket.readyState === 1) call.socket.send(JSON.stringify(message));
}

function clearPeerLostTimer(call) {
  if (call.peerLostTimer) clearTimeout(call.peerLostTimer);
  call.peerLostTimer = null;
}

function closeSocket(call, reason) {
  const s = call.socket;
  call.socket = null;
  if (!s) return;
  try {
    s.close(1000, reason);
  } catch (err) {
    debug(call, 'socket close failed', err);
  }
}

/** Ends the call for good: timers, peer and socket go, and the state says `ended`. */
function finish(call) {
  call.ended = true;
  if (call.retryTimer) clearTimeout(call.retryTimer);
  call.retryTimer = null;
  clearPeerLostTimer(call);
  destroyPeer(call);
  closeSocket(call, 'left');
  setState(call, 'ended');
}

// ---- Peer: one simple-peer connection per pairing (connectionId) ----

function destroyPeer(call) {
  const old = call.peer;
  call.peer = null;
  call.connectionId = null;
  if (old) {
    debug(call, 'destroying peer');
    try {
      old.destroy();
    } catch (err) {
      debug(call, 'peer destroy failed', err);
    }
    call.onRemoteStream(null);
  }
}

function createPeer(call, message) {
  destroyPeer(call);
  clearPeerLostTimer(call);
  const cid = message.connectionId;
  call.connectionId = cid;
  debug(call, 'peer-joined', message.peer, 'initiator', message.initiator);
  const p = new call.SimplePeer({
    initiator: message.initiator === true,
    stream: call.localStream,
    config: { iceServers: call.iceServers },
  });
  call.peer = p;
  setState(call, 'connecting-peer');
  listenToPeer(call, p, cid);
}

/** Events of a peer that has been replaced since are ignored. */
function listenToPeer(call, p, cid) {
  p.on('signal', (data) => {
    if (call.peer !== p) return;
    debug(call, 'local signal', data && data.type ? data.type : 'candidate');
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
    call.onRemoteStream(stream);
  });
  // The original let the remote side trigger actions through the data channel; we take no orders from it.
  p.on('data', () => {
    debug(call, 'ignored data-channel message');
  });
  p.on('error', (err) => {
    if (call.peer !== p) return;
    fail(
      call,
      err && err.code ? String(err.code) : 'peer_error',
      err && err.message ? err.message : 'Peer connection failed.',
    );
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
function peerLost(call) {
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

function onSignal(call, message) {
  if (!call.peer || message.connectionId !== call.connectionId) {
    debug(call, 'dropped signal for another connection');
    return;
  }
  debug(call, 'remote signal', message.data && message.data.type ? message.data.type : 'candidate');
  try {
    call.peer.signal(message.data);
  } catch (err) {
    fail(call, 'peer_error', err && err.message ? err.message : 'Bad signal.');
  }
}

function onMessage(call, event) {
  if (typeof event.data !== 'string') return;
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return;
  }
  if (!message || typeof message !== 'object') return;
  switch (message.type) {
    case 'welcome':
      debug(call, 'welcome', message.role, message.meetingId);
      call.attempts = 0;
      if (Array.isArray(message.iceServers)) call.iceServers = message.iceServers;
      setState(call, 'waiting-for-peer');
      return;
    case 'peer-joined':
      if (typeof message.connectionId !== 'string') return;
      createPeer(call, message);
      return;
    case 'signal':
      onSignal(call, message);
      return;
    case 'peer-left':
      debug(call, 'peer-left', message.peerId);
      destroyPeer(call);
      setState(call, 'waiting-for-peer');
      return;
    case 'error':
      call.lastServerError = message;
      fail(
        call,
        typeof message.code === 'string' ? message.code : 'error',
        String(message.message ?? 'Signaling error.'),
      );
      return;
    default:
      debug(call, 'ignored message', message.type);
  }
}

// ---- Join: the signaling socket, opened with the current ticket ----

function connect(call) {
  if (call.ended) return;
  call.lastServerError = null;
  const { signalingUrl, ticket } = call.join;
  const sep = signalingUrl.includes('?') ? '&' : '?';
  debug(call, 'opening', signalingUrl);
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
    debug(call, 'socket closed', event.code, event.reason);
    onSocketClosed(call, event, opened);
  };
}

/** Replaced or forbidden ends the call; a socket that never opened may be a refused origin; else reconnect. */
function onSocketClosed(call, event, opened) {
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
  if (!opened && call.checkOrigin) {
    void diagnoseRefusal(call);
    return;
  }
  scheduleReconnect(call);
}

// The socket never opened: if the server refuses this page's origin, no retry can help, so say so and stop.
async function diagnoseRefusal(call) {
  let verdict = null;
  try {
    verdict = await call.checkOrigin();
  } catch (err) {
    debug(call, 'origin check failed', err);
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

function scheduleReconnect(call) {
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
async function rejoinAndConnect(call) {
  if (call.ended) return;
  if (!call.rejoin) {
    fail(call, 'disconnected', 'The call connection was lost.');
    finish(call);
    return;
  }
  try {
    const fresh = await call.rejoin();
    if (call.ended) return;
    call.join = fresh;
    if (Array.isArray(fresh.iceServers)) call.iceServers = fresh.iceServers;
    connect(call);
  } catch (err) {
    if (call.ended) return;
    const status = err && typeof err.status === 'number' ? err.status : 0;
    if (status >= 400 && status < 500) {
      fail(call, 'rejoin_refused', err.message ? String(err.message) : 'The call cannot be joined any more.');
      finish(call);
      return;
    }
    debug(call, 'rejoin failed', err);
    scheduleReconnect(call);
  }
}

function restartSignaling(call) {
  if (call.ended) return;
  destroyPeer(call);
  closeSocket(call, 'restart');
  scheduleReconnect(call);
}

/**
 * @param {object} options
 * @param {{signalingUrl: string, ticket: string, iceServers?: unknown[], role?: string, debugLevel?: number}} options.join
 * @param {any} options.SimplePeer
 * @param {MediaStream} [options.localStream]
 * @param {(state: CallState) => void} [options.onState]
 * @param {(stream: MediaStream | null) => void} [options.onRemoteStream]  null when the remote side went away
 * @param {(err: Error & {code?: string}) => void} [options.onError]
 * @param {() => Promise<{signalingUrl: string, ticket: string, iceServers?: unknown[], role?: string, debugLevel?: number}>} [options.rejoin]
 *   A fresh join response (new ticket). If it throws an error whose `status` is 400-499, the call ends.
 * @param {{initialDelayMs?: number, maxDelayMs?: number, maxAttempts?: number, peerLostGraceMs?: number}} [options.reconnect]
 * @param {() => Promise<{allowed: boolean, origin?: string, suggestedOrigin?: string} | null>} [options.checkOrigin]
 *   Asked when a socket closes without ever opening: browsers hide why (a 403 for the page's Origin looks like any
 *   lost connection), so the server is asked whether this page's origin may connect (GET /signaling/origin-check).
 *   If not, the call ends with the error `origin_refused` instead of reconnecting in vain.
 * @param {any} [options.WebSocket]  defaults to globalThis.WebSocket
 * @returns {{leave(): void, readonly state: CallState}}
 */
export function startCall(options) {
  const call = createCall(options);
  call.onState('socket-connecting');
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
