import type * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';

/**
 * An aggregate's behaviour as three pure functions: what a command decides given the state, how an event changes the
 * state, and the state before the first event. The application loads, decides and appends; the domain only decides.
 */
export interface Decider<Command, Event, State, Err> {
  readonly decide: (command: Command, state: State) => E.Either<Err, ReadonlyArray<Event>>;
  readonly evolve: (state: State, event: Event) => State;
  readonly initialState: () => State;
}

/** One event codec: `{ type: literal, data }`. */
interface EventMember {
  readonly props: { readonly type: { readonly value: string } };
}

/**
 * The event types an event codec accepts, read off the codec itself (a union of `{ type: literal, data }` members,
 * or one such member), so that the list cannot drift from the union.
 */
export const eventTypesOf = <C extends t.Mixed & (EventMember | { readonly types: ReadonlyArray<EventMember> })>(
  codec: C,
): ReadonlyArray<t.TypeOf<C>['type']> =>
  'types' in codec ? codec.types.map((member) => member.props.type.value) : [codec.props.type.value];
