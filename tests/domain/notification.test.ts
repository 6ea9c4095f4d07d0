import { describe, expect, it } from 'vitest';
import {
  MAX_NOTIFICATION_APPEND_BYTES,
  announcedSessions,
  appendBytes,
  notificationDecider,
  utf8Length,
} from '../../domain/notification.ts';
import type {
  CancellationSnapshot,
  NotificationCommand,
  NotificationEvent,
  PreparedMessage,
  RoundFacts,
} from '../../domain/notification.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(notificationDecider);
const at = '2030-03-01T12:00:00.000Z';
const later = '2030-03-01T12:05:00.000Z';
const admin = { id: 'ada', roles: ['admin' as const] };

const cancellation: CancellationSnapshot = {
  title: 'Strength',
  timezone: 'America/New_York',
  customerId: 'cora',
  instructorId: 'ivan',
  cancelledAt: at,
  sessions: [
    { meetingId: 'm1', start: '2030-03-02T15:00:00.000Z', end: '2030-03-02T16:00:00.000Z', sequence: 1 },
    { meetingId: 'm2', start: '2030-03-09T15:00:00.000Z', end: '2030-03-09T16:00:00.000Z', sequence: 1 },
  ],
};
const message: PreparedMessage = {
  from: 'Virtual Y <no-reply@localhost>',
  to: 'cora@example.com',
  subject: 's',
  html: '<p>h</p>',
  text: 'h',
  attachments: [],
};
const recipient = { personId: 'cora', role: 'customer' as const, email: 'cora@example.com' };

const facts = (overrides: Partial<RoundFacts> = {}): RoundFacts => ({
  enabled: true,
  current: ['m1', 'm2'],
  recipient,
  message,
  at,
  ...overrides,
});

const request = (overrides: Partial<RoundFacts> = {}): NotificationCommand => ({
  type: 'RequestNotification',
  data: {
    ...facts(overrides),
    notificationId: 'n1',
    key: 'e1:cora',
    topic: 'cancelled',
    kind: 'series',
    meetingIds: ['m1', 'm2'],
    seriesId: 's1',
    cancellationEventId: 'e1',
    cancellation,
  },
});

const requested: NotificationEvent = {
  type: 'NotificationRequested',
  data: {
    notificationId: 'n1',
    key: 'e1:cora',
    kind: 'series',
    meetingIds: ['m1', 'm2'],
    seriesId: 's1',
    recipient,
    cancellationEventId: 'e1',
    cancellation,
    at,
  },
};
const prepared: NotificationEvent = {
  type: 'NotificationPrepared',
  data: { round: 0, meetingIds: ['m1', 'm2'], endsAt: '2030-03-09T16:00:00.000Z', message, at },
};

const failAttempt = (attempt: number, retryable = true, maxAttempts = 3): NotificationCommand => ({
  type: 'RecordAttemptFailed',
  data: {
    attempt,
    error: '500 internal_server_error: boom',
    retryable,
    status: retryable ? 500 : 422,
    nextAttemptAt: later,
    maxAttempts,
    at,
  },
});
const attemptFailed = (attempt: number, next: boolean): NotificationEvent => ({
  type: 'NotificationAttemptFailed',
  data: {
    attempt,
    error: '500 internal_server_error: boom',
    retryable: true,
    status: 500,
    ...(next ? { nextAttemptAt: later } : {}),
    at,
  },
});

describe('Notification: request', () => {
  it('Given nothing, When requested with an address and a message, Then it is claimed and prepared', () => {
    spec.given([]).when(request()).then([requested, prepared]);
  });

  it('Given a claimed notification, When requested again (a replay), Then it is refused', () => {
    spec.given([requested, prepared]).when(request()).thenError({ _tag: 'NotificationAlreadyRequested' });
  });

  it('disabled settings: skipped, nothing to send', () => {
    spec
      .given([])
      .when(request({ enabled: false }))
      .then([requested, { type: 'NotificationSkipped', data: { reason: 'disabled', at } }]);
  });

  it('sessions that have ended are never announced; all ended: skipped', () => {
    spec
      .given([])
      .when(request({ at: '2030-03-09T16:00:00.000Z' }))
      .then([
        { ...requested, data: { ...requested.data, at: '2030-03-09T16:00:00.000Z' } } as NotificationEvent,
        { type: 'NotificationSkipped', data: { reason: 'ended', at: '2030-03-09T16:00:00.000Z' } },
      ]);
  });

  it('a series with one session ended announces only the other', () => {
    const mid = '2030-03-05T00:00:00.000Z';
    spec
      .given([])
      .when(request({ at: mid }))
      .thenState((state) => {
        expect(state).toMatchObject({ status: 'pending', announced: ['m2'], endsAt: '2030-03-09T16:00:00.000Z' });
      });
    expect(announcedSessions(cancellation, ['m1', 'm2'], mid).map((s) => s.meetingId)).toEqual(['m2']);
  });

  it('sessions reinstated since the cancel: skipped as reinstated', () => {
    spec
      .given([])
      .when(request({ current: [] }))
      .then([requested, { type: 'NotificationSkipped', data: { reason: 'reinstated', at } }]);
  });

  it('no address in the people directory: undeliverable, recorded rather than dropped', () => {
    const noEmail = { personId: 'cora', role: 'customer' as const };
    spec
      .given([])
      .when(request({ recipient: noEmail, message: undefined }))
      .then([
        { ...requested, data: { ...requested.data, recipient: noEmail } } as NotificationEvent,
        {
          type: 'NotificationUndeliverable',
          data: { reason: "no email address in the people directory for 'cora'", at },
        },
      ]);
  });

  it('an address stored before the email rule that the mail path cannot use: undeliverable (fix it and retry), not a failure', () => {
    const oldAddress = { personId: 'cora', role: 'customer' as const, email: 'a@b..com' };
    spec
      .given([])
      .when(
        request({
          recipient: oldAddress,
          message: undefined,
          renderError: 'cannot build the calendar cancellation: email must be a valid email',
        }),
      )
      .then([
        { ...requested, data: { ...requested.data, recipient: oldAddress } } as NotificationEvent,
        {
          type: 'NotificationUndeliverable',
          data: {
            reason:
              "the email address in the people directory for 'cora' must be an email address like name@example.com",
            at,
          },
        },
      ]);
  });

  it('an email that cannot be rendered fails at once', () => {
    spec
      .given([])
      .when(request({ renderError: 'body template: unknown token' }))
      .then([
        requested,
        { type: 'NotificationFailed', data: { error: 'body template: unknown token', attempts: 0, at } },
      ]);
  });
});

describe('Notification: attempts', () => {
  it('Given pending, When sent, Then sent with the provider message id', () => {
    spec
      .given([requested, prepared])
      .when({ type: 'RecordSent', data: { attempt: 1, providerMessageId: 'email-1', at } })
      .then([{ type: 'NotificationSent', data: { attempt: 1, providerMessageId: 'email-1', at } }]);
  });

  it('a retryable failure schedules the next attempt', () => {
    spec
      .given([requested, prepared])
      .when(failAttempt(1))
      .then([attemptFailed(1, true)]);
    spec
      .given([requested, prepared])
      .when(failAttempt(1))
      .thenState((s) => expect(s).toMatchObject({ status: 'pending', nextAttemptAt: later, attempts: 1 }));
  });

  it('the last allowed attempt failing fails the notification', () => {
    spec
      .given([requested, prepared, attemptFailed(1, true), attemptFailed(2, true)])
      .when(failAttempt(3))
      .then([
        attemptFailed(3, false),
        {
          type: 'NotificationFailed',
          data: { error: 'gave up after 3 attempts: 500 internal_server_error: boom', attempts: 3, at },
        },
      ]);
  });

  it('a refusal that is not retryable fails at once', () => {
    spec
      .given([requested, prepared])
      .when(failAttempt(1, false))
      .thenState((s) =>
        expect(s).toMatchObject({ status: 'failed', attempts: 1, lastError: '500 internal_server_error: boom' }),
      );
  });

  it('nothing is recorded on a notification that is no longer pending (another node got there first)', () => {
    const sent: NotificationEvent = {
      type: 'NotificationSent',
      data: { attempt: 1, providerMessageId: 'email-1', at },
    };
    spec
      .given([requested, prepared, sent])
      .when({ type: 'RecordSent', data: { attempt: 2, providerMessageId: 'email-1', at } })
      .thenError({ _tag: 'NotificationNotPending', status: 'sent' });
    spec.given([requested, prepared, sent]).when(failAttempt(2)).thenError({ _tag: 'NotificationNotPending' });
  });

  it('a pending notice whose sessions ended meanwhile is skipped, not sent late', () => {
    spec
      .given([requested, prepared])
      .when({ type: 'SkipEndedNotification', data: { at: '2030-03-10T00:00:00.000Z' } })
      .then([{ type: 'NotificationSkipped', data: { reason: 'ended', at: '2030-03-10T00:00:00.000Z' } }]);
    spec
      .given([requested, prepared])
      .when({ type: 'SkipEndedNotification', data: { at } })
      .thenError({ _tag: 'SessionsNotEnded' });
  });

  it('a pending notice whose sessions were reinstated meanwhile is skipped; a sent one stays sent', () => {
    spec
      .given([requested, prepared])
      .when({ type: 'SkipSupersededNotification', data: { at } })
      .then([{ type: 'NotificationSkipped', data: { reason: 'reinstated', at } }]);
    const sent: NotificationEvent = {
      type: 'NotificationSent',
      data: { attempt: 1, providerMessageId: 'email-1', at },
    };
    spec
      .given([requested, prepared, sent])
      .when({ type: 'SkipSupersededNotification', data: { at } })
      .thenError({ _tag: 'NotificationNotPending', status: 'sent' });
  });
});

describe('Notification: topics', () => {
  const booked: NotificationEvent = { ...requested, data: { ...requested.data, topic: 'booked' } } as NotificationEvent;
  const bookingRequest = (overrides: Partial<RoundFacts> = {}): NotificationCommand => {
    const command = request(overrides);
    return command.type === 'RequestNotification'
      ? { ...command, data: { ...command.data, topic: 'booked' } }
      : command;
  };

  it('records the topic of every notice but a cancellation, which keeps the shape it always had', () => {
    spec.given([]).when(bookingRequest()).then([booked, prepared]);
    spec.given([]).when(request()).then([requested, prepared]);
    expect('topic' in requested.data).toBe(false);
  });

  it('a notice of another topic whose sessions changed again is skipped as superseded, not as reinstated', () => {
    spec
      .given([booked, prepared])
      .when({ type: 'SkipSupersededNotification', data: { at } })
      .then([{ type: 'NotificationSkipped', data: { reason: 'superseded', at } }]);
    spec
      .given([])
      .when(bookingRequest({ current: [] }))
      .then([booked, { type: 'NotificationSkipped', data: { reason: 'superseded', at } }]);
  });
});

describe('Notification: admin retry', () => {
  const failed: NotificationEvent[] = [
    requested,
    prepared,
    attemptFailed(1, true),
    attemptFailed(2, true),
    attemptFailed(3, false),
    { type: 'NotificationFailed', data: { error: 'gave up', attempts: 3, at } },
  ];
  const retry = (overrides: Partial<RoundFacts> = {}): NotificationCommand => ({
    type: 'RetryNotification',
    data: { ...facts({ at: later, ...overrides }), by: admin },
  });

  it('Given failed, When an admin retries, Then a new round is prepared and attempts keep counting', () => {
    spec
      .given(failed)
      .when(retry())
      .then([
        { type: 'NotificationRetryRequested', data: { round: 1, recipient, by: admin, at: later } },
        {
          type: 'NotificationPrepared',
          data: { round: 1, meetingIds: ['m1', 'm2'], endsAt: '2030-03-09T16:00:00.000Z', message, at: later },
        },
      ]);
    spec
      .given(failed)
      .when(retry())
      .thenState((s) => expect(s).toMatchObject({ status: 'pending', round: 1, roundAttempts: 0, attempts: 3 }));
  });

  it('Given undeliverable, When the person has an address now and an admin retries, Then it is prepared for that address', () => {
    const noEmail = { personId: 'cora', role: 'customer' as const };
    const undeliverable: NotificationEvent[] = [
      { ...requested, data: { ...requested.data, recipient: noEmail } } as NotificationEvent,
      { type: 'NotificationUndeliverable', data: { reason: 'no address', at } },
    ];
    spec
      .given(undeliverable)
      .when(retry())
      .thenState((s) => expect(s).toMatchObject({ status: 'pending', recipient: { email: 'cora@example.com' } }));
  });

  it('only failed or undeliverable notifications can be retried', () => {
    spec.given([requested, prepared]).when(retry()).thenError({ _tag: 'NotificationNotRetryable', status: 'pending' });
    spec
      .given([requested, { type: 'NotificationSkipped', data: { reason: 'disabled', at } }])
      .when(retry())
      .thenError({ _tag: 'NotificationNotRetryable', status: 'skipped' });
    spec.given([]).when(retry()).thenError({ _tag: 'NotificationNotFound' });
  });

  it('a retry after the sessions ended is skipped', () => {
    spec
      .given(failed)
      .when(retry({ at: '2030-03-10T00:00:00.000Z' }))
      .thenState((s) => expect(s).toMatchObject({ status: 'skipped', reason: 'ended' }));
  });

  it('a failed round counts its own attempts', () => {
    spec
      .given([
        ...failed,
        { type: 'NotificationRetryRequested', data: { round: 1, recipient, by: admin, at: later } },
        { ...prepared, data: { ...prepared.data, round: 1 } } as NotificationEvent,
      ])
      .when(failAttempt(4))
      .thenState((s) => expect(s).toMatchObject({ status: 'pending', attempts: 4, roundAttempts: 1 }));
  });
});

describe('Notification: the record stays within the append limit', () => {
  const bytesOf = (events: ReadonlyArray<NotificationEvent>) =>
    events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e.data), 'utf8') + 2 * e.type.length + 1024, 0);
  const withBody = (chars: number): PreparedMessage => ({
    ...message,
    html: `<p>${'é'.repeat(chars)}</p>`,
    text: 'é'.repeat(chars),
  });
  const decided = (command: NotificationCommand, given: ReadonlyArray<NotificationEvent> = []) => {
    const state = given.reduce(notificationDecider.evolve, notificationDecider.initialState());
    const result = notificationDecider.decide(command, state);
    if (result._tag === 'Left') throw new Error(JSON.stringify(result.left));
    return result.right;
  };

  it('counts bytes as the event store does', () => {
    expect(utf8Length('aé€😀')).toBe(Buffer.byteLength('aé€😀', 'utf8'));
    expect(utf8Length('\ud800x')).toBe(Buffer.byteLength('\ud800x', 'utf8'));
    const events = decided(request());
    expect(appendBytes(events)).toBe(bytesOf(events));
  });

  it('keeps an email that fits', () => {
    const events = decided(request({ message: withBody(100_000) }));
    expect(events.map((e) => e.type)).toEqual(['NotificationRequested', 'NotificationPrepared']);
    expect(bytesOf(events)).toBeLessThanOrEqual(MAX_NOTIFICATION_APPEND_BYTES);
  });

  it('an email that would take the record over the limit is not kept: the round fails and says why', () => {
    const events = decided(request({ message: withBody(200_000) }));
    expect(events.map((e) => e.type)).toEqual(['NotificationRequested', 'NotificationFailed']);
    expect(bytesOf(events)).toBeLessThanOrEqual(MAX_NOTIFICATION_APPEND_BYTES);
    const failed = events[1];
    expect(failed?.type === 'NotificationFailed' && failed.data.error).toMatch(
      new RegExp(
        `^the rendered email \\(\\d+ bytes for 2 session\\(s\\)\\) would make the notification record \\d+ bytes, more than the ${MAX_NOTIFICATION_APPEND_BYTES} allowed`,
      ),
    );
    const state = events.reduce(notificationDecider.evolve, notificationDecider.initialState());
    expect(state).toMatchObject({ status: 'failed' });
    expect('message' in state && state.message).toBeFalsy();
  });

  it('the same on an admin retry', () => {
    const given = decided(request({ message: withBody(200_000) }));
    const retried = decided(
      { type: 'RetryNotification', data: { ...facts({ message: withBody(200_000) }), at: later, by: admin } },
      given,
    );
    expect(retried.map((e) => e.type)).toEqual(['NotificationRetryRequested', 'NotificationFailed']);
    expect(bytesOf(retried)).toBeLessThanOrEqual(MAX_NOTIFICATION_APPEND_BYTES);
  });
});
