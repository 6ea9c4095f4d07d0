import * as E from 'fp-ts/lib/Either.js';
import { expect } from 'vitest';

interface Decider<C, Ev, S, Err> {
  decide: (command: C, state: S) => E.Either<Err, ReadonlyArray<Ev>>;
  evolve: (state: S, event: Ev) => S;
  initialState: () => S;
}

/** Given events / When command / Then events or error, against a pure decider. */
export const deciderSpec = <C, Ev, S, Err>(decider: Decider<C, Ev, S, Err>) => ({
  given: (events: ReadonlyArray<Ev>) => ({
    when: (command: C) => {
      const state = events.reduce(decider.evolve, decider.initialState());
      const result = decider.decide(command, state);
      return {
        then: (expected: ReadonlyArray<Ev>) => {
          if (E.isLeft(result)) throw new Error(`expected events, got error ${JSON.stringify(result.left)}`);
          expect(result.right).toEqual(expected);
        },
        thenError: (matcher: Partial<Err> | ((error: Err) => void)) => {
          if (E.isRight(result)) throw new Error(`expected an error, got events ${JSON.stringify(result.right)}`);
          if (typeof matcher === 'function') matcher(result.left);
          else expect(result.left).toMatchObject(matcher);
        },
        thenState: (check: (state: S) => void) => {
          if (E.isLeft(result)) throw new Error(`expected events, got error ${JSON.stringify(result.left)}`);
          check(result.right.reduce(decider.evolve, state));
        },
      };
    },
  }),
});
