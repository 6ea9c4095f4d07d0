/** The operations of `/people` in the OpenAPI document. */

import { body, json, operation, param, reply, response } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import { PersonBody, PersonResource } from './shapes.ts';

const peopleIdPath = (schema: SchemaOf): Json => ({
  put: operation({
    operationId: 'putPerson',
    summary: 'Create or update a person in the directory',
    description: 'The directory gives names for calendars and addresses for notifications. Admins only.',
    tags: ['people'],
    parameters: [param('PersonId')],
    requestBody: body(schema(PersonBody), 'The person.', {
      name: 'Casey Customer',
      email: 'casey@example.com',
      timezone: 'Europe/Amsterdam',
    }),
    responses: {
      '200': reply(
        'The person as stored.',
        json(schema(PersonResource), {
          id: 'cust-42',
          name: 'Casey Customer',
          email: 'casey@example.com',
          timezone: 'Europe/Amsterdam',
          updatedAt: '2026-02-20T14:00:00.000Z',
        }),
      ),
      '403': response('Forbidden'),
      '409': {
        ...response('Conflict'),
        description: 'Too many concurrent changes to this person; try again.',
      },
    },
  }),
  get: operation({
    operationId: 'getPerson',
    summary: 'Read a person',
    description:
      'Admins read anyone; others only themselves (anyone else answers 403, whether or not the person exists).',
    tags: ['people'],
    parameters: [param('PersonId')],
    responses: {
      '200': reply(
        'The person.',
        json(schema(PersonResource), {
          id: 'cust-42',
          name: 'Casey Customer',
          email: 'casey@example.com',
          updatedAt: '2026-02-20T14:00:00.000Z',
        }),
      ),
      '403': response('Forbidden'),
      '404': response('NotFound'),
    },
  }),
});

export const peoplePaths: PathsOf = (schema) => ({
  '/people/{id}': peopleIdPath(schema),
});
