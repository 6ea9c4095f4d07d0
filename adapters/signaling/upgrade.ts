import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import type { TicketClaims, TicketRejection } from '../../application/calls.ts';
import type { AccessDenied, AccessGranted, SignalingOptions } from './contract.ts';
import type { Settings } from './hub.ts';
import { errorText } from './errors.ts';

export const rejectUpgrade = (socket: Duplex, status: number): void => {
  if (socket.destroyed) return;
  const reason = STATUS_CODES[status] ?? '';
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
};

export interface UpgradeDeps {
  readonly settings: Settings;
  readonly httpServer: Server;
  readonly wss: WebSocketServer;
  readonly tickets: SignalingOptions['tickets'];
  readonly checkAccess: SignalingOptions['checkAccess'];
  readonly originAllowed: (origin: string | undefined) => boolean;
  readonly closed: () => boolean;
  readonly onConnection: (ws: WebSocket, claims: TicketClaims, access: Either<AccessDenied, AccessGranted>) => void;
}

/** The request's URL on our path, or undefined once refused (another upgrade listener may want other paths). */
const ourUrl = (deps: UpgradeDeps, req: IncomingMessage, socket: Duplex): URL | undefined => {
  const alone = deps.httpServer.listenerCount('upgrade') === 1;
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    if (alone) rejectUpgrade(socket, 400);
    return undefined;
  }
  if (url.pathname !== deps.settings.path) {
    if (alone) rejectUpgrade(socket, 404);
    return undefined;
  }
  return url;
};

/**
 * The ticket's claims, or undefined once the upgrade was refused (closed, not a WebSocket, origin, ticket, or 503
 * when its redemption could not be recorded). The ticket itself is never logged.
 */
const redeem = async (
  deps: UpgradeDeps,
  req: IncomingMessage,
  socket: Duplex,
  url: URL,
): Promise<TicketClaims | undefined> => {
  const { log, now } = deps.settings;
  if (deps.closed()) return void rejectUpgrade(socket, 503);
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') return void rejectUpgrade(socket, 400);
  if (!deps.originAllowed(req.headers.origin)) {
    log.info({ origin: req.headers.origin }, 'signaling: origin refused');
    return void rejectUpgrade(socket, 403);
  }
  const ticket = url.searchParams.get('ticket');
  if (ticket === null || ticket === '') return void rejectUpgrade(socket, 401);
  let redeemed: Either<TicketRejection, TicketClaims>;
  try {
    redeemed = await deps.tickets.redeem(ticket, now());
  } catch (err) {
    log.warn({ err: errorText(err) }, 'signaling: ticket redemption failed');
    return void rejectUpgrade(socket, 503);
  }
  if (E.isLeft(redeemed)) {
    log.info({ reason: redeemed.left }, 'signaling: ticket refused');
    return void rejectUpgrade(socket, 401);
  }
  return redeemed.right;
};

const checkAccess = (deps: UpgradeDeps, claims: TicketClaims): Promise<Either<AccessDenied, AccessGranted>> => {
  try {
    return deps.checkAccess(claims.meetingId, claims.userId, deps.settings.now());
  } catch (err) {
    return Promise.reject(err);
  }
};

/**
 * The `upgrade` listener. Refusals: wrong path → not handled (404 only if no other upgrade listener exists);
 * disallowed Origin → 403; missing/unknown/expired/used ticket → 401; its redemption not recorded → 503; checkAccess
 * throwing → 500, all before the upgrade. The access check's answer, granted or not, goes with the upgraded socket to `onConnection`.
 */
export const upgradeHandler =
  (deps: UpgradeDeps) =>
  (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const { log } = deps.settings;
    const url = ourUrl(deps, req, socket);
    if (url === undefined) return;
    const onSocketError = (err: Error): void => {
      log.debug({ err: err.message }, 'signaling: socket error during upgrade');
    };
    socket.on('error', onSocketError);
    redeem(deps, req, socket, url)
      .then((claims) => {
        if (claims === undefined) return;
        return checkAccess(deps, claims).then(
          (access) => {
            if (socket.destroyed) return;
            if (deps.closed()) return rejectUpgrade(socket, 503);
            deps.wss.handleUpgrade(req, socket, head, (ws) => {
              socket.off('error', onSocketError);
              deps.onConnection(ws, claims, access);
            });
          },
          (err: unknown) => {
            log.warn({ err: errorText(err) }, 'signaling: access check failed');
            rejectUpgrade(socket, 500);
          },
        );
      })
      .catch((err: unknown) => {
        log.warn({ err: errorText(err) }, 'signaling: upgrade failed');
        socket.destroy();
      });
  };
