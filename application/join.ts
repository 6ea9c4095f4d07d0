import * as E from 'fp-ts/lib/Either.js';
import { assertNever } from '../domain/shared.ts';
import type { Role } from '../domain/shared.ts';
import { joinWindow } from './calls.ts';
import type { CallRole, IceServer, JoinTickets } from './calls.ts';
import type { LinkedMeeting } from './join-links.ts';
import type { AccessProvider, AuthUser } from './ports/access.ts';
import type { MeetingQueries, MeetingView } from './ports/read-models.ts';
import type { AppError } from './service.ts';

export type JoinAnswer =
  | { readonly mode: 'link'; readonly url: string; readonly role: CallRole; readonly link: string }
  | {
      readonly mode: 'native';
      readonly link: string;
      readonly signalingUrl: string;
      readonly ticket: string;
      readonly expiresAt: string;
      readonly iceServers: ReadonlyArray<IceServer>;
      readonly role: CallRole;
      readonly debugLevel: number;
    };

export type CallDenial = {
  readonly code: 'not_found' | 'not_participant' | 'cancelled' | 'outside_window';
  readonly message: string;
  /** Too early: when joining opens (ISO instant). */
  readonly opensAt?: string;
};

export interface JoinDeps {
  readonly queries: Pick<MeetingQueries, 'getMeeting' | 'getSettings'>;
  readonly tickets: Pick<JoinTickets, 'issue'>;
  readonly ticketTtlMs: number;
  readonly iceServersFor: (userId: string, now: Date) => ReadonlyArray<IceServer>;
  readonly signalingUrl: () => string;
  readonly clock: () => Date;
  /** The caller's own join link to the meeting (application/join-links.ts). */
  readonly linkFor: (personId: string, meeting: LinkedMeeting) => string | undefined;
  /** Who may see the meeting (the site's ACCESS_PROVIDER): one who may not cannot join it either. */
  readonly access: Pick<AccessProvider, 'canView'>;
}

/**
 * A call's participant as the signaling socket knows them (its ticket names only the id): their directory roles,
 * plus the part they take in the call, for the access provider's `canView` when the socket opens and on re-checks.
 */
export const participantUser = (
  userId: string,
  directoryRoles: ReadonlyArray<Role> | undefined,
  callRole: CallRole,
): AuthUser => ({
  id: userId,
  roles: [...new Set<Role>([...(directoryRoles ?? []), callRole])],
});

const roleOf = (meeting: MeetingView, userId: string): CallRole | undefined =>
  meeting.customerId === userId ? 'customer' : meeting.instructorId === userId ? 'instructor' : undefined;

/**
 * Only the two participants take part in a call (admins manage meetings but do not join them), only while the
 * meeting is live: from 15 minutes before its start until its end, and never once cancelled.
 */
export const callAccess = (
  meeting: MeetingView | undefined,
  userId: string,
  now: Date,
): E.Either<CallDenial, { meeting: MeetingView; role: CallRole }> => {
  if (meeting === undefined) return E.left({ code: 'not_found', message: 'meeting not found' });
  const role = roleOf(meeting, userId);
  if (role === undefined)
    return E.left({ code: 'not_participant', message: 'only the customer and the instructor can join this meeting' });
  if (meeting.state === 'cancelled') return E.left({ code: 'cancelled', message: 'the meeting was cancelled' });
  const window = joinWindow({
    start: new Date(meeting.start),
    end: new Date(meeting.end),
    now,
    timezone: meeting.timezone,
  });
  if (E.isLeft(window)) {
    return E.left({
      code: 'outside_window',
      message: window.left.message,
      ...(window.left.code === 'too_early' ? { opensAt: window.left.opensAt } : {}),
    });
  }
  return E.right({ meeting, role });
};

const denialToError = (denial: CallDenial): AppError => {
  switch (denial.code) {
    case 'not_found':
    case 'not_participant':
      return { _tag: 'NotFound', message: 'meeting not found' };
    case 'cancelled':
      return { _tag: 'Conflict', message: denial.message };
    case 'outside_window':
      return {
        _tag: 'Conflict',
        message: denial.message,
        ...(denial.opensAt !== undefined ? { opensAt: denial.opensAt } : {}),
      };
    default:
      return assertNever(denial.code);
  }
};

export const createJoinService = (deps: JoinDeps) => ({
  async join(user: AuthUser, meetingId: string): Promise<E.Either<AppError, JoinAnswer>> {
    const now = deps.clock();
    const meeting = deps.queries.getMeeting(meetingId);
    // As GET /meetings/:id: a meeting the access provider hides from the caller is, to them, no meeting at all.
    if (meeting !== undefined && !(await deps.access.canView(user, meeting)))
      return E.left({ _tag: 'NotFound', message: 'meeting not found' });
    const access = callAccess(meeting, user.id, now);
    if (E.isLeft(access)) {
      // An admin sees the meeting, so hiding it would be pointless: they are told plainly that only participants join.
      if (access.left.code === 'not_participant' && user.roles.includes('admin')) {
        return E.left({ _tag: 'Forbidden', message: 'only the customer and the instructor join the call' });
      }
      return E.left(denialToError(access.left));
    }
    const { meeting: m, role } = access.right;
    const link = deps.linkFor(user.id, m) ?? '';
    if (m.trainingType === 'link') return E.right({ mode: 'link', url: m.remoteLink ?? '', role, link });
    const ticket = deps.tickets.issue({ userId: user.id, meetingId, role, now });
    return E.right({
      mode: 'native',
      link,
      signalingUrl: deps.signalingUrl(),
      ticket,
      expiresAt: new Date(now.getTime() + deps.ticketTtlMs).toISOString(),
      iceServers: deps.iceServersFor(user.id, now),
      role,
      debugLevel: deps.queries.getSettings().debugLevel,
    });
  },
});
