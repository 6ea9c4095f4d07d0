import type { Role } from '../../domain/shared.ts';
import type { CalendarEntry } from './read-models.ts';

export interface AuthUser {
  readonly id: string;
  readonly roles: ReadonlyArray<Role>;
  readonly name?: string;
  readonly email?: string;
  /** Signed in by a join link: may only read and join this one meeting (and read `GET /me`). */
  readonly scope?: { readonly meetingId: string };
}

export const isAdmin = (user: AuthUser): boolean => user.roles.includes('admin');
/** Admins and auditors read everything; auditors change nothing (no write rule names them). */
export const readsAll = (user: AuthUser): boolean => isAdmin(user) || user.roles.includes('auditor');

export interface Participants {
  readonly customerId: string;
  readonly instructorId: string;
  readonly seriesId?: string;
}

export interface MeetingDraft {
  readonly customerId: string;
  readonly instructorId: string;
}

/**
 * The original's "PersonalTrainingProvider": a site plugs in its own rules and data (a CRM) here. Every access
 * decision in the application goes through it.
 */
export interface AccessProvider {
  readonly name: string;
  /**
   * True when every decision follows from the event-sourced data alone (no outside CRM state), so an answer stays
   * valid until the next event and may be cached until then.
   */
  readonly deterministic?: boolean;
  /** For a meeting, or a series (same participants). */
  canView(user: AuthUser, meeting: Participants): Promise<boolean>;
  canModify(user: AuthUser, meeting: Participants): Promise<boolean>;
  canCreate(user: AuthUser, draft: MeetingDraft): Promise<boolean>;
  /** Whose calendar the user may read. */
  canReadCalendarOf(user: AuthUser, userId: string): Promise<boolean>;
  /** Row filter for lists. */
  filterVisible(user: AuthUser, items: ReadonlyArray<CalendarEntry>): Promise<ReadonlyArray<CalendarEntry>>;
  /** The user's trainings overlapping [from, to): `getUserPersonalTrainings`. */
  userMeetings(userId: string, from: string, to: string): Promise<ReadonlyArray<CalendarEntry>>;
  /**
   * Whether this person exists, so a meeting or series may be booked for them. The default asks the people
   * directory; a site's provider may know people the directory does not (a CRM).
   */
  personExists(personId: string): Promise<boolean>;
}
