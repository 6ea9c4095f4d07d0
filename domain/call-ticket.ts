import * as t from 'io-ts';
import { Id, IsoInstant } from './shared.ts';

/**
 * A join ticket is stateless (signed, see application/calls.ts), so any node can check it; what makes it single use
 * across nodes is the one thing they all share, the event store: redeeming a ticket appends `CallTicketRedeemed` to
 * the ticket's own stream, expecting that stream not to exist yet. Of two redemptions on any two nodes exactly one
 * append succeeds. There is nothing to decide beyond "first wins", so there is no decider: the store's expected
 * revision is the whole rule. These streams are no aggregate the read models project (like Idempotency-Key claims).
 */

export const callTicketStreamPrefix = 'call-ticket-';
export const callTicketStreamName = (ticketId: string): string => `${callTicketStreamPrefix}${ticketId}`;

export const CallRole = t.keyof({ customer: null, instructor: null });

export const CallTicketRedeemed = t.type({
  type: t.literal('CallTicketRedeemed'),
  data: t.type({
    ticketId: t.string,
    meetingId: Id,
    userId: Id,
    role: CallRole,
    redeemedAt: IsoInstant,
  }),
});
export type CallTicketRedeemed = t.TypeOf<typeof CallTicketRedeemed>;

export const CallTicketEvent = CallTicketRedeemed;
export type CallTicketEvent = CallTicketRedeemed;
export const callTicketEventTypes: ReadonlyArray<CallTicketEvent['type']> = ['CallTicketRedeemed'];
