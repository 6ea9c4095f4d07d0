import type { components } from '../../api/schema';

export type AttendanceEntry = components['schemas']['AttendanceEntry'];
export type AttendanceStatus = NonNullable<AttendanceEntry['status']>;
export const STATUSES: ReadonlyArray<AttendanceStatus> = ['attended', 'no-show'];

/** Who set a mark, as the member reads it: their trainer, or staff. */
export const markedByKey = (entry: AttendanceEntry, instructorId: string): 'trainer' | 'staff' | 'someone' => {
  const by = entry.markedBy;
  if (by === undefined) return 'someone';
  if (by.id === instructorId) return 'trainer';
  return by.roles.includes('admin') ? 'staff' : 'someone';
};

/** Marks may be set once the session has started, on one that is not cancelled. */
export const markable = (meeting: { start: string; state: string }, now: number): boolean =>
  meeting.state !== 'cancelled' && Date.parse(meeting.start) <= now;
