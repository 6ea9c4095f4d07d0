import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import type { TicketClaims } from '../../application/calls.ts';
import { SIGNALING_CLOSE_CODES } from './contract.ts';
import type { AccessDenied, AccessGranted, SignalingOptions } from './contract.ts';
import { closeWith, send, sendError } from './hub.ts';
import type { Hub, Member, Room, SocketState } from './hub.ts';

export const randomId = (bytes: number): string => randomBytes(bytes).toString('base64url');

/** Takes the member out of its room (once); the one left behind is told, and an empty room is forgotten. */
export const removeMember = (hub: Hub, member: Member): void => {
  if (member.gone) return;
  member.gone = true;
  const room = hub.rooms.get(member.meetingId);
  if (room === undefined) return;
  room.members = room.members.filter((m) => m !== member);
  room.connectionId = undefined;
  for (const other of room.members) send(hub.settings, other.ws, { type: 'peer-left', peerId: member.peerId });
  if (room.members.length === 0) hub.rooms.delete(room.meetingId);
};

/** Two members: a fresh connection id for their peer connection, and the instructor initiates it. */
const pair = (hub: Hub, room: Room): void => {
  const [a, b] = room.members;
  if (a === undefined || b === undefined) return;
  const connectionId = randomId(12);
  room.connectionId = connectionId;
  for (const [self, other] of [
    [a, b],
    [b, a],
  ] as const) {
    send(hub.settings, self.ws, {
      type: 'peer-joined',
      peer: { peerId: other.peerId, role: other.role },
      connectionId,
      initiator: self.role === 'instructor',
    });
  }
};

/** A newer connection of the same user replaces the older one, which is told so and closed with 4009. */
const replacePrevious = (hub: Hub, claims: TicketClaims): Room | undefined => {
  const room = hub.rooms.get(claims.meetingId);
  const previous = room?.members.find((m) => m.userId === claims.userId);
  if (previous === undefined) return room;
  hub.settings.log.info({ meetingId: claims.meetingId, role: previous.role }, 'signaling: connection replaced');
  removeMember(hub, previous);
  sendError(hub.settings, previous.ws, 'replaced', 'Replaced by a newer connection of the same user.');
  closeWith(previous.ws, SIGNALING_CLOSE_CODES.replaced, 'replaced');
  return hub.rooms.get(claims.meetingId);
};

/**
 * Admits an upgraded socket to its meeting's room: denied access and a full room are told and closed with 4003;
 * otherwise the socket is welcomed, and paired once both participants are in.
 */
export const admit = (
  hub: Hub,
  ws: WebSocket,
  state: SocketState,
  claims: TicketClaims,
  access: Either<AccessDenied, AccessGranted>,
  iceServersFor: SignalingOptions['iceServersFor'],
): void => {
  const { settings } = hub;
  if (E.isLeft(access)) {
    settings.log.info({ meetingId: claims.meetingId, code: access.left.code }, 'signaling: access denied');
    sendError(settings, ws, access.left.code, access.left.message);
    closeWith(ws, SIGNALING_CLOSE_CODES.forbidden, access.left.code);
    return;
  }
  let room = replacePrevious(hub, claims);
  if (room !== undefined && (room.members.length >= 2 || room.members.some((m) => m.role === claims.role))) {
    settings.log.warn({ meetingId: claims.meetingId, role: claims.role }, 'signaling: room full');
    sendError(settings, ws, 'room_full', 'This call already has its participants.');
    closeWith(ws, SIGNALING_CLOSE_CODES.forbidden, 'room_full');
    return;
  }
  if (room === undefined) {
    room = { meetingId: claims.meetingId, members: [], connectionId: undefined };
    hub.rooms.set(claims.meetingId, room);
  }
  const member: Member = {
    peerId: randomId(9),
    userId: claims.userId,
    role: claims.role,
    meetingId: claims.meetingId,
    ws,
    gone: false,
  };
  state.member = member;
  room.members.push(member);
  const iceServers = access.right.iceServers ?? iceServersFor(claims.userId);
  send(settings, ws, {
    type: 'welcome',
    peerId: member.peerId,
    meetingId: claims.meetingId,
    role: claims.role,
    iceServers,
  });
  pair(hub, room);
};

/** Re-checks everyone in the meeting's room; those who lost access get an `error` frame and close 4003. */
export const recheckRoom = async (
  hub: Hub,
  meetingId: string,
  checkAccess: SignalingOptions['checkAccess'],
): Promise<void> => {
  const { settings } = hub;
  const room = hub.rooms.get(meetingId);
  if (room === undefined) return;
  await Promise.all(
    [...room.members].map(async (member) => {
      let access: Either<AccessDenied, AccessGranted>;
      try {
        access = await checkAccess(meetingId, member.userId, settings.now());
      } catch (err) {
        settings.log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'signaling: access re-check failed',
        );
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
