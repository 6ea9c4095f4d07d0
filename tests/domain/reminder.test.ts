import { describe, expect, it } from 'vitest';
import { reminderDecider } from '../../domain/reminder.ts';
import type { ReminderCommand, ReminderEvent, ReminderSession } from '../../domain/reminder.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(reminderDecider);

const DAY = 86_400;
const HOUR = 3_600;
const START = '2030-04-10T15:00:00.000Z';
const session = (start = START, sequence = 0): ReminderSession => ({
  start,
  end: new Date(Date.parse(start) + 3_600_000).toISOString(),
  sequence,
});

const plan = (at: string, s: ReminderSession = session(), offsetsSeconds = [DAY, HOUR]): ReminderCommand => ({
  type: 'PlanReminders',
  data: { meetingId: 'm1', session: s, offsetsSeconds, at },
});

const planned = (
  at: string,
  reminders: Array<[number, string]>,
  s: ReminderSession = session(),
  offsetsSeconds = [DAY, HOUR],
): ReminderEvent => ({
  type: 'RemindersPlanned',
  data: {
    meetingId: 'm1',
    session: s,
    offsetsSeconds,
    reminders: reminders.map(([offsetSeconds, dueAt]) => ({ offsetSeconds, dueAt })),
    at,
  },
});

const BOOKED = '2030-04-01T10:00:00.000Z';
const DUE_DAY = '2030-04-09T15:00:00.000Z';
const DUE_HOUR = '2030-04-10T14:00:00.000Z';

const claimed = (offsetSeconds: number, start = START, at = DUE_DAY): ReminderEvent => ({
  type: 'ReminderClaimed',
  data: { meetingId: 'm1', offsetSeconds, start, notificationId: `n-${offsetSeconds}`, at },
});

describe('reminder plan', () => {
  it('plans every offset of a session booked well ahead, earliest due first', () => {
    spec
      .given([])
      .when(plan(BOOKED))
      .then([
        planned(BOOKED, [
          [DAY, DUE_DAY],
          [HOUR, DUE_HOUR],
        ]),
      ]);
  });

  it('does not plan an offset whose due time has passed when the session is booked', () => {
    // Booked 30 minutes before: neither the 24 h nor the 1 h reminder (the booking itself was just announced).
    spec
      .given([])
      .when(plan('2030-04-10T14:30:00.000Z'))
      .then([planned('2030-04-10T14:30:00.000Z', [])]);
    // Booked 2 hours before: the 1 h reminder only.
    spec
      .given([])
      .when(plan('2030-04-10T13:00:00.000Z'))
      .then([planned('2030-04-10T13:00:00.000Z', [[HOUR, DUE_HOUR]])]);
  });

  it('writes no plan for a session that had already started when it was booked', () => {
    spec.given([]).when(plan('2030-04-10T15:30:00.000Z')).then([]);
  });

  it('plans nothing new when nothing changed (a replay, a second node)', () => {
    const first = planned(BOOKED, [
      [DAY, DUE_DAY],
      [HOUR, DUE_HOUR],
    ]);
    spec.given([first]).when(plan(BOOKED)).then([]);
    // The same plan asked for later (a replay after an outage): the reminders stay planned, though one is overdue.
    spec.given([first]).when(plan('2030-04-09T20:00:00.000Z')).then([]);
  });

  it('re-plans a moved session: the old due times are dropped, the new ones planned', () => {
    const moved = session('2030-04-12T09:00:00.000Z', 1);
    const at = '2030-04-05T08:00:00.000Z';
    spec
      .given([
        planned(BOOKED, [
          [DAY, DUE_DAY],
          [HOUR, DUE_HOUR],
        ]),
      ])
      .when(plan(at, moved))
      .then([
        planned(
          at,
          [
            [DAY, '2030-04-11T09:00:00.000Z'],
            [HOUR, '2030-04-12T08:00:00.000Z'],
          ],
          moved,
        ),
      ]);
  });

  it('re-plans a session moved after its 24 h reminder went: the new start gets both again', () => {
    const moved = session('2030-04-20T15:00:00.000Z', 1);
    const at = '2030-04-09T16:00:00.000Z';
    spec
      .given([
        planned(BOOKED, [
          [DAY, DUE_DAY],
          [HOUR, DUE_HOUR],
        ]),
        claimed(DAY),
      ])
      .when(plan(at, moved))
      .then([
        planned(
          at,
          [
            [DAY, '2030-04-19T15:00:00.000Z'],
            [HOUR, '2030-04-20T14:00:00.000Z'],
          ],
          moved,
        ),
      ]);
  });

  it('drops the reminders of a cancelled session, and plans them again when it is reinstated', () => {
    const first = planned(BOOKED, [
      [DAY, DUE_DAY],
      [HOUR, DUE_HOUR],
    ]);
    const dropped: ReminderEvent = {
      type: 'RemindersDropped',
      data: { meetingId: 'm1', at: '2030-04-02T00:00:00.000Z' },
    };
    spec
      .given([first])
      .when({ type: 'DropReminders', data: { meetingId: 'm1', at: '2030-04-02T00:00:00.000Z' } })
      .then([dropped]);
    spec
      .given([first, dropped])
      .when({ type: 'DropReminders', data: { meetingId: 'm1', at: '2030-04-03T00:00:00.000Z' } })
      .then([]);
    // Nothing can be claimed while dropped.
    spec
      .given([first, dropped])
      .when({ type: 'ClaimReminder', data: { offsetSeconds: HOUR, start: START, notificationId: 'n', at: DUE_HOUR } })
      .thenError({ _tag: 'ReminderNotPlanned' });
    const reinstatedAt = '2030-04-09T18:00:00.000Z';
    spec
      .given([first, dropped])
      .when(plan(reinstatedAt, session(START, 2)))
      .then([planned(reinstatedAt, [[HOUR, DUE_HOUR]], session(START, 2))]);
  });

  it('never plans again a reminder already sent for that start (a reinstatement after it went)', () => {
    const reinstatedAt = '2030-04-03T00:00:00.000Z';
    spec
      .given([
        planned(BOOKED, [
          [DAY, DUE_DAY],
          [HOUR, DUE_HOUR],
        ]),
        claimed(DAY),
        { type: 'RemindersDropped', data: { meetingId: 'm1', at: '2030-04-02T00:00:00.000Z' } },
      ])
      .when(plan(reinstatedAt, session(START, 2)))
      .then([planned(reinstatedAt, [[HOUR, DUE_HOUR]], session(START, 2))]);
  });

  it('re-plans with new offsets: kept ones stay, removed ones go, added ones are planned if still ahead', () => {
    const first = planned(BOOKED, [
      [DAY, DUE_DAY],
      [HOUR, DUE_HOUR],
    ]);
    const at = '2030-04-09T16:00:00.000Z';
    // 2 days (already past at the change) and 10 minutes added, 24 h removed.
    spec
      .given([first])
      .when(plan(at, session(), [2 * DAY, HOUR, 600]))
      .then([
        planned(
          at,
          [
            [HOUR, DUE_HOUR],
            [600, '2030-04-10T14:50:00.000Z'],
          ],
          session(),
          [2 * DAY, HOUR, 600],
        ),
      ]);
  });

  it('refuses offsets that are not whole seconds above 0', () => {
    spec
      .given([])
      .when(plan(BOOKED, session(), [0]))
      .thenError({ _tag: 'InvalidOffsets' });
    spec
      .given([])
      .when(plan(BOOKED, session(), [1.5]))
      .thenError({ _tag: 'InvalidOffsets' });
    spec
      .given([])
      .when(plan(BOOKED, session(), [31 * DAY]))
      .thenError({ _tag: 'InvalidOffsets' });
  });

  it('marks a reminder claimed exactly once per offset and start', () => {
    const first = planned(BOOKED, [
      [DAY, DUE_DAY],
      [HOUR, DUE_HOUR],
    ]);
    const claim: ReminderCommand = {
      type: 'ClaimReminder',
      data: { offsetSeconds: DAY, start: START, notificationId: 'n-86400', at: DUE_DAY },
    };
    spec
      .given([first])
      .when(claim)
      .then([claimed(DAY)]);
    spec
      .given([first, claimed(DAY)])
      .when(claim)
      .thenError({ _tag: 'ReminderAlreadyDone' });
    spec
      .given([first, claimed(DAY)])
      .when({ type: 'MissReminder', data: { offsetSeconds: DAY, start: START, at: DUE_DAY } })
      .thenError({ _tag: 'ReminderAlreadyDone' });
    // A start the plan does not hold (the session moved meanwhile) is not claimed.
    spec
      .given([first])
      .when({
        type: 'ClaimReminder',
        data: { offsetSeconds: DAY, start: '2030-04-11T15:00:00.000Z', notificationId: 'n', at: DUE_DAY },
      })
      .thenError({ _tag: 'ReminderNotPlanned' });
    spec
      .given([first])
      .when(claim)
      .thenState((state) => {
        expect(state.status === 'planned' && state.reminders).toEqual([{ offsetSeconds: HOUR, dueAt: DUE_HOUR }]);
      });
  });

  it('marks a reminder missed when its session had started', () => {
    const first = planned(BOOKED, [[HOUR, DUE_HOUR]], session(), [HOUR]);
    const missed: ReminderEvent = {
      type: 'ReminderMissed',
      data: { meetingId: 'm1', offsetSeconds: HOUR, start: START, at: '2030-04-10T16:00:00.000Z' },
    };
    spec
      .given([first])
      .when({ type: 'MissReminder', data: { offsetSeconds: HOUR, start: START, at: '2030-04-10T16:00:00.000Z' } })
      .then([missed]);
    // A re-plan for the same start after that plans nothing again.
    spec
      .given([first, missed])
      .when(plan('2030-04-10T16:00:00.000Z', session(), [HOUR]))
      .then([]);
  });
});
