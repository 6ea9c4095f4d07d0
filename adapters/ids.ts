import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** Random bytes drawn from the system at once, enough for this many ids. */
const IDS_PER_DRAW = 256;
const BYTES_PER_ID = 16;

/**
 * Makes ids of events, meetings, series and claims: UUIDv7 (RFC 9562), time-ordered with 74 random bits, so that the
 * event store's indexes on them grow at their end instead of touching a random page per event. Nothing secret is an
 * id: tokens and secrets come from randomBytes.
 *
 * Ids made in the same millisecond keep their order, as `uuid`'s own v7 does: the 32 bits after the time (around the
 * version and variant) are a counter started at a random 31-bit value each millisecond (RFC 9562 §6.2, method 1), and
 * an overflow moves on to the next millisecond; the last 42 bits are random.
 * What differs is where the randomness comes from: `uuid` asks Web Crypto for 16 bytes per id, which costs more in
 * Node 20 than everything else about an id (about a twentieth of the main thread while bookings arrive); here the
 * bytes come from one draw of the system's generator for every 256 ids.
 */
export const createIdSource = (now: () => number = Date.now): (() => string) => {
  const pool = new Uint8Array(IDS_PER_DRAW * BYTES_PER_ID);
  let next = pool.length;
  let msecs = -Infinity;
  let seq = 0;
  return () => {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    const random = pool.subarray(next, next + BYTES_PER_ID);
    next += BYTES_PER_ID;
    const at = now();
    if (at > msecs) {
      // As uuid's v7Sequence: 31 random bits, so the counter has room to count up within the millisecond.
      seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
      msecs = at;
    } else {
      seq = (seq + 1) | 0;
      if (seq === 0) msecs += 1;
    }
    return uuidv7({ random, msecs, seq });
  };
};

/** The process' id source. */
export const newId: () => string = createIdSource();
