import { cancellationTopic } from '../../../application/notifications/topics.ts';
import type { NoticeTopics } from '../../../application/notifications/topics.ts';
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../../../adapters/event-store/memory.ts';
import { notifications } from '../../../application/aggregates.ts';
import { handleCommand, loadAggregate } from '../../../application/command-handler.ts';
import { NotificationSender, backoffDelayMs, defaultRetryPolicy } from '../../../application/notifications/sender.ts';
import type { EventStore } from '../../../application/ports/event-store.ts';
import type { MailError, MailMessage, MailSent, Mailer } from '../../../application/ports/mailer.ts';
import { NotificationEvent, notificationDecider, notificationStreamName } from '../../../domain/notification.ts';
import type { NotificationState } from '../../../domain/notification.ts';
import { eventually } from '../../support/fake-resend.ts';

const silent = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
const at = '2030-03-01T12:00:00.000Z';

const claim = async (store: EventStore, id: string) => {
  const result = await handleCommand(
    store,
    notificationStreamName(id),
    notifications,
    {
      type: 'RequestNotification',
      data: {
        notificationId: id,
        key: `e:${id}`,
        topic: 'cancelled',
        kind: 'meeting',
        meetingIds: ['m1'],
        cancellationEventId: 'e',
        cancellation: {
          title: 'T',
          timezone: 'UTC',
          customerId: 'cora',
          instructorId: 'ivan',
          cancelledAt: at,
          sessions: [
            { meetingId: 'm1', start: '2030-03-02T15:00:00.000Z', end: '2030-03-02T16:00:00.000Z', sequence: 1 },
          ],
        },
        enabled: true,
        current: ['m1'],
        recipient: { personId: 'cora', role: 'customer', email: 'cora@example.com' },
        message: { from: 'a@example.com', to: 'cora@example.com', subject: 's', html: 'h', text: 't', attachments: [] },
        at,
      },
    },
    { newId: randomUUID },
  );
  if (E.isLeft(result)) throw new Error(JSON.stringify(result.left));
};

const stateOf = async (store: EventStore, id: string): Promise<NotificationState> => {
  const loaded = await loadAggregate(
    store,
    notificationStreamName(id),
    NotificationEvent,
    notificationDecider.evolve,
    notificationDecider.initialState(),
  );
  if (E.isLeft(loaded)) throw new Error(loaded.left.message);
  return loaded.right.state;
};

/** A mailer whose answers the test hands out one by one. */
const heldMailer = () => {
  const calls: Array<{
    message: MailMessage;
    signal: AbortSignal | undefined;
    answer: (result: E.Either<MailError, MailSent>) => void;
  }> = [];
  const mailer: Mailer = {
    name: 'held',
    send: (message, options) =>
      new Promise((resolve) => {
        calls.push({ message, signal: options?.signal, answer: resolve });
        options?.signal?.addEventListener('abort', () => resolve(E.left({ retryable: true, message: 'aborted' })));
      }),
  };
  return { mailer, calls };
};

const clock = () => new Date('2030-03-01T12:00:00.000Z');

/** The sender asks the cancellation topic whether the sessions are still cancelled; it never prepares a round. */
const topicsFor = (store: EventStore): NoticeTopics => ({
  cancelled: cancellationTopic(store, () => {
    throw new Error('the sender never prepares a round');
  }),
});

describe('notification sender', () => {
  it('backs off exponentially with full jitter, capped', () => {
    const policy = { ...defaultRetryPolicy, baseDelayMs: 100, factor: 2, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, policy, () => 1))).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200);
  });

  it('keeps at most `concurrency` sends in flight and sends each with its id as idempotency key', async () => {
    const store = createInMemoryEventStore();
    const ids = ['a', 'b', 'c', 'd', 'e'].map((c) => c.repeat(32));
    for (const id of ids) await claim(store, id);
    const { mailer, calls } = heldMailer();
    const sender = new NotificationSender({
      store,
      topics: topicsFor(store),
      mailer,
      clock,
      newId: randomUUID,
      log: silent,
      policy: { ...defaultRetryPolicy, concurrency: 2 },
    });
    for (const id of ids) sender.schedule(id);
    sender.schedule(ids[0]!);
    await eventually(() => calls.length === 2, 'two sends in flight');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toHaveLength(2);
    for (let answered = 0; answered < ids.length; answered++) {
      await eventually(() => calls.length > answered, `send ${answered + 1}`);
      calls[answered]!.answer(E.right({ providerMessageId: `p-${answered}` }));
    }
    for (const id of ids) await eventually(async () => (await stateOf(store, id)).status === 'sent', `${id} sent`);
    expect(calls.map((c) => c.message.idempotencyKey).sort()).toEqual([...ids].sort());
    await sender.stop();
  });

  it('a send that does not answer in time is a retryable failure with a next attempt', async () => {
    const store = createInMemoryEventStore();
    const id = 'f'.repeat(32);
    await claim(store, id);
    const { mailer, calls } = heldMailer();
    const sender = new NotificationSender({
      store,
      topics: topicsFor(store),
      mailer,
      clock,
      newId: randomUUID,
      log: silent,
      policy: { ...defaultRetryPolicy, sendTimeoutMs: 50, baseDelayMs: 60_000 },
    });
    sender.schedule(id);
    const state = await eventually(async () => {
      const s = await stateOf(store, id);
      return s.status === 'pending' && s.attempts === 1 ? s : undefined;
    }, 'the timed-out attempt to be recorded');
    expect(calls[0]?.signal?.aborted).toBe(true);
    expect(state).toMatchObject({ lastError: 'no answer from the mail provider within 50 ms' });
    expect(state.status === 'pending' && state.nextAttemptAt).toBeTruthy();
    await sender.stop();
  });

  it('a retry due at once (jitter of zero) is not lost while its attempt is still finishing', async () => {
    const store = createInMemoryEventStore();
    const id = '7'.repeat(32);
    await claim(store, id);
    const answers: Array<E.Either<MailError, MailSent>> = [
      E.left({ retryable: true, status: 503, message: 'busy' }),
      E.right({ providerMessageId: 'p-1' }),
    ];
    const sent: MailMessage[] = [];
    const mailer: Mailer = {
      name: 'scripted',
      send: async (message) => (
        sent.push(message),
        answers.shift() ?? E.left({ retryable: false, message: 'unexpected' })
      ),
    };
    const sender = new NotificationSender({
      store,
      topics: topicsFor(store),
      mailer,
      clock: () => new Date(),
      newId: randomUUID,
      log: silent,
      policy: { ...defaultRetryPolicy, baseDelayMs: 0 },
    });
    sender.schedule(id);
    await eventually(async () => (await stateOf(store, id)).status === 'sent', 'the retry to be sent');
    expect(await stateOf(store, id)).toMatchObject({ status: 'sent', attempts: 2, providerMessageId: 'p-1' });
    expect(sent).toHaveLength(2);
    await sender.stop();
  });

  it('stopping aborts sends in flight and records nothing: the notification stays pending for the next start', async () => {
    const store = createInMemoryEventStore();
    const id = '9'.repeat(32);
    await claim(store, id);
    const { mailer, calls } = heldMailer();
    const sender = new NotificationSender({
      store,
      topics: topicsFor(store),
      mailer,
      clock,
      newId: randomUUID,
      log: silent,
      policy: defaultRetryPolicy,
    });
    sender.schedule(id);
    await eventually(() => calls.length === 1, 'the send to start');
    await sender.stop();
    expect(calls[0]?.signal?.aborted).toBe(true);
    expect(await stateOf(store, id)).toMatchObject({ status: 'pending', attempts: 0 });
    sender.schedule(id);
    expect(calls).toHaveLength(1);
  });
});
