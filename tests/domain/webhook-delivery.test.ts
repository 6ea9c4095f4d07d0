import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_DELAYS_MS, webhookDeliveryDecider } from '../../domain/webhook-delivery.ts';
import type { WebhookDelivery, WebhookDeliveryEvent } from '../../domain/webhook-delivery.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(webhookDeliveryDecider);
const at = '2030-03-01T12:00:00.000Z';
const by = { id: 'ada', roles: ['admin' as const] };
const plus = (ms: number) => new Date(Date.parse(at) + ms).toISOString();

const requested: WebhookDeliveryEvent = {
  type: 'DeliveryRequested',
  data: {
    deliveryId: 'd1',
    webhookId: 'w1',
    eventId: 'e1',
    type: 'meeting.cancelled',
    messageId: 'msg_d1',
    payload: '{"type":"meeting.cancelled"}',
    at,
  },
};
const started = (attempt: number, when = at): WebhookDeliveryEvent => ({
  type: 'DeliveryAttemptStarted',
  data: { attempt, leaseUntil: new Date(Date.parse(when) + 40_000).toISOString(), at: when },
});
const failed = (attempt: number, nextAttemptAt?: string): WebhookDeliveryEvent => ({
  type: 'DeliveryAttemptFailed',
  data: { attempt, error: 'answered 500', status: 500, at, ...(nextAttemptAt !== undefined ? { nextAttemptAt } : {}) },
});

describe('webhook delivery decider', () => {
  it('is claimed by its first append: a second request for the same event and endpoint is refused', () => {
    spec.given([]).when({ type: 'RequestDelivery', data: requested.data }).then([requested]);
    spec
      .given([requested])
      .when({ type: 'RequestDelivery', data: requested.data })
      .thenError({ _tag: 'DeliveryAlreadyRequested' });
  });

  it('leases each attempt: a second start while the lease runs is refused with its end, and allowed after it', () => {
    spec
      .given([requested])
      .when({ type: 'StartAttempt', data: { leaseUntil: plus(40_000), at } })
      .then([started(1)]);
    spec
      .given([requested, started(1)])
      .when({ type: 'StartAttempt', data: { leaseUntil: plus(80_000), at: plus(1_000) } })
      .thenError({ _tag: 'AttemptInProgress', until: plus(40_000) });
    spec
      .given([requested, started(1)])
      .when({ type: 'StartAttempt', data: { leaseUntil: plus(100_000), at: plus(60_000) } })
      .then([{ type: 'DeliveryAttemptStarted', data: { attempt: 2, leaseUntil: plus(100_000), at: plus(60_000) } }]);
  });

  it('records only the outcome of the attempt that holds the lease', () => {
    spec
      .given([requested, started(1), started(2, plus(60_000))])
      .when({ type: 'RecordDelivered', data: { attempt: 1, status: 200, at } })
      .thenError({ _tag: 'NotCurrentAttempt' });
  });

  it('retries by the schedule, which lasts more than a day, then fails saying how often it tried', () => {
    expect(DEFAULT_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0)).toBeGreaterThan(86_400_000);
    const delays = [1_000, 2_000];
    spec
      .given([requested, started(1)])
      .when({
        type: 'RecordAttemptFailed',
        data: { attempt: 1, error: 'answered 500', status: 500, retryDelaysMs: delays, at },
      })
      .then([failed(1, plus(1_000))]);
    spec
      .given([requested, started(1), failed(1, plus(1_000)), started(2, plus(1_000))])
      .when({ type: 'StartAttempt', data: { leaseUntil: plus(50_000), at: plus(500) } })
      .thenError({ _tag: 'AttemptInProgress' });
    const history = [requested, started(1), failed(1, plus(1_000)), started(2), failed(2, plus(2_000)), started(3)];
    spec
      .given(history)
      .when({
        type: 'RecordAttemptFailed',
        data: { attempt: 3, error: 'answered 500', status: 500, retryDelaysMs: delays, at },
      })
      .then([
        failed(3),
        { type: 'DeliveryFailed', data: { error: 'gave up after 3 attempts: answered 500', attempts: 3, at } },
      ]);
  });

  it('is not started before its next attempt is due', () => {
    spec
      .given([requested, started(1), failed(1, plus(5_000))])
      .when({ type: 'StartAttempt', data: { leaseUntil: plus(45_000), at: plus(1_000) } })
      .thenError({ _tag: 'AttemptNotDue', at: plus(5_000) });
  });

  it('keeps at most a bounded excerpt of the answer', () => {
    spec
      .given([requested, started(1)])
      .when({
        type: 'RecordDelivered',
        data: { attempt: 1, status: 200, response: 'x'.repeat(10_000), durationMs: 12.6, at },
      })
      .then([
        {
          type: 'DeliverySucceeded',
          data: { attempt: 1, status: 200, response: 'x'.repeat(2048), durationMs: 13, at },
        },
      ]);
  });

  it('is sent again on request once delivered or failed (a new round, same message), never while pending', () => {
    const delivered: WebhookDeliveryEvent = {
      type: 'DeliverySucceeded',
      data: { attempt: 1, status: 200, durationMs: 5, at },
    };
    spec
      .given([requested, started(1), delivered])
      .when({ type: 'RequestRedelivery', data: { by, at } })
      .thenState((state) => {
        const d = state as WebhookDelivery;
        expect(d).toMatchObject({ status: 'pending', round: 1, roundAttempts: 0, attempts: 1, messageId: 'msg_d1' });
        expect(d.lease).toBeUndefined();
      });
    spec
      .given([requested])
      .when({ type: 'RequestRedelivery', data: { by, at } })
      .thenError({ _tag: 'DeliveryPending' });
  });

  it('fails a pending delivery whose endpoint is gone, and nothing else', () => {
    spec
      .given([requested])
      .when({ type: 'FailDelivery', data: { error: 'the endpoint was deleted', at } })
      .then([{ type: 'DeliveryFailed', data: { error: 'the endpoint was deleted', attempts: 0, at } }]);
    spec
      .given([requested, { type: 'DeliveryFailed', data: { error: 'x', attempts: 0, at } }])
      .when({ type: 'FailDelivery', data: { error: 'again', at } })
      .thenError({ _tag: 'DeliveryNotPending', status: 'failed' });
  });
});
