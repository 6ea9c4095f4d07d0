import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import type { ClientOptions } from 'ws';
import * as E from 'fp-ts/lib/Either.js';
import { randomBytes } from 'node:crypto';
import { JoinTickets, iceServersFor, joinWindow } from '../../../application/calls.ts';
import { createInMemoryEventStore } from '../../../adapters/event-store/memory.ts';
import type { CallRole } from '../../../application/calls.ts';
import { attachSignaling } from '../../../adapters/signaling/server.ts';
import type { SignalingHandle, SignalingOptions } from '../../../adapters/signaling/server.ts';

export const ORIGIN = 'https://app.example';
export const TURN_SECRET = 'turn-secret-for-tests';

export interface TestMeeting {
  customerId: string;
  instructorId: string;
  start: Date;
  end: Date;
  cancelled: boolean;
  /** Extra users the access check lets in, to exercise the room's own seat limit. */
  extra?: string[];
}

export interface Harness {
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  readonly tickets: JoinTickets;
  readonly meetings: Map<string, TestMeeting>;
  readonly handle: SignalingHandle;
  clock: Date;
  ticket(userId: string, meetingId: string, role: CallRole): string;
  connect(query: string | undefined, options?: ClientOptions): TestClient;
  join(userId: string, meetingId: string, role: CallRole, options?: ClientOptions): Promise<TestClient>;
  close(): Promise<void>;
}

export interface ServerMessage {
  type: string;
  [key: string]: unknown;
}

export class TestClient {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  readonly closeCodes: number[] = [];
  readonly errors: Error[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the HTTP status when the server answers the upgrade with a plain response. */
  readonly refused: Promise<number>;
  private waiters: Array<() => void> = [];

  constructor(url: string, options?: ClientOptions) {
    this.ws = new WebSocket(url, options);
    this.ws.on('error', (err) => this.errors.push(err));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', () => reject(new Error('closed before open')));
    });
    this.opened.catch(() => {});
    this.refused = new Promise((resolve) => {
      this.ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        this.ws.terminate();
      });
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeCodes.push(code);
        resolve({ code, reason: reason.toString() });
        this.notify();
      });
    });
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.messages.push(JSON.parse(data.toString()) as ServerMessage);
      this.notify();
    });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until `predicate` holds for some received message (from the start) and returns it. */
  async waitFor(predicate: (m: ServerMessage) => boolean, what = 'message'): Promise<ServerMessage> {
    for (;;) {
      const found = this.messages.find(predicate);
      if (found !== undefined) return found;
      if (this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`socket closed while waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  waitType(type: string): Promise<ServerMessage> {
    return this.waitFor((m) => m.type === type, type);
  }

  /** Waits until `count` messages of `type` arrived. */
  async waitCount(type: string, count: number): Promise<ServerMessage[]> {
    for (;;) {
      const found = this.ofType(type);
      if (found.length >= count) return found;
      if (this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`socket closed while waiting for ${count} ${type}; got ${JSON.stringify(this.messages)}`);
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  ofType(type: string): ServerMessage[] {
    return this.messages.filter((m) => m.type === type);
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` passes (or throws its last error after `timeoutMs`). */
export const eventually = async (check: () => void, timeoutMs = 10_000): Promise<void> => {
  const started = Date.now();
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw err;
      await sleep(20);
    }
  }
};

export const MEETING = 'meeting-1';
export const CUSTOMER = 'user-customer';
export const INSTRUCTOR = 'user-instructor';

/**
 * One signaling server on its own HTTP server. Nodes of one cluster pass the same `meetings` (what their access
 * checks read) and each its own `bus` on one broker or Redis.
 */
export const startHarness = async (
  overrides: Partial<Omit<SignalingOptions, 'tickets' | 'checkAccess' | 'iceServersFor'>> &
    Pick<Partial<SignalingOptions>, 'checkAccess'> = {},
  shared: { readonly meetings?: Map<string, TestMeeting> } = {},
): Promise<Harness> => {
  const server = http.createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const tickets = new JoinTickets({ secret: randomBytes(32), store: createInMemoryEventStore(), ttlMs: 60_000 });
  const meetings = shared.meetings ?? new Map<string, TestMeeting>();
  const start = new Date('2026-03-02T10:00:00Z');
  if (!meetings.has(MEETING))
    meetings.set(MEETING, {
      customerId: CUSTOMER,
      instructorId: INSTRUCTOR,
      start,
      end: new Date(start.getTime() + 60 * 60_000),
      cancelled: false,
    });
  const harness: Partial<Harness> & { clock: Date } = { clock: new Date(start.getTime() + 5 * 60_000) };

  const checkAccess: SignalingOptions['checkAccess'] = async (meetingId, userId, now) => {
    const meeting = meetings.get(meetingId);
    if (meeting === undefined) return E.left({ code: 'not_found', message: 'No such meeting.' });
    if (meeting.cancelled) return E.left({ code: 'cancelled', message: 'The meeting was cancelled.' });
    if (userId !== meeting.customerId && userId !== meeting.instructorId && !(meeting.extra ?? []).includes(userId)) {
      return E.left({ code: 'not_participant', message: 'Not a participant.' });
    }
    const window = joinWindow({ start: meeting.start, end: meeting.end, now, timezone: 'UTC' });
    if (E.isLeft(window)) return E.left({ code: 'outside_window', message: window.left.message });
    return E.right({});
  };

  const handle = attachSignaling(server, {
    path: '/signaling',
    tickets,
    allowedOrigins: [ORIGIN],
    checkAccess,
    iceServersFor: (userId) =>
      iceServersFor({
        stunUrls: ['stun:stun.example:3478'],
        turnUrls: ['turn:turn.example:3478?transport=udp'],
        turnSecret: TURN_SECRET,
        ttlSeconds: 3600,
        userId,
        now: harness.clock,
      }),
    pingIntervalMs: 60_000,
    now: () => harness.clock,
    ...overrides,
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `ws://127.0.0.1:${port}/signaling`;
  const clients: TestClient[] = [];

  Object.assign(harness, {
    url,
    port,
    server,
    tickets,
    meetings,
    handle,
    ticket: (userId: string, meetingId: string, role: CallRole) =>
      tickets.issue({ userId, meetingId, role, now: harness.clock }),
    connect: (query: string | undefined, options?: ClientOptions) => {
      const client = new TestClient(query === undefined ? url : `${url}?${query}`, { origin: ORIGIN, ...options });
      clients.push(client);
      return client;
    },
    join: async (userId: string, meetingId: string, role: CallRole, options?: ClientOptions) => {
      const ticket = tickets.issue({ userId, meetingId, role, now: harness.clock });
      const client = (harness as Harness).connect(`ticket=${encodeURIComponent(ticket)}`, options);
      await client.opened;
      return client;
    },
    close: async () => {
      for (const c of clients) {
        if (c.ws.readyState !== WebSocket.CLOSED) c.ws.terminate();
      }
      await handle.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return harness as Harness;
};
