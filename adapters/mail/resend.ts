import * as E from 'fp-ts/lib/Either.js';
import { Resend } from 'resend';
import type { ErrorResponse } from 'resend';
import type { MailError, Mailer } from '../../application/ports/mailer.ts';

// Resend's documented error names and their HTTP statuses, for error bodies that do not carry `statusCode`.
const STATUS_BY_NAME: Readonly<Record<string, number>> = {
  validation_error: 422,
  missing_required_field: 422,
  invalid_attachment: 422,
  invalid_from_address: 422,
  invalid_parameter: 422,
  invalid_region: 422,
  invalid_idempotency_key: 400,
  missing_api_key: 401,
  restricted_api_key: 401,
  invalid_api_key: 403,
  invalid_access: 403,
  security_error: 451,
  not_found: 404,
  method_not_allowed: 405,
  invalid_idempotent_request: 409,
  concurrent_idempotent_requests: 409,
  rate_limit_exceeded: 429,
  daily_quota_exceeded: 429,
  monthly_quota_exceeded: 429,
  internal_server_error: 500,
};

/**
 * The SDK answers a network failure (and an aborted request) with `statusCode: null`; those, 429 and 5xx are
 * retryable. `concurrent_idempotent_requests` means an earlier attempt with the same key is still being processed.
 */
export const classifyResendError = (error: Partial<ErrorResponse> | null | undefined): MailError => {
  const name = typeof error?.name === 'string' ? error.name : 'unknown_error';
  const message =
    typeof error?.message === 'string' && error.message !== '' ? error.message : 'the mail provider refused the email';
  const status = typeof error?.statusCode === 'number' ? error.statusCode : STATUS_BY_NAME[name];
  if (status === undefined) return { retryable: true, message: `${name}: ${message}` };
  const retryable = status === 429 || status >= 500 || name === 'concurrent_idempotent_requests';
  return { retryable, status, message: `${status} ${name}: ${message}` };
};

/**
 * Resend through its SDK. The SDK takes its endpoint from RESEND_BASE_URL when the client is constructed
 * (unless `baseUrl` is given); the idempotency key travels as the `Idempotency-Key` header.
 */
export const createResendMailer = (options: { apiKey: string; baseUrl?: string }): Mailer => {
  const client = new Resend(options.apiKey, options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : undefined);
  return {
    name: 'resend',
    send: async (message, sendOptions = {}) => {
      try {
        const { data, error } = await client.emails.send(
          {
            from: message.from,
            to: [message.to],
            subject: message.subject,
            html: message.html,
            text: message.text,
            attachments: message.attachments.map((a) => ({
              filename: a.filename,
              // A string would be taken as base64; a Buffer is encoded by the SDK.
              content: Buffer.from(a.content, 'utf8'),
              contentType: a.contentType,
            })),
          },
          {
            idempotencyKey: message.idempotencyKey,
            ...(sendOptions.signal !== undefined ? { signal: sendOptions.signal } : {}),
          },
        );
        if (error !== null) return E.left(classifyResendError(error));
        if (data === null || typeof data.id !== 'string')
          return E.left({ retryable: true, message: 'the mail provider answered without a message id' });
        return E.right({ providerMessageId: data.id });
      } catch (error) {
        return E.left({ retryable: true, message: `cannot reach the mail provider: ${(error as Error).message}` });
      }
    },
  };
};
