import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { decide, evolve, initialState } from '../../domain/change-window.ts';
import type { ChangeWindowCommand, ChangeWindowState } from '../../domain/change-window.ts';

const change = (
  position: number,
  at: string,
  topic: 'booked' | 'rescheduled' = 'rescheduled',
): ChangeWindowCommand => ({
  type: 'RecordChange',
  data: {
    subject: 'series-s',
    eventId: `e${position}`,
    position,
    topic,
    meetingId: `m${position}`,
    at,
    windowSeconds: 60,
    now: at,
  },
});

const run = (state: ChangeWindowState, command: ChangeWindowCommand) => {
  const decided = decide(command, state);
  if (E.isLeft(decided)) return { state, error: decided.left };
  return { state: decided.right.reduce(evolve, state), events: decided.right };
};

describe('the coalescing window of a subject', () => {
  it('the first change opens it, changes before it is due join, a replay joins nothing twice', () => {
    let s = run(initialState(), change(10, '2030-01-01T00:00:00.000Z', 'booked')).state;
    expect(s.open).toMatchObject({ window: 1, dueAt: '2030-01-01T00:01:00.000Z' });
    s = run(s, change(11, '2030-01-01T00:00:59.000Z')).state;
    expect(s.open?.changes.map((c) => c.meetingId)).toEqual(['m10', 'm11']);
    const replay = run(s, change(11, '2030-01-01T00:00:59.000Z'));
    expect(replay.events).toEqual([]);
  });

  it('a change after the due time needs the window closed first, then opens the next one', () => {
    let s = run(initialState(), change(1, '2030-01-01T00:00:00.000Z')).state;
    expect(run(s, change(2, '2030-01-01T00:01:00.000Z')).error).toEqual({ _tag: 'WindowDue', window: 1 });
    s = run(s, { type: 'CloseWindow', data: { window: 1, at: '2030-01-01T00:01:00.000Z' } }).state;
    expect(s.open).toBeUndefined();
    expect(run(s, { type: 'CloseWindow', data: { window: 1, at: '2030-01-01T00:01:00.000Z' } }).error).toEqual({
      _tag: 'WindowNotOpen',
    });
    s = run(s, change(2, '2030-01-01T00:01:00.000Z')).state;
    expect(s.open).toMatchObject({ window: 2, changes: [{ meetingId: 'm2' }] });
  });

  it('a change older than its window and the grace opens none; one already open still takes late joiners', () => {
    const old = { ...change(1, '2030-01-01T00:00:00.000Z', 'booked') } as Extract<
      ChangeWindowCommand,
      { type: 'RecordChange' }
    >;
    const stale = { ...old, data: { ...old.data, now: '2030-01-01T01:01:01.000Z' } };
    expect(run(initialState(), stale).events).toEqual([]);
    const justInside = { ...old, data: { ...old.data, now: '2030-01-01T01:00:59.000Z' } };
    expect(run(initialState(), justInside).state.open).toMatchObject({ window: 1 });
  });

  it('a closed window keeps what its email says; a change after the close opens the next window', () => {
    let s = run(initialState(), change(1, '2030-01-01T00:00:00.000Z')).state;
    s = run(s, { type: 'CloseWindow', data: { window: 1, at: '2030-01-01T00:01:00.000Z' } }).state;
    expect(s.closing).toMatchObject({ window: 1, changes: [{ meetingId: 'm1' }] });
    // A change made inside window 1 but recorded after its close opens window 2: it is never lost.
    s = run(s, change(2, '2030-01-01T00:00:30.000Z')).state;
    expect(s.open).toMatchObject({ window: 2, changes: [{ meetingId: 'm2' }] });
    // Window 2 cannot close before window 1's notices are claimed and it is marked sent.
    expect(run(s, { type: 'CloseWindow', data: { window: 2, at: '2030-01-01T00:02:00.000Z' } }).error).toEqual({
      _tag: 'WindowClosing',
      window: 1,
    });
    s = run(s, { type: 'MarkSent', data: { window: 1, at: '2030-01-01T00:01:01.000Z' } }).state;
    expect(s.closing).toBeUndefined();
    expect(run(s, { type: 'MarkSent', data: { window: 1, at: '2030-01-01T00:01:01.000Z' } }).error).toEqual({
      _tag: 'WindowNotClosing',
    });
  });
});
