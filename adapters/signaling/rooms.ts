import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import type { TicketClaims } from '../../application/calls.ts';
import { assertNever } from '../../domain/shared.ts';
import type { BusDelivery, MemberDelivery, SeatClaim } from '../../application/ports/signaling-bus.ts';
import { tellJoined, tellLeft } from './attendance.ts';
import { SIGNALING_CLOSE_CODES } from './contract.ts';
import type { AccessDenied, AccessGranted, SignalingOptions } from './contract.ts';
import { MAX_EARLY_DELIVERIES, closeWith, send, sendError } from './hub.ts';
import type { Hub, Member, SocketState } from './hub.ts';
import { errorText } from './errors.ts';

export const randomId = (bytes: number): string => randomBytes(bytes).toString('base64url');

const forget = (hub: Hub, member: Member): void => {
  hub.members.delete(member.peerId);
  const room = hub.rooms.get(member.meetingId);
  if (room === undefined) return;
  room.delete(member);
  if (room.size === 0) hub.rooms.delete(member.meetingId);
};

/** Gives the member's seat up on the bus, which tells the one left behind; `close` waits for these. */
const giveUpSeat = (hub: Hub, member: Member, reason?: 'left'): void => {
  const leaving = hub.bus.leave(member.meetingId, member.peerId, member.link?.peer, reason).then(
    (left) => {
      if (E.isLeft(left)) hub.settings.log.warn({ meetingId: member.meetingId }, `signaling: ${left.left.message}`);
    },
    (err: unknown) => hub.settings.log.warn({ err: errorText(err) }, 'signaling: leaving the room failed'),
  );
  hub.leaving.add(leaving);
  void leaving.finally(() => hub.leaving.delete(leaving));
};

/**
 * Takes the member out of its room (once); the one left behind is told through the bus, and an empty room is
 * forgotten. A member the bus replaced has no seat left to give up (`seated: false`).
 */
export const removeMember = (hub: Hub, member: Member, seated = true, reason?: 'left'): void => {
  if (member.gone) return;
  member.gone = true;
  forget(hub, member);
  // A member still waiting for its claim gives its seat up once the claim answers (see `admit`).
  if (seated && member.early === undefined) {
    giveUpSeat(hub, member, reason);
    tellLeft(hub, member);
  }
};

/** What the bus delivered to one of this node's members, told to its socket. */
const deliverToMember = (hub: Hub, member: Member, delivery: MemberDelivery): void => {
  const { settings } = hub;
  switch (delivery.kind) {
    case 'paired':
      member.link = { connectionId: delivery.connectionId, peer: delivery.peer };
      send(settings, member.ws, {
        type: 'peer-joined',
        peer: { peerId: delivery.peer.peerId, role: delivery.peer.role },
        connectionId: delivery.connectionId,
        initiator: member.role === 'instructor',
      });
      return;
    case 'peer-left':
      // A notice about anyone but the current partner is stale (the client would drop its live peer connection).
      if (member.link !== undefined && member.link.peer.peerId !== delivery.peerId) return;
      member.link = undefined;
      send(settings, member.ws, {
        type: 'peer-left',
        peerId: delivery.peerId,
        ...(delivery.reason !== undefined ? { reason: delivery.reason } : {}),
      });
      return;
    case 'signal': {
      const { link } = member;
      if (link === undefined || link.connectionId !== delivery.connectionId || link.peer.peerId !== delivery.from) {
        settings.log.debug({ meetingId: member.meetingId }, 'signaling: dropped signal for a stale connection');
        return;
      }
      send(settings, member.ws, {
        type: 'signal',
        from: delivery.from,
        connectionId: delivery.connectionId,
        data: delivery.data,
      });
      return;
    }
    case 'replaced':
      settings.log.info({ meetingId: member.meetingId, role: member.role }, 'signaling: connection replaced');
      removeMember(hub, member, false);
      sendError(settings, member.ws, 'replaced', 'Replaced by a newer connection of the same user.');
      closeWith(member.ws, SIGNALING_CLOSE_CODES.replaced, 'replaced');
      return;
    default:
      assertNever(delivery);
  }
};

/** The bus's handler: a delivery for one of this node's members, or a meeting to re-check. */
export const onDelivery = (hub: Hub, checkAccess: SignalingOptions['checkAccess'], delivery: BusDelivery): void => {
  if (delivery.kind === 'recheck') {
    if (delivery.origin !== hub.bus.node) void recheckRoom(hub, delivery.meetingId, checkAccess);
    return;
  }
  const member = hub.members.get(delivery.to);
  if (member === undefined || member.gone) return;
  if (member.early !== undefined) {
    if (member.early.length < MAX_EARLY_DELIVERIES) member.early.push(delivery);
    return;
  }
  deliverToMember(hub, member, delivery);
};

/** A member the bus did not seat: it never had a seat to give up. */
const unseat = (hub: Hub, state: SocketState, member: Member): void => {
  member.gone = true;
  hub.members.delete(member.peerId);
  state.member = undefined;
};

/** The claim's answer for a member that was seated: welcome, pairing, and what arrived for it meanwhile. */
const seated = (
  hub: Hub,
  member: Member,
  outcome: Extract<SeatClaim, { admitted: true }>,
  connectionId: string,
  iceServers: unknown,
): void => {
  const { settings } = hub;
  if (outcome.replaced !== undefined) {
    settings.log.info({ meetingId: member.meetingId, role: outcome.replaced.role }, 'signaling: connection replaced');
  }
  const room = hub.rooms.get(member.meetingId) ?? new Set<Member>();
  hub.rooms.set(member.meetingId, room.add(member));
  tellJoined(hub, member);
  send(settings, member.ws, {
    type: 'welcome',
    peerId: member.peerId,
    meetingId: member.meetingId,
    role: member.role,
    iceServers,
  });
  if (outcome.partner !== undefined) {
    deliverToMember(hub, member, { kind: 'paired', to: member.peerId, peer: outcome.partner, connectionId });
  }
  const early = member.early ?? [];
  member.early = undefined;
  for (const delivery of early) if (!member.gone) deliverToMember(hub, member, delivery);
};

/**
 * Admits an upgraded socket to its meeting's room: denied access and a full room are told and closed with 4003, a
 * bus that cannot answer with 1013; otherwise the socket is welcomed, and paired once both participants are in.
 */
export const admit = async (
  hub: Hub,
  ws: WebSocket,
  state: SocketState,
  claims: TicketClaims,
  access: Either<AccessDenied, AccessGranted>,
  iceServersFor: SignalingOptions['iceServersFor'],
): Promise<void> => {
  const { settings } = hub;
  if (E.isLeft(access)) {
    settings.log.info({ meetingId: claims.meetingId, code: access.left.code }, 'signaling: access denied');
    sendError(settings, ws, access.left.code, access.left.message);
    closeWith(ws, SIGNALING_CLOSE_CODES.forbidden, access.left.code);
    return;
  }
  const member: Member = {
    peerId: randomId(9),
    userId: claims.userId,
    role: claims.role,
    meetingId: claims.meetingId,
    ws,
    gone: false,
    early: [],
    link: undefined,
  };
  hub.members.set(member.peerId, member);
  state.member = member;
  const connectionId = randomId(12);
  const seat = { peerId: member.peerId, userId: member.userId, role: member.role, node: hub.bus.node };
  const claimed = await hub.bus
    .claim(claims.meetingId, seat, connectionId)
    .catch((err: unknown) => E.left({ kind: 'BusUnavailable' as const, message: errorText(err) }));
  if (E.isLeft(claimed)) {
    settings.log.warn({ meetingId: claims.meetingId }, `signaling: join refused, ${claimed.left.message}`);
    unseat(hub, state, member);
    sendError(settings, ws, 'unavailable', 'Calls cannot be connected right now; try again in a moment.');
    closeWith(ws, SIGNALING_CLOSE_CODES.unavailable, 'signaling unavailable');
    return;
  }
  const outcome = claimed.right;
  if (!outcome.admitted) {
    settings.log.warn({ meetingId: claims.meetingId, role: claims.role }, 'signaling: room full');
    unseat(hub, state, member);
    sendError(settings, ws, 'room_full', 'This call already has its participants.');
    closeWith(ws, SIGNALING_CLOSE_CODES.forbidden, 'room_full');
    return;
  }
  if (member.gone) {
    // The socket closed while the claim was under way: give the seat straight back.
    member.early = undefined;
    giveUpSeat(hub, member);
    return;
  }
  seated(hub, member, outcome, connectionId, access.right.iceServers ?? iceServersFor(claims.userId));
};

/** Re-checks this node's members of the meeting; those who lost access get an `error` frame and close 4003. */
export const recheckRoom = async (
  hub: Hub,
  meetingId: string,
  checkAccess: SignalingOptions['checkAccess'],
): Promise<void> => {
  const { settings } = hub;
  const room = hub.rooms.get(meetingId);
  if (room === undefined) return;
  await Promise.all(
    [...room].map(async (member) => {
      let access: Either<AccessDenied, AccessGranted>;
      try {
        access = await checkAccess(meetingId, member.userId, settings.now());
      } catch (err) {
        settings.log.warn({ err: errorText(err) }, 'signaling: access re-check failed');
        return;
      }
      if (member.gone || E.isRight(access)) return;
      settings.log.info({ meetingId, code: access.left.code }, 'signaling: access withdrawn');
      removeMember(hub, member);
      sendError(settings, member.ws, access.left.code, access.left.message);
      closeWith(member.ws, SIGNALING_CLOSE_CODES.forbidden, access.left.code);
    }),
  );
};
