import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Context } from 'hono';
import type { Logger } from '../../application/ports/logger.ts';
import type { RecordedAnswer } from '../../domain/idempotency.ts';
import { assertNever } from '../../domain/shared.ts';
import type { AppError } from '../../application/execute.ts';
import type { Claim, Idempotency } from '../../application/idempotency.ts';
import { claimCausation, claimIds, idempotencyStreamName } from '../../application/idempotency.ts';
import { readBodyText } from './kit/body.ts';
import type { Env } from './kit/context.ts';
import type { AroundStep, Route } from './kit/pipeline.ts';
import { appErrorResponse, problem } from './kit/problem.ts';

/**
 * `Idempotency-Key` (IETF httpapi idempotency-key draft; Stripe's semantics) on the POSTs that create or change
 * something. The first request with a key claims it in the event log; a retry of the same request within 24 hours
 * gets the first answer again (`Idempotent-Replayed: true`) without a second write; the same key on another request
 * is 422; while the first still runs, 409. A request whose process died before it answered is run again under the
 * same claim: the ids it creates are the same and it finds what it wrote (see application/idempotency.ts).
 */

/** `replay`: the answer is kept and repeated. `secret`: the answer holds a secret shown once, so it is not kept. */
export type IdempotentKind = 'replay' | 'secret';

export const MAX_KEY_LENGTH = 255;
/** Larger answers are not kept (none of this API's answers come near it). */
export const MAX_RECORDED_BODY_BYTES = 256 * 1024;
const KEPT_HEADERS = ['content-type', 'location', 'etag', 'cache-control', 'retry-after'] as const;
const KEY_RULE = `must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters (a random UUID is a good key)`;

/** The key as sent: a bare token (Stripe) or a Structured Field string (`"…"`, the draft). */
export const parseIdempotencyKey = (raw: string): E.Either<string, string> => {
  let key = raw.trim();
  if (key.startsWith('"')) {
    const quoted = /^"((?:[^"\\]|\\["\\])*)"$/.exec(key);
    if (quoted === null) return E.left('Idempotency-Key is a malformed quoted string');
    key = (quoted[1] ?? '').replace(/\\(["\\])/g, '$1');
  }
  return key.length >= 1 && key.length <= MAX_KEY_LENGTH && /^[\x20-\x7e]+$/.test(key) && key.trim().length > 0
    ? E.right(key)
    : E.left(`Idempotency-Key ${KEY_RULE}`);
};

/** JSON compared by value (key order and spacing do not matter); anything else byte for byte. */
const canonicalBody = (text: string): string => {
  if (text.trim().length === 0) return '';
  const sorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sorted)
      : typeof value === 'object' && value !== null
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
          )
        : value;
  try {
    return JSON.stringify(sorted(JSON.parse(text)));
  } catch {
    return text;
  }
};

export const requestFingerprint = (
  method: string,
  pathAndQuery: string,
  ifMatch: string | undefined,
  body: string,
): string =>
  createHash('sha256')
    .update([method.toUpperCase(), pathAndQuery, (ifMatch ?? '').trim(), canonicalBody(body)].join('\u0000'))
    .digest('hex');

export interface IdempotencyLayerDeps {
  readonly keys: Idempotency;
  /** Why writes are refused right now (the read models are catching up or recovering), if they are. */
  readonly writable: () => AppError | undefined;
  /** Which POSTs take the header, and how. */
  readonly kindOf: (path: string) => IdempotentKind | undefined;
  /** The body limit of a POST that takes more than the default (`POST /people/import`'s files). */
  readonly bodyLimitOf?: (path: string) => number | undefined;
  readonly logger: Logger;
}

/** A POST that came with a well-formed key, its body read. */
interface KeyedRequest {
  readonly key: string;
  readonly kind: IdempotentKind;
  readonly body: string;
}

/** The recorded answer again, through the context, so it carries what every answer carries (request id, no-store). */
const replayed = (c: Context<Env>, answer: RecordedAnswer): Response => {
  for (const [name, value] of Object.entries(answer.headers)) c.header(name, value);
  c.header('Idempotent-Replayed', 'true');
  // A recorded body is text (empty for a 204); the status is the one recorded with it.
  const init = { status: answer.status as ContentfulStatusCode };
  return answer.body === undefined ? c.body(null, init) : c.body(answer.body, init);
};

const inProgress = (c: Context<Env>, retryAfterSeconds: number) => {
  c.header('Retry-After', String(retryAfterSeconds));
  return problem(
    c,
    409,
    'Request in progress',
    'a request with this Idempotency-Key is still being processed; try again after Retry-After seconds',
  );
};

/** What a client that lost a secret shown once can do: a new key does something different on each route. */
const lostSecretAdvice = (path: string): string => {
  const shown =
    'this request was done; its answer held a secret that is shown only once and kept nowhere, so it cannot be repeated.';
  if (/^\/webhooks\/?$/.test(path))
    return (
      `${shown} The endpoint is registered (its address is in Location); the same request with a new ` +
      'Idempotency-Key would register a second endpoint. Get a new secret for this one with ' +
      'POST /webhooks/{id}/rotate-secret, or delete it and register again'
    );
  if (/^\/webhooks\/[^/]+\/rotate-secret\/?$/.test(path))
    return (
      `${shown} Send it again with a new Idempotency-Key to rotate once more; the lost secret then goes on ` +
      'signing beside the new one until the end of its overlap'
    );
  return `${shown} Send the request again with a new Idempotency-Key to get a new one (the lost one is then revoked)`;
};

/** The first answer again, or, when it was not kept, why not (with the headers that locate what was done). */
const repeat = (c: Context<Env>, answer: RecordedAnswer) => {
  if (answer.withheld === undefined) return replayed(c, answer);
  for (const [name, value] of Object.entries(answer.headers))
    if (name === 'location' || name === 'etag') c.header(name, value);
  c.header('Idempotent-Replayed', 'true');
  return problem(
    c,
    409,
    'Answer not repeated',
    answer.withheld === 'secret'
      ? lostSecretAdvice(c.req.path)
      : `this request was done (status ${answer.status}); its answer was too large to keep, so read the resource itself`,
    { originalStatus: answer.status },
  );
};

/** What is kept of an answer: its status, the headers worth repeating, and its body unless withheld. */
const recordable = async (response: Response, kind: IdempotentKind): Promise<RecordedAnswer> => {
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const text = await response.clone().text();
  const withheld =
    kind === 'secret' && response.status < 300
      ? ('secret' as const)
      : Buffer.byteLength(text) > MAX_RECORDED_BODY_BYTES
        ? ('too-large' as const)
        : undefined;
  return { status: response.status, headers, ...(withheld === undefined ? { body: text } : { withheld }) };
};

/** Runs the request under its claim, then records its answer (or releases the claim when there is no final one). */
const runUnderClaim = async (
  deps: IdempotencyLayerDeps,
  c: Context<Env>,
  next: () => Promise<void>,
  claim: Claim,
  kind: IdempotentKind,
): Promise<void> => {
  c.set('idempotency', { causation: claimCausation(claim.claimId), newId: claimIds(claim.claimId) });
  try {
    await next();
  } catch (error) {
    await deps.keys.release(claim).catch(() => false);
    throw error;
  }
  const response = c.res;
  // A 5xx is no final answer (the store, the read models): the next request with the key runs it again, under
  // the same claim, so it finds whatever this attempt wrote.
  if (response.status >= 500) {
    await deps.keys
      .release(claim)
      .catch((error: unknown) =>
        deps.logger.warn({ err: error, requestId: c.get('requestId') }, 'idempotency claim not released'),
      );
    return;
  }
  // Not recorded (taken over meanwhile, or the store failed just now): the answer still goes out, and a retry
  // resumes the claim and finds what this attempt wrote.
  const recorded = await deps.keys.answer(claim, await recordable(response, kind)).catch(() => false);
  if (!recorded)
    deps.logger.warn(
      { requestId: c.get('requestId') },
      'idempotent answer not recorded; a retry will run the request again under the same claim',
    );
};

/** Claims the key for this request, or answers from what an earlier request with it did or is doing. */
const claimAndRun = async (
  deps: IdempotencyLayerDeps,
  c: Context<Env>,
  next: () => Promise<void>,
  request: KeyedRequest,
): Promise<Response | void> => {
  const url = new URL(c.req.url);
  const fingerprint = requestFingerprint(
    c.req.method,
    `${url.pathname}${url.search}`,
    c.req.header('if-match'),
    request.body,
  );
  const begun = await deps.keys.begin(c.get('user').id, request.key, fingerprint);
  if (E.isLeft(begun)) return appErrorResponse(c, begun.left);
  const outcome = begun.right;
  switch (outcome.kind) {
    case 'mismatch':
      return problem(
        c,
        422,
        'Idempotency-Key reused',
        'this Idempotency-Key was used for a different request (method, path, If-Match or body); use a new key for a new request',
      );
    case 'in-progress':
      return inProgress(c, outcome.retryAfterSeconds);
    case 'replay':
      return repeat(c, outcome.answer);
    case 'proceed':
      return runUnderClaim(deps, c, next, outcome.claim, request.kind);
    default:
      return assertNever(outcome);
  }
};

/**
 * Around the route: a POST that changes something and carries `Idempotency-Key` is claimed, run and recorded; every
 * other request runs the route as it is (in the same turn).
 */
export const idempotencyLayer = (deps: IdempotencyLayerDeps): AroundStep => {
  /** Keys this process is running a request for: a second request with one is in progress, without a store read. */
  const running = new Set<string>();

  const keyed = async (c: Context<Env>, run: Route, kind: IdempotentKind, raw: string): Promise<Response> => {
    // What the route answered, as Hono would have kept it for a middleware (the claim records it from there).
    const next = async (): Promise<void> => {
      c.res = await run(c);
    };
    const key = parseIdempotencyKey(raw);
    if (E.isLeft(key))
      return problem(c, 400, 'Bad Idempotency-Key', key.left, {
        errors: [{ path: 'Idempotency-Key', message: KEY_RULE }],
      });
    // Claiming a key is a write: while the read models cannot be trusted, nothing is appended, the claim included.
    const refusal = deps.writable();
    if (refusal !== undefined) return appErrorResponse(c, refusal);
    const body = await readBodyText(c, deps.bodyLimitOf?.(c.req.path));
    if (!body.ok) return body.response;
    c.set('bodyText', body.text);

    const streamName = idempotencyStreamName(c.get('user').id, key.right);
    if (running.has(streamName)) return inProgress(c, 1);
    running.add(streamName);
    try {
      return (await claimAndRun(deps, c, next, { key: key.right, kind, body: body.text })) ?? c.res;
    } finally {
      running.delete(streamName);
    }
  };

  return (c, run) => {
    const kind = c.req.method === 'POST' ? deps.kindOf(c.req.path) : undefined;
    const raw = kind === undefined ? undefined : c.req.header('idempotency-key');
    return kind === undefined || raw === undefined ? run(c) : keyed(c, run, kind, raw);
  };
};
