import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import {
  CustomerId,
  CustomerMetadata,
  Description,
  InstructorId,
  InstructorMetadata,
  LIMITS,
  RemoteLink,
  Title,
  TrainingType,
  linkRule,
  meetingOptionalFields,
  meetingRequiredFields,
} from '../../../domain/meeting.ts';
import { IsoInstant } from '../../../domain/shared.ts';
import { TimeZoneName } from '../../../domain/time.ts';
import type { AuthUser } from '../../../application/ports/access.ts';
import type { MeetingView } from '../../../application/ports/read-models.ts';
import type { AttendanceEntry } from '../../../application/attendance.ts';
import { AttendanceEntryShape, presentAttendance } from '../attendance/shapes.ts';

// ---------- bodies ----------

export const MeetingBody = annotate(
  t.intersection([
    t.type(meetingRequiredFields),
    t.partial({ timezone: annotate(TimeZoneName, { default: 'UTC' }), ...meetingOptionalFields }),
  ]),
  { name: 'MeetingInput', description: 'A new meeting. Unknown fields are refused.', ...linkRule },
);
export const MeetingPatchBody = annotate(
  t.partial({ ...meetingRequiredFields, timezone: TimeZoneName, ...meetingOptionalFields }),
  {
    name: 'MeetingPatch',
    description:
      'Any subset of the meeting fields; absent fields keep their value. `customerId` and `instructorId` may only repeat ' +
      'the current ones (participants cannot change: cancel and schedule a new meeting). Switching to `link` needs a ' +
      '`remoteLink` unless the meeting already has one; switching to `1-1` drops it. Unknown fields are refused.',
  },
);
export const CancelBody = annotate(
  t.partial({
    reason: annotate(t.string, { maxLength: LIMITS.reason, description: 'Why; included in the cancellation email.' }),
  }),
  { name: 'CancelInput' },
);
/** Confirm and reinstate take no fields (an absent body or `{}`). */
export const NoBody = t.type({});

// ---------- answers ----------

/** When a resource was made and changed, and its revision (the `ETag`): meetings and series alike. */
export const Timestamp = (description: string) => annotate(IsoInstant, { description });
export const Revision = annotate(t.number, {
  type: 'integer',
  minimum: 0,
  description: 'Stream revision, from 0; changes with every change. The `ETag` carries it.',
});

export const MeetingState = annotate(t.keyof({ planned: null, scheduled: null, cancelled: null }), {
  name: 'MeetingState',
  description:
    'planned → scheduled (confirm); planned|scheduled → cancelled (cancel); cancelled → planned (reinstate).',
});

export const MeetingResource = annotate(
  t.intersection([
    t.type({
      id: annotate(t.string, { description: 'A UUID, or `<seriesId>_<localDate>` for an occurrence of a series.' }),
      title: Title,
      customerId: CustomerId,
      instructorId: InstructorId,
      start: meetingRequiredFields.start,
      end: meetingRequiredFields.end,
      timezone: TimeZoneName,
      trainingType: TrainingType,
      description: Description,
      state: MeetingState,
      createdAt: Timestamp('When it was scheduled.'),
      updatedAt: Timestamp('When it last changed.'),
      revision: Revision,
      attendance: annotate(t.readonlyArray(AttendanceEntryShape), {
        description:
          'Both participants, the customer first: their attendance marks and their times in the native call. Part of the `ETag`.',
      }),
    }),
    t.partial({
      seriesId: annotate(t.string, { description: 'Set when the meeting is an occurrence of a series.' }),
      remoteLink: RemoteLink,
      customerMetadata: CustomerMetadata,
      instructorMetadata: InstructorMetadata,
      cancellationReason: annotate(t.string, {
        maxLength: LIMITS.reason,
        description: 'The reason given when it was cancelled; only while cancelled.',
      }),
    }),
  ]),
  {
    name: 'MeetingView',
    description:
      'A meeting as a reader sees it. `customerMetadata` is present for admins and the instructor only, ' +
      '`instructorMetadata` for admins only. The `ETag` header carries `revision` and, once its attendance has ' +
      'events, their revision after a dot (`"4.2"`); `If-Match` pins `revision` only.',
    ...linkRule,
  },
);
export type MeetingResource = t.TypeOf<typeof MeetingResource>;

/** Hides what the caller may not read: customer metadata from the customer, instructor metadata from non-admins. */
export const presentMeeting = (
  user: AuthUser,
  view: MeetingView,
  attendance: ReadonlyArray<AttendanceEntry>,
): MeetingResource => {
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
    attendance: presentAttendance(attendance),
    ...(admin || view.instructorId === user.id ? { customerMetadata } : {}),
    ...(admin ? { instructorMetadata } : {}),
  };
};
