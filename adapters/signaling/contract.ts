import type { Either } from 'fp-ts/lib/Either.js';
import type { TicketClaims, TicketRejection } from '../../application/calls.ts';
import type { AttendancePort } from '../../application/attendance.ts';
import type { Log } from '../../application/ports/logger.ts';
import type { BusStatus, SignalingBus } from '../../application/ports/signaling-bus.ts';

export const SIGNALING_CLOSE_CODES = {
  /** Reserved by the contract; tickets are refused with HTTP 401 before the upgrade, so never sent. */
  badTicket: 4001,
  forbidden: 4003,
  policy: 4008,
  replaced: 4009,
  /** The standard "try again later": the signaling bus (Redis) cannot seat anyone right now. */
  unavailable: 1013,
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
  /** Rejects when redemption cannot be recorded (the event store is down): the upgrade is refused with 503. */
  readonly tickets: { redeem(ticket: string, now: Date): Promise<Either<TicketRejection, TicketClaims>> };
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
  /**
   * Where the rooms' seats live and how members on other nodes are reached; default an in-process bus (one node).
   * The signaling server starts it and closes it on `close`.
   */
  readonly bus?: SignalingBus;
  /**
   * Told when a member is seated in its meeting's room and when it leaves it (also at a graceful shutdown); a member
   * a newer connection replaced leaves no seat and is not told of. Fire and forget: a rejection is logged and never
   * affects the call; `close` waits for what is under way.
   */
  readonly attendance?: AttendancePort;
  /**
   * How long a leave waits before `attendance` is told (default 10 000 ms): a reconnect within it continues the
   * visit, and nothing is recorded of either (see adapters/signaling/attendance.ts).
   */
  readonly attendanceGraceMs?: number;
}

export interface SignalingStats {
  readonly rooms: number;
  readonly sockets: number;
}

export interface SignalingHandle {
  close(): Promise<void>;
  /** Re-checks access of everyone in the meeting's room; those who lost it get an `error` frame and close 4003. */
  meetingChanged(meetingId: string): Promise<void>;
  /** This node's rooms and sockets. */
  stats(): SignalingStats;
  /** Who holds a seat in the meeting's room now, on any node (from the bus); Left when the bus cannot answer. */
  occupants(meetingId: string): ReturnType<SignalingBus['occupants']>;
  /** The bus in use and whether it answers (joins are refused with 1013 while it does not). */
  bus(): { readonly name: string; readonly status: BusStatus };
  /**
   * Whether a browser on this origin may open the socket. Browsers do not tell a page why a WebSocket was refused,
   * so the page asks (GET /signaling/origin-check) after a socket that never opened.
   */
  originAllowed(origin: string | undefined): boolean;
}

export type ErrorCode =
  | AccessDeniedCode
  | 'room_full'
  | 'replaced'
  | 'malformed'
  | 'invalid_message'
  | 'unknown_type'
  | 'rate_limited'
  | 'too_large'
  | 'unavailable';
