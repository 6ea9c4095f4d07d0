/**
 * What every operation of the document shares, added here rather than restated per operation: the request id on
 * every answer, auth and rate-limit answers on bearer routes, body problems on routes with a body or `If-Match`,
 * and the `Idempotency-Key` parameter with its answers on the POSTs that take it. The resources' operation specs
 * (adapters/http/<resource>/openapi.ts) give the rest, with the codecs of their bodies and answers.
 */

import type * as t from 'io-ts';
import type { Json } from './derive.ts';

export type { Json } from './derive.ts';

/** The schema of a codec within the document being built (named codecs become components). */
export type SchemaOf = (codec: t.Any) => Json;

/** The paths of one resource, given the schemas of its codecs. */
export type PathsOf = (schema: SchemaOf) => Record<string, Json>;

const ref = (kind: 'schemas' | 'parameters' | 'responses' | 'headers', name: string): Json => ({
  $ref: `#/components/${kind}/${name}`,
});
export const schemaNamed = (name: string): Json => ref('schemas', name);
export const param = (name: string): Json => ref('parameters', name);
export const response = (name: string): Json => ref('responses', name);
export const header = (name: string): Json => ref('headers', name);

/** A shared response with a description of its own for this operation. */
export const responseSaying = (name: string, description: string): Json => ({ ...response(name), description });

/** A `{file}` path parameter taking one name of a fixed allow-list (nothing in the request becomes a file path). */
export const fileParameter = (names: ReadonlyArray<string>): Json => ({
  name: 'file',
  in: 'path',
  required: true,
  description: 'One of a fixed list; nothing in the request becomes a file path.',
  schema: { type: 'string', enum: [...names] },
});

export const json = (body: Json, example?: unknown): Json => ({ 'application/json': { schema: body, example } });
export const problemJson = (example?: unknown): Json => ({
  'application/problem+json': { schema: schemaNamed('Problem'), example },
});

/** Every response carries the request id, inline ones included. */
export const reply = (description: string, content?: Json, headers: Json = {}): Json => ({
  description,
  headers: { 'X-Request-Id': header('XRequestId'), ...headers },
  content,
});

export const body = (target: Json, description: string, example?: unknown, required = true): Json => ({
  required,
  description,
  content: json(target, example),
});

type Security = 'bearer' | 'none' | 'calendarToken' | 'ticket' | 'refreshCookie';

export interface OperationSpec {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: ReadonlyArray<string>;
  readonly security?: Security;
  readonly parameters?: ReadonlyArray<Json>;
  readonly requestBody?: Json;
  readonly responses: Json;
  /**
   * Takes `Idempotency-Key` (adapters/http/app.ts IDEMPOTENT_POSTS): `secret` when the answer holds a secret that is
   * not kept, so a repeat says so instead of repeating it.
   */
  readonly idempotent?: 'replay' | 'secret';
}

const IN_PROGRESS =
  ' Also when a request with the same `Idempotency-Key` is still in progress (then with `Retry-After`).';
const NOT_REPEATED =
  ' Also when the request was repeated with its `Idempotency-Key`: the secret it answered is shown only once and kept nowhere (title `Answer not repeated`, `originalStatus`); send it with a new key to get a new one.';

const conflictWithKey = (spec: OperationSpec, conflict: { description?: string } | undefined): Json => {
  const also = `${IN_PROGRESS}${spec.idempotent === 'secret' ? NOT_REPEATED : ''}`;
  if (conflict !== undefined)
    return {
      ...conflict,
      description: `${conflict.description ?? 'The change does not fit the current state.'}${also}`,
    };
  return spec.idempotent === 'secret'
    ? responseSaying(
        'IdempotencyInProgress',
        `A request with the same \`Idempotency-Key\` is still in progress (with \`Retry-After\`).${NOT_REPEATED}`,
      )
    : response('IdempotencyInProgress');
};

/** The `Idempotency-Key` parameter, its 400/409/422 answers, and `Idempotent-Replayed` on its successes. */
const withIdempotency = (spec: OperationSpec): OperationSpec => {
  if (spec.idempotent === undefined) return spec;
  const responses = spec.responses as Record<string, Json>;
  const marked: Record<string, Json> = {};
  for (const [code, r] of Object.entries(responses)) {
    const inline = r as { headers?: Record<string, Json>; $ref?: string };
    marked[code] =
      code.startsWith('2') && inline.$ref === undefined
        ? { ...inline, headers: { ...inline.headers, 'Idempotent-Replayed': header('IdempotentReplayed') } }
        : r;
  }
  marked['409'] = conflictWithKey(spec, responses['409'] as { description?: string } | undefined);
  marked['422'] = response('IdempotencyKeyReused');
  marked['400'] = responses['400'] ?? response('BadRequest');
  // Claiming a key is a write: refused like one while the read models catch up.
  marked['503'] = responses['503'] ?? response('Unavailable');
  return { ...spec, parameters: [...(spec.parameters ?? []), param('IdempotencyKey')], responses: marked };
};

const securityOf = (security: Security): ReadonlyArray<Json> => {
  switch (security) {
    case 'bearer':
      return [{ bearerAuth: [] }];
    case 'none':
      return [];
    case 'calendarToken':
      return [{ calendarToken: [] }];
    case 'ticket':
      return [{ signalingTicket: [] }];
    case 'refreshCookie':
      return [{ refreshCookie: [] }];
    default: {
      const never: never = security;
      return never;
    }
  }
};

/** Adds what every operation of its kind can answer: auth and rate limits for bearer routes, body problems for bodies. */
export const operation = (given: OperationSpec): Json => {
  const spec = withIdempotency(given);
  const security = spec.security ?? 'bearer';
  const ifMatch = (spec.parameters ?? []).some((p) => p.$ref === param('IfMatch').$ref);
  const withBody = spec.requestBody !== undefined;
  const common: Json = {
    ...(security === 'bearer' ? { '401': response('Unauthorized'), '429': response('TooManyRequests') } : {}),
    ...(ifMatch ? { '400': response('BadRequest') } : {}),
    ...(withBody
      ? { '400': response('BadRequest'), '413': response('PayloadTooLarge'), '415': response('UnsupportedMediaType') }
      : {}),
    ...(security === 'bearer' && (withBody || ifMatch) ? { '503': response('Unavailable') } : {}),
    '500': response('InternalError'),
  };
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    description: spec.description,
    tags: spec.tags,
    security: securityOf(security),
    parameters: [...(spec.parameters ?? []), param('XRequestId')],
    requestBody: spec.requestBody,
    responses: { ...common, ...spec.responses },
  };
};

/** The document as JSON has it: `undefined` members (an operation without a description) are left out. */
export const asJson = <A>(value: A): A => JSON.parse(JSON.stringify(value)) as A;
