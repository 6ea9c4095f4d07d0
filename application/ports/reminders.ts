/** One reminder still to go, as the plans' read model shows it. */
export interface DueReminder {
  readonly meetingId: string;
  readonly offsetSeconds: number;
  /** The session start it was planned for. */
  readonly start: string;
  readonly dueAt: string;
  /** The event that planned it: the cause its notice records. */
  readonly plannedEventId: string;
}

/** A session's plan, as the read model shows it. */
export interface ReminderPlanView {
  readonly meetingId: string;
  readonly status: 'planned' | 'dropped';
  readonly start: string;
  readonly offsetsSeconds: ReadonlyArray<number>;
  readonly reminders: ReadonlyArray<DueReminder>;
}

/** The reminder plans, projected from the `reminders-` streams. */
export interface ReminderQueries {
  /** Reminders due at or before `until`, earliest first, at most `limit`. */
  dueReminders(until: string, limit: number): ReadonlyArray<DueReminder>;
  /** When the earliest reminder still to go that is due after `after` is due, if any. */
  nextDueAt(after: string): string | undefined;
  /** Sessions with a live plan starting after `after`, at most `limit`, from `afterMeetingId` on (paging by id). */
  plannedSessions(after: string, limit: number, afterMeetingId?: string): ReadonlyArray<string>;
  getPlan(meetingId: string): ReminderPlanView | undefined;
}
