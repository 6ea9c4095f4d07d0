import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  CalendarFeedCommand,
  CalendarFeedEvent,
  calendarFeedDecider,
  calendarFeedStreamName,
} from '../../domain/calendar-feed.ts';
import type { CalendarFeedCommand as Command, CalendarFeedEvent as Event } from '../../domain/calendar-feed.ts';
import type { Actor } from '../../domain/shared.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(calendarFeedDecider);
const at = '2030-03-01T12:00:00.000Z';
const later = '2030-03-02T08:00:00.000Z';
const cora: Actor = { id: 'cora', roles: ['customer'] };
const admin: Actor = { id: 'ada', roles: ['admin'] };
const hashA = 'a'.repeat(64);
const hashB = '0123456789abcdef'.repeat(4);

const enable = (tokenHash: string, by = cora, when = at): Command => ({
  type: 'EnableCalendarFeed',
  data: { userId: 'cora', tokenHash, at: when, by },
});
const disable = (by = cora, when = later): Command => ({
  type: 'DisableCalendarFeed',
  data: { userId: 'cora', at: when, by },
});
const enabled = (tokenHash: string, by = cora, when = at): Event => ({
  type: 'CalendarFeedEnabled',
  data: { userId: 'cora', tokenHash, at: when, by },
});
const disabled = (by = cora, when = later): Event => ({
  type: 'CalendarFeedDisabled',
  data: { userId: 'cora', at: when, by },
});

describe('CalendarFeed: enable', () => {
  it('Given no feed, When enabled with a token hash, Then the feed is enabled with that hash', () => {
    spec
      .given([])
      .when(enable(hashA))
      .then([enabled(hashA)]);
  });

  it('Given an enabled feed, When enabled with a new hash, Then the new hash replaces (rotates) the old one', () => {
    spec
      .given([enabled(hashA)])
      .when(enable(hashB, admin, later))
      .thenState((state) =>
        expect(state).toEqual({ status: 'enabled', userId: 'cora', tokenHash: hashB, enabledAt: later }),
      );
    spec
      .given([enabled(hashA)])
      .when(enable(hashB, admin, later))
      .then([enabled(hashB, admin, later)]);
  });

  it('Given a feed enabled seconds ago, When rotated again, Then it is refused until a minute has passed', () => {
    spec
      .given([enabled(hashA)])
      .when(enable(hashB, cora, '2030-03-01T12:00:20.000Z'))
      .thenError({ _tag: 'RotatedTooSoon', retryAfterSeconds: 40 });
    spec
      .given([enabled(hashA)])
      .when(enable(hashB, cora, '2030-03-01T12:01:00.000Z'))
      .then([enabled(hashB, cora, '2030-03-01T12:01:00.000Z')]);
  });

  it('Given an enabled feed, When enabled again with the same hash (a retried command), Then nothing happens', () => {
    spec
      .given([enabled(hashA)])
      .when(enable(hashA))
      .then([]);
  });

  it('Given a disabled feed, When enabled again, Then it is enabled with the new hash', () => {
    spec
      .given([enabled(hashA), disabled()])
      .when(enable(hashB, cora, later))
      .then([enabled(hashB, cora, later)]);
  });

  it('refuses anything but a lowercase hexadecimal SHA-256, and a bad user id', () => {
    for (const bad of ['', 'A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64), 'secret-token']) {
      spec
        .given([])
        .when(enable(bad))
        .thenError({
          _tag: 'ValidationFailed',
          errors: [{ path: 'tokenHash', message: 'must be a SHA-256 in lowercase hexadecimal' }],
        });
    }
    spec
      .given([])
      .when({ type: 'EnableCalendarFeed', data: { userId: '', tokenHash: hashA, at, by: admin } })
      .thenError({ _tag: 'ValidationFailed', errors: [{ path: 'userId', message: 'must be 1 to 128 characters' }] });
  });
});

describe('CalendarFeed: disable', () => {
  it('Given an enabled feed, When disabled, Then it is disabled and no token is valid any more', () => {
    spec
      .given([enabled(hashA)])
      .when(disable())
      .then([disabled()]);
    spec
      .given([enabled(hashA)])
      .when(disable())
      .thenState((state) => expect(state).toEqual({ status: 'disabled', userId: 'cora' }));
  });

  it('Given no feed or a disabled one, When disabled, Then nothing happens (idempotent)', () => {
    spec.given([]).when(disable()).then([]);
    spec
      .given([enabled(hashA), disabled()])
      .when(disable())
      .then([]);
  });

  it('Given a rotated feed, When disabled by an admin, Then it is disabled', () => {
    spec
      .given([enabled(hashA), enabled(hashB)])
      .when(disable(admin))
      .then([disabled(admin)]);
  });
});

describe('CalendarFeed codecs and stream', () => {
  it('decode what the decider produces and refuse malformed payloads', () => {
    const events = [enabled(hashA), disabled()];
    for (const event of events)
      expect(CalendarFeedEvent.decode(JSON.parse(JSON.stringify(event)))).toEqual(E.right(event));
    expect(
      E.isLeft(CalendarFeedEvent.decode({ type: 'CalendarFeedEnabled', data: { userId: 'cora', at, by: cora } })),
    ).toBe(true);
    expect(
      E.isLeft(
        CalendarFeedEvent.decode({
          type: 'CalendarFeedEnabled',
          data: { userId: 'cora', tokenHash: hashA, at: 'yesterday', by: cora },
        }),
      ),
    ).toBe(true);
    expect(CalendarFeedCommand.decode(enable(hashA))).toEqual(E.right(enable(hashA)));
    expect(E.isLeft(CalendarFeedCommand.decode({ type: 'DisableCalendarFeed', data: { at, by: cora } }))).toBe(true);
  });

  it('keeps one stream per user', () => {
    expect(calendarFeedStreamName('cora')).toBe('feed-cora');
  });

  it('never records the token itself: the enabled event carries only the fields of the command', () => {
    const result = calendarFeedDecider.decide(enable(hashA), calendarFeedDecider.initialState());
    if (E.isLeft(result)) throw new Error('expected events');
    expect(Object.keys(result.right[0]!.data).sort()).toEqual(['at', 'by', 'tokenHash', 'userId']);
  });
});
