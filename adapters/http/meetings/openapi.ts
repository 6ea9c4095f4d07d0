/** The operations of `/meetings` in the OpenAPI document; openapi/builder.ts adds the answers they share. */

import { body, header, json, operation, param, reply, response, responseSaying } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import { CancelBody, MeetingBody, MeetingPatchBody, MeetingResource } from './shapes.ts';
import { HistoryShape } from '../history/shapes.ts';

/** The example meeting's fields as a client sends them, its times in UTC as the server answers them. */
const exampleFields = {
  title: 'Strength basics',
  customerId: 'cust-42',
  instructorId: 'inst-7',
  start: '2026-03-02T09:00:00.000Z',
  end: '2026-03-02T10:00:00.000Z',
  timezone: 'Europe/Amsterdam',
  trainingType: '1-1',
  description: 'Bring a towel.',
  customerMetadata: 'crm:8812',
  instructorMetadata: 'payroll:77',
};

export const exampleMeeting = {
  id: '0b9f7a52-3c1e-4b7e-9a53-6f1d2c4e8a10',
  ...exampleFields,
  state: 'planned',
  createdAt: '2026-02-20T14:03:11.204Z',
  updatedAt: '2026-02-20T14:03:11.204Z',
  revision: 0,
  attendance: [
    { personId: 'cust-42', role: 'customer', status: null, present: false, visits: [] },
    { personId: 'inst-7', role: 'instructor', status: null, present: false, visits: [] },
  ],
};

const exampleMeetingInput = { ...exampleFields, start: '2026-03-02T10:00:00+01:00', end: '2026-03-02T11:00:00+01:00' };

const exampleLinkMeetingInput = {
  title: 'Mobility check-in',
  customerId: 'cust-42',
  instructorId: 'inst-7',
  start: '2026-03-04T17:30:00Z',
  end: '2026-03-04T18:00:00Z',
  trainingType: 'link',
  remoteLink: 'https://meet.example.com/abc-defg-hij',
};

const exampleActor = { id: 'inst-7', roles: ['instructor'] };

const exampleHistory = {
  events: [
    {
      revision: 0,
      position: 118,
      type: 'MeetingScheduled',
      at: '2026-02-20T14:03:11.204Z',
      actor: exampleActor,
      data: {
        meetingId: exampleMeeting.id,
        ...exampleFields,
        at: '2026-02-20T14:03:11.204Z',
        by: exampleActor,
      },
    },
    {
      revision: 1,
      position: 131,
      type: 'SessionCancelled',
      at: '2026-02-25T08:12:40.019Z',
      actor: exampleActor,
      data: {
        meetingId: exampleMeeting.id,
        origin: 'meeting',
        reason: 'Instructor is ill',
        at: '2026-02-25T08:12:40.019Z',
        by: exampleActor,
      },
    },
  ],
};

const meetingResponse = (schema: SchemaOf, description: string, example: unknown = exampleMeeting): Json =>
  reply(description, json(schema(MeetingResource), example), { ETag: header('ETag') });

const meetingTransition = (
  schema: SchemaOf,
  operationId: string,
  summary: string,
  description: string,
  conflict: string,
  requestBody?: Json,
): Json =>
  operation({
    operationId,
    summary,
    description: `${description} Admins and the meeting's instructor only.`,
    tags: ['meetings'],
    parameters: [param('MeetingId'), param('IfMatch')],
    idempotent: 'replay',
    requestBody,
    responses: {
      '200': meetingResponse(schema, 'The meeting after the change.'),
      '403': response('Forbidden'),
      '404': response('NotFound'),
      '409': responseSaying('Conflict', conflict),
      '412': response('PreconditionFailed'),
    },
  });

const meetingsPath = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'createMeeting',
    idempotent: 'replay',
    summary: 'Schedule a meeting',
    description:
      'Admins for anyone; instructors for their own sessions (`instructorId` = their `sub`). The meeting starts `planned`. ' +
      'Both people must be known (by default: in the people directory); an unknown `customerId` or `instructorId` answers 400 naming it.',
    tags: ['meetings'],
    requestBody: {
      required: true,
      description: 'The meeting.',
      content: {
        'application/json': {
          schema: schema(MeetingBody),
          examples: {
            native: { summary: 'A native 1-1 call', value: exampleMeetingInput },
            link: { summary: 'An outside meeting link', value: exampleLinkMeetingInput },
          },
        },
      },
    },
    responses: {
      '201': reply('Created.', json(schema(MeetingResource), exampleMeeting), {
        ETag: header('ETag'),
        Location: header('Location'),
      }),
      '403': response('Forbidden'),
      '409': response('Conflict'),
    },
  }),
});

const meetingsIdPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getMeeting',
    summary: 'Read a meeting',
    description: 'Admins, its customer and its instructor.',
    tags: ['meetings'],
    parameters: [param('MeetingId'), param('IfNoneMatch')],
    responses: {
      '200': meetingResponse(schema, 'The meeting.'),
      '304': reply('Not modified: the ETag in `If-None-Match` is current.', undefined, { ETag: header('ETag') }),
      '404': response('NotFound'),
    },
  }),
  patch: operation({
    operationId: 'updateMeeting',
    summary: 'Change a meeting',
    description:
      'Change any editable field. Admins and its instructor. A cancelled meeting cannot be changed (409): reinstate it first.',
    tags: ['meetings'],
    parameters: [param('MeetingId'), param('IfMatch')],
    requestBody: body(schema(MeetingPatchBody), 'The fields to change.', {
      start: '2026-03-02T11:00:00+01:00',
      end: '2026-03-02T12:00:00+01:00',
    }),
    responses: {
      '200': meetingResponse(schema, 'The meeting after the change.', {
        ...exampleMeeting,
        start: '2026-03-02T10:00:00.000Z',
        end: '2026-03-02T11:00:00.000Z',
        revision: 1,
      }),
      '403': response('Forbidden'),
      '404': response('NotFound'),
      '409': response('Conflict'),
      '412': response('PreconditionFailed'),
    },
  }),
});

const meetingsIdCancelPath = (schema: SchemaOf): Json => ({
  post: meetingTransition(
    schema,
    'cancelMeeting',
    'Cancel a meeting',
    'planned or scheduled → cancelled. The customer is notified by email (see settings).',
    'The meeting is already cancelled.',
    body(schema(CancelBody), 'Optional; an empty body is fine.', { reason: 'Instructor is ill' }, false),
  ),
});

const meetingsIdConfirmPath = (schema: SchemaOf): Json => ({
  post: meetingTransition(
    schema,
    'confirmMeeting',
    'Confirm a meeting',
    'planned → scheduled.',
    'The meeting is not planned.',
  ),
});

const meetingsIdReinstatePath = (schema: SchemaOf): Json => ({
  post: meetingTransition(
    schema,
    'reinstateMeeting',
    'Reinstate a cancelled meeting',
    'cancelled → planned.',
    'The meeting is not cancelled.',
  ),
});

const meetingsIdHistoryPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getMeetingHistory',
    summary: 'Audit history of a meeting',
    description:
      'Every recorded event of the meeting and of its attendance (`ParticipantJoined`, `ParticipantLeft`, ' +
      '`AttendanceMarked`), in the order the log has them, oldest first, with who and when. Admins, auditors, its ' +
      'customer and its instructor. Pages: `after` is the place in this order of the last entry seen (the `next` of ' +
      'the previous page), which equals its revision while the attendance has no events.',
    tags: ['meetings'],
    parameters: [param('MeetingId'), param('HistoryAfter'), param('HistoryLimit')],
    responses: {
      '200': reply('The history.', json(schema(HistoryShape), exampleHistory)),
      '400': response('BadRequest'),
      '404': response('NotFound'),
    },
  }),
});

export const meetingPaths: PathsOf = (schema) => ({
  '/meetings': meetingsPath(schema),
  '/meetings/{id}': meetingsIdPath(schema),
  '/meetings/{id}/cancel': meetingsIdCancelPath(schema),
  '/meetings/{id}/confirm': meetingsIdConfirmPath(schema),
  '/meetings/{id}/reinstate': meetingsIdReinstatePath(schema),
  '/meetings/{id}/history': meetingsIdHistoryPath(schema),
});
