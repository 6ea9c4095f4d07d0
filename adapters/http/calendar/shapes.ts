import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import { TrainingType } from '../../../domain/meeting.ts';
import { AttendanceStatus } from '../../../domain/attendance.ts';
import { Id, IsoInstant } from '../../../domain/shared.ts';
import { TimeZoneName } from '../../../domain/time.ts';
import { MeetingState } from '../meetings/shapes.ts';
import type { CalendarEntry } from '../../../application/ports/read-models.ts';

export const CalendarQuery = t.intersection([
  t.type({ from: IsoInstant, to: IsoInstant }),
  t.partial({ userId: t.string }),
]);
export const FeedBody = annotate(
  t.partial({
    userId: annotate(Id, { description: 'Whose feed; default the caller. Only admins may name someone else.' }),
  }),
  { name: 'CalendarFeedInput' },
);
export const FeedQuery = t.partial({ userId: t.string });

const When = (description: string) => annotate(IsoInstant, { description });

export const CalendarItem = annotate(
  t.intersection([
    t.type({
      meetingId: t.string,
      title: t.string,
      start: When('When it starts.'),
      end: When('When it ends.'),
      timezone: TimeZoneName,
      state: MeetingState,
      trainingType: TrainingType,
      role: annotate(t.keyof({ customer: null, instructor: null }), {
        description: "The calendar owner's part in this meeting.",
      }),
      customerId: t.string,
      instructorId: t.string,
    }),
    t.partial({
      seriesId: t.string,
      counterpartName: annotate(t.string, {
        description: 'Name of the other participant, when the people directory knows it.',
      }),
      attendance: annotate(AttendanceStatus, {
        description: "The customer's attendance mark, once the instructor or an admin set one.",
      }),
    }),
  ]),
  { name: 'CalendarItem' },
);

export const CalendarAnswer = annotate(
  t.type({
    items: annotate(t.readonlyArray(CalendarItem), {
      description: 'Sorted by start; cancelled meetings included.',
    }),
  }),
  { name: 'Calendar' },
);
export type CalendarAnswer = t.TypeOf<typeof CalendarAnswer>;

export const FeedSubscription = annotate(
  t.type({
    url: annotate(t.string, {
      format: 'uri',
      description: 'The secret feed URL to paste into a calendar app (`<PUBLIC_BASE_URL>/calendar.ics?token=…`).',
    }),
    token: annotate(t.string, {
      pattern: '^[A-Za-z0-9_-]{43}$',
      description: 'The secret in the URL (256 random bits, base64url). Shown once: the server keeps only its SHA-256.',
    }),
  }),
  { name: 'CalendarFeedSubscription' },
);

// Calendar entries are answered as they are: the compiler holds them to the documented shape.
const _calendarAnswerFits = (items: ReadonlyArray<CalendarEntry>): CalendarAnswer => ({ items });
