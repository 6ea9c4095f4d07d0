import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import type { CallRole } from '../../application/calls.ts';
import type { MemberDelivery, SeatPeer, SignalingBus } from '../../application/ports/signaling-bus.ts';
import type { ErrorCode, SignalingLogger, SignalingOptions } from './contract.ts';

/** The options with their defaults filled in. */
export interface Settings {
  readonly path: string;
  readonly pingIntervalMs: number;
  readonly maxPayloadBytes: number;
  readonly rateMessages: number;
  readonly ratePerMs: number;
  readonly maxBufferedBytes: number;
  readonly maxStrikes: number;
  readonly log: SignalingLogger;
  readonly now: () => Date;
  readonly monotonicNow: () => number;
  readonly attendance: SignalingOptions['attendance'];
  readonly attendanceGraceMs: number;
}

export interface Member {
  readonly peerId: string;
  readonly userId: string;
  readonly role: CallRole;
  readonly meetingId: string;
  readonly ws: WebSocket;
  /** Set once the member left its room (left, replaced, denied); its socket may still be closing. */
  gone: boolean;
  /**
   * Until the bus has seated the member: what was delivered to it meanwhile (its partner's first signal may overtake
   * the claim's answer), handed on once it is welcomed. Bounded by `MAX_EARLY_DELIVERIES`.
   */
  early: MemberDelivery[] | undefined;
  /** The other member and the connection id of their peer connection, once paired; signals go only there. */
  link: { readonly connectionId: string; readonly peer: SeatPeer } | undefined;
}

export const MAX_EARLY_DELIVERIES = 32;

/** Per `<meetingId>\u0000<userId>`: the last attendance call under way, and a leave waiting out its grace. */
export interface AttendanceBook {
  readonly queues: Map<string, Promise<void>>;
  readonly pendingLeaves: Map<string, { readonly timer: NodeJS.Timeout; readonly member: Member; readonly at: Date }>;
}

/** Per socket: heartbeat, misbehaviour count, rate-limit bucket, and the room member once admitted. */
export interface SocketState {
  alive: boolean;
  strikes: number;
  tokens: number;
  refilledAt: number;
  member: Member | undefined;
}

/**
 * The signaling server's state, shared by its parts: settings, the bus that holds the rooms' seats, this node's
 * members (by meeting and by peer id), every open socket, and the seats being given up.
 */
export interface Hub {
  readonly settings: Settings;
  readonly bus: SignalingBus;
  readonly rooms: Map<string, Set<Member>>;
  readonly members: Map<string, Member>;
  readonly sockets: Map<WebSocket, SocketState>;
  readonly leaving: Set<Promise<void>>;
  /** What is told to the attendance port: each person's calls in order, and the leaves still in their grace. */
  readonly attendance: AttendanceBook;
}

const noopLogger: SignalingLogger = { info: () => {}, warn: () => {}, debug: () => {} };

export const settingsFrom = (options: SignalingOptions): Settings => ({
  path: options.path ?? '/signaling',
  pingIntervalMs: options.pingIntervalMs ?? 30_000,
  maxPayloadBytes: options.maxPayloadBytes ?? 65_536,
  rateMessages: Math.max(1, options.rateLimit?.messages ?? 50),
  ratePerMs: Math.max(1, options.rateLimit?.perMs ?? 1000),
  maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
  maxStrikes: Math.max(1, options.maxStrikes ?? 5),
  log: options.logger ?? noopLogger,
  now: options.now ?? (() => new Date()),
  monotonicNow: options.monotonicNow ?? (() => performance.now()),
  attendance: options.attendance,
  attendanceGraceMs: Math.max(0, options.attendanceGraceMs ?? 10_000),
});

/** Sends a frame; a socket whose send buffer has grown beyond the limit is a slow consumer and is terminated. */
export const send = (settings: Settings, ws: WebSocket, message: object): void => {
  if (ws.readyState !== WebSocket.OPEN) return;
  if (ws.bufferedAmount > settings.maxBufferedBytes) {
    settings.log.warn({ bufferedAmount: ws.bufferedAmount }, 'signaling: slow consumer terminated');
    ws.terminate();
    return;
  }
  ws.send(JSON.stringify(message));
};

export const sendError = (settings: Settings, ws: WebSocket, code: ErrorCode, message: string): void => {
  send(settings, ws, { type: 'error', code, message });
};

export const closeWith = (ws: WebSocket, code: number, reason: string): void => {
  if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
};
