import * as t from 'io-ts';
import { meetingOptionalFields, meetingRequiredFields } from '../../../domain/meeting.ts';
import type { AuthUser } from '../../../application/ports/access.ts';
import type { MeetingView } from '../../../application/ports/read-models.ts';

export const MeetingBody = t.intersection([
  t.type(meetingRequiredFields),
  t.partial({ timezone: t.string, ...meetingOptionalFields }),
]);
export const MeetingPatchBody = t.partial({ ...meetingRequiredFields, timezone: t.string, ...meetingOptionalFields });
export const CancelBody = t.partial({ reason: t.string });
/** Confirm and reinstate take no fields (an absent body or `{}`). */
export const NoBody = t.type({});

/** Hides what the caller may not read: customer metadata from the customer, instructor metadata from non-admins. */
export const presentMeeting = (user: AuthUser, view: MeetingView) => {
  const {
    individuallyEdited: _edited,
    cancelledBy: _by,
    sequence: _sequence,
    customerMetadata,
    instructorMetadata,
    ...rest
  } = view;
  const admin = user.roles.includes('admin');
  return {
    ...rest,
    ...(admin || view.instructorId === user.id ? { customerMetadata } : {}),
    ...(admin ? { instructorMetadata } : {}),
  };
};
