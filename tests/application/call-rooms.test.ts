import { describe, expect, it } from 'vitest';
import { callEndingMeeting, closeCallsOnMeetingChange } from '../../application/call-rooms.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';

const event = (type: string, data: unknown) => ({ type, data }) as RecordedEvent;

describe('closing calls when a meeting changes', () => {
  it('names the meeting of a cancellation, a reschedule or a training-type change, and nothing else', () => {
    expect(callEndingMeeting(event('SessionCancelled', { meetingId: 'm1' }))).toBe('m1');
    expect(callEndingMeeting(event('MeetingRescheduled', { meetingId: 'm2' }))).toBe('m2');
    expect(callEndingMeeting(event('TrainingTypeChanged', { meetingId: 'm3' }))).toBe('m3');
    expect(callEndingMeeting(event('SessionScheduled', { meetingId: 'm4' }))).toBeUndefined();
    expect(callEndingMeeting(event('SessionCancelled', { meetingId: 42 }))).toBeUndefined();
  });

  it('tells the rooms once each such event is projected, and logs a failed re-check instead of throwing', async () => {
    let listener: ((e: RecordedEvent) => void) | undefined;
    const told: string[] = [];
    const warnings: unknown[] = [];
    closeCallsOnMeetingChange(
      { onProjected: (l) => void (listener = l) },
      {
        meetingChanged: async (meetingId) => {
          told.push(meetingId);
          if (meetingId === 'broken') throw new Error('no room');
        },
      },
      { warn: (details) => void warnings.push(details) },
    );
    listener?.(event('SessionScheduled', { meetingId: 'quiet' }));
    listener?.(event('SessionCancelled', { meetingId: 'm1' }));
    listener?.(event('MeetingRescheduled', { meetingId: 'broken' }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(told).toStrictEqual(['m1', 'broken']);
    expect(warnings).toMatchObject([{ meetingId: 'broken' }]);
  });
});
