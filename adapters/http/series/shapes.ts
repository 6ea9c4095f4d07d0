import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import { LIMITS, linkRule } from '../../../domain/meeting.ts';
import { seriesOptionalFields, seriesRequiredFields } from '../../../domain/series.ts';
import { INSTANT_NOTE, IsoInstant } from '../../../domain/shared.ts';
import type { AuthUser } from '../../../application/ports/access.ts';
import type { SeriesView } from '../../../application/ports/read-models.ts';
import { MeetingState, Revision, Timestamp } from '../meetings/shapes.ts';
import { BookingConflictShape } from '../problems/shapes.ts';

// ---------- bodies ----------

const seriesFields = { ...seriesRequiredFields, ...seriesOptionalFields };

export const SeriesBody = annotate(t.intersection([t.type(seriesRequiredFields), t.partial(seriesOptionalFields)]), {
  name: 'SeriesInput',
  description: 'A recurring meeting. Every occurrence becomes a meeting with its own id. Unknown fields are refused.',
  ...linkRule,
});
export const SeriesPatchBody = annotate(t.partial(seriesFields), {
  name: 'SeriesPatch',
  description:
    'Any subset of the series fields. `customerId` and `instructorId` may only repeat the current ones. A recurrence ' +
    'change (timezone, startDate, startTime, durationMinutes, rrule, exclusions) keeps the occurrences that still fall ' +
    'on the new pattern (same meeting ids), cancels future ones that no longer do (one email lists them), creates the ' +
    'new ones and never touches occurrences that have started. Other field changes reach every future occurrence ' +
    'except fields that were edited on the occurrence itself. Occurrences cancelled individually stay cancelled.',
});
export const SeriesCancelBody = annotate(
  t.partial({
    reason: annotate(t.string, {
      maxLength: LIMITS.reason,
      description: 'Why; included in the single cancellation email.',
    }),
    from: annotate(IsoInstant, {
      description: `Cancel every occurrence starting at or after this instant; default now.${INSTANT_NOTE}`,
    }),
  }),
  { name: 'SeriesCancelInput' },
);

// ---------- answers ----------

export const SeriesOccurrenceShape = annotate(
  t.type({
    meetingId: annotate(t.string, { description: 'Takes every meeting endpoint.' }),
    localDate: annotate(t.string, { format: 'date', description: 'The date in the series time zone.' }),
    start: Timestamp('When it starts (its own time when it was moved individually).'),
    end: Timestamp('When it ends.'),
    state: MeetingState,
  }),
  { name: 'SeriesOccurrence' },
);

const { remoteLink, description, customerMetadata, instructorMetadata, exclusions, rrule, ...required } = seriesFields;

export const SeriesResource = annotate(
  t.intersection([
    t.type({
      id: t.string,
      ...required,
      description,
      rrule: annotate(rrule, { description: 'The RRULE value, normalised: upper case, without `RRULE:`.' }),
      exclusions: annotate(exclusions, { description: 'Local dates on which no occurrence takes place, sorted.' }),
      state: annotate(t.keyof({ active: null, cancelled: null }), {
        description: '`cancelled` once it was cancelled from an instant that is not in the future.',
      }),
      occurrences: annotate(t.readonlyArray(SeriesOccurrenceShape), {
        description: 'Every occurrence still in the pattern, past and cancelled ones included, sorted by start.',
      }),
      createdAt: Timestamp('When it was scheduled.'),
      updatedAt: Timestamp('When it last changed.'),
      revision: Revision,
    }),
    t.partial({
      remoteLink,
      customerMetadata,
      instructorMetadata,
      cancelledFrom: Timestamp(
        'Set once the series was cancelled: occurrences from this instant on are cancelled and none are added there again.',
      ),
    }),
  ]),
  {
    name: 'Series',
    description:
      'A series as a reader sees it. `customerMetadata` is present for admins and the instructor only, ' +
      '`instructorMetadata` for admins only. The `ETag` header carries `revision`.',
    ...linkRule,
  },
);
export type SeriesResource = t.TypeOf<typeof SeriesResource>;

/** As for meetings: customer metadata for admins and the instructor, instructor metadata for admins. */
export const presentSeries = (user: AuthUser, view: SeriesView): SeriesResource => {
  const { customerMetadata, instructorMetadata, cancelledFrom, ...rest } = view;
  const admin = user.roles.includes('admin');
  return {
    ...rest,
    cancelledFrom,
    ...(admin || view.instructorId === user.id ? { customerMetadata } : {}),
    ...(admin ? { instructorMetadata } : {}),
  };
};

export const SeriesPreviewShape = annotate(
  t.type({
    occurrences: annotate(
      t.readonlyArray(
        annotate(
          t.type({
            localDate: annotate(t.string, { format: 'date', description: 'The date in the series time zone.' }),
            start: Timestamp('When it would start.'),
            end: Timestamp('When it would end.'),
            conflicts: annotate(t.readonlyArray(BookingConflictShape), {
              description: 'Existing meetings of the customer or the instructor it would overlap now; empty when free.',
            }),
          }),
          { name: 'SeriesPreviewOccurrence' },
        ),
      ),
      { description: 'Every occurrence POST /series would create for this body, sorted by start.' },
    ),
  }),
  { name: 'SeriesPreview' },
);
