import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import { AttendanceStatus, ParticipantRole } from '../../../domain/attendance.ts';
import { Actor, Id, IsoInstant } from '../../../domain/shared.ts';
import type { AttendanceEntry } from '../../../application/attendance.ts';
import { MAX_VISITS } from '../../../application/projections/attendance-view.ts';

// ---------- bodies ----------

export const AttendanceBody = annotate(t.type({ status: AttendanceStatus }), {
  name: 'AttendanceInput',
  description: 'The mark to set. Unknown fields are refused.',
});

// ---------- answers ----------

const When = (description: string) => annotate(IsoInstant, { description });

export const AttendanceVisitShape = annotate(
  t.intersection([
    t.type({ joinedAt: When('When they joined the call.') }),
    t.partial({ leftAt: When('When they left it; absent while they are in it.') }),
  ]),
  { name: 'AttendanceVisit' },
);

export const AttendanceEntryShape = annotate(
  t.intersection([
    t.type({
      personId: annotate(Id, { description: 'The participant.' }),
      role: ParticipantRole,
      status: annotate(t.union([AttendanceStatus, t.null]), {
        description: '`attended` or `no-show` once the instructor or an admin marked it, else null.',
      }),
      present: annotate(t.boolean, { description: 'In the call now: joined and not left.' }),
      visits: annotate(t.readonlyArray(AttendanceVisitShape), {
        maxItems: MAX_VISITS,
        description: `Their times in the call, oldest first: the last ${MAX_VISITS}.`,
      }),
    }),
    t.partial({
      markedBy: annotate(Actor, { description: 'Who set the mark.' }),
      markedAt: When('When the mark was set.'),
    }),
  ]),
  {
    name: 'AttendanceEntry',
    description: "One participant's attendance: their mark and their comings and goings in the native call.",
  },
);
export type AttendanceEntryShape = t.TypeOf<typeof AttendanceEntryShape>;

// The application's entries are answered as they are: the compiler holds them to the documented shape.
export const presentAttendance = (entries: ReadonlyArray<AttendanceEntry>): ReadonlyArray<AttendanceEntryShape> =>
  entries;
