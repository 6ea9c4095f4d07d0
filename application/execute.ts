import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { Actor } from '../domain/shared.ts';
import { decideAll, handleCommand, loadAggregate } from './command-handler.ts';
import type { Decider, Handled, StaleRevision, TooMuchContention } from './command-handler.ts';
import type { CorruptEvent } from './decode.ts';
import type { AuthUser } from './ports/access.ts';
import type { EventStore } from './ports/event-store.ts';
import type { ProjectionRunner } from './projections/runner.ts';
import type { FieldError } from '../domain/shared.ts';

export type AppError =
  | { readonly _tag: 'ValidationFailed'; readonly errors: ReadonlyArray<FieldError> }
  | { readonly _tag: 'NotFound'; readonly message: string }
  | { readonly _tag: 'Forbidden'; readonly message: string }
  | {
      readonly _tag: 'Conflict';
      readonly message: string;
      readonly conflicts?: ReadonlyArray<unknown>;
      /** too early to join: when it opens */ readonly opensAt?: string;
    }
  | { readonly _tag: 'Unavailable'; readonly message: string }
  | StaleRevision
  | TooMuchContention
  | CorruptEvent;

export interface RequestContext {
  readonly user: AuthUser;
  readonly correlationId?: string;
  /**
   * The request holds an `Idempotency-Key` claim: what it writes carries `causation` (so a re-run after a crash finds
   * it and does not write it twice), and the ids it creates come from `newId`, fixed by the claim.
   */
  readonly idempotency?: { readonly causation: string; readonly newId: () => string };
}

/** An id for something the request creates: fixed by its idempotency claim when it has one. */
export const newIdFor = (ctx: RequestContext, newId: () => string): string => (ctx.idempotency?.newId ?? newId)();

/** Event metadata of a request: who, its correlation id, and the idempotency claim it runs under. */
export const requestMetadata = (ctx: RequestContext) => ({
  actor: actorOf(ctx.user),
  ...(ctx.correlationId !== undefined ? { correlationId: ctx.correlationId } : {}),
  ...(ctx.idempotency !== undefined ? { causationId: ctx.idempotency.causation } : {}),
});

export const actorOf = (user: AuthUser): Actor => ({ id: user.id, roles: user.roles });

const isInfrastructureError = (error: unknown): error is StaleRevision | TooMuchContention | CorruptEvent => {
  const tag =
    typeof error === 'object' && error !== null && '_tag' in error ? (error as { _tag: unknown })._tag : undefined;
  return tag === 'StaleRevision' || tag === 'TooMuchContention' || tag === 'CorruptEvent';
};

/** The answer to a write while the read models cannot be trusted for its checks. */
const notReady = (projections: Pick<ProjectionRunner, 'catchingUp'>): AppError => ({
  _tag: 'Unavailable',
  message: projections.catchingUp
    ? 'the read models are catching up with the event log; try again in a few seconds'
    : 'the read models are recovering from an error; try again in a few seconds',
});

/** Why a write may not run now (the read models its checks read are behind the log or stopped); undefined: it may. */
export const writeRefusal = (projections: Pick<ProjectionRunner, 'healthy' | 'catchingUp'>): AppError | undefined =>
  projections.healthy ? undefined : notReady(projections);

/** Runs commands against one stream and, by default, waits until the read models show the result. */
export const createExecutor = (deps: {
  store: EventStore;
  projections: ProjectionRunner;
  newId: () => string;
  clock: () => Date;
}) => {
  const execute = async <C, Ev extends { type: string; data: unknown }, S, Err>(
    ctx: RequestContext,
    streamName: string,
    decider: Decider<C, Ev, S, Err>,
    codec: t.Decoder<unknown, Ev>,
    commands: C | ReadonlyArray<C>,
    mapError: (error: Err) => AppError,
    options: { expectedRevision?: number; wait?: boolean } = {},
  ): Promise<E.Either<AppError, Handled<Ev, S>>> => {
    // With the read models stopped or behind the log (a new node, a deleted read-model file, a restart after an
    // error), a write could not be shown to its writer, and checks that read them (double bookings) would be blind:
    // refuse before anything is appended.
    const refusal = writeRefusal(deps.projections);
    if (refusal !== undefined) return E.left(refusal);
    const result = await handleCommand(deps.store, streamName, decider, codec, commands, {
      newId: deps.newId,
      metadata: requestMetadata(ctx),
      ...(ctx.idempotency !== undefined ? { once: ctx.idempotency.causation } : {}),
      ...(options.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {}),
    });
    if (E.isLeft(result))
      return E.left(isInfrastructureError(result.left) ? result.left : mapError(result.left as Err));
    if (options.wait !== false) await deps.projections.waitFor(result.right.position);
    return result;
  };
  const stamp = (ctx: RequestContext) => ({ at: deps.clock().toISOString(), by: actorOf(ctx.user) });
  const load = <Ev extends { type: string }, S>(
    streamName: string,
    codec: t.Decoder<unknown, Ev>,
    evolve: (s: S, e: Ev) => S,
    initial: S,
  ) => loadAggregate(deps.store, streamName, codec, evolve, initial);
  return { execute, stamp, load, decideAll };
};

export type Executor = ReturnType<typeof createExecutor>;
