import type { Either } from 'fp-ts/lib/Either.js';

export interface MailAttachment {
  readonly filename: string;
  /** Text content (an .ics is text); adapters encode it as the provider needs. */
  readonly content: string;
  readonly contentType: string;
}

export interface MailMessage {
  /** Same key for every attempt at the same email, so the provider sends it at most once. */
  readonly idempotencyKey: string;
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly attachments: ReadonlyArray<MailAttachment>;
}

export interface MailError {
  /** 429, 5xx, network errors and timeouts are worth retrying; other refusals are not. */
  readonly retryable: boolean;
  readonly status?: number;
  readonly message: string;
}

export interface MailSent {
  readonly providerMessageId: string;
}

export interface Mailer {
  readonly name: string;
  send(message: MailMessage, options?: { readonly signal?: AbortSignal }): Promise<Either<MailError, MailSent>>;
}

/** The cancelled occurrence of an iCalendar CANCEL (RFC 5546). */
export interface CalendarCancellationEvent {
  readonly meetingId: string;
  readonly sequence: number;
  readonly start: string;
  readonly end: string;
  readonly title: string;
  readonly description?: string;
  /** Where an outside meeting takes place (REQUEST): its link, written once, as LOCATION (RFC 5545 §3.8.7.1). */
  readonly location?: string;
  /** The session's page in this app (REQUEST, a call here): written once, as URL (RFC 5545 §3.8.4.6). */
  readonly url?: string;
  /** REQUEST: `planned` (not confirmed yet) is TENTATIVE, as the calendar feed writes it; else CONFIRMED. */
  readonly state?: 'planned' | 'scheduled';
}

/** A calendar user: a display name (CN) and an email address (the `mailto:` URI). */
export interface CalendarUser {
  readonly name?: string;
  readonly email: string;
}

/**
 * One iTIP CANCEL object: RFC 5546 §3.2.5 cancels the components of one UID per object, so a series cancellation
 * is one of these per cancelled session.
 */
export interface CalendarCancellation {
  /**
   * `CANCEL` (the default: the session is off) or `REQUEST` (RFC 5546 §3.2.2: a new or changed session, the same UID
   * with a higher SEQUENCE, which calendar apps apply to the event they have or add).
   */
  readonly method?: 'CANCEL' | 'REQUEST';
  readonly event: CalendarCancellationEvent;
  /**
   * The session's instructor, its organizer as the calendar feed names it; without an address the builder names the
   * site's sender instead, as the feed does.
   */
  readonly instructor: { readonly name?: string; readonly email?: string };
  readonly attendee: CalendarUser;
  /** DTSTAMP: when this calendar object was made. */
  readonly stamp: string;
}

/** Builds the text of a `METHOD:CANCEL` calendar object; a Left explains why it could not be built. */
export type CalendarCancellationBuilder = (input: CalendarCancellation) => Either<string, string>;
