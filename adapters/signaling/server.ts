import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';
import type { RawData } from 'ws';
import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import type { CallRole, TicketClaims, TicketRejection } from '../../application/calls.ts';
import type { Log } from '../../application/ports/logger.ts';

export const SIGNALING_CLOSE_CODES = {
  /** Reserved by the contract; tickets are refused with HTTP 401 before the upgrade, so never sent. */
  badTicket: 4001,
  forbidden: 4003,
  policy: 4008,
  replaced: 4009,
} as const;

export type AccessDeniedCode = 'cancelled' | 'outside_window' | 'not_participant' | 'not_found' | 'not_native';

export interface AccessDenied {
  readonly code: AccessDeniedCode;
  readonly message: string;
}

export interface AccessGranted {
  /** When given, sent in `welcome` instead of `iceServersFor(userId)`. */
  readonly iceServers?: unknown;
}

export type SignalingLogger = Pick<Log, 'info' | 'warn' | 'debug'>;

export interface SignalingOptions {
  /** Default `/signaling`. */
  readonly path?: string;
  readonly tickets: { redeem(ticket: string, now: Date): Either<TicketRejection, TicketClaims> };
  /** Exact origins (`https://app.example.com`) or `'*'`. A request without an Origin header (not a browser) is allowed. */
  readonly allowedOrigins: readonly string[] | '*';
  checkAccess(meetingId: string, userId: string, now: Date): Promise<Either<AccessDenied, AccessGranted>>;
  iceServersFor(userId: string): unknown[];
  /** Default 30 000. */
  readonly pingIntervalMs?: number;
  /** Default 65 536. */
  readonly maxPayloadBytes?: number;
  /** Default 50 per 1000 ms, token bucket per socket. */
  readonly rateLimit?: { readonly messages: number; readonly perMs: number };
  /** Default 1 MiB: a socket whose send buffer grows beyond this is terminated. */
  readonly maxBufferedBytes?: number;
  /** Malformed, unknown or rate-limited messages tolerated before closing with 4008. Default 5. */
  readonly maxStrikes?: number;
  readonly logger?: SignalingLogger;
  /** Wall clock for tickets and access checks. */
  readonly now?: () => Date;
  /** Monotonic milliseconds for rate limiting; default `performance.now`. */
  readonly monotonicNow?: () => number;
}

export interface SignalingStats {
  readonly rooms: number;
  readonly sockets: number;
}

export interface SignalingHandle {
  close(): Promise<void>;
  /** Re-checks access of everyone in the meeting's room; those who lost it get an `error` frame and close 4003. */
  meetingChanged(meetingId: string): Promise<void>;
  stats(): SignalingStats;
  /**
   * Whether a browser on this origin may open the socket. Browsers do not tell a page why a WebSocket was refused,
   * so the page asks (GET /signaling/origin-check) after a socket that never opened.
   */
  originAllowed(origin: string | undefined): boolean;
}

interface Member {
  readonly peerId: string;
  readonly userId: string;
  readonly role: CallRole;
  readonly meetingId: string;
  readonly ws: WebSocket;
  /** Set once the member left its room (left, replaced, denied); its socket may still be closing. */
  gone: boolean;
}

interface Room {
  readonly meetingId: string;
  members: Member[];
  connectionId: string | undefined;
}

interface SocketState {
  alive: boolean;
  strikes: number;
  tokens: number;
  refilledAt: number;
  member: Member | undefined;
}

type ErrorCode =
  | AccessDeniedCode
  | 'room_full'
  | 'replaced'
  | 'malformed'
  | 'invalid_message'
  | 'unknown_type'
  | 'rate_limited'
  | 'too_large';

const MAX_CONNECTION_ID_LENGTH = 128;
const noopLogger: SignalingLogger = { info: () => {}, warn: () => {}, debug: () => {} };

const randomId = (bytes: number): string => randomBytes(bytes).toString('base64url');

const normalizeOrigin = (origin: string): string | undefined => {
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
};

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const rejectUpgrade = (socket: Duplex, status: number): void => {
  if (socket.destroyed) return;
  const reason = STATUS_CODES[status] ?? '';
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
};

/**
 * Attaches the call signaling endpoint to an existing HTTP server (ws in noServer mode, sharing the port).
 *
 * Refusals: wrong path → not handled (404 only if no other upgrade listener exists); disallowed Origin → 403;
 * missing/unknown/expired/used ticket → 401; checkAccess throwing → 500, all before the upgrade. A valid ticket
 * whose access check fails is upgraded, sent an `error` frame with the reason and closed with 4003, so the browser
 * can tell the user why.
 */
export const attachSignaling = (httpServer: Server, options: SignalingOptions): SignalingHandle => {
  const path = options.path ?? '/signaling';
  const pingIntervalMs = options.pingIntervalMs ?? 30_000;
  const maxPayloadBytes = options.maxPayloadBytes ?? 65_536;
  const rateMessages = Math.max(1, options.rateLimit?.messages ?? 50);
  const ratePerMs = Math.max(1, options.rateLimit?.perMs ?? 1000);
  const maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
  const maxStrikes = Math.max(1, options.maxStrikes ?? 5);
  const log = options.logger ?? noopLogger;
  const now = options.now ?? (() => new Date());
  const monotonicNow = options.monotonicNow ?? (() => performance.now());
  const allowedOrigins =
    options.allowedOrigins === '*'
      ? '*'
      : new Set(options.allowedOrigins.map(normalizeOrigin).filter((o): o is string => o !== undefined));

  // ws aborts frames above its own maxPayload with 1009 before we see them; keep that as a memory bound well above
  // the contract's limit and enforce the limit ourselves (4008). See also `hookOversizeFrames`.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxPayloadBytes * 4,
    perMessageDeflate: false,
    clientTracking: false,
  });

  const rooms = new Map<string, Room>();
  const sockets = new Map<WebSocket, SocketState>();
  let closed = false;

  const send = (ws: WebSocket, message: object): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > maxBufferedBytes) {
      log.warn({ bufferedAmount: ws.bufferedAmount }, 'signaling: slow consumer terminated');
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(message));
  };

  const sendError = (ws: WebSocket, code: ErrorCode, message: string): void => {
    send(ws, { type: 'error', code, message });
  };

  const closeWith = (ws: WebSocket, code: number, reason: string): void => {
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
  };

  const removeMember = (member: Member): void => {
    if (member.gone) return;
    member.gone = true;
    const room = rooms.get(member.meetingId);
    if (room === undefined) return;
    room.members = room.members.filter((m) => m !== member);
    room.connectionId = undefined;
    for (const other of room.members) send(other.ws, { type: 'peer-left', peerId: member.peerId });
    if (room.members.length === 0) rooms.delete(room.meetingId);
  };

  const pair = (room: Room): void => {
    const [a, b] = room.members;
    if (a === undefined || b === undefined) return;
    const connectionId = randomId(12);
    room.connectionId = connectionId;
    for (const [self, other] of [
      [a, b],
      [b, a],
    ] as const) {
      send(self.ws, {
        type: 'peer-joined',
        peer: { peerId: other.peerId, role: other.role },
        connectionId,
        initiator: self.role === 'instructor',
      });
    }
  };

  const strike = (ws: WebSocket, state: SocketState, code: ErrorCode, message: string): void => {
    state.strikes += 1;
    sendError(ws, code, message);
    if (state.strikes >= maxStrikes) {
      log.info({ strikes: state.strikes, code }, 'signaling: closing misbehaving socket');
      if (state.member !== undefined) removeMember(state.member);
      closeWith(ws, SIGNALING_CLOSE_CODES.policy, 'policy violation');
    }
  };

  const tooLarge = (ws: WebSocket, state: SocketState): void => {
    sendError(ws, 'too_large', `Frames are limited to ${maxPayloadBytes} bytes.`);
    if (state.member !== undefined) removeMember(state.member);
    closeWith(ws, SIGNALING_CLOSE_CODES.policy, 'message too large');
  };

  const takeToken = (state: SocketState): boolean => {
    const at = monotonicNow();
    const elapsed = Math.max(0, at - state.refilledAt);
    state.tokens = Math.min(rateMessages, state.tokens + (elapsed * rateMessages) / ratePerMs);
    state.refilledAt = at;
    if (state.tokens < 1) return false;
    state.tokens -= 1;
    return true;
  };

  const onMessage = (ws: WebSocket, state: SocketState, raw: RawData, isBinary: boolean): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    const member = state.member;
    if (member === undefined || member.gone) return;
    const size = Array.isArray(raw)
      ? raw.reduce((n, b) => n + b.length, 0)
      : raw instanceof ArrayBuffer
        ? raw.byteLength
        : raw.length;
    if (size > maxPayloadBytes) {
      tooLarge(ws, state);
      return;
    }
    if (!takeToken(state)) {
      strike(ws, state, 'rate_limited', `At most ${rateMessages} messages per ${ratePerMs} ms.`);
      return;
    }
    if (isBinary) {
      strike(ws, state, 'malformed', 'Frames must be JSON text.');
      return;
    }
    const text = Array.isArray(raw)
      ? Buffer.concat(raw).toString('utf8')
      : raw instanceof ArrayBuffer
        ? Buffer.from(raw).toString('utf8')
        : raw.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      strike(ws, state, 'malformed', 'Frames must be JSON.');
      return;
    }
    if (!isPlainObject(parsed)) {
      strike(ws, state, 'malformed', 'Frames must be JSON objects.');
      return;
    }
    const type = parsed['type'];
    if (type === 'signal') {
      const connectionId = parsed['connectionId'];
      const data = parsed['data'];
      if (
        typeof connectionId !== 'string' ||
        connectionId.length === 0 ||
        connectionId.length > MAX_CONNECTION_ID_LENGTH ||
        !isPlainObject(data)
      ) {
        strike(ws, state, 'invalid_message', 'A signal needs a connectionId string and a data object.');
        return;
      }
      const room = rooms.get(member.meetingId);
      const other = room?.members.find((m) => m !== member);
      if (room === undefined || other === undefined || room.connectionId !== connectionId) {
        log.debug({ meetingId: member.meetingId }, 'signaling: dropped signal for a stale connection');
        return;
      }
      send(other.ws, { type: 'signal', from: member.peerId, connectionId, data });
      return;
    }
    if (type === 'leave') {
      removeMember(member);
      closeWith(ws, 1000, 'left');
      return;
    }
    strike(ws, state, 'unknown_type', 'Unknown message type.');
  };

  // ws answers frames above its maxPayload by closing with 1009 right after emitting 'error' on its receiver;
  // listening there first lets us close with the contract's 4008 instead. Private API: without it, such frames
  // still get closed, only with 1009.
  const hookOversizeFrames = (ws: WebSocket, state: SocketState): void => {
    const receiver = (ws as unknown as { _receiver?: { prependListener?: unknown } })._receiver;
    if (receiver === undefined || typeof receiver.prependListener !== 'function') return;
    (receiver as unknown as NodeJS.EventEmitter).prependListener('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') tooLarge(ws, state);
    });
  };

  const onConnection = (ws: WebSocket, claims: TicketClaims, access: Either<AccessDenied, AccessGranted>): void => {
    const state: SocketState = {
      alive: true,
      strikes: 0,
      tokens: rateMessages,
      refilledAt: monotonicNow(),
      member: undefined,
    };
    sockets.set(ws, state);
    hookOversizeFrames(ws, state);
    ws.on('pong', () => {
      state.alive = true;
    });
    ws.on('error', (err) => {
      log.debug({ err: err.message }, 'signaling: socket error');
    });
    ws.on('message', (raw, isBinary) => {
      try {
        onMessage(ws, state, raw, isBinary);
      } catch (err) {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'signaling: message handling failed');
        ws.terminate();
      }
    });
    ws.on('close', (code) => {
      sockets.delete(ws);
      if (state.member !== undefined) {
        log.debug({ meetingId: claims.meetingId, role: claims.role, code }, 'signaling: socket closed');
        removeMember(state.member);
      }
    });

    if (E.isLeft(access)) {
      log.info({ meetingId: claims.meetingId, code: access.left.code }, 'signaling: access denied');
      sendError(ws, access.left.code, access.left.message);
      closeWith(ws, SIGNALING_CLOSE_CODES.forbidden, access.left.code);
      return;
    }

    let room = rooms.get(claims.meetingId);
    const previous = room?.members.find((m) => m.userId === claims.userId);
    if (previous !== undefined) {
      log.info({ meetingId: claims.meetingId, role: previous.role }, 'signaling: connection replaced');
      removeMember(previous);
      sendError(previous.ws, 'replaced', 'Replaced by a newer connection of the same user.');
      closeWith(previous.ws, SIGNALING_CLOSE_CODES.replaced, 'replaced');
      room = rooms.get(claims.meetingId);
    }
    if (room !== undefined && (room.members.length >= 2 || room.members.some((m) => m.role === claims.role))) {
      log.warn({ meetingId: claims.meetingId, role: claims.role }, 'signaling: room full');
      sendError(ws, 'room_full', 'This call already has its participants.');
      closeWith(ws, SIGNALING_CLOSE_CODES.forbidden, 'room_full');
      return;
    }
    if (room === undefined) {
      room = { meetingId: claims.meetingId, members: [], connectionId: undefined };
      rooms.set(claims.meetingId, room);
    }
    const member: Member = {
      peerId: randomId(9),
      userId: claims.userId,
      role: claims.role,
      meetingId: claims.meetingId,
      ws,
      gone: false,
    };
    state.member = member;
    room.members.push(member);
    const iceServers = access.right.iceServers ?? options.iceServersFor(claims.userId);
    send(ws, { type: 'welcome', peerId: member.peerId, meetingId: claims.meetingId, role: claims.role, iceServers });
    pair(room);
  };

  const originAllowed = (origin: string | undefined): boolean => {
    if (allowedOrigins === '*' || origin === undefined) return true;
    const normalized = normalizeOrigin(origin);
    return normalized !== undefined && allowedOrigins.has(normalized);
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      if (httpServer.listenerCount('upgrade') === 1) rejectUpgrade(socket, 400);
      return;
    }
    if (url.pathname !== path) {
      if (httpServer.listenerCount('upgrade') === 1) rejectUpgrade(socket, 404);
      return;
    }
    const onSocketError = (err: Error): void => {
      log.debug({ err: err.message }, 'signaling: socket error during upgrade');
    };
    socket.on('error', onSocketError);
    if (closed) return rejectUpgrade(socket, 503);
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') return rejectUpgrade(socket, 400);
    if (!originAllowed(req.headers.origin)) {
      log.info({ origin: req.headers.origin }, 'signaling: origin refused');
      return rejectUpgrade(socket, 403);
    }
    const ticket = url.searchParams.get('ticket');
    if (ticket === null || ticket === '') return rejectUpgrade(socket, 401);
    const redeemed = options.tickets.redeem(ticket, now());
    if (E.isLeft(redeemed)) {
      log.info({ reason: redeemed.left }, 'signaling: ticket refused');
      return rejectUpgrade(socket, 401);
    }
    const claims = redeemed.right;
    let accessCheck: Promise<Either<AccessDenied, AccessGranted>>;
    try {
      accessCheck = options.checkAccess(claims.meetingId, claims.userId, now());
    } catch (err) {
      accessCheck = Promise.reject(err);
    }
    accessCheck
      .then(
        (access) => {
          if (socket.destroyed) return;
          if (closed) return rejectUpgrade(socket, 503);
          wss.handleUpgrade(req, socket, head, (ws) => {
            socket.off('error', onSocketError);
            onConnection(ws, claims, access);
          });
        },
        (err: unknown) => {
          log.warn({ err: err instanceof Error ? err.message : String(err) }, 'signaling: access check failed');
          rejectUpgrade(socket, 500);
        },
      )
      .catch((err: unknown) => {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'signaling: upgrade failed');
        socket.destroy();
      });
  };

  httpServer.on('upgrade', onUpgrade);

  const heartbeat = setInterval(() => {
    for (const [ws, state] of sockets) {
      if (!state.alive) {
        log.info({ meetingId: state.member?.meetingId }, 'signaling: no pong, terminating');
        ws.terminate();
        continue;
      }
      state.alive = false;
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }
  }, pingIntervalMs);
  heartbeat.unref();

  return {
    originAllowed,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      httpServer.off('upgrade', onUpgrade);
      const open = [...sockets.keys()];
      await Promise.all(
        open.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) return resolve();
              const timer = setTimeout(() => ws.terminate(), 2000);
              ws.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              ws.close(1001, 'server shutting down');
            }),
        ),
      );
      rooms.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },

    async meetingChanged(meetingId) {
      const room = rooms.get(meetingId);
      if (room === undefined) return;
      await Promise.all(
        [...room.members].map(async (member) => {
          let access: Either<AccessDenied, AccessGranted>;
          try {
            access = await options.checkAccess(meetingId, member.userId, now());
          } catch (err) {
            log.warn({ err: err instanceof Error ? err.message : String(err) }, 'signaling: access re-check failed');
            return;
          }
          if (member.gone || E.isRight(access)) return;
          log.info({ meetingId, code: access.left.code }, 'signaling: access withdrawn');
          removeMember(member);
          sendError(member.ws, access.left.code, access.left.message);
          closeWith(member.ws, SIGNALING_CLOSE_CODES.forbidden, access.left.code);
        }),
      );
    },

    stats() {
      return { rooms: rooms.size, sockets: sockets.size };
    },
  };
};
