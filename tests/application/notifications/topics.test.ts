import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { prepareRound, topicHandler } from '../../../application/notifications/topics.ts';
import type { NoticeTopic } from '../../../application/notifications/topics.ts';
import type { RoundRequest } from '../../../application/notifications/prepare.ts';

const at = '2030-03-01T12:00:00.000Z';
const request: RoundRequest = {
  topic: 'booked',
  kind: 'meeting',
  snapshot: {
    title: 'Strength',
    timezone: 'UTC',
    customerId: 'cora',
    instructorId: 'ivan',
    cancelledAt: at,
    sessions: [{ meetingId: 'm1', start: '2030-03-02T15:00:00.000Z', end: '2030-03-02T16:00:00.000Z', sequence: 0 }],
  },
  current: ['m1'],
  personId: 'cora',
  role: 'customer',
  at,
};

describe('notice topics', () => {
  it("prepares a round with its topic's own handler", () => {
    const seen: string[] = [];
    const booked: NoticeTopic = {
      prepare: (r) => {
        seen.push(r.topic);
        return { enabled: false, current: r.current, recipient: { personId: r.personId, role: r.role }, at: r.at };
      },
      current: async () => E.right([]),
    };
    expect(prepareRound({ booked })(request)).toMatchObject({ enabled: false });
    expect(seen).toEqual(['booked']);
  });

  it('fails the round with the reason when no handler is configured for the topic, never sending blind', () => {
    const facts = prepareRound({})(request);
    expect(facts.renderError).toBe("no handler for 'booked' notifications is configured");
    expect(facts.message).toBeUndefined();
    expect(topicHandler({}, 'reminder')).toEqual(E.left("no handler for 'reminder' notifications is configured"));
  });
});
