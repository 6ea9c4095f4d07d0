import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { Actor, IsoInstant, assertNever, checkId, validationFailed } from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';

/**
 * A user's calendar subscription (ICS feed). Calendar apps cannot send bearer tokens, so the feed URL carries a
 * secret; only its SHA-256 is ever recorded, because the event log is readable by auditors.
 */

const stamp = { at: IsoInstant, by: Actor };

export const CalendarFeedEnabled = t.type({
  type: t.literal('CalendarFeedEnabled'),
  data: t.type({ userId: t.string, tokenHash: t.string, ...stamp }),
});
export const CalendarFeedDisabled = t.type({
  type: t.literal('CalendarFeedDisabled'),
  data: t.type({ userId: t.string, ...stamp }),
});
export const CalendarFeedEvent = t.union([CalendarFeedEnabled, CalendarFeedDisabled]);
export type CalendarFeedEvent = t.TypeOf<typeof CalendarFeedEvent>;
export const calendarFeedEventTypes = eventTypesOf(CalendarFeedEvent);

export const EnableCalendarFeed = t.type({
  type: t.literal('EnableCalendarFeed'),
  data: t.type({ userId: t.string, tokenHash: t.string, ...stamp }),
});
export const DisableCalendarFeed = t.type({
  type: t.literal('DisableCalendarFeed'),
  data: t.type({ userId: t.string, ...stamp }),
});
export const CalendarFeedCommand = t.union([EnableCalendarFeed, DisableCalendarFeed]);
export type CalendarFeedCommand = t.TypeOf<typeof CalendarFeedCommand>;

export type CalendarFeedState =
  | { readonly status: 'none' }
  | { readonly status: 'enabled'; readonly userId: string; readonly tokenHash: string; readonly enabledAt: string }
  | { readonly status: 'disabled'; readonly userId: string };

export const initialState = (): CalendarFeedState => ({ status: 'none' });

const sha256Hex = /^[0-9a-f]{64}$/;

const checkUserId = (userId: string): FieldError[] => checkId('userId', userId);

/** Enabling again issues a new token and so revokes the previous one; disabling a feed that is not on changes nothing. */
/** Rotating issues a new secret and records an event: once a minute is plenty for a person, and keeps the log small. */
export const MIN_ROTATION_SECONDS = 60;

export interface RotatedTooSoon {
  readonly _tag: 'RotatedTooSoon';
  readonly retryAfterSeconds: number;
}

export const decide = (
  command: CalendarFeedCommand,
  state: CalendarFeedState,
): E.Either<ValidationFailed | RotatedTooSoon, CalendarFeedEvent[]> => {
  switch (command.type) {
    case 'EnableCalendarFeed': {
      const { userId, tokenHash } = command.data;
      const errors = checkUserId(userId);
      if (!sha256Hex.test(tokenHash))
        errors.push({ path: 'tokenHash', message: 'must be a SHA-256 in lowercase hexadecimal' });
      if (errors.length > 0) return E.left(validationFailed(errors));
      if (state.status === 'enabled' && state.tokenHash === tokenHash) return E.right([]);
      if (state.status === 'enabled') {
        const since = (Date.parse(command.data.at) - Date.parse(state.enabledAt)) / 1000;
        if (since < MIN_ROTATION_SECONDS)
          return E.left({ _tag: 'RotatedTooSoon', retryAfterSeconds: Math.ceil(MIN_ROTATION_SECONDS - since) });
      }
      return E.right([{ type: 'CalendarFeedEnabled', data: command.data }]);
    }
    case 'DisableCalendarFeed': {
      const errors = checkUserId(command.data.userId);
      if (errors.length > 0) return E.left(validationFailed(errors));
      return E.right(state.status === 'enabled' ? [{ type: 'CalendarFeedDisabled', data: command.data }] : []);
    }
    default:
      return assertNever(command);
  }
};

export const evolve = (_state: CalendarFeedState, event: CalendarFeedEvent): CalendarFeedState => {
  switch (event.type) {
    case 'CalendarFeedEnabled':
      return {
        status: 'enabled',
        userId: event.data.userId,
        tokenHash: event.data.tokenHash,
        enabledAt: event.data.at,
      };
    case 'CalendarFeedDisabled':
      return { status: 'disabled', userId: event.data.userId };
    default:
      return assertNever(event);
  }
};

export const calendarFeedStreamPrefix = 'feed-';
export const calendarFeedStreamName = (userId: string): string => `${calendarFeedStreamPrefix}${userId}`;
export const calendarFeedDecider: Decider<
  CalendarFeedCommand,
  CalendarFeedEvent,
  CalendarFeedState,
  ValidationFailed | RotatedTooSoon
> = { decide, evolve, initialState };
