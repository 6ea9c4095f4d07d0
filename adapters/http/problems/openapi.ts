/** The shared error answers of the OpenAPI document (`components/responses`), each with its example. */

import { MAX_BODY_BYTES } from '../kit/body.ts';
import { header, problemJson, reply } from '../openapi/builder.ts';
import type { Json } from '../openapi/builder.ts';

const exampleValidationProblem = {
  type: 'about:blank',
  title: 'Validation failed',
  status: 400,
  detail: 'end must be after start; remoteLink must be an https: URL',
  errors: [
    { path: 'end', message: 'must be after start' },
    { path: 'remoteLink', message: 'must be an https: URL' },
  ],
};

const exampleConflictProblem = {
  type: 'about:blank',
  title: 'Conflict',
  status: 409,
  detail: '1 existing meeting of the same customer or instructor overlaps this time',
  conflicts: [
    {
      meetingId: '7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918',
      start: '2026-03-09T09:30:00.000Z',
      end: '2026-03-09T10:30:00.000Z',
      participant: 'instructor',
      userId: 'inst-7',
      slot: { start: '2026-03-09T10:00:00.000Z', end: '2026-03-09T11:00:00.000Z' },
    },
  ],
};

/** The error answers operations share (and the builder adds), each with an example that fits `Problem`. */
export const problemResponses: Json = {
  BadRequest: reply(
    'The request is malformed or fails validation; `errors` lists every bad field (unknown fields included). ' +
      'A malformed `If-Match` or `Idempotency-Key` also answers 400.',
    problemJson(exampleValidationProblem),
  ),
  Unauthorized: reply(
    'No bearer token, or one that is expired, badly signed, lacks `sub`/`roles`, has an empty `roles`, a `sub` with ' +
      'control, bidirectional or invisible formatting characters, or a lifetime (`exp` minus `iat`, or minus now) longer ' +
      'than the server accepts (`AUTH_MAX_TOKEN_TTL_SECONDS`, 24 hours by default).',
    problemJson({
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      detail: 'an Authorization: Bearer <token> header is required',
    }),
    { 'WWW-Authenticate': header('WWWAuthenticate') },
  ),
  Forbidden: reply(
    'Authenticated but not allowed (for example not an admin, or an instructor acting for someone else).',
    problemJson({ type: 'about:blank', title: 'Forbidden', status: 403, detail: 'you may not change this meeting' }),
  ),
  NotFound: reply(
    'No such resource, or one the caller may not see: meetings, series and people the caller has no access to ' +
      'answer 404, exactly like missing ones, so that their existence does not leak.',
    problemJson({ type: 'about:blank', title: 'Not found', status: 404, detail: 'meeting not found' }),
  ),
  Conflict: reply(
    'The change does not fit the current state (cancelled, wrong state for the transition, double booking, or too ' +
      'many concurrent changes). On double booking `conflicts` lists the overlapping meetings.',
    problemJson(exampleConflictProblem),
  ),
  IdempotencyKeyReused: reply(
    'This `Idempotency-Key` was used for a different request (method, path, `If-Match` or body) within 24 hours; nothing was done. Use a new key for a new request.',
    problemJson({
      type: 'about:blank',
      title: 'Idempotency-Key reused',
      status: 422,
      detail:
        'this Idempotency-Key was used for a different request (method, path, If-Match or body); use a new key for a new request',
    }),
  ),
  IdempotencyInProgress: reply(
    'A request with the same `Idempotency-Key` is still in progress; try again after `Retry-After` seconds.',
    problemJson({
      type: 'about:blank',
      title: 'Request in progress',
      status: 409,
      detail: 'a request with this Idempotency-Key is still being processed; try again after Retry-After seconds',
    }),
    { 'Retry-After': header('RetryAfter') },
  ),
  PreconditionFailed: reply(
    '`If-Match` names a revision that is no longer current; `currentRevision` says which is. Nothing was changed.',
    problemJson({
      type: 'about:blank',
      title: 'Precondition failed',
      status: 412,
      detail: 'the resource is at revision 4, not 3',
      currentRevision: 4,
    }),
  ),
  PayloadTooLarge: reply(
    `The body is larger than ${MAX_BODY_BYTES / 1024} KiB.`,
    problemJson({
      type: 'about:blank',
      title: 'Payload too large',
      status: 413,
      detail: `request bodies are limited to ${MAX_BODY_BYTES} bytes`,
    }),
  ),
  UnsupportedMediaType: reply(
    'A body was sent with a content type other than `application/json` (or `application/*+json`).',
    problemJson({
      type: 'about:blank',
      title: 'Unsupported media type',
      status: 415,
      detail: 'send the body as application/json',
    }),
  ),
  TooManyRequests: reply(
    'Rate limited per user (token bucket); wait `Retry-After` seconds.',
    problemJson({ type: 'about:blank', title: 'Too many requests', status: 429, detail: 'slow down; see Retry-After' }),
    { 'Retry-After': header('RetryAfter') },
  ),
  InternalError: reply(
    'Unexpected failure; `detail` quotes the request id.',
    problemJson({
      type: 'about:blank',
      title: 'Internal error',
      status: 500,
      detail: 'something went wrong; quote request id lx2k9c-1f',
    }),
  ),
  Unavailable: reply(
    'The read models are catching up with the log (a node just started with a new, deleted or old read-model file) or ' +
      'stopped on an error and are restarting; nothing was written. Try again after `Retry-After` seconds.',
    problemJson({
      type: 'about:blank',
      title: 'Service unavailable',
      status: 503,
      detail: 'the read models are recovering from an error; try again in a few seconds',
    }),
    { 'Retry-After': header('RetryAfter') },
  ),
};
