// Browser ES module: native 1-1 call over simple-peer with the /signaling WebSocket (see the API contract).
// Served as-is; no build step, no dependencies besides the SimplePeer constructor handed in.

const CLOSE_REPLACED = 4009;
const CLOSE_FORBIDDEN = 4003;

/**
 * @typedef {'socket-connecting'|'waiting-for-peer'|'connecting-peer'|'connected'|'reconnecting'|'ended'} CallState
 */

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
  const {
    SimplePeer,
    localStream,
    onState = () => {},
    onRemoteStream = () => {},
    onError = () => {},
    rejoin,
    checkOrigin,
  } = options;
  const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
  const initialDelayMs = options.reconnect?.initialDelayMs ?? 500;
  const maxDelayMs = options.reconnect?.maxDelayMs ?? 15000;
  const maxAttempts = options.reconnect?.maxAttempts ?? 10;
  const peerLostGraceMs = options.reconnect?.peerLostGraceMs ?? 3000;

  let join = options.join;
  /** @type {CallState} */
  let state = 'socket-connecting';
  let ended = false;
  let socket = null;
  let peer = null;
  let connectionId = null;
  let iceServers = join.iceServers ?? [];
  // Socket losses since the last welcome, and peer connections that failed since the last one that worked.
  let attempts = 0;
  let peerFailures = 0;
  let retryTimer = null;
  let peerLostTimer = null;
  let lastServerError = null;

  const debug = (...args) => {
    if ((join.debugLevel ?? 0) > 0) console.log('[call]', ...args);
  };

  const setState = (next) => {
    if (state === next) return;
    debug('state', state, '->', next);
    state = next;
    try {
      onState(next);
    } catch (err) {
      console.error('[call] onState failed', err);
    }
  };

  const fail = (code, message) => {
    const err = new Error(message);
    err.code = code;
    debug('error', code, message);
    try {
      onError(err);
    } catch (e) {
      console.error('[call] onError failed', e);
    }
  };

  const send = (message) => {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(message));
  };

  const destroyPeer = () => {
    const old = peer;
    peer = null;
    connectionId = null;
    if (old) {
      debug('destroying peer');
      try {
        old.destroy();
      } catch (err) {
        debug('peer destroy failed', err);
      }
      onRemoteStream(null);
    }
  };

  const finish = () => {
    ended = true;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    if (peerLostTimer) clearTimeout(peerLostTimer);
    peerLostTimer = null;
    destroyPeer();
    if (socket) {
      const s = socket;
      socket = null;
      try {
        s.close(1000, 'left');
      } catch (err) {
        debug('socket close failed', err);
      }
    }
    setState('ended');
  };

  const createPeer = (message) => {
    destroyPeer();
    if (peerLostTimer) clearTimeout(peerLostTimer);
    peerLostTimer = null;
    const cid = message.connectionId;
    connectionId = cid;
    debug('peer-joined', message.peer, 'initiator', message.initiator);
    const p = new SimplePeer({
      initiator: message.initiator === true,
      stream: localStream,
      config: { iceServers },
    });
    peer = p;
    setState('connecting-peer');
    p.on('signal', (data) => {
      if (peer !== p) return;
      debug('local signal', data && data.type ? data.type : 'candidate');
      send({ type: 'signal', connectionId: cid, data });
    });
    p.on('connect', () => {
      if (peer !== p) return;
      debug('peer connected');
      peerFailures = 0;
      setState('connected');
    });
    p.on('stream', (stream) => {
      if (peer !== p) return;
      debug('remote stream');
      onRemoteStream(stream);
    });
    // The original let the remote side trigger actions through the data channel; we take no orders from it.
    p.on('data', () => {
      debug('ignored data-channel message');
    });
    p.on('error', (err) => {
      if (peer !== p) return;
      fail(
        err && err.code ? String(err.code) : 'peer_error',
        err && err.message ? err.message : 'Peer connection failed.',
      );
      peerLost();
    });
    p.on('close', () => {
      if (peer !== p) return;
      debug('peer closed');
      peerLost();
    });
  };

  const onMessage = (event) => {
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
        debug('welcome', message.role, message.meetingId);
        attempts = 0;
        if (Array.isArray(message.iceServers)) iceServers = message.iceServers;
        setState('waiting-for-peer');
        return;
      case 'peer-joined':
        if (typeof message.connectionId !== 'string') return;
        createPeer(message);
        return;
      case 'signal':
        if (!peer || message.connectionId !== connectionId) {
          debug('dropped signal for another connection');
          return;
        }
        debug('remote signal', message.data && message.data.type ? message.data.type : 'candidate');
        try {
          peer.signal(message.data);
        } catch (err) {
          fail('peer_error', err && err.message ? err.message : 'Bad signal.');
        }
        return;
      case 'peer-left':
        debug('peer-left', message.peerId);
        destroyPeer();
        setState('waiting-for-peer');
        return;
      case 'error':
        lastServerError = message;
        fail(typeof message.code === 'string' ? message.code : 'error', String(message.message ?? 'Signaling error.'));
        return;
      default:
        debug('ignored message', message.type);
    }
  };

  const connect = () => {
    if (ended) return;
    lastServerError = null;
    const sep = join.signalingUrl.includes('?') ? '&' : '?';
    debug('opening', join.signalingUrl);
    const s = new WebSocketImpl(`${join.signalingUrl}${sep}ticket=${encodeURIComponent(join.ticket)}`);
    socket = s;
    let opened = false;
    s.onopen = () => {
      opened = true;
    };
    s.onmessage = (event) => {
      if (socket === s) onMessage(event);
    };
    s.onerror = () => {
      debug('socket error');
    };
    s.onclose = (event) => {
      if (socket !== s) return;
      socket = null;
      debug('socket closed', event.code, event.reason);
      if (ended) return;
      if (event.code === CLOSE_REPLACED) {
        fail('replaced', 'This call was opened in another window.');
        finish();
        return;
      }
      if (event.code === CLOSE_FORBIDDEN) {
        if (!lastServerError) fail('forbidden', 'You cannot join this call.');
        finish();
        return;
      }
      destroyPeer();
      if (!opened && checkOrigin) {
        void diagnoseRefusal();
        return;
      }
      scheduleReconnect();
    };
  };

  // The socket never opened: if the server refuses this page's origin, no retry can help, so say so and stop.
  const diagnoseRefusal = async () => {
    let verdict = null;
    try {
      verdict = await checkOrigin();
    } catch (err) {
      debug('origin check failed', err);
    }
    if (ended) return;
    if (verdict && verdict.allowed === false) {
      const origin = typeof verdict.origin === 'string' ? verdict.origin : 'this address';
      const where =
        typeof verdict.suggestedOrigin === 'string' ? ` Open this page from ${verdict.suggestedOrigin} instead.` : '';
      fail(
        'origin_refused',
        `The server refused the connection from this address (origin ${origin} is not allowed).${where}`,
      );
      finish();
      return;
    }
    scheduleReconnect();
  };

  const scheduleReconnect = () => {
    if (ended || retryTimer) return;
    if (attempts >= maxAttempts || peerFailures > maxAttempts) {
      fail('unreachable', 'Could not reconnect to the call.');
      finish();
      return;
    }
    setState('reconnecting');
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempts + peerFailures));
    const delay = base / 2 + Math.random() * (base / 2);
    attempts += 1;
    debug('reconnecting in', Math.round(delay), 'ms, attempt', attempts);
    retryTimer = setTimeout(async () => {
      retryTimer = null;
      if (ended) return;
      if (!rejoin) {
        fail('disconnected', 'The call connection was lost.');
        finish();
        return;
      }
      try {
        const fresh = await rejoin();
        if (ended) return;
        join = fresh;
        if (Array.isArray(fresh.iceServers)) iceServers = fresh.iceServers;
        connect();
      } catch (err) {
        if (ended) return;
        const status = err && typeof err.status === 'number' ? err.status : 0;
        if (status >= 400 && status < 500) {
          fail('rejoin_refused', err.message ? String(err.message) : 'The call cannot be joined any more.');
          finish();
          return;
        }
        debug('rejoin failed', err);
        scheduleReconnect();
      }
    }, delay);
  };

  // The peer connection died without a peer-left: give the server a moment to report the other side leaving; if it
  // does not, both sockets are still there and only a fresh signaling connection gets us a new pairing.
  const peerLost = () => {
    destroyPeer();
    setState('waiting-for-peer');
    peerFailures += 1;
    if (peerLostTimer) clearTimeout(peerLostTimer);
    peerLostTimer = setTimeout(() => {
      peerLostTimer = null;
      if (!ended && !peer && state === 'waiting-for-peer') restartSignaling();
    }, peerLostGraceMs);
  };

  const restartSignaling = () => {
    if (ended) return;
    destroyPeer();
    const s = socket;
    socket = null;
    if (s) {
      try {
        s.close(1000, 'restart');
      } catch (err) {
        debug('socket close failed', err);
      }
    }
    scheduleReconnect();
  };

  onState('socket-connecting');
  connect();

  return {
    leave() {
      if (ended) return;
      debug('leaving');
      send({ type: 'leave' });
      finish();
    },
    get state() {
      return state;
    },
  };
}
