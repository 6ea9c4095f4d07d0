import * as E from 'fp-ts/lib/Either.js';
import type { ScheduleChange } from '../domain/schedule.ts';
import type { Actor } from '../domain/shared.ts';
import type { BookingConflict } from './booking.ts';
import { conflictMessage } from './booking.ts';
import { handleCommand, loadState } from './command-handler.ts';
import type { EventSourced, Handled, StaleRevision, TooMuchContention } from './command-handler.ts';
import type { CorruptEvent } from './decode.ts';
import type { AuthUser } from './ports/access.ts';
import type { EventMetadata, EventStore } from './ports/event-store.ts';
import type { ProjectionRunner } from './projections/runner.ts';
import { BucketCache, scheduleAlongside } from './schedule.ts';
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

/**
 * Event metadata of a request: its correlation id and the idempotency claim it runs under. Who made it is not here:
 * every command says so in its data (`by`), and the event keeps it there (events stored earlier also carry it in their
 * metadata, which is still read but no longer written).
 */
export const requestMetadata = (ctx: RequestContext): EventMetadata => ({
  correlationId: ctx.correlationId,
  causationId: ctx.idempotency?.causation,
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

/**
 * An aggregate as the application runs it: its streams, how its events are read and decided (`EventSourced`), the
 * event types its codec accepts, and what its refusals mean to a client.
 */
export interface Aggregate<Command, Event extends { type: string; data: unknown }, State, Err> extends EventSourced<
  Command,
  Event,
  State,
  Err
> {
  readonly streamPrefix: string;
  readonly streamName: (id: string) => string;
  readonly eventTypes: ReadonlyArray<Event['type']>;
  readonly mapError: (error: Err) => AppError;
  /**
   * The slots a decision takes and frees on the people's schedules (meetings: from the slot the state held to the
   * one it holds). With it, every write of the aggregate goes through the schedules: a booking is appended with its
   * reservations, or refused.
   */
  readonly bookings?: (before: State, after: State) => ScheduleChange;
}

export interface ExecuteOptions<Event, State> {
  /** The revision the client saw (`If-Match`). */
  readonly expectedRevision?: number;
  /** `false`: answer once appended, without waiting for the read models (the caller waits, after more writes). */
  readonly wait?: boolean;
  /**
   * Checks of the decided events against the read models (the directory, double bookings), run before the append; a
   * refusal is the answer. With a check, the read models' health is asked after the decision, just before the check
   * that needs it: a request the domain refuses gets the domain's answer, whatever state the read models are in.
   */
  readonly check?: (decided: ReadonlyArray<Event>, state: State) => Promise<AppError | undefined>;
  /** What the decision books on the schedules, when the aggregate's own `bookings` cannot say (a series' sessions). */
  readonly books?: (decided: ReadonlyArray<Event>, before: State, after: State) => Promise<ScheduleChange>;
  /**
   * The 409 of a booking the schedules refuse, as the caller may see it (`presentConflicts`); by default only the
   * blocked slots, never the other meetings.
   */
  readonly refuseBooking?: (conflicts: ReadonlyArray<BookingConflict>) => Promise<AppError>;
  /** Told when the decision's append is handed to the store, before it is acknowledged (HandleOptions.issued). */
  readonly issued?: (state: State, revision: number) => void;
  /**
   * The stream is named by an id this request minted (`newIdFor` without an idempotency claim), so it is taken to be
   * new (HandleOptions.newStream); under a claim the id is the claim's and may have been used by an earlier attempt.
   */
  readonly newStream?: boolean;
}

interface ExecutorDeps {
  readonly store: EventStore;
  readonly projections: Pick<ProjectionRunner, 'waitFor' | 'healthy' | 'catchingUp'>;
  readonly newId: () => string;
  readonly clock: () => Date;
  /** Test-only: told when a booking's reservations are appended and its own event is not yet (the saga). */
  readonly sagaProbe?: () => void;
  /**
   * `false` only for the bench's baseline: bookings checked by the read model alone, as a single node did before the
   * schedules (not safe across nodes).
   */
  readonly schedules?: boolean;
}

const blockedSlotsOnly = async (conflicts: ReadonlyArray<BookingConflict>): Promise<AppError> => ({
  _tag: 'Conflict',
  message: conflictMessage(conflicts),
  conflicts: conflicts.map((c) => ({ participant: c.participant, userId: c.userId, slot: c.slot })),
});

/** The schedules' part of a command: the reservations and releases its decision needs, or the 409. */
const bookingsAlongside = <Ev, S>(
  deps: ExecutorDeps & { readonly buckets?: BucketCache },
  ctx: RequestContext,
  books: (decided: ReadonlyArray<Ev>, before: S, after: S) => Promise<ScheduleChange>,
  refuse: (conflicts: ReadonlyArray<BookingConflict>) => Promise<AppError>,
) => {
  return async (decided: ReadonlyArray<Ev>, before: S, after: S, owner: { stream: string; eventId: string }) => {
    const change = await books(decided, before, after);
    const at = deps.clock().toISOString();
    const planned = await scheduleAlongside(deps, change, owner, at, requestMetadata(ctx));
    if (E.isRight(planned)) return planned;
    return E.left(planned.left._tag === 'SlotsTaken' ? await refuse(planned.left.conflicts) : planned.left);
  };
};

/**
 * Runs a request's commands against one aggregate's stream: refused while the read models cannot be trusted, decided
 * once, appended with the request's metadata and, by default, answered once the read models show the result.
 */
const executeCommands = async <C, Ev extends { type: string; data: unknown }, S, Err>(
  deps: ExecutorDeps & { readonly buckets?: BucketCache },
  ctx: RequestContext,
  aggregate: Aggregate<C, Ev, S, Err>,
  id: string,
  commands: C | ReadonlyArray<C>,
  options: ExecuteOptions<Ev, S> = {},
): Promise<E.Either<AppError, Handled<Ev, S>>> => {
  // With the read models stopped or behind the log (a new node, a deleted read-model file, a restart after an
  // error), a write could not be shown to its writer, and checks that read them (double bookings) would be blind:
  // refuse before anything is appended.
  const { check } = options;
  if (check === undefined) {
    const refusal = writeRefusal(deps.projections);
    if (refusal !== undefined) return E.left(refusal);
  }
  // A check's refusal is already the answer; the aggregate's own refusals are mapped to one.
  let refused: AppError | undefined;
  const ownBookings = deps.schedules === false ? undefined : aggregate.bookings;
  const books =
    (deps.schedules === false ? undefined : options.books) ??
    (ownBookings === undefined ? undefined : async (_: unknown, b: S, a: S) => ownBookings(b, a));
  const alongside =
    books === undefined
      ? undefined
      : bookingsAlongside<Ev, S>(deps, ctx, books, options.refuseBooking ?? blockedSlotsOnly);
  const result = await handleCommand(deps.store, aggregate.streamName(id), aggregate, commands, {
    alongside:
      alongside === undefined
        ? undefined
        : async (...args: Parameters<typeof alongside>) => {
            const planned = await alongside(...args);
            if (E.isLeft(planned)) refused = planned.left;
            return planned;
          },
    sagaProbe: deps.sagaProbe,
    issued: options.issued,
    newId: deps.newId,
    metadata: requestMetadata(ctx),
    once: ctx.idempotency?.causation,
    newStream: options.newStream === true && ctx.idempotency === undefined,
    expectedRevision: options.expectedRevision,
    check:
      check === undefined
        ? undefined
        : async (decided: ReadonlyArray<Ev>, state: S) => {
            refused = writeRefusal(deps.projections) ?? (await check(decided, state));
            return refused;
          },
  });
  if (E.isLeft(result)) {
    // Set in the check, which the compiler's flow analysis does not follow.
    const refusal = refused as AppError | undefined;
    if (refusal !== undefined) return E.left(refusal);
    if (isInfrastructureError(result.left)) return E.left(result.left);
    return E.left(aggregate.mapError(result.left as Err));
  }
  // A command that changed nothing answers with the state it read, which may be another node's write this node's
  // read models have yet to show.
  if (options.wait !== false) await deps.projections.waitFor(result.right.position ?? result.right.seenPosition);
  return result;
};

/**
 * The application's own writes, which answer no request (a notification's progress): neither refused while the read
 * models are behind nor waited for, and with no request metadata. Also the aggregate's state as its decider sees it.
 */
export const createRecorder = (deps: Pick<ExecutorDeps, 'store' | 'newId'>) => ({
  record: <C, Ev extends { type: string; data: unknown }, S, Err>(
    aggregate: Aggregate<C, Ev, S, Err>,
    id: string,
    commands: C | ReadonlyArray<C>,
    options: { readonly maxRetries?: number } = {},
  ) =>
    handleCommand(deps.store, aggregate.streamName(id), aggregate, commands, {
      newId: deps.newId,
      maxRetries: options.maxRetries,
    }),
  /** Read from the leader, like every read a decision rests on. */
  load: <C, Ev extends { type: string; data: unknown }, S, Err>(aggregate: Aggregate<C, Ev, S, Err>, id: string) =>
    loadState(deps.store, aggregate.streamName(id), aggregate),
});

export type Recorder = ReturnType<typeof createRecorder>;

/** The one way commands run: `execute` for a request (see `executeCommands`), and the recorder's `record`. */
export const createExecutor = (deps: ExecutorDeps) => {
  // The schedule buckets this executor's bookings read, kept between them (see BucketCache).
  const withBuckets = { ...deps, buckets: new BucketCache() };
  return {
    ...createRecorder(deps),
    execute: <C, Ev extends { type: string; data: unknown }, S, Err>(
      ctx: RequestContext,
      aggregate: Aggregate<C, Ev, S, Err>,
      id: string,
      commands: C | ReadonlyArray<C>,
      options?: ExecuteOptions<Ev, S>,
    ) => executeCommands(withBuckets, ctx, aggregate, id, commands, options),
    stamp: (ctx: RequestContext) => ({ at: deps.clock().toISOString(), by: actorOf(ctx.user) }),
    /** Why a write may not run now (writeRefusal), for a caller to answer before it reads a large request. */
    writeRefusal: () => writeRefusal(deps.projections),
  };
};

export type Executor = ReturnType<typeof createExecutor>;
