import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import * as idem from '../domain/idempotency.ts';
import type { ClaimOwner, RecordedAnswer } from '../domain/idempotency.ts';
import { assertNever } from '../domain/shared.ts';
import { decodeRecorded } from './decode.ts';
import type { CorruptEvent } from './decode.ts';
import type { EventStore, ExpectedRevision } from './ports/event-store.ts';

/** How long a key holds its answer (Stripe's and the draft's usual 24 hours). */
export const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** How long another node waits for a claimed request before it takes the claim over (its node may have died). */
export const CLAIM_LEASE_MS = 60_000;
const MAX_CLAIM_ATTEMPTS = 5;

export const IDEMPOTENCY_STREAM_PREFIX = 'idempotency-';

/** Keys are scoped per user; the stream is named by a hash, so the key itself is never stored. */
export const idempotencyStreamName = (userId: string, key: string): string =>
  `${IDEMPOTENCY_STREAM_PREFIX}${createHash('sha256').update(userId, 'utf8').update('\u0000').update(key, 'utf8').digest('hex')}`;

/** The `causationId` of every event a claimed request writes: how a re-run recognises its own earlier writes. */
export const claimCausation = (claimId: string): string => `idempotency-claim:${claimId}`;

/**
 * The ids a claimed request creates (a meeting's, a series', a cancellation's), in the order it asks for them. They
 * follow from the claim alone, so a re-run of the same claim targets the same streams.
 */
export const claimIds = (claimId: string): (() => string) => {
  let n = 0;
  return () => {
    const hex = createHash('sha256').update(`${claimId}:${n++}`).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  };
};

/** A request holding a key: writes go under it, and its answer is recorded against it. */
export interface Claim {
  readonly streamName: string;
  readonly claimId: string;
  /** The key stream's revision after this claim (or its resumption) was written. */
  readonly revision: number;
  /** Re-run of a claim whose earlier attempt did not answer (a crash, a 5xx): it may find its own writes. */
  readonly resumed: boolean;
}

export type KeyOutcome =
  | { readonly kind: 'proceed'; readonly claim: Claim }
  | { readonly kind: 'replay'; readonly answer: RecordedAnswer }
  | { readonly kind: 'mismatch' }
  | { readonly kind: 'in-progress'; readonly retryAfterSeconds: number };

export interface IdempotencyDeps {
  readonly store: EventStore;
  readonly clock: () => Date;
  readonly newId: () => string;
  /** This process: its node (stable across restarts) and this run of it. */
  readonly self: ClaimOwner;
  readonly lifetimeMs?: number;
  readonly leaseMs?: number;
}

const load = async (
  store: EventStore,
  streamName: string,
): Promise<E.Either<CorruptEvent, { state: idem.IdempotencyState; revision: number }>> => {
  let state = idem.initialState();
  let revision = -1;
  for (const recorded of await store.readStream(streamName)) {
    const decoded = decodeRecorded(idem.IdempotencyEvent, recorded);
    if (E.isLeft(decoded)) return decoded;
    state = idem.evolve(state, decoded.right);
    revision = recorded.revision;
  }
  return E.right({ state, revision });
};

interface KeyTiming {
  readonly lifetimeMs: number;
  readonly leaseMs: number;
}

const expected = (revision: number): ExpectedRevision => (revision === -1 ? 'no_stream' : revision);

/** The event that claims the key (or resumes its claim) for this request. */
const claimEvent = (
  deps: IdempotencyDeps,
  timing: KeyTiming,
  decision: { readonly kind: 'claim' } | { readonly kind: 'resume'; readonly claimId: string },
  request: { readonly userId: string; readonly fingerprint: string; readonly now: Date },
): idem.IdempotencyEvent => {
  const { now } = request;
  const at = now.toISOString();
  const leaseUntil = new Date(now.getTime() + timing.leaseMs).toISOString();
  if (decision.kind === 'resume') {
    return { type: 'IdempotencyKeyResumed', data: { claimId: decision.claimId, owner: deps.self, at, leaseUntil } };
  }
  return {
    type: 'IdempotencyKeyClaimed',
    data: {
      claimId: deps.newId(),
      userId: request.userId,
      fingerprint: request.fingerprint,
      claimedAt: at,
      expiresAt: new Date(now.getTime() + timing.lifetimeMs).toISOString(),
      owner: deps.self,
      leaseUntil,
    },
  };
};

/** Claims the key for this request, or says why not (answered already, another request, still running). */
const begin = async (
  deps: IdempotencyDeps,
  timing: KeyTiming,
  userId: string,
  key: string,
  fingerprint: string,
): Promise<E.Either<CorruptEvent, KeyOutcome>> => {
  const streamName = idempotencyStreamName(userId, key);
  for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
    const loaded = await load(deps.store, streamName);
    if (E.isLeft(loaded)) return loaded;
    const { state, revision } = loaded.right;
    const now = deps.clock();
    const decision = idem.decideKey(state, { fingerprint, now: now.toISOString(), self: deps.self });
    switch (decision.kind) {
      case 'replay':
      case 'mismatch':
        return E.right(decision);
      case 'in-progress':
        return E.right({
          kind: 'in-progress',
          retryAfterSeconds: Math.max(1, Math.ceil((Date.parse(decision.until) - now.getTime()) / 1000)),
        });
      case 'claim':
      case 'resume':
        break;
      default:
        return assertNever(decision);
    }
    const event = claimEvent(deps, timing, decision, { userId, fingerprint, now });
    const appended = await deps.store.appendToStream(
      streamName,
      [{ id: deps.newId(), type: event.type, data: event.data }],
      { expectedRevision: expected(revision) },
    );
    // Someone else (another node, a concurrent request) wrote first: decide again on what they wrote.
    if (E.isLeft(appended)) continue;
    return E.right({
      kind: 'proceed',
      claim: {
        streamName,
        claimId: event.data.claimId,
        revision: appended.right.nextExpectedRevision,
        resumed: decision.kind === 'resume',
      },
    });
  }
  return E.right({ kind: 'in-progress', retryAfterSeconds: 1 });
};

/** Appends the end of a claim; false when the claim was taken over meanwhile (its stream moved on). */
const close = async (
  deps: IdempotencyDeps,
  claim: Claim,
  event: Extract<idem.IdempotencyEvent, { type: 'IdempotentAnswerRecorded' | 'IdempotencyKeyReleased' }>,
): Promise<boolean> => {
  const appended = await deps.store.appendToStream(
    claim.streamName,
    [{ id: deps.newId(), type: event.type, data: event.data }],
    { expectedRevision: claim.revision },
  );
  return E.isRight(appended);
};

/** Keys kept in the event log, so they hold across restarts and nodes; claims are appended with an expected revision. */
export const createIdempotency = (deps: IdempotencyDeps) => {
  const timing: KeyTiming = {
    lifetimeMs: deps.lifetimeMs ?? KEY_LIFETIME_MS,
    leaseMs: deps.leaseMs ?? CLAIM_LEASE_MS,
  };
  return {
    /** Claims the key for this request, or says why not (answered already, another request, still running). */
    begin: (userId: string, key: string, fingerprint: string) => begin(deps, timing, userId, key, fingerprint),

    /** Records the answer; a claim taken over meanwhile keeps the answer recorded by whoever took it. */
    answer: (claim: Claim, answer: RecordedAnswer) =>
      close(deps, claim, {
        type: 'IdempotentAnswerRecorded',
        data: { claimId: claim.claimId, at: deps.clock().toISOString(), answer },
      }),

    /** The attempt ended without a final answer: a retry with the key resumes the claim (same ids) at once. */
    release: (claim: Claim) =>
      close(deps, claim, {
        type: 'IdempotencyKeyReleased',
        data: { claimId: claim.claimId, at: deps.clock().toISOString() },
      }),
  };
};

export type Idempotency = ReturnType<typeof createIdempotency>;
