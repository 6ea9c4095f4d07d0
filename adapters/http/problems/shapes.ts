import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import { IsoInstant } from '../../../domain/shared.ts';

/** What every error answer is: RFC 9457 problem details (app.ts `problem`, `appErrorResponse`). */

const When = (description: string) => annotate(IsoInstant, { description });
const Integer = (notes: { description?: string; minimum?: number; maximum?: number } = {}) =>
  annotate(t.number, { type: 'integer', ...notes });

export const FieldErrorShape = annotate(
  t.type({
    path: annotate(t.string, {
      description: 'Dotted path of the field (`notifications.cancellation.subject`), or `(body)`.',
    }),
    message: t.string,
  }),
  { name: 'FieldError' },
);

export const BookingConflictShape = annotate(
  t.intersection([
    t.type({
      participant: annotate(t.keyof({ customer: null, instructor: null }), {
        description:
          "Whose meeting it is: the requested customer's or the requested instructor's (in either role there).",
      }),
      userId: annotate(t.string, { description: "That participant's user id." }),
      slot: t.type({ start: When('Start of the requested time that collides.'), end: When('Its end.') }),
    }),
    t.partial({
      meetingId: annotate(t.string, { description: 'The existing meeting; only when the caller may see it.' }),
      start: When('When it starts; only when the caller may see it.'),
      end: When('When it ends; only when the caller may see it.'),
    }),
  ]),
  {
    name: 'BookingConflict',
    description: 'A non-cancelled meeting of the same customer or instructor that overlaps the requested time.',
  },
);

export const Problem = annotate(
  t.intersection([
    t.type({
      type: annotate(t.string, {
        format: 'uri-reference',
        description: '`about:blank`: `status` and `title` say what kind of problem it is.',
      }),
      title: annotate(t.string, {
        description: 'Short summary of the kind of problem (`Validation failed`, `Not found`, `Conflict`, …).',
      }),
      status: Integer({ minimum: 400, maximum: 599 }),
      detail: annotate(t.string, { description: 'What went wrong with this request.' }),
    }),
    t.partial({
      errors: annotate(t.array(FieldErrorShape), {
        description:
          'Per-field problems of a 400 validation failure (not of malformed JSON or a malformed `If-Match`).',
      }),
      conflicts: annotate(t.array(BookingConflictShape), {
        minItems: 1,
        description: 'The existing meetings that a booking would overlap (409 double booking), sorted by start.',
      }),
      currentRevision: Integer({ description: 'The revision the resource is at (412).' }),
      opensAt: When(
        "409 on a join that is too early: when joining opens. `detail` tells it in the meeting's zone; a client can show this instant in its viewer's zone.",
      ),
    }),
  ]),
  {
    name: 'Problem',
    description: 'RFC 9457 problem details.',
    allOf: [
      { if: { properties: { status: { const: 412 } }, required: ['status'] }, then: { required: ['currentRevision'] } },
    ],
  },
);
export type Problem = t.TypeOf<typeof Problem>;
