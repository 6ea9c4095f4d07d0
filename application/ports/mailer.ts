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

/** One cancelled occurrence in an iCalendar CANCEL (RFC 5546). */
export interface CalendarCancellationEvent {
  readonly meetingId: string;
  readonly sequence: number;
  readonly start: string;
  readonly end: string;
  readonly title: string;
  readonly description?: string;
}

export interface CalendarCancellation {
  readonly events: ReadonlyArray<CalendarCancellationEvent>;
  /** The sender (`Name <address>` or a bare address). */
  readonly organizer: string;
  readonly attendee: { readonly name?: string; readonly email: string };
  /** DTSTAMP: when this calendar object was made. */
  readonly stamp: string;
}

/** Builds the text of a `METHOD:CANCEL` calendar object; a Left explains why it could not be built. */
export type CalendarCancellationBuilder = (input: CalendarCancellation) => Either<string, string>;
