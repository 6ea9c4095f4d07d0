import * as attendance from '../domain/attendance.ts';
import * as feed from '../domain/calendar-feed.ts';
import * as changeWindow from '../domain/change-window.ts';
import * as identity from '../domain/identity.ts';
import * as meeting from '../domain/meeting.ts';
import * as notification from '../domain/notification.ts';
import * as person from '../domain/person.ts';
import * as reminder from '../domain/reminder.ts';
import { bookingOf, scheduleStreamPrefix, transitionChange } from '../domain/schedule.ts';
import * as series from '../domain/series.ts';
import * as session from '../domain/session.ts';
import * as signIn from '../domain/sign-in.ts';
import * as settings from '../domain/settings.ts';
import * as webhook from '../domain/webhook.ts';
import * as delivery from '../domain/webhook-delivery.ts';
import * as alert from '../domain/webhook-alert.ts';
import { assertNever } from '../domain/shared.ts';
import type { ValidationFailed } from '../domain/shared.ts';
import type { Aggregate, AppError } from './execute.ts';

/**
 * One descriptor per aggregate: where its streams are, how its events are read, how it decides, and what its refusals
 * mean to a client. Commands run through the executor with one of these, and lists of event types and stream
 * prefixes are read off them instead of being kept by hand.
 */

/** The answer for a thing that is not there (or not visible to the caller). */
export const notFound = (what: string): AppError => ({ _tag: 'NotFound', message: `${what} not found` });

export const meetings: Aggregate<
  meeting.MeetingCommand,
  meeting.MeetingEvent,
  meeting.MeetingState,
  meeting.MeetingError
> = {
  streamPrefix: meeting.meetingStreamPrefix,
  streamName: meeting.meetingStreamName,
  decider: meeting.meetingDecider,
  codec: meeting.MeetingEvent,
  eventTypes: meeting.meetingEventTypes,
  bookings: (before, after) => transitionChange(bookingOf(before), bookingOf(after)),
  mapError: (error) => {
    switch (error._tag) {
      case 'ValidationFailed':
        return error;
      case 'MeetingNotFound':
        return notFound('meeting');
      case 'MeetingAlreadyExists':
        return { _tag: 'Conflict', message: 'a meeting with this id already exists' };
      case 'InvalidTransition':
        return { _tag: 'Conflict', message: error.message };
      default:
        return assertNever(error);
    }
  },
};

export const seriesAggregate: Aggregate<
  series.SeriesCommand,
  series.SeriesEvent,
  series.SeriesState,
  series.SeriesError
> = {
  streamPrefix: series.seriesStreamPrefix,
  streamName: series.seriesStreamName,
  decider: series.seriesDecider,
  codec: series.SeriesEvent,
  eventTypes: series.seriesEventTypes,
  mapError: (error) => {
    switch (error._tag) {
      case 'ValidationFailed':
        return error;
      case 'SeriesNotFound':
        return notFound('series');
      case 'SeriesAlreadyExists':
        return { _tag: 'Conflict', message: 'a series with this id already exists' };
      case 'SeriesIsCancelled':
        return { _tag: 'Conflict', message: error.message };
      default:
        return assertNever(error);
    }
  },
};

export const people: Aggregate<person.PersonCommand, person.PersonEvent, person.PersonState, ValidationFailed> = {
  streamPrefix: person.personStreamPrefix,
  streamName: person.personStreamName,
  decider: person.personDecider,
  codec: person.PersonEvent,
  eventTypes: person.personEventTypes,
  mapError: (error) => error,
};

/** One stream, `settings.settingsId`. */
export const settingsAggregate: Aggregate<
  settings.SettingsCommand,
  settings.SettingsEvent,
  settings.SettingsState,
  ValidationFailed
> = {
  streamPrefix: settings.settingsStreamPrefix,
  streamName: (id) => `${settings.settingsStreamPrefix}${id}`,
  decider: settings.settingsDecider,
  codec: settings.SettingsEvent,
  eventTypes: settings.settingsEventTypes,
  mapError: (error) => error,
};

export const notifications: Aggregate<
  notification.NotificationCommand,
  notification.NotificationEvent,
  notification.NotificationState,
  notification.NotificationError
> = {
  streamPrefix: notification.notificationStreamPrefix,
  streamName: notification.notificationStreamName,
  decider: notification.notificationDecider,
  codec: notification.NotificationEvent,
  eventTypes: notification.notificationEventTypes,
  mapError: (error) => {
    switch (error._tag) {
      case 'NotificationNotFound':
        return notFound('notification');
      case 'NotificationNotRetryable':
        return {
          _tag: 'Conflict',
          message: `only a failed or undeliverable notification can be retried; this one is ${error.status}`,
        };
      case 'NotificationAlreadyRequested':
      case 'NotificationNotPending':
      case 'SessionsNotEnded':
      case 'MessageMissing':
        return { _tag: 'Conflict', message: `the notification changed meanwhile (${error._tag}); try again` };
      default:
        return assertNever(error);
    }
  },
};

/** The coalescing window of the change emails of one meeting or series (notifications/changes.ts). */
export const changeWindows: Aggregate<
  changeWindow.ChangeWindowCommand,
  changeWindow.ChangeWindowEvent,
  changeWindow.ChangeWindowState,
  changeWindow.ChangeWindowError
> = {
  streamPrefix: changeWindow.changeWindowStreamPrefix,
  streamName: changeWindow.changeWindowStreamName,
  decider: changeWindow.changeWindowDecider,
  codec: changeWindow.ChangeWindowEvent,
  eventTypes: changeWindow.changeWindowEventTypes,
  mapError: (error) => ({ _tag: 'Conflict', message: `the change window refused: ${error._tag}` }),
};

/** A user's calendar subscription; its stream is named by the user's id. */
export const calendarFeeds: Aggregate<
  feed.CalendarFeedCommand,
  feed.CalendarFeedEvent,
  feed.CalendarFeedState,
  ValidationFailed | feed.RotatedTooSoon
> = {
  streamPrefix: feed.calendarFeedStreamPrefix,
  streamName: feed.calendarFeedStreamName,
  decider: feed.calendarFeedDecider,
  codec: feed.CalendarFeedEvent,
  eventTypes: feed.calendarFeedEventTypes,
  mapError: (error) =>
    error._tag === 'RotatedTooSoon'
      ? {
          _tag: 'Conflict',
          message: `the feed was given a new address less than a minute ago; try again in ${error.retryAfterSeconds} s`,
        }
      : error,
};

/** A person's identity at the OpenID provider (issuer and subject), linked to the person. */
export const identities: Aggregate<
  identity.IdentityCommand,
  identity.IdentityEvent,
  identity.IdentityState,
  ValidationFailed
> = {
  streamPrefix: identity.identityStreamPrefix,
  streamName: identity.identityStreamName,
  decider: identity.identityDecider,
  codec: identity.IdentityEvent,
  eventTypes: identity.identityEventTypes,
  mapError: (error) => error,
};

/** A sign-in's session family (see domain/session.ts); the sessions service reads its refusals itself. */
export const sessions: Aggregate<
  session.SessionCommand,
  session.SessionEvent,
  session.SessionState,
  session.SessionError
> = {
  streamPrefix: session.sessionStreamPrefix,
  streamName: session.sessionStreamName,
  decider: session.sessionDecider,
  codec: session.SessionEvent,
  eventTypes: session.sessionEventTypes,
  mapError: (error) => {
    switch (error._tag) {
      case 'ValidationFailed':
        return error;
      case 'SessionNotFound':
      case 'UnknownCredential':
        return notFound('session');
      case 'SessionAlreadyExists':
        return { _tag: 'Conflict', message: 'a session with this id already exists' };
      case 'SessionEnded':
        return { _tag: 'Conflict', message: `the session has ended (${error.reason})` };
      default:
        return assertNever(error);
    }
  },
};

/** A sign-in attempt (see domain/sign-in.ts): an email link and its use, a sign-in, or a refusal. */
export const signIns: Aggregate<signIn.SignInCommand, signIn.SignInEvent, signIn.SignInState, signIn.SignInError> = {
  streamPrefix: signIn.signInStreamPrefix,
  streamName: signIn.signInStreamName,
  decider: signIn.signInDecider,
  codec: signIn.SignInEvent,
  eventTypes: signIn.signInEventTypes,
  mapError: (error) => {
    switch (error._tag) {
      case 'ValidationFailed':
        return error;
      case 'AttemptAlreadyExists':
        return { _tag: 'Conflict', message: 'a sign-in attempt with this id already exists' };
      case 'CodeRefused':
        return { _tag: 'ValidationFailed', errors: [{ path: 'code', message: 'is not valid' }] };
      default:
        return assertNever(error);
    }
  },
};

/** Who came to a meeting: joins and leaves of its call, and the instructor's marks (see domain/attendance.ts). */
export const attendanceAggregate: Aggregate<
  attendance.AttendanceCommand,
  attendance.AttendanceEvent,
  attendance.AttendanceState,
  attendance.AttendanceError
> = {
  streamPrefix: attendance.attendanceStreamPrefix,
  streamName: attendance.attendanceStreamName,
  decider: attendance.attendanceDecider,
  codec: attendance.AttendanceEvent,
  eventTypes: attendance.attendanceEventTypes,
  mapError: (error) => {
    switch (error._tag) {
      case 'ValidationFailed':
        return error;
      case 'TooEarly':
        return { _tag: 'Conflict', message: `attendance can be marked once the session has started (${error.start})` };
      case 'MeetingIsCancelled':
        return { _tag: 'Conflict', message: 'a cancelled meeting has no attendance to mark' };
      case 'NotAParticipant':
        return notFound('participant');
      default:
        return assertNever(error);
    }
  },
};

/** One session's reminder plan (see domain/reminder.ts), written by the reminder planner and scheduler only. */
export const reminders: Aggregate<
  reminder.ReminderCommand,
  reminder.ReminderEvent,
  reminder.ReminderState,
  reminder.ReminderError
> = {
  streamPrefix: reminder.reminderStreamPrefix,
  streamName: reminder.reminderStreamName,
  decider: reminder.reminderDecider,
  codec: reminder.ReminderEvent,
  eventTypes: reminder.reminderEventTypes,
  mapError: (error) => {
    switch (error._tag) {
      case 'InvalidOffsets':
        return { _tag: 'ValidationFailed', errors: [{ path: 'offsetsSeconds', message: error.message }] };
      case 'ReminderNotPlanned':
        return notFound('reminder');
      case 'ReminderAlreadyDone':
        return { _tag: 'Conflict', message: 'the reminder was already sent or missed' };
      default:
        return assertNever(error);
    }
  },
};

/** A webhook endpoint (see domain/webhook.ts): its address, subscriptions and signing secret. */
export const webhooks: Aggregate<
  webhook.WebhookCommand,
  webhook.WebhookEvent,
  webhook.WebhookState,
  webhook.WebhookError
> = {
  streamPrefix: webhook.webhookStreamPrefix,
  streamName: webhook.webhookStreamName,
  decider: webhook.webhookDecider,
  codec: webhook.WebhookEvent,
  eventTypes: webhook.webhookEventTypesStored,
  mapError: (error) => {
    switch (error._tag) {
      case 'ValidationFailed':
        return error;
      case 'WebhookNotFound':
        return notFound('webhook');
      case 'WebhookAlreadyExists':
        return { _tag: 'Conflict', message: 'a webhook with this id already exists' };
      case 'WebhookNotEnabled':
        return { _tag: 'Conflict', message: 'the webhook is not enabled' };
      case 'TooManyRotations':
        return {
          _tag: 'Conflict',
          message: `${webhook.MAX_PREVIOUS_SECRETS} replaced secrets are still signing; rotate again after ${error.until}`,
        };
      case 'FailureStreakStale':
        return { _tag: 'Conflict', message: 'the webhook was enabled again after these failures began' };
      default:
        return assertNever(error);
    }
  },
};

/** One event delivered to one webhook endpoint (see domain/webhook-delivery.ts). */
export const webhookDeliveries: Aggregate<
  delivery.WebhookDeliveryCommand,
  delivery.WebhookDeliveryEvent,
  delivery.WebhookDeliveryState,
  delivery.WebhookDeliveryError
> = {
  streamPrefix: delivery.webhookDeliveryStreamPrefix,
  streamName: delivery.webhookDeliveryStreamName,
  decider: delivery.webhookDeliveryDecider,
  codec: delivery.WebhookDeliveryEvent,
  eventTypes: delivery.webhookDeliveryEventTypes,
  mapError: (error) => {
    switch (error._tag) {
      case 'DeliveryNotFound':
        return notFound('delivery');
      case 'DeliveryPending':
        return {
          _tag: 'Conflict',
          message: 'the delivery is still pending; it can be sent again once it is delivered or failed',
        };
      case 'DeliveryAlreadyRequested':
      case 'DeliveryNotPending':
      case 'AttemptInProgress':
      case 'AttemptNotDue':
      case 'NotCurrentAttempt':
        return { _tag: 'Conflict', message: `the delivery changed meanwhile (${error._tag}); try again` };
      default:
        return assertNever(error);
    }
  },
};

export const webhookAlerts: Aggregate<
  alert.WebhookAlertCommand,
  alert.WebhookAlertEvent,
  alert.WebhookAlertState,
  alert.WebhookAlertError
> = {
  streamPrefix: alert.webhookAlertStreamPrefix,
  streamName: alert.webhookAlertStreamName,
  decider: alert.webhookAlertDecider,
  codec: alert.WebhookAlertEvent,
  eventTypes: alert.webhookAlertEventTypes,
  mapError: (error) => {
    switch (error._tag) {
      case 'AlertNotFound':
        return notFound('alert');
      case 'AlertAlreadyRequested':
      case 'AlertNotPending':
        return { _tag: 'Conflict', message: `the alert changed meanwhile (${error._tag})` };
      default:
        return assertNever(error);
    }
  },
};

/** Every aggregate whose streams the read models project (Idempotency-Key claims are not one: see idempotency.ts). */
export const projectedAggregates = [
  meetings,
  seriesAggregate,
  people,
  settingsAggregate,
  notifications,
  calendarFeeds,
  sessions,
  identities,
  attendanceAggregate,
  reminders,
  webhooks,
  webhookDeliveries,
  webhookAlerts,
];

/**
 * The stream prefixes the log followers read, e.g. for an event store that subscribes by prefix: those of
 * `projectedAggregates`, and the schedules (which no read model projects, but the schedule reaction follows).
 */
export const projectedStreamPrefixes: ReadonlyArray<string> = [
  ...projectedAggregates.map((a) => a.streamPrefix),
  scheduleStreamPrefix,
];
