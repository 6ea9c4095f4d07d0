export type CallState =
  'socket-connecting' | 'waiting-for-peer' | 'connecting-peer' | 'connected' | 'reconnecting' | 'ended';

export interface NativeJoinResponse {
  readonly signalingUrl: string;
  readonly ticket: string;
  readonly iceServers?: unknown[];
  readonly role?: 'customer' | 'instructor';
  readonly debugLevel?: number;
}

export interface CallError extends Error {
  code?: string;
}

export interface StartCallOptions {
  readonly join: NativeJoinResponse;
  /** The simple-peer constructor (`new SimplePeer({initiator, stream, config})`, events signal/connect/stream/error/close). */
  readonly SimplePeer: new (options: { initiator: boolean; stream?: unknown; config: { iceServers: unknown[] } }) => {
    on(event: string, listener: (...args: any[]) => void): unknown;
    signal(data: unknown): void;
    destroy(): void;
  };
  readonly localStream?: unknown;
  readonly onState?: (state: CallState) => void;
  /** `null` when the remote side went away. */
  readonly onRemoteStream?: (stream: any) => void;
  readonly onError?: (err: CallError) => void;
  /** A fresh join response; throwing an error with a 4xx `status` ends the call. */
  readonly rejoin?: () => Promise<NativeJoinResponse>;
  readonly reconnect?: {
    readonly initialDelayMs?: number;
    readonly maxDelayMs?: number;
    readonly maxAttempts?: number;
    readonly peerLostGraceMs?: number;
  };
  /**
   * Asked when a socket closes without ever opening (browsers hide a refused upgrade's status): may this page's
   * origin connect? `allowed: false` ends the call with the error `origin_refused`; null or a throw: reconnect.
   */
  readonly checkOrigin?: () => Promise<{
    readonly allowed: boolean;
    readonly origin?: string;
    readonly suggestedOrigin?: string;
  } | null>;
  /** Defaults to `globalThis.WebSocket`. */
  readonly WebSocket?: unknown;
}

export interface CallHandle {
  leave(): void;
  readonly state: CallState;
}

export function startCall(options: StartCallOptions): CallHandle;
