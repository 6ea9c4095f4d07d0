import * as E from 'fp-ts/lib/Either.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyResendError, createResendMailer } from '../../../adapters/mail/resend.ts';
import type { MailMessage } from '../../../application/ports/mailer.ts';
import { startFakeResend } from '../../support/fake-resend.ts';
import type { FakeResend } from '../../support/fake-resend.ts';

let fake: FakeResend;
const savedBaseUrl = process.env.RESEND_BASE_URL;

beforeAll(async () => {
  fake = await startFakeResend();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  if (savedBaseUrl === undefined) delete process.env.RESEND_BASE_URL;
  else process.env.RESEND_BASE_URL = savedBaseUrl;
});

const ics = 'BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nSUMMARY:Café ☕\r\nEND:VCALENDAR\r\n';
const message = (key: string): MailMessage => ({
  idempotencyKey: key,
  from: 'Virtual Y <no-reply@example.com>',
  to: 'cora@example.com',
  subject: 'Cancelled',
  html: '<p>Cancelled</p>',
  text: 'Cancelled',
  attachments: [
    { filename: 'cancellation.ics', content: ics, contentType: 'text/calendar; charset=utf-8; method=CANCEL' },
  ],
});

describe('Resend mailer (the real SDK against a local server)', () => {
  it('takes its endpoint from RESEND_BASE_URL and sends the email with the idempotency key', async () => {
    process.env.RESEND_BASE_URL = fake.url;
    const mailer = createResendMailer({ apiKey: 're_test' });
    const sent = await mailer.send(message('key-1'));
    expect(E.isRight(sent) && sent.right.providerMessageId).toMatch(/^email-/);
    const [request] = fake.requestsFor('key-1');
    expect(request?.headers.authorization).toBe('Bearer re_test');
    expect(request?.body).toMatchObject({
      from: 'Virtual Y <no-reply@example.com>',
      to: ['cora@example.com'],
      subject: 'Cancelled',
      html: '<p>Cancelled</p>',
      text: 'Cancelled',
    });
    const attachment = request?.body.attachments[0];
    expect(attachment).toMatchObject({
      filename: 'cancellation.ics',
      content_type: 'text/calendar; charset=utf-8; method=CANCEL',
    });
    // The SDK sends content as base64; the text survives intact, non-ASCII included.
    expect(Buffer.from(attachment.content, 'base64').toString('utf8')).toBe(ics);
  });

  it('a repeat with the same key is answered with the first message id and sends nothing new', async () => {
    const mailer = createResendMailer({ apiKey: 're_test', baseUrl: fake.url });
    const first = await mailer.send(message('key-2'));
    const second = await mailer.send(message('key-2'));
    expect(first).toEqual(second);
    expect(fake.delivered.filter((d) => d.idempotencyKey === 'key-2')).toHaveLength(1);
  });

  it('429 and 5xx are retryable, other 4xx are not', async () => {
    const mailer = createResendMailer({ apiKey: 're_test', baseUrl: fake.url });
    fake.planFor(
      'key-3',
      { status: 429 },
      { status: 500 },
      { status: 503 },
      { status: 422, message: 'Invalid `to` field.' },
      { status: 401 },
    );
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await mailer.send(message('key-3')));
    expect(results.map((r) => (E.isLeft(r) ? [r.left.status, r.left.retryable] : 'sent'))).toEqual([
      [429, true],
      [500, true],
      [503, true],
      [422, false],
      [401, false],
    ]);
    const refused = results[3];
    expect(refused !== undefined && E.isLeft(refused) && refused.left.message).toContain('Invalid `to` field.');
  });

  it('a network error is retryable', async () => {
    const closed = await startFakeResend();
    const url = closed.url;
    await closed.close();
    const mailer = createResendMailer({ apiKey: 're_test', baseUrl: url });
    const result = await mailer.send(message('key-4'));
    expect(E.isLeft(result) && result.left).toMatchObject({ retryable: true });
    expect(E.isLeft(result) && result.left.status).toBeUndefined();
  });

  it('an aborted send (a hanging provider) returns a retryable error', async () => {
    const mailer = createResendMailer({ apiKey: 're_test', baseUrl: fake.url });
    fake.planFor('key-5', 'hang');
    const controller = new AbortController();
    const pending = mailer.send(message('key-5'), { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(new Error('timed out'));
    const result = await pending;
    expect(E.isLeft(result) && result.left.retryable).toBe(true);
  });

  it('classifies error bodies without a status code by their name', () => {
    expect(classifyResendError({ name: 'rate_limit_exceeded', message: 'slow down', statusCode: null })).toMatchObject({
      retryable: true,
      status: 429,
    });
    expect(classifyResendError({ name: 'validation_error', message: 'bad', statusCode: null })).toMatchObject({
      retryable: false,
      status: 422,
    });
    expect(
      classifyResendError({ name: 'concurrent_idempotent_requests', message: 'busy', statusCode: 409 }),
    ).toMatchObject({ retryable: true, status: 409 });
    expect(
      classifyResendError({ name: 'application_error', message: 'Unable to fetch data.', statusCode: null }),
    ).toMatchObject({ retryable: true });
    expect(classifyResendError(undefined)).toMatchObject({ retryable: true });
  });
});
