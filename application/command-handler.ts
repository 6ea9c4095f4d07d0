import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { Decider } from '../domain/decider.ts';
import type { EventMetadata, EventStore, RecordedEvent } from './ports/event-store.ts';
import { decodeRecorded } from './decode.ts';
import type { CorruptEvent } from './decode.ts';

/** What the command handler needs of an aggregate: how its events are read and how it decides on them. */
export interface EventSourced<Command, Event, State, Err> {
  readonly decider: Decider<Command, Event, State, Err>;
  readonly codec: t.Decoder<unknown, Event>;
}

export interface StaleRevision {
  readonly _tag: 'StaleRevision';
  readonly expected: number;
  readonly actual: number;
}

export interface TooMuchContention {
  readonly _tag: 'TooMuchContention';
  readonly streamName: string;
}

export interface Handled<Event, State> {
  readonly events: ReadonlyArray<Event>;
  readonly state: State;
  /** Stream revision after the command (-1: the stream still does not exist). */
  readonly revision: number;
  /** Global position of the last event written, or undefined when the command changed nothing. */
  readonly position: number | undefined;
  /**
   * The request had already written to this stream (an earlier attempt of the same idempotent request, cut short):
   * nothing was decided or written again; `position` is that earlier write's.
   */
  readonly alreadyApplied?: true;
}

export interface AggregateSnapshot<State> {
  readonly state: State;
  readonly revision: number;
  readonly events: ReadonlyArray<RecordedEvent>;
}

export const loadAggregate = async <Event extends { type: string }, State>(
  store: EventStore,
  streamName: string,
  codec: t.Decoder<unknown, Event>,
  /** Folds one event; the recorded event (its position, revision) is there for folds that keep track of them. */
  evolve: (state: State, event: Event, recorded: RecordedEvent) => State,
  initial: State,
): Promise<E.Either<CorruptEvent, AggregateSnapshot<State>>> => {
  // A command is decided on this state: read from the leader, never from a follower that may lag behind.
  const recorded = await store.readStream(streamName, { requiresLeader: true });
  let state = initial;
  for (const r of recorded) {
    const decoded = decodeRecorded(codec, r);
    if (E.isLeft(decoded)) return decoded;
    state = evolve(state, decoded.right, r);
  }
  const last = recorded[recorded.length - 1];
  return E.right({ state, revision: last === undefined ? -1 : last.revision, events: recorded });
};

/** An aggregate's stream as its decider sees it: what the command handler decides on. */
export const loadState = <Command, Event extends { type: string }, State, Err>(
  store: EventStore,
  streamName: string,
  aggregate: EventSourced<Command, Event, State, Err>,
): Promise<E.Either<CorruptEvent, AggregateSnapshot<State>>> =>
  loadAggregate(store, streamName, aggregate.codec, aggregate.decider.evolve, aggregate.decider.initialState());

/** Several commands on one stream decided in order against evolving state, so they land in one atomic append. */
const decideAll = <Command, Event, State, Err>(
  decider: Decider<Command, Event, State, Err>,
  commands: ReadonlyArray<Command>,
  initial: State,
): E.Either<Err, { events: ReadonlyArray<Event>; state: State }> => {
  let state = initial;
  const events: Event[] = [];
  for (const command of commands) {
    const decided = decider.decide(command, state);
    if (E.isLeft(decided)) return decided;
    events.push(...decided.right);
    state = decided.right.reduce(decider.evolve, state);
  }
  return E.right({ events, state });
};

export interface HandleOptions<Event, State, Refusal> {
  /** The revision the client saw (`If-Match`); a different current revision is a `StaleRevision`, never retried. */
  readonly expectedRevision?: number;
  readonly maxRetries?: number;
  readonly metadata?: EventMetadata;
  readonly newId: () => string;
  /**
   * The causation of an idempotent request that may have run before (`metadata.causationId` of what it writes): if
   * the stream already holds an event it caused, the command counts as done and is not decided again. So a request
   * that runs under an idempotency claim writes to each stream once (every keyed POST does).
   */
  readonly once?: string;
  /**
   * Runs on what the commands decided, before anything is appended (again after a retry on fresh state): a refusal
   * it returns is the answer and nothing is written. Checks that depend on the decision (a series' new sessions
   * against the calendar) go here, so the domain decides once.
   */
  readonly check?: (decided: ReadonlyArray<Event>, state: State) => Promise<Refusal | undefined>;
}

/** The last event of `events` that `causationId` caused, if any. */
export const causedBy = (
  events: ReadonlyArray<RecordedEvent>,
  causationId: string | undefined,
): RecordedEvent | undefined =>
  causationId === undefined ? undefined : [...events].reverse().find((e) => e.metadata.causationId === causationId);

/**
 * Load, decide, append with the revision we decided on. A concurrent writer makes the append fail; then we decide
 * again on fresh state, a bounded number of times, unless the client pinned the revision it saw.
 */
export const handleCommand = async <
  Command,
  Event extends { type: string; data: unknown },
  State,
  Err,
  Refusal = never,
>(
  store: EventStore,
  streamName: string,
  aggregate: EventSourced<Command, Event, State, Err>,
  commands: Command | ReadonlyArray<Command>,
  options: HandleOptions<Event, State, Refusal>,
): Promise<E.Either<Err | Refusal | StaleRevision | TooMuchContention | CorruptEvent, Handled<Event, State>>> => {
  const maxRetries = options.maxRetries ?? 5;
  const { decider } = aggregate;
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    const loaded = await loadState(store, streamName, aggregate);
    if (E.isLeft(loaded)) return loaded;
    const { state, revision } = loaded.right;
    // Before the revision check: the earlier attempt is what moved the stream past the revision the client saw.
    const earlier = causedBy(loaded.right.events, options.once);
    if (earlier !== undefined)
      return E.right({ events: [], state, revision, position: earlier.position, alreadyApplied: true });
    if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
      return E.left({ _tag: 'StaleRevision', expected: options.expectedRevision, actual: revision });
    }
    const decided = decideAll(decider, Array.isArray(commands) ? commands : [commands as Command], state);
    if (E.isLeft(decided)) return decided;
    const { events } = decided.right;
    const refusal = await options.check?.(events, decided.right.state);
    if (refusal !== undefined) return E.left(refusal);
    if (events.length === 0) return E.right({ events, state, revision, position: undefined });
    const appended = await store.appendToStream(
      streamName,
      events.map((event) => ({ id: options.newId(), type: event.type, data: event.data, metadata: options.metadata })),
      { expectedRevision: revision === -1 ? 'no_stream' : revision },
    );
    if (E.isRight(appended)) {
      return E.right({
        events,
        state: decided.right.state,
        revision: appended.right.nextExpectedRevision,
        position: appended.right.position,
      });
    }
    if (options.expectedRevision !== undefined) {
      return E.left({ _tag: 'StaleRevision', expected: options.expectedRevision, actual: appended.left.actual });
    }
  }
  return E.left({ _tag: 'TooMuchContention', streamName });
};
