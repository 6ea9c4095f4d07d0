import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { Decider } from '../domain/decider.ts';
import type {
  EventMetadata,
  EventStore,
  EventToAppend,
  MultiStreamAppendResult,
  RecordedEvent,
  StreamAppend,
  WrongExpectedRevision,
} from './ports/event-store.ts';
import { MultiStreamAppendUnsupportedError } from './ports/event-store.ts';
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
   * When the command changed nothing: the position of the stream's last event as it was read. Another node may have
   * written it, so a read model that is to show the stream's state waits for this.
   */
  readonly seenPosition?: number;
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

/** A stream with no events, as `loadState` reads it. */
const emptyStream = <State>(initial: State): AggregateSnapshot<State> => ({ state: initial, revision: -1, events: [] });

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

/**
 * Appends to other streams that a decision needs with its own (a booking's reservations on the people's schedules).
 * On a store with atomic appends across streams all of them land with the stream's events or none does; without
 * one, `first` is appended before the stream's events and `then` after, each on its own (a saga): what is appended
 * early only ever over-reserves, and `undo` takes it back when the stream's events could not follow.
 */
export interface Alongside {
  readonly first: ReadonlyArray<StreamAppend>;
  readonly then: ReadonlyArray<StreamAppend>;
  /** Takes back what was written of `first`; never throws (what it leaves, the schedule reaction releases). */
  readonly undo: (written: ReadonlyArray<StreamAppend>) => Promise<void>;
  /** A late append refused (its stream moved since the decision): made again on fresh state; never throws. */
  readonly redoLate: (refused: StreamAppend) => Promise<void>;
  /**
   * Told when the one atomic append has been handed to the store, before it is acknowledged: where it will leave the
   * streams, which a later decision may build on once it is answered (`landed` or `missed`).
   */
  readonly issued?: () => void;
  /** Told when everything landed in one atomic append, as decided (the streams are where the decision put them). */
  readonly landed?: () => void;
  /** Told when the append did not land as decided (refused, failed, or made as a saga): the streams are unknown. */
  readonly missed?: () => void;
}

/** The event of this stream that the other streams' appends are for: the first one decided, with its id. */
export interface OwnerEvent {
  readonly stream: string;
  readonly eventId: string;
}

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
   * The stream is named by an id minted for this command, so the first attempt decides on the empty stream without
   * reading it: the append's `no_stream` is what checks it, and a stream that exists after all is read and decided on
   * in the retry. Ignored with `once`, whose earlier attempt may have written the stream.
   */
  readonly newStream?: boolean;
  /**
   * Runs on what the commands decided, before anything is appended (again after a retry on fresh state): a refusal
   * it returns is the answer and nothing is written. Checks that depend on the decision (a series' new sessions
   * against the calendar) go here, so the domain decides once.
   */
  readonly check?: (decided: ReadonlyArray<Event>, state: State) => Promise<Refusal | undefined>;
  /**
   * Runs after the check on what was decided (the state before and after it, and the event the appends are for):
   * the other streams' appends that go with it, or a refusal. A stream of these that moved meanwhile makes the whole
   * command decided again on fresh state, also under a pinned `expectedRevision` (it pins this stream only).
   */
  readonly alongside?: (
    decided: ReadonlyArray<Event>,
    before: State,
    after: State,
    owner: OwnerEvent,
  ) => Promise<E.Either<Refusal, Alongside | undefined>>;
  /**
   * Told when the decided events have been handed to the store in one append (with whatever goes alongside), before
   * it is acknowledged, with the state and revision the stream will be at if it lands; not on the saga's path.
   * Again after a retry on fresh state. A caller that serializes decisions may let the next one start here.
   */
  readonly issued?: (state: State, revision: number) => void;
  /** Test-only: told when the saga has made its early appends and is about to append the stream's events. */
  readonly sagaProbe?: () => void;
}

type Written = E.Either<WrongExpectedRevision, { readonly revision: number; readonly position: number }>;

const appendOne = async (store: EventStore, a: StreamAppend): Promise<Written> => {
  const r = await store.appendToStream(a.streamName, a.events, { expectedRevision: a.expectedRevision });
  return E.isLeft(r) ? r : E.right({ revision: r.right.nextExpectedRevision, position: r.right.position });
};

/**
 * Without atomic appends across streams: the early appends one by one, then the stream's own, then the late ones.
 * A refused append takes the early ones back. A store failure on the stream's own append leaves them: the event may
 * have landed all the same, and the schedule reaction tells (it releases a reservation whose event never came).
 */
const saga = async (
  store: EventStore,
  main: StreamAppend,
  alongside: Alongside,
  probe?: () => void,
): Promise<Written> => {
  const written: StreamAppend[] = [];
  for (const a of alongside.first) {
    let r: Written;
    try {
      r = await appendOne(store, a);
    } catch (error) {
      await alongside.undo(written);
      throw error;
    }
    if (E.isLeft(r)) {
      await alongside.undo(written);
      return r;
    }
    written.push(a);
  }
  probe?.();
  const own = await appendOne(store, main);
  if (E.isLeft(own)) {
    await alongside.undo(written);
    return own;
  }
  // Late appends only free slots: one refused is made again on fresh state; what still fails (the store is down), the
  // schedule reaction releases.
  for (const a of alongside.then) {
    const late = await appendOne(store, a).catch(() => undefined);
    if (late !== undefined && E.isLeft(late)) await alongside.redoLate(a);
  }
  return own;
};

const write = async (
  store: EventStore,
  main: StreamAppend,
  alongside: Alongside | undefined,
  probe?: () => void,
  issued?: () => void,
): Promise<Written> => {
  if (alongside === undefined || alongside.first.length + alongside.then.length === 0) {
    const one = appendOne(store, main);
    issued?.();
    return one;
  }
  if (!(await store.supportsMultiStreamAppend())) {
    alongside.missed?.();
    return saga(store, main, alongside, probe);
  }
  let r: E.Either<WrongExpectedRevision, MultiStreamAppendResult> | undefined;
  try {
    const appending = store.appendToStreams([main, ...alongside.first, ...alongside.then]);
    alongside.issued?.();
    issued?.();
    r = await appending;
  } catch (error) {
    // The server said it could and then answered it cannot (an older leader during an upgrade): nothing was written.
    if (error instanceof MultiStreamAppendUnsupportedError) return saga(store, main, alongside, probe);
    throw error;
  } finally {
    if (r !== undefined && E.isRight(r)) alongside.landed?.();
    else alongside.missed?.();
  }
  if (E.isLeft(r)) return r;
  return E.right({ revision: r.right.streams[0]?.nextExpectedRevision ?? -1, position: r.right.position });
};

/** A short random pause before deciding again on a stream others write too, so that racing writers fall apart. */
const jitter = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 5 * attempt)));

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
  // Schedules are shared by every booking of a person: more writers race there than on one meeting.
  const maxRetries = options.maxRetries ?? (options.alongside === undefined ? 5 : 12);
  const { decider } = aggregate;
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    const loaded =
      attempt === 0 && options.newStream === true && options.once === undefined
        ? E.right(emptyStream(decider.initialState()))
        : await loadState(store, streamName, aggregate);
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
    if (events.length === 0) {
      const seenPosition = loaded.right.events[loaded.right.events.length - 1]?.position;
      return E.right({ events, state, revision, position: undefined, seenPosition });
    }
    const toAppend: EventToAppend[] = events.map((event) => ({
      id: options.newId(),
      type: event.type,
      data: event.data,
      metadata: options.metadata,
    }));
    const owner = { stream: streamName, eventId: toAppend[0]?.id ?? '' };
    const others = await options.alongside?.(events, state, decided.right.state, owner);
    if (others !== undefined && E.isLeft(others)) return others;
    const main = { streamName, events: toAppend, expectedRevision: revision === -1 ? 'no_stream' : revision } as const;
    const issued = options.issued;
    const after = revision + events.length;
    const appended = await write(
      store,
      main,
      others?.right,
      options.sagaProbe,
      issued === undefined ? undefined : () => issued(decided.right.state, after),
    );
    if (E.isRight(appended)) {
      return E.right({
        events,
        state: decided.right.state,
        revision: appended.right.revision,
        position: appended.right.position,
      });
    }
    if (options.expectedRevision !== undefined && appended.left.streamName === streamName) {
      return E.left({ _tag: 'StaleRevision', expected: options.expectedRevision, actual: appended.left.actual });
    }
    if (appended.left.streamName !== streamName) await jitter(attempt + 1);
  }
  return E.left({ _tag: 'TooMuchContention', streamName });
};
