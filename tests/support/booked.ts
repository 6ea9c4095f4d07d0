import { expect } from 'vitest';
import { aMeeting } from './builders.ts';
import type { Client, TestSystem } from './system.ts';

/** A meeting booked between a fresh pair of people, with a client for each. */
export interface Booked {
  readonly id: string;
  readonly customerId: string;
  readonly instructorId: string;
  readonly customer: Client;
  readonly instructor: Client;
}

/**
 * Books meetings between fresh pairs (`<prefix>cora-N`, `<prefix>ivan-N`: the same people may not be double-booked)
 * as `admin`, each from `start` to `end` with the given overrides of `aMeeting`.
 */
export const pairBooker = (ts: Pick<TestSystem, 'people' | 'as'>, admin: Client, prefix = '') => {
  let people = 0;
  return async (times: { start: string; end: string }, overrides: Record<string, unknown> = {}): Promise<Booked> => {
    people += 1;
    const customerId = `${prefix}cora-${people}`;
    const instructorId = `${prefix}ivan-${people}`;
    await ts.people(customerId, instructorId);
    const res = await admin.request(
      'POST',
      '/meetings',
      aMeeting({ customerId, instructorId, ...times, ...overrides }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return {
      id: res.body.id as string,
      customerId,
      instructorId,
      customer: await ts.as(customerId, ['customer']),
      instructor: await ts.as(instructorId, ['instructor']),
    };
  };
};
