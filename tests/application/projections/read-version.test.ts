import { describe, expect, it } from 'vitest';
import { trackReadVersion } from '../../../application/projections/read-version.ts';
import type { RecordedEvent } from '../../../application/ports/event-store.ts';

const event = (streamName: string, position: number) => ({ streamName, position }) as RecordedEvent;

describe('a read version over some streams', () => {
  it('starts at the read models position, moves only with those streams, and never goes back', () => {
    const listeners: Array<(e: RecordedEvent) => void> = [];
    const projections = { appliedPosition: 7, onProjected: (l: (e: RecordedEvent) => void) => listeners.push(l) };
    const version = trackReadVersion(projections, ['meeting-', 'person-']);
    expect(version()).toBe(7);
    projections.appliedPosition = 9;
    for (const l of listeners) l(event('notification-abc', 9));
    expect(version()).toBe(7);
    for (const l of listeners) l(event('meeting-m1', 10));
    for (const l of listeners) l(event('reminders-m1', 11));
    expect(version()).toBe(10);
    for (const l of listeners) l(event('person-p1', 12));
    expect(version()).toBe(12);
  });
});
