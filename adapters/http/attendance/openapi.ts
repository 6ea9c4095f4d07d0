/** `PUT /meetings/{id}/attendance/{personId}` in the OpenAPI document. */

import { body, json, operation, param, reply, response, responseSaying } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import { Id } from '../../../domain/shared.ts';
import { AttendanceBody, AttendanceEntryShape } from './shapes.ts';

export const exampleAttendanceEntry = {
  personId: 'cust-42',
  role: 'customer',
  status: 'attended',
  markedBy: { id: 'inst-7', roles: ['instructor'] },
  markedAt: '2026-03-02T10:05:12.311Z',
  present: false,
  visits: [{ joinedAt: '2026-03-02T08:58:40.102Z', leftAt: '2026-03-02T09:57:03.877Z' }],
};

const meetingsIdAttendancePath = (schema: SchemaOf): Json => ({
  put: operation({
    operationId: 'markAttendance',
    summary: "Mark a participant's attendance",
    description:
      "The meeting's instructor and admins: `attended` or `no-show` for its customer or its instructor, once the " +
      'session has started (409 before, and for a cancelled meeting). The mark may be changed; the same mark again ' +
      'changes nothing. Customers and auditors get 403; anyone who may not see the meeting, 404. Every mark is in ' +
      "the meeting's history and the audit log.",
    tags: ['meetings'],
    parameters: [
      param('MeetingId'),
      {
        name: 'personId',
        in: 'path',
        required: true,
        description: "The participant: the meeting's `customerId` or `instructorId` (anyone else: 404).",
        schema: schema(Id),
      },
    ],
    requestBody: body(schema(AttendanceBody), 'The mark.', { status: 'attended' }),
    responses: {
      '200': reply(
        "The participant's attendance after the mark.",
        json(schema(AttendanceEntryShape), exampleAttendanceEntry),
      ),
      '403': response('Forbidden'),
      '404': response('NotFound'),
      '409': responseSaying('Conflict', 'The session has not started yet, or the meeting is cancelled.'),
    },
  }),
});

export const attendancePaths: PathsOf = (schema) => ({
  '/meetings/{id}/attendance/{personId}': meetingsIdAttendancePath(schema),
});
