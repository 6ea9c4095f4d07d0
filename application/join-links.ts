import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { CallRole as CallRoleCodec } from '../domain/call-ticket.ts';
import { idProblem } from '../domain/shared.ts';
import type { CallRole } from './calls.ts';
import type { AuthUser } from './ports/access.ts';
import type { CalendarFeedQueries, MeetingQueries } from './ports/read-models.ts';

/**
 * Join links: `/call?meeting=<id>#link=<token>`, a per-person, per-meeting credential for the call page. The token is
 * stateless, `jl1.base64url(payload).base64url(HMAC-SHA256(key, "jl1." + payload))`, so any node holding the key
 * checks it. It binds the person, the meeting, their role in it, the meeting's end (its expiry) and the person's
 * calendar-feed epoch: rotating or disabling the feed moves the epoch on, revoking every link issued before.
 */

/** The HKDF label of the link key: its own, so it is neither the API token key nor the call ticket key. */
const LINK_KEY_INFO = 'virtual-y join-link key v1';
const PREFIX = 'jl1.';
/** Two ids of at most 384 bytes of UTF-8 and a few numbers: well under this once encoded. */
export const MAX_JOIN_LINK_LENGTH = 2048;
const LINK_SHAPE = /^jl1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

const LinkId = t.refinement(t.string, (s) => idProblem(s) === undefined, 'Id');
const Payload = t.type({
  sub: LinkId,
  m: LinkId,
  r: CallRoleCodec,
  /** Expiry, epoch milliseconds: the meeting's end when the link was issued. */
  exp: t.number,
  /** The person's calendar-feed epoch at issue. */
  e: t.number,
});
type Payload = t.TypeOf<typeof Payload>;

export interface JoinLinkClaims {
  readonly personId: string;
  readonly meetingId: string;
  readonly role: CallRole;
  readonly expiresAt: number;
  readonly epoch: number;
}

/** Whether a bearer token is shaped like a join link (and so is never handed to the JWT verifier). */
export const isJoinLinkToken = (token: string): boolean => token.startsWith(PREFIX);

export const joinLinkUrl = (publicBaseUrl: string, meetingId: string, token: string): string =>
  `${publicBaseUrl}/call?meeting=${encodeURIComponent(meetingId)}#link=${token}`;

export class JoinLinkSigner {
  private readonly key: Uint8Array;

  constructor(secret: Uint8Array) {
    this.key = new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), LINK_KEY_INFO, 32));
  }

  sign(claims: JoinLinkClaims): string {
    const payload: Payload = {
      sub: claims.personId,
      m: claims.meetingId,
      r: claims.role,
      exp: claims.expiresAt,
      e: claims.epoch,
    };
    const body = `${PREFIX}${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`;
    return `${body}.${this.mac(body)}`;
  }

  /** The claims of a token this key signed, expired or not; undefined for anything else. */
  read(token: string): JoinLinkClaims | undefined {
    if (token.length > MAX_JOIN_LINK_LENGTH || !LINK_SHAPE.test(token)) return undefined;
    const dot = token.lastIndexOf('.');
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'ascii');
    if (!timingSafeEqual(given, Buffer.from(this.mac(body), 'ascii'))) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(body.slice(PREFIX.length), 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    const decoded = Payload.decode(json);
    if (E.isLeft(decoded)) return undefined;
    const p = decoded.right;
    return { personId: p.sub, meetingId: p.m, role: p.r, expiresAt: p.exp, epoch: p.e };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body, 'ascii').digest('base64url');
  }
}

export type JoinLinkFailure = { readonly reason: 'invalid' | 'expired'; readonly message: string };

export interface JoinLinkDeps {
  readonly signer: JoinLinkSigner;
  readonly queries: Pick<MeetingQueries, 'getMeeting' | 'getPerson'> & Pick<CalendarFeedQueries, 'feedEpoch'>;
  readonly clock: () => Date;
  readonly publicBaseUrl: () => string;
}

/** The meeting facts a link is made from. */
export interface LinkedMeeting {
  readonly id: string;
  readonly end: string;
  readonly customerId: string;
  readonly instructorId: string;
}

const roleIn = (meeting: Omit<LinkedMeeting, 'id' | 'end'>, personId: string): CallRole | undefined =>
  meeting.customerId === personId ? 'customer' : meeting.instructorId === personId ? 'instructor' : undefined;

const invalid: JoinLinkFailure = { reason: 'invalid', message: 'the join link is not valid' };

export const createJoinLinks = (deps: JoinLinkDeps) => {
  const { signer, queries, clock } = deps;
  return {
    /** The person's own link to the meeting, or undefined when they are not one of its two participants. */
    linkFor(personId: string, meeting: LinkedMeeting): string | undefined {
      const role = roleIn(meeting, personId);
      if (role === undefined) return undefined;
      const token = signer.sign({
        personId,
        meetingId: meeting.id,
        role,
        expiresAt: Date.parse(meeting.end),
        epoch: queries.feedEpoch(personId),
      });
      return joinLinkUrl(deps.publicBaseUrl(), meeting.id, token);
    },

    /** A link from recorded facts alone (an email's): the same link whenever it is made again, on any node. */
    linkFrom(input: {
      readonly personId: string;
      readonly meetingId: string;
      readonly role: CallRole;
      readonly end: string;
      readonly epoch: number;
      readonly baseUrl: string;
    }): string {
      const token = signer.sign({
        personId: input.personId,
        meetingId: input.meetingId,
        role: input.role,
        expiresAt: Date.parse(input.end),
        epoch: input.epoch,
      });
      return joinLinkUrl(input.baseUrl, input.meetingId, token);
    },

    /** What an email's links are made from for this person now (recorded with the prepared email). */
    factsFor: (personId: string): { baseUrl: string; epoch: number } => ({
      baseUrl: deps.publicBaseUrl(),
      epoch: queries.feedEpoch(personId),
    }),

    /**
     * The scoped user a link signs in, checked on every request (never cached): its signature, its expiry by the
     * clock and the meeting's current end, the person's feed epoch, that they are still the participant it names,
     * and that they are not deactivated.
     */
    authenticate(token: string): Either<JoinLinkFailure, AuthUser> {
      const claims = signer.read(token);
      if (claims === undefined) return E.left(invalid);
      const now = clock().getTime();
      const meeting = queries.getMeeting(claims.meetingId);
      if (meeting === undefined || roleIn(meeting, claims.personId) !== claims.role) return E.left(invalid);
      if (now >= claims.expiresAt || now >= Date.parse(meeting.end)) {
        return E.left({ reason: 'expired', message: 'the join link has expired (the meeting has ended)' });
      }
      if (claims.epoch < queries.feedEpoch(claims.personId)) {
        return E.left({ reason: 'invalid', message: 'the join link was revoked' });
      }
      const person = queries.getPerson(claims.personId);
      if (person !== undefined && !person.active) {
        return E.left({ reason: 'invalid', message: 'the account is deactivated' });
      }
      return E.right({
        id: claims.personId,
        roles: [claims.role],
        ...(person !== undefined ? { name: person.name, email: person.email } : {}),
        scope: { meetingId: claims.meetingId },
      });
    },
  };
};

export type JoinLinks = ReturnType<typeof createJoinLinks>;
