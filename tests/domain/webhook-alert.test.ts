import { describe, expect, it } from 'vitest';
import { alertRetryDelay, webhookAlertDecider } from '../../domain/webhook-alert.ts';
import type { WebhookAlert, WebhookAlertEvent } from '../../domain/webhook-alert.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(webhookAlertDecider);
const at = '2030-03-01T12:00:00.000Z';
const data = {
  alertId: 'a1',
  webhookId: 'w1',
  disableEventId: 'e1',
  adminId: 'ada',
  email: 'ada@example.com',
  url: 'https://crm.example.com/h',
  detail: 'every delivery failed',
  at,
};
const requested: WebhookAlertEvent = { type: 'WebhookAlertRequested', data };
const failed = (retryable: boolean, when = at) => ({
  type: 'RecordAlertFailed' as const,
  data: { error: 'answered 500', retryable, retryDelaysMs: [1_000, 60_000], at: when },
});

describe('webhook alert decider', () => {
  it('is claimed once: a second request for the same disabling and admin is refused', () => {
    spec.given([]).when({ type: 'RequestAlert', data }).then([requested]);
    spec.given([requested]).when({ type: 'RequestAlert', data }).thenError({ _tag: 'AlertAlreadyRequested' });
  });

  it('retries a provider that is down for as long as it takes, the last delay repeating', () => {
    expect([1, 2, 3, 10].map((n) => alertRetryDelay([1_000, 60_000], n))).toEqual([1_000, 60_000, 60_000, 60_000]);
    const attempt = (n: number, next: string): WebhookAlertEvent => ({
      type: 'WebhookAlertAttemptFailed',
      data: { attempt: n, error: 'answered 500', at, nextAttemptAt: next },
    });
    spec
      .given([requested, attempt(1, '2030-03-01T12:00:01.000Z'), attempt(2, '2030-03-01T12:01:00.000Z')])
      .when(failed(true))
      .then([attempt(3, '2030-03-01T12:01:00.000Z')]);
    spec
      .given([requested, attempt(1, '2030-03-01T12:00:01.000Z')])
      .when({ type: 'RecordAlertSent', data: { providerMessageId: 'm1', at } })
      .thenState((state) => expect((state as WebhookAlert).status).toBe('sent'));
  });

  it('ends unsent on a refusal no retry changes, and records nothing after it is sent or ended', () => {
    spec
      .given([requested])
      .when(failed(false))
      .thenState((state) => expect((state as WebhookAlert).status).toBe('abandoned'));
    const sent: WebhookAlertEvent = { type: 'WebhookAlertSent', data: { attempt: 1, providerMessageId: 'm1', at } };
    spec
      .given([requested, sent])
      .when({ type: 'RecordAlertSent', data: { providerMessageId: 'm2', at } })
      .thenError({ _tag: 'AlertNotPending' });
    spec.given([requested, sent]).when(failed(true)).thenError({ _tag: 'AlertNotPending' });
  });
});
