import { describe, expect, it } from 'vitest';
import { signingSecrets, subscribes, urlProblem, webhookDecider } from '../../domain/webhook.ts';
import type { Webhook, WebhookEvent } from '../../domain/webhook.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(webhookDecider);
const at = '2030-03-01T12:00:00.000Z';
const by = { id: 'ada', roles: ['admin' as const] };
const system = { id: 'system:webhooks', roles: [] };

const registered: WebhookEvent = {
  type: 'WebhookRegistered',
  data: { webhookId: 'w1', url: 'https://crm.example.com/h', events: ['meeting.*'], secret: 'whsec_one', at, by },
};

describe('webhook endpoint decider', () => {
  it('registers an endpoint once, with its events made unique, and refuses a second registration', () => {
    spec
      .given([])
      .when({
        type: 'RegisterWebhook',
        data: {
          webhookId: 'w1',
          url: 'https://crm.example.com/h',
          events: ['meeting.*', 'meeting.*'],
          description: '',
          secret: 'whsec_one',
          at,
          by,
        },
      })
      .then([registered]);
    spec
      .given([registered])
      .when({
        type: 'RegisterWebhook',
        data: { webhookId: 'w1', url: 'https://x.example', events: ['person.*'], secret: 's', at, by },
      })
      .thenError({ _tag: 'WebhookAlreadyExists' });
  });

  it('refuses empty and unknown event types, bad addresses and long descriptions, naming each field', () => {
    spec
      .given([])
      .when({
        type: 'RegisterWebhook',
        data: {
          webhookId: 'w1',
          url: 'ftp://x',
          events: ['meeting.exploded'],
          description: 'x'.repeat(501),
          secret: 's',
          at,
          by,
        },
      })
      .thenError((error) => {
        expect(error._tag).toBe('ValidationFailed');
        const errors = (error as unknown as { errors: Array<{ path: string; message: string }> }).errors;
        expect(errors.map((e) => e.path).sort()).toEqual(['description', 'events', 'url']);
        expect(errors.find((e) => e.path === 'events')!.message).toMatch(
          /'meeting\.exploded' is not a known event type/,
        );
      });
    spec
      .given([registered])
      .when({ type: 'UpdateWebhook', data: { events: [], at, by } })
      .thenError({ _tag: 'ValidationFailed' });
  });

  it('records only what changed, and enabling or disabling as its own event', () => {
    spec
      .given([registered])
      .when({ type: 'UpdateWebhook', data: { events: ['meeting.*'], at, by } })
      .then([]);
    spec
      .given([registered])
      .when({ type: 'UpdateWebhook', data: { url: 'https://crm.example.com/v2', enabled: false, at, by } })
      .then([
        { type: 'WebhookUpdated', data: { webhookId: 'w1', changes: { url: 'https://crm.example.com/v2' }, at, by } },
        { type: 'WebhookDisabled', data: { webhookId: 'w1', reason: 'admin', at, by } },
      ]);
    const disabled: WebhookEvent = { type: 'WebhookDisabled', data: { webhookId: 'w1', reason: 'admin', at, by } };
    spec
      .given([registered, disabled])
      .when({ type: 'UpdateWebhook', data: { enabled: true, at, by } })
      .then([{ type: 'WebhookEnabled', data: { webhookId: 'w1', at, by } }]);
  });

  it('rotates the secret, keeping the old one signing until the end of the overlap', () => {
    spec
      .given([registered])
      .when({ type: 'RotateWebhookSecret', data: { secret: 'whsec_two', overlapMs: 3_600_000, at, by } })
      .thenState((state) => {
        const webhook = state as Webhook;
        expect(webhook.secret).toBe('whsec_two');
        expect(webhook.previous).toEqual([{ secret: 'whsec_one', validUntil: '2030-03-01T13:00:00.000Z' }]);
        expect(signingSecrets(webhook, new Date('2030-03-01T12:59:59Z'))).toEqual(['whsec_two', 'whsec_one']);
        expect(signingSecrets(webhook, new Date('2030-03-01T13:00:00Z'))).toEqual(['whsec_two']);
      });
  });

  it('keeps every replaced secret signing until the end of its own overlap when rotations follow closely', () => {
    const rotated = (secret: string, when: string, previousValidUntil: string): WebhookEvent => ({
      type: 'WebhookSecretRotated',
      data: { webhookId: 'w1', secret, previousValidUntil, at: when, by },
    });
    // whsec_one was promised until 13:00; a second rotation at 12:30 must not cut that short.
    spec
      .given([registered, rotated('whsec_two', at, '2030-03-01T13:00:00.000Z')])
      .when({
        type: 'RotateWebhookSecret',
        data: { secret: 'whsec_three', overlapMs: 3_600_000, at: '2030-03-01T12:30:00.000Z', by },
      })
      .thenState((state) => {
        const webhook = state as Webhook;
        expect(signingSecrets(webhook, new Date('2030-03-01T12:45:00Z'))).toEqual([
          'whsec_three',
          'whsec_two',
          'whsec_one',
        ]);
        expect(signingSecrets(webhook, new Date('2030-03-01T13:15:00Z'))).toEqual(['whsec_three', 'whsec_two']);
        expect(signingSecrets(webhook, new Date('2030-03-01T13:30:00Z'))).toEqual(['whsec_three']);
      });
    // A bounded list: a rotation while five replaced secrets still sign is refused, saying until when.
    const five = [1, 2, 3, 4, 5].map((n) => rotated(`whsec_${n + 1}`, at, `2030-03-01T13:0${n}:00.000Z`));
    spec
      .given([registered, ...five])
      .when({ type: 'RotateWebhookSecret', data: { secret: 'whsec_x', overlapMs: 3_600_000, at, by } })
      .thenError({ _tag: 'TooManyRotations', until: '2030-03-01T13:01:00.000Z' });
    spec
      .given([registered, ...five])
      .when({
        type: 'RotateWebhookSecret',
        data: { secret: 'whsec_x', overlapMs: 3_600_000, at: '2030-03-01T13:01:00.000Z', by },
      })
      .then([
        {
          type: 'WebhookSecretRotated',
          data: {
            webhookId: 'w1',
            secret: 'whsec_x',
            previousValidUntil: '2030-03-01T14:01:00.000Z',
            at: '2030-03-01T13:01:00.000Z',
            by,
          },
        },
      ]);
  });

  it('does not disable for a failure streak that began before an admin enabled the endpoint again', () => {
    const failing = (failingSince: string, when: string) => ({
      type: 'DisableFailingWebhook' as const,
      data: { failingSince, detail: 'every delivery failed', at: when, by: system },
    });
    const autoDisabled: WebhookEvent = {
      type: 'WebhookDisabled',
      data: { webhookId: 'w1', reason: 'failing', failingSince: '2030-02-20T12:00:00.000Z', at, by: system },
    };
    const enabled: WebhookEvent = {
      type: 'WebhookEnabled',
      data: { webhookId: 'w1', at: '2030-03-01T12:10:00.000Z', by },
    };
    // The sender still saw the old streak when the admin had just enabled it again.
    spec
      .given([registered, autoDisabled, enabled])
      .when(failing('2030-02-20T12:00:00.000Z', '2030-03-01T12:11:00.000Z'))
      .thenError({ _tag: 'FailureStreakStale' });
    // A new streak, begun after the enabling, may disable it.
    spec
      .given([registered, autoDisabled, enabled])
      .when(failing('2030-03-01T12:20:00.000Z', '2030-03-06T12:30:00.000Z'))
      .thenState((state) => expect(state.status).toBe('disabled'));
  });

  it('disables a failing endpoint once, saying why, and not one an admin disabled or deleted', () => {
    const command = {
      type: 'DisableFailingWebhook' as const,
      data: { failingSince: '2030-02-24T12:00:00.000Z', detail: 'every delivery failed', at, by: system },
    };
    spec
      .given([registered])
      .when(command)
      .then([
        {
          type: 'WebhookDisabled',
          data: {
            webhookId: 'w1',
            reason: 'failing',
            detail: 'every delivery failed',
            failingSince: '2030-02-24T12:00:00.000Z',
            at,
            by: system,
          },
        },
      ]);
    spec
      .given([registered, { type: 'WebhookDisabled', data: { webhookId: 'w1', reason: 'admin', at, by } }])
      .when(command)
      .thenError({ _tag: 'WebhookNotEnabled' });
    spec
      .given([registered, { type: 'WebhookDeleted', data: { webhookId: 'w1', at, by } }])
      .when(command)
      .thenError({ _tag: 'WebhookNotFound' });
  });

  it('matches subscriptions exactly or by group', () => {
    expect(subscribes(['meeting.*'], 'meeting.cancelled')).toBe(true);
    expect(subscribes(['meeting.*'], 'series.cancelled')).toBe(false);
    expect(subscribes(['person.updated'], 'person.updated')).toBe(true);
    expect(subscribes(['person.updated'], 'person.registered')).toBe(false);
  });

  it('accepts only absolute http(s) URLs without credentials or fragment', () => {
    expect(urlProblem('https://crm.example.com/hook?x=1')).toBeUndefined();
    expect(urlProblem('https://a:b@crm.example.com/')).toMatch(/user name or password/);
    expect(urlProblem('https://crm.example.com/#x')).toMatch(/fragment/);
    expect(urlProblem('javascript:alert(1)')).toMatch(/https/);
    expect(urlProblem(`https://x.example/${'a'.repeat(2048)}`)).toMatch(/at most 2048/);
  });
});
