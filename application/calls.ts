import { createHmac, hkdfSync, randomBytes as nodeRandomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { CallRole as CallRoleCodec, callTicketStreamName } from '../domain/call-ticket.ts';
import type { CallTicketRedeemed } from '../domain/call-ticket.ts';
import { idProblem } from '../domain/shared.ts';
import { formatLocalDate, formatLocalTime, utcToLocal } from '../domain/time.ts';
import type { EventStore } from './ports/event-store.ts';

export type CallRole = t.TypeOf<typeof CallRoleCodec>;

/** Shape of an RTCIceServer entry as handed to browsers. */
export interface IceServer {
  readonly urls: string | string[];
  readonly username?: string;
  readonly credential?: string;
}

/**
 * coturn `use-auth-secret` (TURN REST API) credentials: the username carries its own expiry, the credential is
 * base64(HMAC-SHA1(secret, username)), so coturn can verify it without any shared state.
 */
export const turnCredentials = (input: {
  readonly secret: string;
  readonly userId: string;
  readonly ttlSeconds: number;
  readonly now: Date;
}): { username: string; credential: string } => {
  const expiry = Math.floor(input.now.getTime() / 1000) + Math.max(0, Math.floor(input.ttlSeconds));
  const username = `${expiry}:${input.userId}`;
  const credential = createHmac('sha1', input.secret).update(username).digest('base64');
  return { username, credential };
};

export const iceServersFor = (input: {
  readonly stunUrls: readonly string[];
  readonly turnUrls: readonly string[];
  readonly turnSecret?: string | undefined;
  readonly ttlSeconds: number;
  readonly userId: string;
  readonly now: Date;
}): IceServer[] => {
  const servers: IceServer[] = [];
  if (input.stunUrls.length > 0) servers.push({ urls: [...input.stunUrls] });
  if (input.turnUrls.length > 0 && input.turnSecret !== undefined && input.turnSecret !== '') {
    const { username, credential } = turnCredentials({
      secret: input.turnSecret,
      userId: input.userId,
      ttlSeconds: input.ttlSeconds,
      now: input.now,
    });
    servers.push({ urls: [...input.turnUrls], username, credential });
  }
  return servers;
};

export type JoinWindowRejection =
  | { readonly code: 'too_early'; readonly message: string; /** ISO instant */ readonly opensAt: string }
  | { readonly code: 'ended'; readonly message: string };

/**
 * When joining opens, in the meeting's own zone and named: "at 09:45 (Europe/London)" on the local day of `now`
 * there, "on 2026-12-03 at 09:45 (Europe/London)" on another day.
 */
const opensText = (opensAt: Date, now: Date, timezone: string): string => {
  const local = utcToLocal(opensAt, timezone);
  const today = utcToLocal(now, timezone);
  const time = formatLocalTime(local);
  const sameDay = local.year === today.year && local.month === today.month && local.day === today.day;
  return sameDay ? `at ${time} (${timezone})` : `on ${formatLocalDate(local)} at ${time} (${timezone})`;
};

/** A call may be joined from `earlyMinutes` before the start until (excluding) the end. */
export const joinWindow = (input: {
  readonly start: Date;
  readonly end: Date;
  readonly now: Date;
  /** The meeting's IANA zone, in which a too-early refusal tells the opening time. */
  readonly timezone: string;
  readonly earlyMinutes?: number;
}): Either<JoinWindowRejection, void> => {
  const earlyMinutes = input.earlyMinutes ?? 15;
  const opensAt = new Date(input.start.getTime() - earlyMinutes * 60_000);
  const now = input.now.getTime();
  if (now < opensAt.getTime()) {
    return E.left({
      code: 'too_early',
      opensAt: opensAt.toISOString(),
      message: `Joining opens ${opensText(opensAt, input.now, input.timezone)}, ${earlyMinutes} minutes before the start.`,
    });
  }
  if (now >= input.end.getTime()) {
    return E.left({ code: 'ended', message: 'The meeting has ended.' });
  }
  return E.right(undefined);
};

export interface TicketClaims {
  readonly userId: string;
  readonly meetingId: string;
  readonly role: CallRole;
}

/** `unknown`: not a ticket of ours (malformed, tampered, another key or another purpose). */
export type TicketRejection = 'unknown' | 'expired' | 'used';

/** What a ticket says it is for: no other signed thing is accepted as a ticket, nor a ticket as anything else. */
const TICKET_PURPOSE = 'call-join';
/** The HKDF label of the ticket key: its own, so the ticket key is never the key that signs API tokens. */
const TICKET_KEY_INFO = 'virtual-y call-join ticket key v1';
/**
 * Ids are at most 128 UTF-16 units, so at most 384 bytes of UTF-8 each: a payload stays under 1 000 bytes, under
 * 1 400 characters in base64url with its MAC. Real tickets are about 250; the bound leaves room and refuses floods.
 */
export const MAX_TICKET_LENGTH = 2048;
const TICKET_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

/** The key tickets are signed with, the same on every node that shares `secret`: HKDF-SHA256 under its own label. */
export const ticketKey = (secret: Uint8Array): Uint8Array =>
  new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), TICKET_KEY_INFO, 32));

const TicketId = t.refinement(t.string, (s) => idProblem(s) === undefined, 'Id');

const TicketPayload = t.type({
  purpose: t.literal(TICKET_PURPOSE),
  v: t.literal(1),
  /** The ticket's id: 128 random bits, the name of its redemption stream. */
  jti: t.refinement(t.string, (s) => /^[A-Za-z0-9_-]{22}$/.test(s), 'TicketId'),
  sub: TicketId,
  meeting: TicketId,
  role: CallRoleCodec,
  /** Expiry, epoch milliseconds. */
  exp: t.number,
});
type TicketPayload = t.TypeOf<typeof TicketPayload>;

export interface JoinTicketsOptions {
  /** The base secret (AUTH_JWT_SECRET, the dev secret, or CALL_TICKET_SECRET); the key is derived from it. */
  readonly secret: Uint8Array;
  /** Where redemptions are recorded: the store every node shares. */
  readonly store: Pick<EventStore, 'appendToStream'>;
  /** Lifetime of a ticket; default 60 s. */
  readonly ttlMs?: number;
  readonly randomBytes?: (size: number) => Uint8Array;
  /** Ids of the redemption events. */
  readonly newId?: () => string;
}

const decodePayload = (body: string): TicketPayload | undefined => {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const decoded = TicketPayload.decode(json);
  return E.isRight(decoded) ? decoded.right : undefined;
};

/**
 * Single-use, short-lived tickets binding one user to one meeting in one role, for the WebSocket upgrade (browsers
 * cannot set an Authorization header there). A ticket is `base64url(payload).base64url(HMAC-SHA256(key, first part))`:
 * any node holding the key checks it without shared memory, and redeeming it records its id in the event store, so a
 * second redemption on any node is refused `used`. One fixed algorithm and no header, so there is nothing to
 * negotiate (no `alg` to confuse); two parts, so it is not a JWS and an API token is never taken for one.
 */
export class JoinTickets {
  readonly ttlMs: number;
  private readonly key: Uint8Array;
  private readonly store: Pick<EventStore, 'appendToStream'>;
  private readonly random: (size: number) => Uint8Array;
  private readonly newId: () => string;

  constructor(options: JoinTicketsOptions) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.key = ticketKey(options.secret);
    this.store = options.store;
    this.random = options.randomBytes ?? ((size) => nodeRandomBytes(size));
    this.newId = options.newId ?? randomUUID;
  }

  issue(input: {
    readonly userId: string;
    readonly meetingId: string;
    readonly role: CallRole;
    readonly now: Date;
  }): string {
    const payload: TicketPayload = {
      purpose: TICKET_PURPOSE,
      v: 1,
      jti: Buffer.from(this.random(16)).toString('base64url'),
      sub: input.userId,
      meeting: input.meetingId,
      role: input.role,
      exp: input.now.getTime() + this.ttlMs,
    };
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The ticket's id and claims if it is ours and not expired, without redeeming it. */
  private check(ticket: string, now: Date): Either<TicketRejection, TicketClaims & { readonly ticketId: string }> {
    if (typeof ticket !== 'string' || ticket.length > MAX_TICKET_LENGTH || !TICKET_SHAPE.test(ticket)) {
      return E.left('unknown');
    }
    const dot = ticket.indexOf('.');
    const body = ticket.slice(0, dot);
    const given = Buffer.from(ticket.slice(dot + 1), 'ascii');
    if (!timingSafeEqual(given, Buffer.from(this.mac(body), 'ascii'))) return E.left('unknown');
    const payload = decodePayload(body);
    if (payload === undefined) return E.left('unknown');
    if (now.getTime() >= payload.exp) return E.left('expired');
    return E.right({ ticketId: payload.jti, userId: payload.sub, meetingId: payload.meeting, role: payload.role });
  }

  /**
   * Checks the ticket, then records its redemption: the first on any node wins, every later one is `used`. Rejects
   * when the store does not take the append (down, or no answer: then the ticket may be spent or not, and the
   * client asks for a new one, as it does after any refusal).
   */
  async redeem(ticket: string, now: Date): Promise<Either<TicketRejection, TicketClaims>> {
    const checked = this.check(ticket, now);
    if (E.isLeft(checked)) return checked;
    const { ticketId, ...claims } = checked.right;
    const event: CallTicketRedeemed = {
      type: 'CallTicketRedeemed',
      data: { ticketId, ...claims, redeemedAt: now.toISOString() },
    };
    // A fresh event id per attempt: the stores take an append whose ids they already hold for a retry and answer it
    // as a success, which would let a second redemption through.
    const appended = await this.store.appendToStream(
      callTicketStreamName(ticketId),
      [{ id: this.newId(), type: event.type, data: event.data }],
      { expectedRevision: 'no_stream' },
    );
    return E.isLeft(appended) ? E.left('used') : E.right(claims);
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body, 'ascii').digest('base64url');
  }
}
