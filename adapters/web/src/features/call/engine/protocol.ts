// Data channel protocol v1: JSON text frames between the two call engines over simple-peer's data channel. Pure.
// A frame is taken only when it is exactly one of the shapes below (no other keys, every bound kept); anything else
// is refused with a reason the engine logs at debug level. No frame is an order: the engine only records what the
// partner says (their mic and camera, their chat messages, their acks, their goodbye).

export const PROTOCOL_VERSION = 1;
/** Frames above this many bytes (UTF-8) are refused unread. */
export const MAX_FRAME_BYTES = 8 * 1024;
export const CHAT_MAX_LENGTH = 1000;
export const CHAT_ID_MAX_LENGTH = 64;

export type Frame =
  | { readonly v: 1; readonly type: 'media'; readonly mic: boolean; readonly cam: boolean }
  | { readonly v: 1; readonly type: 'chat'; readonly id: string; readonly text: string; readonly sentAt: string }
  | { readonly v: 1; readonly type: 'chat-ack'; readonly id: string }
  | { readonly v: 1; readonly type: 'bye' };

export type FrameType = Frame['type'];

export type Decoded = { readonly ok: true; readonly frame: Frame } | { readonly ok: false; readonly reason: string };

const CHAT_ID = /^[A-Za-z0-9_-]+$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
/** Control characters other than tab and line feed, and the bidirectional overrides and isolates. */
const FORBIDDEN_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;

/** The keys each frame type has, exactly. */
const KEYS: { readonly [T in FrameType]: ReadonlyArray<string> } = {
  media: ['cam', 'mic', 'type', 'v'],
  chat: ['id', 'sentAt', 'text', 'type', 'v'],
  'chat-ack': ['id', 'type', 'v'],
  bye: ['type', 'v'],
};

const isFrameType = (type: unknown): type is FrameType =>
  typeof type === 'string' && Object.prototype.hasOwnProperty.call(KEYS, type);

export const isChatId = (id: unknown): id is string =>
  typeof id === 'string' && id.length >= 1 && id.length <= CHAT_ID_MAX_LENGTH && CHAT_ID.test(id);

export const isInstant = (value: unknown): value is string =>
  typeof value === 'string' && ISO_INSTANT.test(value) && Number.isFinite(Date.parse(value));

/** Chat text as sent: 1 to CHAT_MAX_LENGTH characters, not only blanks, no control or direction-override characters. */
export const isChatText = (text: unknown): text is string =>
  typeof text === 'string' &&
  text.length >= 1 &&
  text.length <= CHAT_MAX_LENGTH &&
  text.trim() !== '' &&
  !FORBIDDEN_IN_TEXT.test(text);

/**
 * What a person typed, made sendable: line ends as `\n`, control and direction-override characters dropped, blanks
 * trimmed. The result may be empty or too long: the caller says so.
 */
export const normalizeChatText = (typed: string): string =>
  typed.replace(/\r\n?/g, '\n').replace(new RegExp(FORBIDDEN_IN_TEXT.source, 'g'), '').trim();

export const encodeFrame = (frame: Frame): string => {
  switch (frame.type) {
    case 'media':
      return JSON.stringify({ v: 1, type: 'media', mic: frame.mic, cam: frame.cam });
    case 'chat':
      return JSON.stringify({ v: 1, type: 'chat', id: frame.id, text: frame.text, sentAt: frame.sentAt });
    case 'chat-ack':
      return JSON.stringify({ v: 1, type: 'chat-ack', id: frame.id });
    case 'bye':
      return JSON.stringify({ v: 1, type: 'bye' });
    default:
      return assertNever(frame);
  }
};

function assertNever(value: never): never {
  throw new Error(`Unexpected frame: ${JSON.stringify(value)}`);
}

/** The frame's text: strings as they are, bytes (simple-peer hands over a Buffer) as strict UTF-8. */
const frameText = (data: unknown): string | { reason: string } => {
  if (typeof data === 'string') {
    // Every UTF-16 code unit is at least one byte of UTF-8: a long string is refused before it is measured.
    if (data.length > MAX_FRAME_BYTES || new TextEncoder().encode(data).length > MAX_FRAME_BYTES) {
      return { reason: 'too large' };
    }
    return data;
  }
  let bytes: Uint8Array;
  if (data instanceof Uint8Array) bytes = data;
  else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else return { reason: 'not text' };
  if (bytes.length > MAX_FRAME_BYTES) return { reason: 'too large' };
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { reason: 'not UTF-8' };
  }
};

const refuse = (reason: string): Decoded => ({ ok: false, reason });

/** Exactly the frame's keys, own and enumerable (JSON gives `__proto__` as an own key: refused like any other). */
const hasExactKeys = (value: object, keys: ReadonlyArray<string>): boolean => {
  const own = Object.keys(value).sort();
  return own.length === keys.length && own.every((key, i) => key === keys[i]);
};

/** A frame of the partner's, or why not. Never throws. */
export const decodeFrame = (data: unknown): Decoded => {
  const text = frameText(data);
  if (typeof text !== 'string') return refuse(text.reason);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refuse('not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return refuse('not an object');
  const value = parsed as { readonly [key: string]: unknown };
  if (!Object.prototype.hasOwnProperty.call(value, 'v') || value.v !== PROTOCOL_VERSION) {
    return refuse('unknown version');
  }
  const type = Object.prototype.hasOwnProperty.call(value, 'type') ? value.type : undefined;
  if (!isFrameType(type)) return refuse('unknown type');
  if (!hasExactKeys(value, KEYS[type])) return refuse(`bad ${type} keys`);
  switch (type) {
    case 'media':
      if (typeof value.mic !== 'boolean' || typeof value.cam !== 'boolean') return refuse('bad media');
      return { ok: true, frame: { v: 1, type, mic: value.mic, cam: value.cam } };
    case 'chat':
      if (!isChatId(value.id)) return refuse('bad chat id');
      if (!isChatText(value.text)) return refuse('bad chat text');
      if (!isInstant(value.sentAt)) return refuse('bad chat sentAt');
      return { ok: true, frame: { v: 1, type, id: value.id, text: value.text, sentAt: value.sentAt } };
    case 'chat-ack':
      if (!isChatId(value.id)) return refuse('bad chat-ack id');
      return { ok: true, frame: { v: 1, type, id: value.id } };
    case 'bye':
      return { ok: true, frame: { v: 1, type } };
    default:
      return assertNever(type);
  }
};

// ---- Relayed signals: what the partner's simple-peer sent through the signaling server ----
// simple-peer obeys whatever a signal says (a `transceiverRequest` adds transceivers and renegotiates, anything it
// does not know destroys the peer): only the shapes simple-peer 9 itself emits are passed on, rebuilt from their
// checked fields.

/** An offer's or answer's SDP above this many characters is refused. */
export const MAX_SDP_LENGTH = 32 * 1024;
/** An ICE candidate line above this many characters is refused. */
export const MAX_CANDIDATE_LENGTH = 1024;
const MAX_MID_LENGTH = 64;
const MAX_UFRAG_LENGTH = 256;

export type Signal =
  | { readonly type: 'offer' | 'answer'; readonly sdp: string }
  | {
      readonly type: 'candidate';
      readonly candidate: {
        readonly candidate: string;
        readonly sdpMLineIndex?: number | null;
        readonly sdpMid?: string | null;
        readonly usernameFragment?: string | null;
      };
    }
  | { readonly type: 'renegotiate'; readonly renegotiate: true }
  | { readonly type: 'transceiverRequest'; readonly transceiverRequest: { readonly kind: 'audio' | 'video' } };

export type DecodedSignal =
  { readonly ok: true; readonly signal: Signal } | { readonly ok: false; readonly reason: string };

const SIGNAL_KEYS: { readonly [T in Signal['type']]: ReadonlyArray<string> } = {
  offer: ['sdp', 'type'],
  answer: ['sdp', 'type'],
  candidate: ['candidate', 'type'],
  renegotiate: ['renegotiate', 'type'],
  transceiverRequest: ['transceiverRequest', 'type'],
};
const CANDIDATE_KEYS = ['candidate', 'sdpMLineIndex', 'sdpMid', 'usernameFragment'];

const isPlainObject = (value: unknown): value is { readonly [key: string]: unknown } =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const own = (value: object, key: string): boolean => Object.prototype.hasOwnProperty.call(value, key);

/** Absent, null, or a string of at most `max` characters. */
const optionalString = (value: unknown, max: number): value is string | null | undefined =>
  value === undefined || value === null || (typeof value === 'string' && value.length <= max);

const refuseSignal = (reason: string): DecodedSignal => ({ ok: false, reason });

function decodeCandidate(value: unknown): DecodedSignal {
  if (!isPlainObject(value)) return refuseSignal('bad candidate');
  if (!Object.keys(value).every((key) => CANDIDATE_KEYS.includes(key))) return refuseSignal('bad candidate keys');
  const { candidate, sdpMLineIndex, sdpMid, usernameFragment } = value;
  if (typeof candidate !== 'string' || candidate.length > MAX_CANDIDATE_LENGTH) return refuseSignal('bad candidate');
  const index = sdpMLineIndex === undefined || sdpMLineIndex === null || Number.isInteger(sdpMLineIndex);
  if (!index || (typeof sdpMLineIndex === 'number' && (sdpMLineIndex < 0 || sdpMLineIndex > 1023))) {
    return refuseSignal('bad candidate index');
  }
  if (!optionalString(sdpMid, MAX_MID_LENGTH) || !optionalString(usernameFragment, MAX_UFRAG_LENGTH)) {
    return refuseSignal('bad candidate mid');
  }
  return {
    ok: true,
    signal: {
      type: 'candidate',
      candidate: {
        candidate,
        ...(own(value, 'sdpMLineIndex') ? { sdpMLineIndex: sdpMLineIndex as number | null } : {}),
        ...(own(value, 'sdpMid') ? { sdpMid: sdpMid as string | null } : {}),
        ...(own(value, 'usernameFragment') ? { usernameFragment: usernameFragment as string | null } : {}),
      },
    },
  };
}

/**
 * A relayed signal of the partner's, rebuilt from its checked fields, or why not. Never throws. `transceiverRequest`
 * is simple-peer's own (a non-initiator with a track the offer had no place for asks for one): only `kind` audio or
 * video and no `init`; the engine takes it at most once per kind and only as the initiator.
 */
export const decodeSignal = (data: unknown): DecodedSignal => {
  if (!isPlainObject(data)) return refuseSignal('not an object');
  const type = own(data, 'type') ? data.type : undefined;
  if (typeof type !== 'string' || !own(SIGNAL_KEYS, type)) return refuseSignal('unknown type');
  const kind = type as Signal['type'];
  if (!hasExactKeys(data, SIGNAL_KEYS[kind])) return refuseSignal(`bad ${kind} keys`);
  switch (kind) {
    case 'offer':
    case 'answer': {
      const sdp = data.sdp;
      if (typeof sdp !== 'string' || sdp === '' || sdp.length > MAX_SDP_LENGTH) return refuseSignal('bad sdp');
      return { ok: true, signal: { type: kind, sdp } };
    }
    case 'candidate':
      return decodeCandidate(data.candidate);
    case 'renegotiate':
      return data.renegotiate === true
        ? { ok: true, signal: { type: kind, renegotiate: true } }
        : refuseSignal('bad renegotiate');
    case 'transceiverRequest': {
      const request = data.transceiverRequest;
      if (!isPlainObject(request) || !hasExactKeys(request, ['kind'])) return refuseSignal('bad transceiverRequest');
      if (request.kind !== 'audio' && request.kind !== 'video') return refuseSignal('bad transceiverRequest kind');
      return { ok: true, signal: { type: kind, transceiverRequest: { kind: request.kind } } };
    }
    default:
      return assertNever(kind);
  }
};
