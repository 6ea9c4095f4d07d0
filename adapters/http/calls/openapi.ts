/** The operations of joining a call in the OpenAPI document: the join answer, the call page and its files, the origin check. */

import { header, json, operation, param, reply, response, fileParameter } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import { staticFileNames } from '../static.ts';
import { CallRoomShape, JoinAnswerShape, OriginVerdict } from './shapes.ts';

/** What a ticket looks like (signed with a throwaway key): its payload, a dot, its MAC. */
const EXAMPLE_TICKET =
  'eyJwdXJwb3NlIjoiY2FsbC1qb2luIiwidiI6MSwianRpIjoiM3E3ejBmTnJYQjVlS2hYd3BEeVp4ZyIsInN1YiI6ImN1c3QtNDIiLCJtZWV0aW5nIjoiYjJmNGUxYzAtN2E2NS00ZDFhLTkzMGQtNWMwY2FmZjEyZTM0Iiwicm9sZSI6ImN1c3RvbWVyIiwiZXhwIjoxNzcyNDQxNDYwMDAwfQ.' +
  'bGJzIKmUFC4jglo-gNJekyuTpeE6DQzJVNjl5e3cl3Y';

/** What a join link looks like (signed with a throwaway key): the call page, the token in the fragment. */
const EXAMPLE_LINK =
  'https://coaching.example.com/call?meeting=b2f4e1c0-7a65-4d1a-930d-5c0caff12e34#link=jl1.' +
  'eyJzdWIiOiJjdXN0LTQyIiwibSI6ImIyZjRlMWMwLTdhNjUtNGQxYS05MzBkLTVjMGNhZmYxMmUzNCIsInIiOiJjdXN0b21lciIsImV4cCI6MTc3MjQ0MjAwMDAwMCwiZSI6MX0.' +
  'cdAgim2yD3jesgw3M2zvB304xRVOd_NFCVefBSCbmVk';

const meetingsIdJoinPath = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'joinMeeting',
    summary: 'Join the call of a meeting',
    description:
      'For its customer and its instructor only: admins manage meetings but do not join them, so for anyone else ' +
      'the meeting answers 404. A `link` meeting answers the remote link; a `1-1` meeting answers a signed, single-use ' +
      'signaling ticket (60 s, redeemable once on any node) with ICE servers and ephemeral TURN credentials. The call may be joined from 15 ' +
      "minutes before the start until the end. Either answer carries `link`, the caller's own join link. Answers are `Cache-Control: no-store`. " +
      'A join link (`jl1.…`) is accepted as the bearer token here and for `GET /meetings/{id}` and `GET /meetings/{id}/room` of its own meeting only ' +
      "(anything else: 403), until the meeting's end (then 401).",
    tags: ['calls'],
    parameters: [param('MeetingId')],
    responses: {
      '200': {
        description: 'How to join.',
        headers: { 'X-Request-Id': header('XRequestId'), 'Cache-Control': header('NoStore') },
        content: {
          'application/json': {
            schema: schema(JoinAnswerShape),
            examples: {
              link: {
                summary: 'A link meeting',
                value: {
                  mode: 'link',
                  url: 'https://meet.example.com/abc-defg-hij',
                  role: 'customer',
                  link: EXAMPLE_LINK,
                },
              },
              native: {
                summary: 'A native call',
                value: {
                  mode: 'native',
                  link: EXAMPLE_LINK,
                  signalingUrl: 'wss://coaching.example.com/signaling',
                  ticket: EXAMPLE_TICKET,
                  iceServers: [
                    { urls: ['stun:stun.l.google.com:19302'] },
                    {
                      urls: ['turn:turn.example.com:3478'],
                      username: '1772442000:cust-42',
                      credential: 'q3mY0m3b2d7Jx5y4K0bYJmX0m2E=',
                    },
                  ],
                  role: 'customer',
                  debugLevel: 0,
                  expiresAt: '2026-03-02T08:51:00.000Z',
                },
              },
            },
          },
        },
      },
      '403': {
        ...response('Forbidden'),
        description: 'An admin: admins see the meeting, but only its two participants join the call.',
      },
      '404': {
        ...response('NotFound'),
        description: 'No such meeting, the caller may not see it, or calls are not enabled on this server.',
      },
      '409': {
        ...response('Conflict'),
        description:
          'The meeting is cancelled, or it is outside the join window (more than 15 minutes before the start, or ended).',
      },
    },
  }),
});

const meetingsIdRoomPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getCallRoom',
    summary: "Who is in a meeting's call now",
    description:
      "For whoever may read the meeting (its participants, admins and auditors; others get 404), also with the meeting's " +
      'join link: which of its two participants hold a seat in its call room right now, on any node (the signaling ' +
      'bus is asked; a crashed node\'s seats do not count). A lobby polls it to say "your trainer is here". ' +
      'Answers are `Cache-Control: no-store`; 503 while the signaling bus (Redis) cannot answer.',
    tags: ['calls'],
    parameters: [param('MeetingId')],
    responses: {
      '200': {
        description: 'Who is in the call.',
        headers: { 'X-Request-Id': header('XRequestId'), 'Cache-Control': header('NoStore') },
        content: {
          'application/json': {
            schema: schema(CallRoomShape),
            example: { participants: [{ personId: 'trainer-7', role: 'instructor' }] },
          },
        },
      },
      '404': response('NotFound'),
      '503': response('Unavailable'),
    },
  }),
});

const staticFilePath = (): Json => ({
  get: operation({
    operationId: 'getStaticFile',
    summary: 'A file of the call page: its page, script and style sheet, the call client and simple-peer',
    description:
      '`call-client.js` is the browser module behind the call page (see `/call`); it can drive a call from any page of this origin.',
    tags: ['calls'],
    security: 'none',
    parameters: [fileParameter(staticFileNames)],
    responses: {
      '200': reply('The file (an HTML page with a strict Content-Security-Policy).', {
        'text/javascript': { schema: { type: 'string' } },
        'text/html': { schema: { type: 'string' } },
        'text/css': { schema: { type: 'string' } },
      }),
      '404': { ...response('NotFound'), description: 'No such file.' },
    },
  }),
});

const callPath = (): Json => ({
  get: operation({
    operationId: 'getCallPage',
    summary: 'The browser call page',
    description:
      'Open as `/call?meeting=<id>#link=<join link token>` (the link from the calendar feed, an email or the join answer) or `/call?meeting=<id>#token=<bearer token>`; the token stays in the URL fragment, so it never reaches the server (without one the page asks for it). The page joins the meeting, then runs the native call or links out. Served with a strict Content-Security-Policy; also at `/static/call.html`.',
    tags: ['calls'],
    security: 'none',
    parameters: [
      {
        name: 'meeting',
        in: 'query',
        required: false,
        description: 'The meeting to join.',
        schema: { type: 'string', minLength: 1 },
      },
    ],
    responses: { '200': reply('An HTML page.', { 'text/html': { schema: { type: 'string' } } }) },
  }),
});

const signalingOriginCheckPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'checkSignalingOrigin',
    summary: 'May a page on this origin open the signaling socket?',
    description: [
      'Browsers do not tell a page why its WebSocket failed: a 403 for a foreign `Origin` looks like any lost',
      'connection. The call client asks here after a socket that never opened, so the page can say why and stop',
      'instead of reconnecting forever. In dev mode (and with `ALLOWED_ORIGINS` unset) every loopback spelling of the',
      'port (`localhost`, `127.0.0.1`, `[::1]`) is allowed besides the origin of `PUBLIC_BASE_URL`.',
    ].join(' '),
    tags: ['calls'],
    security: 'none',
    parameters: [
      {
        name: 'origin',
        in: 'query',
        required: true,
        description: 'The origin of the page (`location.origin`), http or https.',
        schema: { type: 'string', minLength: 1, maxLength: 2048 },
        example: 'http://127.0.0.1:8080',
      },
    ],
    responses: {
      '200': reply(
        'The verdict; `suggestedOrigin` (when refused) is an origin that is allowed, preferably the public one.',
        json(schema(OriginVerdict), {
          origin: 'http://127.0.0.1:8080',
          allowed: false,
          suggestedOrigin: 'http://localhost:8080',
        }),
        {
          'Cache-Control': {
            description: 'Always `no-store`.',
            required: true,
            schema: { type: 'string', const: 'no-store' },
          },
        },
      ),
      '400': response('BadRequest'),
    },
  }),
});

export const callPaths: PathsOf = (schema) => ({
  '/meetings/{id}/join': meetingsIdJoinPath(schema),
  '/meetings/{id}/room': meetingsIdRoomPath(schema),
  '/static/{file}': staticFilePath(),
  '/call': callPath(),
  '/signaling/origin-check': signalingOriginCheckPath(schema),
});
