/**
 * One plain sentence per audit entry, for people reading the log or its CSV: what happened, to what, naming the
 * values that matter (never a hash: summaries are made from the redacted data). Event types this does not know (aggregates added later) get a sentence naming type and stream.
 */

type Data = Readonly<Record<string, unknown>>;

const text = (value: unknown, fallback = '?'): string => {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return fallback;
  const plain = String(value).replace(/\s+/g, ' ');
  return plain.length > 80 ? `${plain.slice(0, 79)}…` : plain;
};
const quoted = (value: unknown): string => `"${text(value)}"`;
const roles = (value: unknown): string =>
  Array.isArray(value) && value.length > 0 ? value.map((role) => text(role)).join(', ') : 'none';
const count = (value: unknown): number => (Array.isArray(value) ? value.length : 0);
const sessions = (n: number): string => `${n} session${n === 1 ? '' : 's'}`;
const withReason = (data: Data): string => (typeof data.reason === 'string' ? ` (reason: ${quoted(data.reason)})` : '');
/** How an audit entry names a notification's topic (absent: a cancellation, recorded before topics). */
const topicName = (topic: unknown): string => {
  switch (topic) {
    case undefined:
    case 'cancelled':
      return 'cancellation';
    case 'booked':
      return 'booking';
    case 'rescheduled':
      return 'reschedule';
    case 'changed':
      return 'change';
    case 'reinstated':
      return 'reinstatement';
    case 'reminder':
      return 'reminder';
    default:
      return text(topic);
  }
};

const recipient = (data: Data): string => {
  const r = data.recipient as Data | undefined;
  return `${text(r?.role, 'recipient')} ${text(r?.personId)}`;
};

const meetingSummaries: Record<string, (d: Data) => string> = {
  MeetingScheduled: (d) =>
    `Meeting ${quoted(d.title)} was scheduled for ${text(d.start)} to ${text(d.end)} with customer ${text(d.customerId)} and instructor ${text(d.instructorId)}.`,
  MeetingDetailsChanged: (d) =>
    `Meeting details changed: ${Object.keys((d.changes as Data | undefined) ?? {}).join(', ') || 'nothing'}.`,
  MeetingRescheduled: (d) =>
    `Meeting moved from ${text((d.previous as Data | undefined)?.start)} to ${text(d.start)} (${text(d.timezone)}).`,
  TrainingTypeChanged: (d) => `Meeting training type is now ${text(d.trainingType)}.`,
  MeetingConfirmed: () => 'Meeting was confirmed (planned to scheduled).',
  SessionCancelled: (d) => `Meeting was cancelled${withReason(d)}.`,
  MeetingReinstated: () => 'Meeting was reinstated (cancelled to planned).',
};

const attendanceSummaries: Record<string, (d: Data) => string> = {
  ParticipantJoined: (d) => `The ${text(d.role, 'participant')} ${text(d.personId)} joined the call.`,
  ParticipantLeft: (d) => `The ${text(d.role, 'participant')} ${text(d.personId)} left the call.`,
  AttendanceMarked: (d) =>
    `Attendance of ${text(d.personId)} was marked ${text(d.status)}${typeof d.previous === 'string' ? ` (was ${text(d.previous)})` : ''}.`,
};

const seriesSummaries: Record<string, (d: Data) => string> = {
  SeriesScheduled: (d) =>
    `Series ${quoted(d.title)} was scheduled with ${sessions(count(d.occurrences))} for customer ${text(d.customerId)} and instructor ${text(d.instructorId)}.`,
  SeriesRecurrenceChanged: (d) =>
    `Series recurrence changed: ${count(d.added)} added, ${count(d.moved)} moved, ${count(d.removed)} removed.`,
  SeriesDetailsChanged: (d) =>
    `Series details changed: ${Object.keys((d.changes as Data | undefined) ?? {}).join(', ') || 'nothing'}.`,
  SeriesCancelled: (d) => `Series was cancelled from ${text(d.from)}, ${sessions(count(d.cancelled))}${withReason(d)}.`,
  SeriesOccurrencesCancelled: (d) => `A series edit cancelled ${sessions(count(d.cancelled))}${withReason(d)}.`,
};

const peopleSummaries: Record<string, (d: Data) => string> = {
  PersonRegistered: (d) => `Person ${text(d.personId)} (${quoted(d.name)}) was added to the directory.`,
  PersonUpdated: (d) => `Person ${text(d.personId)} (${quoted(d.name)}) was updated.`,
  PersonRolesChanged: (d) =>
    `Roles of person ${text(d.personId)} changed from ${roles(d.previous)} to ${roles(d.roles)}.`,
  PersonDeactivated: (d) => `Person ${text(d.personId)} was deactivated.`,
  PersonReactivated: (d) => `Person ${text(d.personId)} was reactivated.`,
};

const offset = (d: Data): string => `${text(d.offsetSeconds)} s`;
const reminderSummaries: Record<string, (d: Data) => string> = {
  RemindersPlanned: (d) =>
    `Reminders of the session at ${text((d.session as Data | undefined)?.start)} planned: ${count(d.reminders)} to go.`,
  RemindersDropped: () => 'Reminders of the session were dropped (it was cancelled).',
  ReminderClaimed: (d) =>
    `The reminder ${offset(d)} before the session at ${text(d.start)} was handed to the notification log.`,
  ReminderMissed: (d) =>
    `The reminder ${offset(d)} before the session at ${text(d.start)} was not sent (the session had started, or a later reminder went instead).`,
};

const otherSummaries: Record<string, (d: Data) => string> = {
  SettingsChanged: () => 'Site settings were changed.',
  NotificationRequested: (d) =>
    `A ${topicName(d.topic)} email to ${recipient(d)} was requested for ${sessions(count(d.meetingIds))}.`,
  NotificationPrepared: (d) => {
    const message = (d.message ?? {}) as Data;
    return `The email of round ${text(d.round)} was rendered for ${text(message.to)}: "${text(message.subject)}".`;
  },
  NotificationSent: (d) => `The email was sent (attempt ${text(d.attempt)}).`,
  NotificationAttemptFailed: (d) => `Sending the email failed (attempt ${text(d.attempt)}): ${text(d.error)}.`,
  NotificationFailed: (d) => `The email gave up after ${text(d.attempts)} attempts: ${text(d.error)}.`,
  NotificationSkipped: (d) => `The email was skipped: ${text(d.reason)}.`,
  NotificationUndeliverable: (d) => `The email is undeliverable: ${text(d.reason)}.`,
  NotificationRetryRequested: (d) => `A retry of the email to ${recipient(d)} was requested (round ${text(d.round)}).`,
  CalendarFeedEnabled: (d) => `The calendar feed of ${text(d.userId)} was given a new secret address.`,
  CalendarFeedDisabled: (d) => `The calendar feed of ${text(d.userId)} was disabled.`,
};

const signInSummaries: Record<string, (d: Data) => string> = {
  SignInLinkSent: (d) =>
    `${d.purpose === 'invitation' ? 'An invitation' : 'A sign-in'} link was emailed to person ${text(d.personId)}.`,
  SignInCodeRedeemed: (d) => `Person ${text(d.personId)} used their sign-in link.`,
  SignedIn: (d) => `Person ${text(d.personId)} signed in (${text(d.method)}).`,
  SignInFailed: (d) =>
    `A sign-in (${text(d.method)}) failed${typeof d.personId === 'string' ? ` for person ${text(d.personId)}` : ''}: ${text(d.reason)}.`,
  SessionStarted: (d) => `A session (${text(d.method)}) of person ${text(d.personId)} started.`,
  SessionRefreshed: (d) => `A session of person ${text(d.personId)} was refreshed.`,
  IdentityLinked: (d) =>
    `The single sign-on identity ${text(d.subject)} of ${text(d.issuer)} was linked to person ${text(d.personId)}.`,
  IdentitySignInFailed: (d) =>
    `A single sign-on (${text(d.issuer)}) was refused${typeof d.personId === 'string' ? ` for person ${text(d.personId)}` : ''}: ${text(d.reason)}.`,
  SessionRevoked: (d) => `A session of person ${text(d.personId)} was revoked: ${text(d.reason)}.`,
};

const summaries: Readonly<Record<string, (d: Data) => string>> = {
  ...meetingSummaries,
  ...attendanceSummaries,
  ...seriesSummaries,
  ...peopleSummaries,
  ...reminderSummaries,
  ...otherSummaries,
  ...signInSummaries,
};

export const auditSummary = (type: string, streamName: string, data: unknown): string => {
  const known = Object.hasOwn(summaries, type) ? summaries[type] : undefined;
  const payload = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Data) : {};
  return known !== undefined ? known(payload) : `${text(type)} in stream ${text(streamName)}.`;
};
