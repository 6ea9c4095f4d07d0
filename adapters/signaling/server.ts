import type { Server } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import type { TicketClaims } from '../../application/calls.ts';
import type { AccessDenied, AccessGranted, SignalingHandle, SignalingOptions } from './contract.ts';
import { startHeartbeat } from './heartbeat.ts';
import { settingsFrom } from './hub.ts';
import type { Hub, SocketState } from './hub.ts';
import { hookOversizeFrames, onMessage } from './messages.ts';
import { originCheck } from './origins.ts';
import { admit, onDelivery, recheckRoom, removeMember } from './rooms.ts';
import { flushLeaves } from './attendance.ts';
import { createInProcessBus } from './bus-in-process.ts';
import { upgradeHandler } from './upgrade.ts';
import { errorText } from './errors.ts';

export { SIGNALING_CLOSE_CODES } from './contract.ts';
export type {
  AccessDenied,
  AccessDeniedCode,
  AccessGranted,
  SignalingHandle,
  SignalingLogger,
  SignalingOptions,
  SignalingStats,
} from './contract.ts';

/** Sets up a freshly upgraded socket: heartbeat, frames, close; then admits it to its room (or tells it why not). */
const onConnection = (
  hub: Hub,
  options: SignalingOptions,
  ws: WebSocket,
  claims: TicketClaims,
  access: Either<AccessDenied, AccessGranted>,
): void => {
  const { log, rateMessages, monotonicNow } = hub.settings;
  const state: SocketState = {
    alive: true,
    strikes: 0,
    tokens: rateMessages,
    refilledAt: monotonicNow(),
    member: undefined,
  };
  hub.sockets.set(ws, state);
  hookOversizeFrames(hub, ws, state);
  ws.on('pong', () => {
    state.alive = true;
  });
  ws.on('error', (err) => {
    log.debug({ err: err.message }, 'signaling: socket error');
  });
  ws.on('message', (raw, isBinary) => {
    try {
      onMessage(hub, ws, state, raw, isBinary);
    } catch (err) {
      log.warn({ err: errorText(err) }, 'signaling: message handling failed');
      ws.terminate();
    }
  });
  ws.on('close', (code) => {
    hub.sockets.delete(ws);
    if (state.member !== undefined) {
      log.debug({ meetingId: claims.meetingId, role: claims.role, code }, 'signaling: socket closed');
      removeMember(hub, state.member);
    }
  });
  admit(hub, ws, state, claims, access, options.iceServersFor).catch((err: unknown) => {
    log.warn({ err: errorText(err) }, 'signaling: admission failed');
    ws.terminate();
  });
};

/** Closes every socket with 1001 (terminating those that do not close within 2 s), then the ws server. */
const closeAll = async (hub: Hub, wss: WebSocketServer): Promise<void> => {
  await Promise.all(
    [...hub.sockets.keys()].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => ws.terminate(), 2000);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.close(1001, 'server shutting down');
        }),
    ),
  );
  hub.rooms.clear();
  hub.members.clear();
  flushLeaves(hub);
  // The seats of the sockets just closed are given up (and their leaves recorded) before the bus goes; a store that
  // does not answer does not hold the shutdown up for more than a few seconds.
  await Promise.race([Promise.all([...hub.leaving]), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  await hub.bus.close();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
};

/** This node's seated members, for the bus to keep alive and to seat again after it lost its state. */
const localSeats = function* (hub: Hub) {
  for (const [meetingId, room] of hub.rooms) {
    for (const m of room) {
      if (m.gone || m.early !== undefined) continue;
      yield { meetingId, seat: { peerId: m.peerId, userId: m.userId, role: m.role, node: hub.bus.node } };
    }
  }
};

/**
 * Attaches the call signaling endpoint to an existing HTTP server (ws in noServer mode, sharing the port).
 *
 * Refusals happen before the upgrade (see upgrade.ts). A valid ticket whose access check fails is upgraded, sent an
 * `error` frame with the reason and closed with 4003, so the browser can tell the user why.
 */
export const attachSignaling = (httpServer: Server, options: SignalingOptions): SignalingHandle => {
  const settings = settingsFrom(options);
  const hub: Hub = {
    settings,
    bus: options.bus ?? createInProcessBus(),
    rooms: new Map(),
    members: new Map(),
    sockets: new Map(),
    leaving: new Set(),
    attendance: { queues: new Map(), pendingLeaves: new Map() },
  };
  hub.bus.start(
    (delivery) => onDelivery(hub, options.checkAccess, delivery),
    () => localSeats(hub),
  );
  const originAllowed = originCheck(options.allowedOrigins);
  // ws aborts frames above its own maxPayload with 1009 before we see them; keep that as a memory bound well above
  // the contract's limit and enforce the limit ourselves (4008). See also `hookOversizeFrames`.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: settings.maxPayloadBytes * 4,
    perMessageDeflate: false,
    clientTracking: false,
  });
  let closed = false;
  const onUpgrade = upgradeHandler({
    settings,
    httpServer,
    wss,
    tickets: options.tickets,
    checkAccess: options.checkAccess,
    originAllowed,
    closed: () => closed,
    onConnection: (ws, claims, access) => onConnection(hub, options, ws, claims, access),
  });
  httpServer.on('upgrade', onUpgrade);
  const heartbeat = startHeartbeat(hub);

  return {
    originAllowed,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      httpServer.off('upgrade', onUpgrade);
      await closeAll(hub, wss);
    },
    meetingChanged: async (meetingId) => {
      // Every node re-checks its own members; a bus that cannot tell the others now leaves it to their own log.
      const told = hub.bus.broadcast({ kind: 'recheck', meetingId, origin: hub.bus.node });
      if (E.isLeft(told)) settings.log.warn({ meetingId }, `signaling: re-check not broadcast, ${told.left.message}`);
      await recheckRoom(hub, meetingId, options.checkAccess);
    },
    stats: () => ({ rooms: hub.rooms.size, sockets: hub.sockets.size }),
    occupants: (meetingId) =>
      hub.bus
        .occupants(meetingId)
        .catch((err: unknown) => E.left({ kind: 'BusUnavailable' as const, message: errorText(err) })),
    bus: () => ({ name: hub.bus.name, status: hub.bus.status() }),
  };
};
