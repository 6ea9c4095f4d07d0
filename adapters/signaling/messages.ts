import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import * as E from 'fp-ts/lib/Either.js';
import { SIGNALING_CLOSE_CODES } from './contract.ts';
import type { ErrorCode } from './contract.ts';
import { closeWith, sendError } from './hub.ts';
import type { Hub, Member, SocketState } from './hub.ts';
import { removeMember } from './rooms.ts';

const MAX_CONNECTION_ID_LENGTH = 128;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const frameSize = (raw: RawData): number =>
  Array.isArray(raw) ? raw.reduce((n, b) => n + b.length, 0) : raw instanceof ArrayBuffer ? raw.byteLength : raw.length;

const frameText = (raw: RawData): string =>
  Array.isArray(raw)
    ? Buffer.concat(raw).toString('utf8')
    : raw instanceof ArrayBuffer
      ? Buffer.from(raw).toString('utf8')
      : raw.toString('utf8');

/** One misbehaviour: told with an `error` frame; after `maxStrikes` of them the socket is closed with 4008. */
const strike = (hub: Hub, ws: WebSocket, state: SocketState, code: ErrorCode, message: string): void => {
  state.strikes += 1;
  sendError(hub.settings, ws, code, message);
  if (state.strikes >= hub.settings.maxStrikes) {
    hub.settings.log.info({ strikes: state.strikes, code }, 'signaling: closing misbehaving socket');
    if (state.member !== undefined) removeMember(hub, state.member);
    closeWith(ws, SIGNALING_CLOSE_CODES.policy, 'policy violation');
  }
};

/** A frame above the contract's limit closes the socket at once (4008). */
export const tooLarge = (hub: Hub, ws: WebSocket, state: SocketState): void => {
  sendError(hub.settings, ws, 'too_large', `Frames are limited to ${hub.settings.maxPayloadBytes} bytes.`);
  if (state.member !== undefined) removeMember(hub, state.member);
  closeWith(ws, SIGNALING_CLOSE_CODES.policy, 'message too large');
};

/** Token bucket per socket, refilled continuously on the monotonic clock. */
const takeToken = (hub: Hub, state: SocketState): boolean => {
  const { rateMessages, ratePerMs, monotonicNow } = hub.settings;
  const at = monotonicNow();
  const elapsed = Math.max(0, at - state.refilledAt);
  state.tokens = Math.min(rateMessages, state.tokens + (elapsed * rateMessages) / ratePerMs);
  state.refilledAt = at;
  if (state.tokens < 1) return false;
  state.tokens -= 1;
  return true;
};

/** The frame as a JSON object, or undefined once it has been struck for not being one. */
const parseFrame = (
  hub: Hub,
  ws: WebSocket,
  state: SocketState,
  raw: RawData,
  isBinary: boolean,
): Record<string, unknown> | undefined => {
  const { maxPayloadBytes, rateMessages, ratePerMs } = hub.settings;
  if (frameSize(raw) > maxPayloadBytes) {
    tooLarge(hub, ws, state);
    return undefined;
  }
  if (!takeToken(hub, state)) {
    strike(hub, ws, state, 'rate_limited', `At most ${rateMessages} messages per ${ratePerMs} ms.`);
    return undefined;
  }
  if (isBinary) {
    strike(hub, ws, state, 'malformed', 'Frames must be JSON text.');
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(frameText(raw));
  } catch {
    strike(hub, ws, state, 'malformed', 'Frames must be JSON.');
    return undefined;
  }
  if (!isPlainObject(parsed)) {
    strike(hub, ws, state, 'malformed', 'Frames must be JSON objects.');
    return undefined;
  }
  return parsed;
};

/** Relays a signal to the other member, on the pair's current connection only (a stale one is dropped). */
const relaySignal = (hub: Hub, ws: WebSocket, state: SocketState, member: Member, frame: Record<string, unknown>) => {
  const connectionId = frame['connectionId'];
  const data = frame['data'];
  if (
    typeof connectionId !== 'string' ||
    connectionId.length === 0 ||
    connectionId.length > MAX_CONNECTION_ID_LENGTH ||
    !isPlainObject(data)
  ) {
    strike(hub, ws, state, 'invalid_message', 'A signal needs a connectionId string and a data object.');
    return;
  }
  const { link } = member;
  if (link === undefined || link.connectionId !== connectionId) {
    hub.settings.log.debug({ meetingId: member.meetingId }, 'signaling: dropped signal for a stale connection');
    return;
  }
  const sent = hub.bus.send(link.peer.node, {
    kind: 'signal',
    to: link.peer.peerId,
    from: member.peerId,
    connectionId,
    data,
  });
  if (E.isLeft(sent)) hub.settings.log.debug({ meetingId: member.meetingId }, `signaling: ${sent.left.message}`);
};

/** A frame from an admitted member: `signal` is relayed, `leave` leaves; anything else is struck. */
export const onMessage = (hub: Hub, ws: WebSocket, state: SocketState, raw: RawData, isBinary: boolean): void => {
  if (ws.readyState !== WebSocket.OPEN) return;
  const member = state.member;
  if (member === undefined || member.gone || member.early !== undefined) return;
  const frame = parseFrame(hub, ws, state, raw, isBinary);
  if (frame === undefined) return;
  const type = frame['type'];
  if (type === 'signal') return relaySignal(hub, ws, state, member, frame);
  if (type === 'leave') {
    // Said on purpose: the partner is told `reason: "left"` (not a lost connection it should wait for).
    removeMember(hub, member, true, 'left');
    closeWith(ws, 1000, 'left');
    return;
  }
  strike(hub, ws, state, 'unknown_type', 'Unknown message type.');
};

/**
 * ws answers frames above its maxPayload by closing with 1009 right after emitting 'error' on its receiver;
 * listening there first lets us close with the contract's 4008 instead. Private API: without it, such frames
 * still get closed, only with 1009.
 */
export const hookOversizeFrames = (hub: Hub, ws: WebSocket, state: SocketState): void => {
  const receiver = (ws as unknown as { _receiver?: { prependListener?: unknown } })._receiver;
  if (receiver === undefined || typeof receiver.prependListener !== 'function') return;
  (receiver as unknown as NodeJS.EventEmitter).prependListener('error', (err: Error & { code?: string }) => {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') tooLarge(hub, ws, state);
  });
};
