import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import { DebugLevel } from '../../../domain/settings.ts';
import { IsoInstant } from '../../../domain/shared.ts';
import { CallRoleShape } from '../notifications/shapes.ts';
import type { JoinAnswer } from '../../../application/join.ts';
import { MAX_TICKET_LENGTH } from '../../../application/calls.ts';

const MAX_ORIGIN_LENGTH = 2048;

/** The `origin` query of `GET /signaling/origin-check`: `http(s)://host[:port]` of a given origin, or why it is not one. */
export const parseOrigin = (raw: string | undefined): { ok: true; origin: string } | { ok: false; message: string } => {
  if (raw === undefined || raw.trim() === '')
    return { ok: false, message: 'is required (the origin of the page, like http://localhost:8080)' };
  if (raw.length > MAX_ORIGIN_LENGTH) return { ok: false, message: `must be at most ${MAX_ORIGIN_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: 'must be an origin like http://localhost:8080' };
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin === 'null') {
    return { ok: false, message: 'must be an http or https origin' };
  }
  return { ok: true, origin: url.origin };
};

/** The answer of `GET /signaling/origin-check`. */
export const OriginVerdict = t.intersection([
  t.type({
    origin: annotate(t.string, { description: 'The origin asked about, normalized.' }),
    allowed: t.boolean,
  }),
  t.partial({
    suggestedOrigin: annotate(t.string, { description: 'Only when refused: where to open the page instead.' }),
  }),
]);

export const IceServerShape = annotate(
  t.intersection([
    t.type({
      urls: t.union([t.string, annotate(t.readonlyArray(t.string), { minItems: 1 })]),
    }),
    t.partial({ username: t.string, credential: t.string }),
  ]),
  {
    name: 'IceServer',
    description: 'An RTCIceServer entry. TURN credentials are ephemeral (coturn `use-auth-secret`).',
  },
);

const JoinLinkUrl = annotate(t.string, {
  format: 'uri',
  pattern: '^https?://[^#]+/call\\?meeting=[^#]+#link=jl1\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$',
  description:
    "The caller's own join link: the call page, with a token in the fragment (never sent to a server) that signs " +
    'this person in for this meeting only (read it, join it, `GET /me`) until its end. Rotating or disabling their ' +
    'calendar feed revokes it, as does deactivating them.',
});

const JoinLink = annotate(
  t.type({
    mode: t.literal('link'),
    url: annotate(t.string, { format: 'uri', pattern: '^https://', description: 'The remote link to open.' }),
    role: CallRoleShape,
    link: JoinLinkUrl,
  }),
  { name: 'JoinLink' },
);

const JoinNative = annotate(
  t.type({
    mode: t.literal('native'),
    link: JoinLinkUrl,
    signalingUrl: annotate(t.string, {
      format: 'uri',
      pattern: '^wss?://',
      description: 'Where to open the WebSocket, without the ticket.',
    }),
    ticket: annotate(t.string, {
      minLength: 1,
      maxLength: MAX_TICKET_LENGTH,
      pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$',
      description:
        'Signed (HMAC-SHA256) and bound to this user, this meeting and this role, for joining the call only: valid ' +
        'for 60 s and single use on every node (its redemption is recorded in the event store), so any node of the ' +
        'site accepts it once. Opaque to clients: not a bearer token, and no bearer token is accepted in its place.',
    }),
    expiresAt: annotate(IsoInstant, { description: 'When the ticket expires.' }),
    iceServers: t.readonlyArray(IceServerShape),
    role: CallRoleShape,
    debugLevel: annotate(DebugLevel, { description: 'From the settings; above 0 the client logs connection details.' }),
  }),
  { name: 'JoinNative' },
);

/** `POST /meetings/{id}/join`: a link to open, or a ticket for the native call. */
export const JoinAnswerShape = annotate(t.union([JoinLink, JoinNative]), { name: 'JoinResponse' });

// The join answer is sent as it is: the compiler holds it to the documented shape.
const _joinAnswerFits = (answer: JoinAnswer): t.TypeOf<typeof JoinAnswerShape> => answer;

/** `GET /meetings/{id}/room`: who is in the meeting's call now. */
export const CallRoomShape = annotate(
  t.type({
    participants: annotate(
      t.readonlyArray(
        t.type({
          personId: annotate(t.string, { description: 'The participant (the customer or the instructor).' }),
          role: CallRoleShape,
        }),
      ),
      { description: "The meeting's participants in its call right now, on any node; empty when nobody is." },
    ),
  }),
  { description: "Who is in the meeting's call now." },
);
