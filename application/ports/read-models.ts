import type { Actor, Role } from '../../domain/shared.ts';
import type { AttendanceStatus } from '../../domain/attendance.ts';
import type { Meeting, MeetingStatus, TrainingType } from '../../domain/meeting.ts';
import type { Settings } from '../../domain/settings.ts';
import type { PersonCrm } from '../../domain/person.ts';
import type { Series } from '../../domain/series.ts';
import type { RecordedEvent } from './event-store.ts';

export type MeetingView = Omit<Meeting, 'status' | 'individuallyEdited' | 'cancelledBy'> & {
  readonly state: MeetingStatus;
  readonly individuallyEdited: Meeting['individuallyEdited'];
  readonly cancelledBy?: Meeting['cancelledBy'];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly revision: number;
  readonly cancellationReason?: string;
};

export interface SeriesOccurrence {
  readonly meetingId: string;
  readonly localDate: string;
  readonly start: string;
  readonly end: string;
  readonly state: MeetingStatus;
}

export type SeriesView = Omit<Series, 'status' | 'occurrences' | 'recurrence'> &
  Series['recurrence'] & {
    readonly state: Series['status'];
    readonly createdAt: string;
    readonly updatedAt: string;
    readonly revision: number;
    readonly occurrences: ReadonlyArray<SeriesOccurrence>;
  };

export interface CalendarEntry {
  readonly meetingId: string;
  readonly seriesId?: string;
  readonly title: string;
  readonly start: string;
  readonly end: string;
  readonly timezone: string;
  readonly state: MeetingStatus;
  readonly trainingType: TrainingType;
  readonly role: 'customer' | 'instructor';
  readonly customerId: string;
  readonly instructorId: string;
  readonly counterpartName?: string;
  /** The customer's attendance mark, once the instructor or an admin set one. */
  readonly attendance?: AttendanceStatus;
}

/** One time in the call: when the participant joined and, unless they are still in it, left. */
export interface AttendanceVisit {
  readonly joinedAt: string;
  readonly leftAt?: string;
}

/** One participant's attendance as recorded: their mark (who set it, when) and their visits to the call. */
export interface ParticipantAttendance {
  readonly personId: string;
  readonly status?: AttendanceStatus;
  readonly markedBy?: Actor;
  readonly markedAt?: string;
  /** Oldest first, the last `MAX_VISITS` only. */
  readonly visits: ReadonlyArray<AttendanceVisit>;
}

/** A meeting's attendance stream as the read model shows it; `revision` is the stream's. */
export interface AttendanceView {
  readonly meetingId: string;
  readonly revision: number;
  readonly participants: ReadonlyArray<ParticipantAttendance>;
}

export interface HistoryEntry {
  readonly revision: number;
  readonly position: number;
  readonly type: string;
  readonly at: string;
  readonly actor: Actor;
  readonly data: unknown;
}

export interface HistoryPage {
  readonly after: number;
  readonly limit: number;
}

export interface PersonView {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly timezone?: string;
  readonly language?: string;
  /** What the site's CRM knows of them: for admins and auditors only (see application/people.ts). */
  readonly crm?: PersonCrm;
  /** The roles the directory gives this person (empty for one registered before roles were kept). */
  readonly roles: ReadonlyArray<Role>;
  /** False once deactivated: no sign-in, no new bookings. */
  readonly active: boolean;
  readonly updatedAt: string;
}

/** Where a page of the directory resumes: after this folded name and id. */
export interface PeopleCursor {
  readonly nameKey: string;
  readonly id: string;
}

export interface PeopleQuery {
  /** A prefix of the name or the address, any case. */
  readonly query?: string;
  readonly role?: Role;
  readonly active?: boolean;
  readonly after?: PeopleCursor;
  readonly limit: number;
}

/** One projection's durable state: it applies events after its checkpoint, atomically with the checkpoint. */
export interface ProjectionSink {
  readonly name: string;
  checkpoint(): number;
  /** Applies the events newer than the checkpoint and advances it, all or nothing. */
  apply(events: ReadonlyArray<RecordedEvent>): void;
  /** Forgets everything, for a rebuild from the log. */
  reset(): void;
}

export interface MeetingQueries {
  getMeeting(meetingId: string): MeetingView | undefined;
  /** Meetings of one user (as customer or instructor) overlapping [from, to), sorted by start. */
  calendar(userId: string, from: string, to: string): ReadonlyArray<CalendarEntry>;
  /** Non-cancelled meetings of any of these users overlapping [from, to). */
  activeMeetingsOverlapping(userIds: ReadonlyArray<string>, from: string, to: string): ReadonlyArray<MeetingView>;
  /** What the attendance stream of a meeting holds, or undefined before its first event. */
  getAttendance(meetingId: string): AttendanceView | undefined;
  getSeries(seriesId: string): SeriesView | undefined;
  meetingsOfSeries(seriesId: string): MeetingView[];
  getPerson(personId: string): PersonView | undefined;
  /** The one person with this address (case folded), if exactly one has it. */
  personByEmail(email: string): PersonView | undefined;
  /** The ids of every person with this address (case folded), in id order. */
  peopleWithEmail(email: string): ReadonlyArray<string>;
  /** A page of the directory in (folded name, id) order, and where the next page starts if there is one. */
  listPeople(query: PeopleQuery): { items: ReadonlyArray<PersonView>; next?: PeopleCursor };
  /** Whether this person is active, or undefined when they are not in the directory (cheap: asked per request). */
  personActive(personId: string): boolean | undefined;
  getSettings(): Settings;
}

export interface CalendarFeedQueries {
  /** The user whose active calendar feed token has this SHA-256 (hex), if any. */
  feedOwner(tokenHash: string): string | undefined;
  /** How many times the user's feed was enabled or disabled: join links issued under a smaller epoch are revoked. */
  feedEpoch(userId: string): number;
}

export interface SessionQueries {
  /** True once the session family with this id is revoked (false for one the read model does not know yet). */
  sessionRevoked(sessionId: string): boolean;
  /** The ids of a person's session families that are not revoked. */
  activeSessionsOf(personId: string): ReadonlyArray<string>;
}

export interface ReadModels extends MeetingQueries, CalendarFeedQueries, SessionQueries {
  readonly sinks: ReadonlyArray<ProjectionSink>;
  /** Runs work atomically across every sink. */
  transaction(work: () => void): void;
  close(): void;
}
