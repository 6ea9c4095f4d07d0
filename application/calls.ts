import { createHmac, randomBytes as nodeRandomBytes } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import { formatLocalDate, formatLocalTime, utcToLocal } from '../domain/time.ts';

export type CallRole = 'customer' | 'instructor';

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

export type TicketRejection = 'unknown' | 'expired' | 'used';

export interface TicketBookOptions {
  /** Lifetime of a ticket; default 60 s. */
  readonly ttlMs?: number;
  /** Tickets held at most (used ones are kept until expiry to answer `used`); the oldest are evicted. Default 100 000. */
  readonly maxSize?: number;
  /** Unused tickets one user may hold; issuing more evicts that user's oldest. Default 16. */
  readonly maxPerUser?: number;
  readonly randomBytes?: (size: number) => Uint8Array;
}

interface TicketEntry {
  readonly claims: TicketClaims;
  readonly expiresAt: number;
  used: boolean;
}

const MAX_TICKET_LENGTH = 128;

/**
 * Single-use, short-lived tickets binding one user to one meeting, for the WebSocket upgrade (browsers cannot set
 * an Authorization header there). In memory: tickets do not survive a restart, which is fine for a 60 s lifetime.
 */
export class TicketBook {
  readonly ttlMs: number;
  readonly maxSize: number;
  readonly maxPerUser: number;
  private readonly random: (size: number) => Uint8Array;
  // Insertion order == issue order, so with a constant ttl the oldest expiry sits at the head.
  private readonly entries = new Map<string, TicketEntry>();
  private readonly unusedByUser = new Map<string, Set<string>>();

  constructor(options: TicketBookOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxSize = Math.max(1, options.maxSize ?? 100_000);
    this.maxPerUser = Math.max(1, options.maxPerUser ?? 16);
    this.random = options.randomBytes ?? ((size) => nodeRandomBytes(size));
  }

  get size(): number {
    return this.entries.size;
  }

  issue(input: {
    readonly userId: string;
    readonly meetingId: string;
    readonly role: CallRole;
    readonly now: Date;
  }): string {
    const now = input.now.getTime();
    this.sweepHead(now);
    const mine = this.unusedByUser.get(input.userId);
    if (mine !== undefined) {
      while (mine.size >= this.maxPerUser) {
        const oldest = mine.values().next();
        if (oldest.done === true) break;
        this.remove(oldest.value);
      }
    }
    if (this.entries.size >= this.maxSize) this.purge(input.now);
    while (this.entries.size >= this.maxSize) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.remove(oldest.value);
    }
    let ticket = Buffer.from(this.random(32)).toString('base64url');
    while (this.entries.has(ticket)) ticket = Buffer.from(this.random(32)).toString('base64url');
    this.entries.set(ticket, {
      claims: { userId: input.userId, meetingId: input.meetingId, role: input.role },
      expiresAt: now + this.ttlMs,
      used: false,
    });
    const set = this.unusedByUser.get(input.userId) ?? new Set<string>();
    set.add(ticket);
    this.unusedByUser.set(input.userId, set);
    return ticket;
  }

  redeem(ticket: string, now: Date): Either<TicketRejection, TicketClaims> {
    const at = now.getTime();
    if (typeof ticket !== 'string' || ticket.length === 0 || ticket.length > MAX_TICKET_LENGTH) {
      return E.left('unknown');
    }
    const entry = this.entries.get(ticket);
    let result: Either<TicketRejection, TicketClaims>;
    if (entry === undefined) {
      result = E.left('unknown');
    } else if (entry.used) {
      result = E.left('used');
    } else if (at >= entry.expiresAt) {
      this.remove(ticket);
      result = E.left('expired');
    } else {
      entry.used = true;
      this.forgetUnused(entry.claims.userId, ticket);
      result = E.right(entry.claims);
    }
    this.sweepHead(at);
    return result;
  }

  /** Drops every expired ticket; returns how many went. */
  purge(now: Date): number {
    const at = now.getTime();
    let removed = 0;
    for (const [ticket, entry] of this.entries) {
      if (at >= entry.expiresAt) {
        this.remove(ticket);
        removed += 1;
      }
    }
    return removed;
  }

  private sweepHead(at: number): void {
    for (const [ticket, entry] of this.entries) {
      if (at < entry.expiresAt) return;
      this.remove(ticket);
    }
  }

  private remove(ticket: string): void {
    const entry = this.entries.get(ticket);
    if (entry === undefined) return;
    this.entries.delete(ticket);
    this.forgetUnused(entry.claims.userId, ticket);
  }

  private forgetUnused(userId: string, ticket: string): void {
    const set = this.unusedByUser.get(userId);
    if (set === undefined) return;
    set.delete(ticket);
    if (set.size === 0) this.unusedByUser.delete(userId);
  }
}
