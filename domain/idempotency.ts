import * as t from 'io-ts';
import { IsoInstant, assertNever } from './shared.ts';

/**
 * One `Idempotency-Key` of one user (IETF httpapi idempotency-key draft, Stripe's semantics): who claimed it for which
 * request, and the answer once there is one. A claim fixes the request's identity (`claimId`): the ids the request
 * creates are derived from it and every event it writes carries it, so a request re-run after a crash finds what it
 * already wrote instead of writing it again. The key itself is never recorded (the stream is named by a hash).
 */

/** The process that runs a claimed request: `node` is stable across restarts (kept in DATA_DIR), `instance` is not. */
export const ClaimOwner = t.type({ node: t.string, instance: t.string });
export type ClaimOwner = t.TypeOf<typeof ClaimOwner>;

const RecordedAnswer = t.intersection([
  t.type({ status: t.number, headers: t.record(t.string, t.string) }),
  t.partial({
    body: t.string,
    /** Why the body was not kept: it held a secret shown only once, or it was too large to keep. */
    withheld: t.keyof({ secret: null, 'too-large': null }),
  }),
]);
export type RecordedAnswer = t.TypeOf<typeof RecordedAnswer>;

export const IdempotencyKeyClaimed = t.type({
  type: t.literal('IdempotencyKeyClaimed'),
  data: t.type({
    claimId: t.string,
    userId: t.string,
    /** SHA-256 of the method, path, If-Match and body: the same key with another request is refused. */
    fingerprint: t.string,
    claimedAt: IsoInstant,
    expiresAt: IsoInstant,
    owner: ClaimOwner,
    leaseUntil: IsoInstant,
  }),
});
export const IdempotencyKeyResumed = t.type({
  type: t.literal('IdempotencyKeyResumed'),
  data: t.type({ claimId: t.string, owner: ClaimOwner, at: IsoInstant, leaseUntil: IsoInstant }),
});
/** The attempt ended without a final answer (a 5xx): the next request with the key resumes the claim at once. */
export const IdempotencyKeyReleased = t.type({
  type: t.literal('IdempotencyKeyReleased'),
  data: t.type({ claimId: t.string, at: IsoInstant }),
});
export const IdempotentAnswerRecorded = t.type({
  type: t.literal('IdempotentAnswerRecorded'),
  data: t.type({ claimId: t.string, at: IsoInstant, answer: RecordedAnswer }),
});
export const IdempotencyEvent = t.union([
  IdempotencyKeyClaimed,
  IdempotencyKeyResumed,
  IdempotencyKeyReleased,
  IdempotentAnswerRecorded,
]);
export type IdempotencyEvent = t.TypeOf<typeof IdempotencyEvent>;

export type IdempotencyState =
  | { readonly status: 'none' }
  | {
      readonly status: 'claimed';
      readonly claimId: string;
      readonly fingerprint: string;
      readonly expiresAt: string;
      readonly owner: ClaimOwner;
      readonly leaseUntil: string;
      readonly released: boolean;
    }
  | {
      readonly status: 'answered';
      readonly claimId: string;
      readonly fingerprint: string;
      readonly expiresAt: string;
      readonly answer: RecordedAnswer;
    };

export const initialState = (): IdempotencyState => ({ status: 'none' });

export const evolve = (state: IdempotencyState, event: IdempotencyEvent): IdempotencyState => {
  switch (event.type) {
    case 'IdempotencyKeyClaimed': {
      const { claimId, fingerprint, expiresAt, owner, leaseUntil } = event.data;
      return { status: 'claimed', claimId, fingerprint, expiresAt, owner, leaseUntil, released: false };
    }
    case 'IdempotencyKeyResumed':
      return state.status === 'claimed' && state.claimId === event.data.claimId
        ? { ...state, owner: event.data.owner, leaseUntil: event.data.leaseUntil, released: false }
        : state;
    case 'IdempotencyKeyReleased':
      return state.status === 'claimed' && state.claimId === event.data.claimId ? { ...state, released: true } : state;
    case 'IdempotentAnswerRecorded':
      return state.status === 'claimed' && state.claimId === event.data.claimId
        ? {
            status: 'answered',
            claimId: state.claimId,
            fingerprint: state.fingerprint,
            expiresAt: state.expiresAt,
            answer: event.data.answer,
          }
        : state;
    default:
      return assertNever(event);
  }
};

export interface KeyRequest {
  readonly fingerprint: string;
  readonly now: string;
  readonly self: ClaimOwner;
}

/** What a request with a key may do, given what the key's stream says. */
export type KeyDecision =
  | { readonly kind: 'claim' }
  | { readonly kind: 'resume'; readonly claimId: string }
  | { readonly kind: 'replay'; readonly answer: RecordedAnswer }
  | { readonly kind: 'mismatch' }
  | { readonly kind: 'in-progress'; readonly until: string };

/**
 * A key unused or older than its lifetime is claimed afresh; used for another request it is refused; answered, the
 * answer is repeated. A claim without an answer is resumed when nobody runs it any more: its attempt ended (released),
 * its lease ran out (another node died with it), or it belongs to an earlier process of this very node (which died,
 * since a node runs one process). Otherwise it is still in progress.
 */
export const decideKey = (state: IdempotencyState, request: KeyRequest): KeyDecision => {
  if (state.status === 'none' || state.expiresAt <= request.now) return { kind: 'claim' };
  if (state.fingerprint !== request.fingerprint) return { kind: 'mismatch' };
  if (state.status === 'answered') return { kind: 'replay', answer: state.answer };
  const abandoned =
    state.released ||
    state.leaseUntil <= request.now ||
    (state.owner.node === request.self.node && state.owner.instance !== request.self.instance);
  return abandoned ? { kind: 'resume', claimId: state.claimId } : { kind: 'in-progress', until: state.leaseUntil };
};
