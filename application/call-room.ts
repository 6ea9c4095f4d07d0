import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import type { CallRole } from './calls.ts';
import type { AppError, RequestContext } from './execute.ts';
import type { MeetingView } from './ports/read-models.ts';

/** Who holds a seat in a meeting's call room now, on any node; `Unavailable` when the signaling bus cannot tell. */
export interface RoomOccupancy {
  occupants(
    meetingId: string,
  ): Promise<Either<{ readonly message: string }, ReadonlyArray<{ readonly userId: string; readonly role: CallRole }>>>;
}

export interface CallRoom {
  readonly participants: ReadonlyArray<{ readonly personId: string; readonly role: CallRole }>;
}

/**
 * The call room of a meeting the caller may read (its participants and staff; others get the meeting's 404): who is
 * in it now. Only the meeting's own participants are named, each once, customer first, so a lobby can say "your
 * trainer is here" and nothing else about the room leaks.
 */
export const callRoom = async (
  deps: {
    readonly getMeeting: (ctx: RequestContext, meetingId: string) => Promise<Either<AppError, MeetingView>>;
    readonly occupancy: RoomOccupancy;
  },
  ctx: RequestContext,
  meetingId: string,
): Promise<Either<AppError, CallRoom>> => {
  const meeting = await deps.getMeeting(ctx, meetingId);
  if (E.isLeft(meeting)) return meeting;
  const seats = await deps.occupancy.occupants(meetingId);
  if (E.isLeft(seats))
    return E.left({
      _tag: 'Unavailable',
      message: 'who is in the call cannot be told right now; try again in a moment',
    });
  const { customerId, instructorId } = meeting.right;
  const inRoom = (personId: string, role: CallRole) =>
    seats.right.some((seat) => seat.userId === personId && seat.role === role);
  const participants = [
    ...(inRoom(customerId, 'customer') ? [{ personId: customerId, role: 'customer' as const }] : []),
    ...(inRoom(instructorId, 'instructor') ? [{ personId: instructorId, role: 'instructor' as const }] : []),
  ];
  return E.right({ participants });
};
