import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { TicketBook, iceServersFor, joinWindow, turnCredentials } from '../../application/calls.ts';

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

describe('TicketBook', () => {
  const claims = { userId: 'u1', meetingId: 'm1', role: 'customer' as const };

  it('issues random url-safe 32-byte tickets that redeem once to their claims', () => {
    const book = new TicketBook();
    const ticket = book.issue({ ...claims, now: T0 });
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(ticket, 'base64url')).toHaveLength(32);
    expect(book.issue({ ...claims, now: T0 })).not.toBe(ticket);
    expect(book.redeem(ticket, at(1000))).toEqual(E.right(claims));
    expect(book.redeem(ticket, at(2000))).toEqual(E.left('used'));
  });

  it('refuses unknown and expired tickets (60 s by default)', () => {
    const book = new TicketBook();
    expect(book.redeem('nope', T0)).toEqual(E.left('unknown'));
    expect(book.redeem('', T0)).toEqual(E.left('unknown'));
    expect(book.redeem('x'.repeat(1000), T0)).toEqual(E.left('unknown'));
    const ok = book.issue({ ...claims, now: T0 });
    const late = book.issue({ ...claims, now: T0 });
    expect(book.redeem(ok, at(59_999))).toEqual(E.right(claims));
    expect(book.redeem(late, at(60_000))).toEqual(E.left('expired'));
    expect(book.redeem(late, at(60_001))).toEqual(E.left('unknown'));
  });

  it('takes a configured lifetime', () => {
    const book = new TicketBook({ ttlMs: 5_000 });
    const t = book.issue({ ...claims, now: T0 });
    expect(book.redeem(t, at(5_000))).toEqual(E.left('expired'));
  });

  it('purges expired tickets lazily and on demand', () => {
    const book = new TicketBook({ ttlMs: 1_000 });
    for (let i = 0; i < 10; i += 1) book.issue({ userId: `u${i}`, meetingId: 'm', role: 'instructor', now: T0 });
    expect(book.size).toBe(10);
    book.issue({ userId: 'later', meetingId: 'm', role: 'customer', now: at(1_000) });
    expect(book.size).toBe(1);
    const used = book.issue({ userId: 'x', meetingId: 'm', role: 'customer', now: at(1_500) });
    book.redeem(used, at(1_600));
    expect(book.size).toBe(2);
    expect(book.purge(at(10_000))).toBe(2);
    expect(book.size).toBe(0);
  });

  it('stays bounded: the oldest tickets are evicted beyond maxSize', () => {
    const book = new TicketBook({ maxSize: 3 });
    const tickets = [0, 1, 2, 3].map((i) =>
      book.issue({ userId: `u${i}`, meetingId: 'm', role: 'customer', now: at(i) }),
    );
    expect(book.size).toBe(3);
    expect(book.redeem(tickets[0]!, at(10))).toEqual(E.left('unknown'));
    for (const t of tickets.slice(1)) expect(E.isRight(book.redeem(t, at(10)))).toBe(true);
  });

  it("bounds one user's unused tickets without touching others'", () => {
    const book = new TicketBook({ maxPerUser: 2 });
    const other = book.issue({ userId: 'other', meetingId: 'm', role: 'instructor', now: T0 });
    const mine = [0, 1, 2, 3].map((i) => book.issue({ ...claims, now: at(i) }));
    expect(book.redeem(mine[0]!, at(10))).toEqual(E.left('unknown'));
    expect(book.redeem(mine[1]!, at(10))).toEqual(E.left('unknown'));
    expect(E.isRight(book.redeem(mine[2]!, at(10)))).toBe(true);
    expect(E.isRight(book.redeem(mine[3]!, at(10)))).toBe(true);
    expect(E.isRight(book.redeem(other, at(10)))).toBe(true);
    // redeemed tickets no longer count against the user
    const again = [0, 1].map(() => book.issue({ ...claims, now: at(20) }));
    for (const t of again) expect(E.isRight(book.redeem(t, at(30)))).toBe(true);
  });

  it('uses the injected randomness', () => {
    let n = 0;
    const book = new TicketBook({ randomBytes: (size) => new Uint8Array(size).fill(n++ < 2 ? 7 : 9) });
    const a = book.issue({ ...claims, now: T0 });
    // a collision with a live ticket is retried
    const b = book.issue({ ...claims, now: T0 });
    expect(a).toBe(Buffer.alloc(32, 7).toString('base64url'));
    expect(b).toBe(Buffer.alloc(32, 9).toString('base64url'));
  });
});
