/** The operations of `/people` in the OpenAPI document. */

import { body, json, operation, param, reply, response } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import {
  DEFAULT_PEOPLE_PAGE,
  MAX_PEOPLE_PAGE,
  MAX_PEOPLE_QUERY_LENGTH,
  DEFAULT_NAME_LOOKUP,
  MAX_NAME_LOOKUP,
  MAX_IMPORT_BODY_BYTES,
  MAX_IMPORT_LINES,
  MeResource,
  PeopleImportItem,
  PeopleImportReport,
  PersonBody,
  PersonNameList,
  PersonList,
  PersonResource,
} from './shapes.ts';
import { Role } from '../../../domain/shared.ts';

const examplePerson = {
  id: 'cust-42',
  name: 'Casey Customer',
  email: 'casey@example.com',
  timezone: 'Europe/Amsterdam',
  language: 'nl',
  roles: ['customer'],
  active: true,
  updatedAt: '2026-02-20T14:00:00.000Z',
};

const queryParam = (name: string, description: string, schema: Json): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

const peoplePath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'listPeople',
    summary: 'List and search the people directory',
    description:
      'Admins and auditors only. Ordered by name (case folded), then id; page with `cursor`. Unknown or repeated ' +
      'parameters answer 400 naming them.',
    tags: ['people'],
    parameters: [
      queryParam('query', 'A prefix of the name or the address, any case (`%` and `_` match only themselves).', {
        type: 'string',
        maxLength: MAX_PEOPLE_QUERY_LENGTH,
      }),
      queryParam('role', 'Only people with this role.', schema(Role)),
      queryParam('active', 'Only active (`true`) or deactivated (`false`) people.', {
        type: 'string',
        enum: ['true', 'false'],
      }),
      queryParam('cursor', 'The `next` of the previous page.', { type: 'string', maxLength: 1024 }),
      queryParam('limit', `At most this many (default ${DEFAULT_PEOPLE_PAGE}, at most ${MAX_PEOPLE_PAGE}).`, {
        type: 'integer',
        minimum: 1,
        maximum: MAX_PEOPLE_PAGE,
        default: DEFAULT_PEOPLE_PAGE,
      }),
    ],
    responses: {
      '200': reply('A page of people.', json(schema(PersonList), { items: [examplePerson] })),
      '400': response('BadRequest'),
      '403': response('Forbidden'),
    },
  }),
});

const mePath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getMe',
    summary: 'Who the caller is',
    description:
      'Any authenticated caller: the id and roles their token gives, a join link’s `scope`, and their directory ' +
      'entry when they have one (`inDirectory`).',
    tags: ['people'],
    responses: {
      '200': reply(
        'The caller.',
        json(schema(MeResource), {
          id: 'cust-42',
          roles: ['customer'],
          inDirectory: true,
          name: 'Casey Customer',
          email: 'casey@example.com',
          timezone: 'Europe/Amsterdam',
          language: 'nl',
          active: true,
        }),
      ),
    },
  }),
});

const peopleIdPath = (schema: SchemaOf): Json => ({
  put: operation({
    operationId: 'putPerson',
    summary: 'Create or update a person in the directory',
    description:
      'The directory gives names for calendars and addresses for notifications, and the roles and active flag ' +
      'sign-in goes by. Admins only; nobody changes their own `roles` or `active` (403 naming the field). A body ' +
      'without `roles`, `active` or `language` leaves them as they are.',
    tags: ['people'],
    parameters: [param('PersonId')],
    requestBody: body(schema(PersonBody), 'The person.', {
      name: 'Casey Customer',
      email: 'casey@example.com',
      timezone: 'Europe/Amsterdam',
      language: 'nl',
      roles: ['customer'],
    }),
    responses: {
      '200': reply('The person as stored.', json(schema(PersonResource), examplePerson)),
      '403': response('Forbidden'),
      '409': {
        ...response('Conflict'),
        description:
          'Another person already has this address (case folded; the detail names `email`), or too many concurrent ' +
          'changes to this person; try again.',
      },
    },
  }),
  get: operation({
    operationId: 'getPerson',
    summary: 'Read a person',
    description:
      'Admins and auditors read anyone; others only themselves (anyone else answers 403, whether or not the person ' +
      'exists).',
    tags: ['people'],
    parameters: [param('PersonId')],
    responses: {
      '200': reply('The person.', json(schema(PersonResource), examplePerson)),
      '403': response('Forbidden'),
      '404': response('NotFound'),
    },
  }),
});

const directoryNamesPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'lookupNames',
    summary: 'Look up active people by name, for pickers',
    description:
      'Admins and auditors look up anyone (optionally by `role`); instructors look up customers only (another ' +
      '`role` answers 403), so they can book a member by name. Customers: 403. Only active people, ordered by name, ' +
      'and only their id, name and time zone (no address, no roles). `query` matches the start of the name, any case ' +
      '(never the address). Unknown or repeated parameters answer 400 naming them.',
    tags: ['people'],
    parameters: [
      queryParam('query', 'A prefix of the name, any case.', { type: 'string', maxLength: MAX_PEOPLE_QUERY_LENGTH }),
      queryParam('role', 'Only people with this role (instructors: only `customer`).', schema(Role)),
      queryParam('limit', `At most this many (default ${DEFAULT_NAME_LOOKUP}, at most ${MAX_NAME_LOOKUP}).`, {
        type: 'integer',
        minimum: 1,
        maximum: MAX_NAME_LOOKUP,
        default: DEFAULT_NAME_LOOKUP,
      }),
    ],
    responses: {
      '200': reply(
        'The people found.',
        json(schema(PersonNameList), {
          items: [{ id: 'cust-42', name: 'Casey Customer', timezone: 'Europe/Amsterdam' }],
        }),
      ),
      '400': response('BadRequest'),
      '403': response('Forbidden'),
    },
  }),
});

const importCsvExample =
  'id,name,email,timezone,language,roles,active,external id,member level\r\n' +
  'cust-42,Casey Customer,casey@example.com,Europe/Amsterdam,nl,customer,true,CRM-0042,gold\r\n' +
  'inst-7,Ivy Instructor,ivy@example.com,America/New_York,en,instructor;customer,,,\r\n';

const importPath = (schema: SchemaOf): Json => {
  const importItem = schema(PeopleImportItem);
  return {
    post: operation({
      operationId: 'importPeople',
      summary: 'Import people from a CSV or JSON export',
      description:
        'Admins only (a non-admin is refused before the body is read; while the read models are not ready, one 503). ' +
        'Each line is merged into the entry the directory keeps and recorded as `PUT /people/{id}` would record it ' +
        '(the same rules, one address per person), in file order; a line that would change nothing records nothing, so the same file twice changes ' +
        "nothing the second time. Bad lines (and lines repeating an earlier line's id or address) are reported with " +
        'their reasons, the others imported all the same. `text/csv`: a header line, then one person a line; the ' +
        'columns `id`, `name`, `email` (required), `timezone`, `language`, `roles` (separated by `;`, `|` or `,`), ' +
        "`active` (true/false, yes/no, 1/0) and `external id` are the person's, any other column a CRM field; names in " +
        'any case, with spaces, `_` or `-`; `;` or tab may separate. For a person the directory has, what a line ' +
        'leaves out or empty (a missing column, an empty cell, a field a JSON item omits or gives as `""`) stays as ' +
        'it is, each CRM field and `external id` on its own (the record is merged per column, never replaced); ' +
        "clearing a value is `PUT /people/{id}`'s. A value may not span lines. `application/json`: an array of " +
        `\`PUT /people/{id}\` bodies with their \`id\`, or \`{"people": [...]}\`. At most ${MAX_IMPORT_LINES} people ` +
        `and ${MAX_IMPORT_BODY_BYTES / 1024} KiB (larger files: \`npm run import\`). A file that cannot be read at all ` +
        '(no header, a required column missing, not JSON, too many people) answers 400 naming `(body)`. Repeated with ' +
        'its `Idempotency-Key`, the first report comes again, unless it was larger than 256 KiB (then 409 `Answer not ' +
        'repeated`: send the file again without the key; what was imported already is unchanged).',
      tags: ['people'],
      idempotent: 'replay',
      parameters: [
        queryParam('dryRun', 'true: decide every line against the directory as it is, and write nothing.', {
          type: 'string',
          enum: ['true', 'false'],
          default: 'false',
        }),
      ],
      requestBody: {
        required: true,
        description: 'The people, as the site exports them.',
        content: {
          'text/csv': { schema: { type: 'string', maxLength: MAX_IMPORT_BODY_BYTES }, example: importCsvExample },
          'application/json': {
            schema: {
              oneOf: [
                { type: 'array', maxItems: MAX_IMPORT_LINES, items: importItem },
                {
                  type: 'object',
                  required: ['people'],
                  properties: { people: { type: 'array', maxItems: MAX_IMPORT_LINES, items: importItem } },
                },
              ],
            },
            example: [{ id: 'cust-42', name: 'Casey Customer', email: 'casey@example.com', roles: ['customer'] }],
          },
        },
      },
      responses: {
        '200': reply(
          'What the import did (or would do): the counts and every bad line.',
          json(schema(PeopleImportReport), {
            dryRun: false,
            lines: 3,
            created: 1,
            updated: 0,
            unchanged: 1,
            bad: [{ line: 4, id: 'x-9', errors: [{ path: 'email', message: 'must be an email address' }] }],
          }),
        ),
        '403': response('Forbidden'),
      },
    }),
  };
};

export const peoplePaths: PathsOf = (schema) => ({
  '/people': peoplePath(schema),
  '/people/import': importPath(schema),
  '/people/{id}': peopleIdPath(schema),
  '/me': mePath(schema),
  '/directory/names': directoryNamesPath(schema),
});
