import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  JoinTickets,
  MAX_TICKET_LENGTH,
  iceServersFor,
  joinWindow,
  ticketKey,
  turnCredentials,
} from '../../application/calls.ts';
import { projectedStreamPrefixes } from '../../application/aggregates.ts';
import { decodeRecorded } from '../../application/decode.ts';
import type { EventStore } from '../../application/ports/event-store.ts';
import { CallTicketEvent, callTicketStreamName } from '../../domain/call-ticket.ts';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';
import { openSqliteEventStore } from '../../adapters/event-store/sqlite.ts';
import { createAuthenticator, mintToken } from '../../adapters/http/auth.ts';

const T0 = new Date('2026-03-02T10:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

describe('turnCredentials', () => {
  it('follows coturn use-auth-secret: expiry:user and base64 HMAC-SHA1 of it', () => {
    const creds = turnCredentials({ secret: 's3cret', userId: 'user-42', ttlSeconds: 3600, now: at(999) });
    const [expiry, user] = creds.username.split(':');
    expect(user).toBe('user-42');
    expect(Number(expiry)).toBe(Math.floor(T0.getTime() / 1000) + 3600);
    expect(creds.credential).toBe(createHmac('sha1', 's3cret').update(creds.username).digest('base64'));
    expect(Buffer.from(creds.credential, 'base64')).toHaveLength(20);
  });

  it('differs per user and secret', () => {
    const a = turnCredentials({ secret: 'a', userId: 'u', ttlSeconds: 60, now: T0 });
    const b = turnCredentials({ secret: 'b', userId: 'u', ttlSeconds: 60, now: T0 });
    const c = turnCredentials({ secret: 'a', userId: 'v', ttlSeconds: 60, now: T0 });
    expect(a.credential).not.toBe(b.credential);
    expect(a.username).not.toBe(c.username);
  });
});

describe('iceServersFor', () => {
  it('always lists STUN and adds TURN with ephemeral credentials when urls and secret are set', () => {
    const servers = iceServersFor({
      stunUrls: ['stun:stun.l.google.com:19302'],
      turnUrls: ['turn:turn.example:3478', 'turns:turn.example:5349'],
      turnSecret: 'k',
      ttlSeconds: 600,
      userId: 'u1',
      now: T0,
    });
    expect(servers).toHaveLength(2);
    expect(servers[0]).toEqual({ urls: ['stun:stun.l.google.com:19302'] });
    const turn = servers[1]!;
    expect(turn.urls).toEqual(['turn:turn.example:3478', 'turns:turn.example:5349']);
    expect(turn.username).toBe(`${Math.floor(T0.getTime() / 1000) + 600}:u1`);
    expect(turn.credential).toBe(createHmac('sha1', 'k').update(turn.username!).digest('base64'));
  });

  it('leaves TURN out without a secret or without urls', () => {
    const base = { stunUrls: ['stun:a'], ttlSeconds: 60, userId: 'u', now: T0 };
    expect(iceServersFor({ ...base, turnUrls: ['turn:t'] })).toEqual([{ urls: ['stun:a'] }]);
    expect(iceServersFor({ ...base, turnUrls: ['turn:t'], turnSecret: '' })).toEqual([{ urls: ['stun:a'] }]);
    expect(iceServersFor({ ...base, turnUrls: [], turnSecret: 'k' })).toEqual([{ urls: ['stun:a'] }]);
    expect(iceServersFor({ ...base, stunUrls: [], turnUrls: [] })).toEqual([]);
  });
});

describe('joinWindow', () => {
  const start = T0;
  const end = at(60 * 60_000);
  it('opens 15 minutes before the start and closes at the end', () => {
    expect(joinWindow({ start, end, now: at(-15 * 60_000), timezone: 'UTC' })).toEqual(E.right(undefined));
    expect(joinWindow({ start, end, now: at(30 * 60_000), timezone: 'UTC' })).toEqual(E.right(undefined));
    expect(joinWindow({ start, end, now: at(60 * 60_000 - 1), timezone: 'UTC' })).toEqual(E.right(undefined));
    const early = joinWindow({ start, end, now: at(-15 * 60_000 - 1), timezone: 'UTC' });
    expect(E.isLeft(early) && early.left.code).toBe('too_early');
    const late = joinWindow({ start, end, now: end, timezone: 'UTC' });
    expect(E.isLeft(late) && late.left.code).toBe('ended');
    if (E.isLeft(late)) expect(late.left.message.length).toBeGreaterThan(0);
  });

  it("tells a too-early caller when joining opens in the meeting's zone, named, with the date when it is not today there", () => {
    const opening = (start: string, now: string, timezone: string) => {
      const result = joinWindow({
        start: new Date(start),
        end: new Date(Date.parse(start) + 3_600_000),
        now: new Date(now),
        timezone,
      });
      return E.isLeft(result) && result.left.code === 'too_early'
        ? [result.left.message, result.left.opensAt]
        : [JSON.stringify(result)];
    };
    expect(opening('2026-12-03T09:00:00Z', '2026-12-03T07:00:00Z', 'Europe/London')).toEqual([
      'Joining opens at 08:45 (Europe/London), 15 minutes before the start.',
      '2026-12-03T08:45:00.000Z',
    ]);
    expect(opening('2026-07-03T09:00:00Z', '2026-07-03T07:00:00Z', 'Europe/London')[0]).toBe(
      'Joining opens at 09:45 (Europe/London), 15 minutes before the start.',
    );
    expect(opening('2026-12-03T09:00:00Z', '2026-12-01T07:00:00Z', 'Europe/London')[0]).toBe(
      'Joining opens on 2026-12-03 at 08:45 (Europe/London), 15 minutes before the start.',
    );
    // "Today" is the local day: 01:30 on the 4th in Kolkata is the same day as the opening at 04:45 there.
    expect(opening('2026-12-03T23:30:00Z', '2026-12-03T20:00:00Z', 'Asia/Kolkata')[0]).toBe(
      'Joining opens at 04:45 (Asia/Kolkata), 15 minutes before the start.',
    );
    expect(opening('2026-12-03T23:30:00Z', '2026-12-03T17:00:00Z', 'Asia/Kolkata')[0]).toBe(
      'Joining opens on 2026-12-04 at 04:45 (Asia/Kolkata), 15 minutes before the start.',
    );
  });

  it('takes another early margin', () => {
    expect(E.isRight(joinWindow({ start, end, now: at(-20 * 60_000), earlyMinutes: 30, timezone: 'UTC' }))).toBe(true);
    expect(E.isLeft(joinWindow({ start, end, now: at(-1), earlyMinutes: 0, timezone: 'UTC' }))).toBe(true);
  });
});

describe('JoinTickets', () => {
  const SECRET = new TextEncoder().encode('a-shared-secret-of-every-node-of-this-site');
  const claims = { userId: 'u1', meetingId: 'm1', role: 'customer' as const };
  const withStore = (store: EventStore = createInMemoryEventStore(), secret = SECRET, ttlMs?: number) =>
    new JoinTickets({ secret, store, ...(ttlMs !== undefined ? { ttlMs } : {}) });
  /** A ticket with this payload, signed as ours are: with the derived key over the first part. */
  const signed = (payload: unknown, key = ticketKey(SECRET)): string => {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
  };
  const payloadOf = (ticket: string): Record<string, unknown> =>
    JSON.parse(Buffer.from(ticket.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;

  it('issues url-safe signed tickets that redeem once to their claims', async () => {
    const tickets = withStore();
    const ticket = tickets.issue({ ...claims, now: T0 });
    expect(ticket).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(ticket.length).toBeLessThan(300);
    expect(payloadOf(ticket)).toEqual({
      purpose: 'call-join',
      v: 1,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      sub: 'u1',
      meeting: 'm1',
      role: 'customer',
      exp: T0.getTime() + 60_000,
    });
    expect(tickets.issue({ ...claims, now: T0 })).not.toBe(ticket);
    expect(await tickets.redeem(ticket, at(1000))).toEqual(E.right(claims));
    expect(await tickets.redeem(ticket, at(2000))).toEqual(E.left('used'));
  });

  it('refuses what is not one of its tickets: malformed, too long, tampered, or its MAC moved', async () => {
    const tickets = withStore();
    const ticket = tickets.issue({ ...claims, now: T0 });
    const other = tickets.issue({ userId: 'u2', meetingId: 'm1', role: 'instructor', now: T0 });
    const [body, mac] = ticket.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...payloadOf(ticket), sub: 'u2' })).toString('base64url');
    const flipped = `${body.slice(0, 10)}${body[10] === 'A' ? 'B' : 'A'}${body.slice(11)}`;
    for (const bad of [
      '',
      'nope',
      'x'.repeat(5000),
      body,
      `${body}.`,
      `${body}.${mac}.${mac}`,
      `${forged}.${mac}`,
      `${flipped}.${mac}`,
      `${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
      `${body}.${other.split('.')[1]!}`,
      `${body} .${mac}`,
    ]) {
      expect(await tickets.redeem(bad, at(10)), bad.slice(0, 40)).toEqual(E.left('unknown'));
    }
    // None of those spent the real ticket.
    expect(await tickets.redeem(ticket, at(10))).toEqual(E.right(claims));
  });

  it('refuses expired tickets (60 s by default, or as configured) without recording them', async () => {
    const store = createInMemoryEventStore();
    const tickets = withStore(store);
    const ok = tickets.issue({ ...claims, now: T0 });
    const late = tickets.issue({ ...claims, now: T0 });
    expect(await tickets.redeem(late, at(60_000))).toEqual(E.left('expired'));
    expect(await tickets.redeem(late, at(600_000))).toEqual(E.left('expired'));
    expect(await store.headPosition()).toBe(0);
    expect(await tickets.redeem(ok, at(59_999))).toEqual(E.right(claims));
    const short = withStore(store, SECRET, 5_000);
    expect(await short.redeem(short.issue({ ...claims, now: T0 }), at(5_000))).toEqual(E.left('expired'));
  });

  it('refuses a ticket of another key, and the key is its own: derived, never the secret itself', async () => {
    const elsewhere = withStore(
      createInMemoryEventStore(),
      new TextEncoder().encode('another-site-with-its-own-secret!!'),
    );
    const theirs = elsewhere.issue({ ...claims, now: T0 });
    expect(await withStore().redeem(theirs, at(10))).toEqual(E.left('unknown'));
    expect(Buffer.from(ticketKey(SECRET)).equals(Buffer.from(SECRET))).toBe(false);
    expect(ticketKey(SECRET)).toHaveLength(32);
    // Signed with the bare secret (as an API token is) instead of the derived key: not ours.
    const payload = payloadOf(withStore().issue({ ...claims, now: T0 }));
    expect(await withStore().redeem(signed(payload, SECRET), at(10))).toEqual(E.left('unknown'));
  });

  it('takes nothing but a call-join ticket of version 1 with its fields, even when signed with its key', async () => {
    const tickets = withStore();
    const good = payloadOf(tickets.issue({ ...claims, now: T0 }));
    expect(await tickets.redeem(signed(good), at(10))).toEqual(E.right(claims));
    for (const payload of [
      { ...good, jti: 'AAAAAAAAAAAAAAAAAAAAAB', purpose: 'api' },
      { ...good, jti: 'AAAAAAAAAAAAAAAAAAAAAC', purpose: undefined },
      { ...good, jti: 'AAAAAAAAAAAAAAAAAAAAAD', v: 2 },
      { ...good, jti: 'AAAAAAAAAAAAAAAAAAAAAE', role: 'admin' },
      { ...good, jti: 'AAAAAAAAAAAAAAAAAAAAAF', exp: String(good.exp) },
      { ...good, jti: 'short' },
      { ...good, jti: 'AAAAAAAAAAAAAAAAAAAAAG', sub: '' },
      { ...good, jti: 'AAAAAAAAAAAAAAAAAAAAAH', meeting: 'x'.repeat(129) },
      'a string',
    ]) {
      expect(await tickets.redeem(signed(payload), at(10)), JSON.stringify(payload)).toEqual(E.left('unknown'));
    }
  });

  it('is no API token, and an API token is no ticket', async () => {
    const tickets = withStore();
    const apiToken = await mintToken(SECRET, { sub: 'u1', roles: ['customer'] }, 3600);
    expect(await tickets.redeem(apiToken, new Date())).toEqual(E.left('unknown'));
    const authenticate = createAuthenticator({ secret: SECRET });
    const ticket = tickets.issue({ ...claims, now: new Date() });
    expect(E.isLeft(await authenticate(`Bearer ${ticket}`))).toBe(true);
    expect(E.isRight(await authenticate(`Bearer ${apiToken}`))).toBe(true);
  });

  it('binds the longest ids there are and stays within its length bound', async () => {
    const tickets = withStore();
    const longest = { userId: '\u4e2d'.repeat(128), meetingId: '\u{1F600}'.repeat(64), role: 'instructor' as const };
    const ticket = tickets.issue({ ...longest, now: T0 });
    expect(ticket.length).toBeLessThanOrEqual(MAX_TICKET_LENGTH);
    const redeemed = await tickets.redeem(ticket, at(10));
    expect(E.isRight(redeemed) && redeemed.right.meetingId).toBe(longest.meetingId);
  });

  it('records the redemption in the ticket stream, without the ticket, decodable and unseen by the projections', async () => {
    const store = createInMemoryEventStore();
    const tickets = new JoinTickets({ secret: SECRET, store, newId: () => 'redemption-1' });
    const ticket = tickets.issue({ ...claims, now: T0 });
    await tickets.redeem(ticket, at(1_500));
    const ticketId = String(payloadOf(ticket).jti);
    const [recorded, ...more] = await store.readStream(callTicketStreamName(ticketId));
    expect(more).toEqual([]);
    expect(recorded?.id).toBe('redemption-1');
    expect(decodeRecorded(CallTicketEvent, recorded!)).toEqual(
      E.right({
        type: 'CallTicketRedeemed',
        data: { ticketId, ...claims, redeemedAt: at(1_500).toISOString() },
      }),
    );
    expect(JSON.stringify(recorded)).not.toContain(ticket.split('.')[1]);
    // KurrentDB reads and subscribes by these prefixes: the ticket streams are not among them.
    expect(projectedStreamPrefixes.some((prefix) => recorded!.streamName.startsWith(prefix))).toBe(false);
  });

  it('is single use across nodes: two services on one event store, whichever redeems first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickets-'));
    const store = await openSqliteEventStore({ path: join(dir, 'events.db') });
    try {
      const [a, b] = [withStore(store), withStore(store)];
      const ticket = a.issue({ ...claims, now: T0 });
      expect(await b.redeem(ticket, at(10))).toEqual(E.right(claims));
      expect(await a.redeem(ticket, at(20))).toEqual(E.left('used'));
      expect(await b.redeem(ticket, at(30))).toEqual(E.left('used'));
      // At the same instant on both: exactly one wins.
      const racing = b.issue({ ...claims, now: T0 });
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).redeem(racing, at(40))),
      );
      expect(answers.filter(E.isRight)).toHaveLength(1);
      expect(answers.filter((answer) => E.isLeft(answer) && answer.left === 'used')).toHaveLength(9);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails, redeeming nothing, when the store cannot record the redemption', async () => {
    const store = createInMemoryEventStore();
    const failing: Pick<EventStore, 'appendToStream'> = {
      appendToStream: () => Promise.reject(new Error('store down')),
    };
    const ticket = withStore(store).issue({ ...claims, now: T0 });
    await expect(new JoinTickets({ secret: SECRET, store: failing }).redeem(ticket, at(10))).rejects.toThrow(
      'store down',
    );
    expect(await withStore(store).redeem(ticket, at(20))).toEqual(E.right(claims));
  });
});
