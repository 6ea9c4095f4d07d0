import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import { WebSocket, WebSocketServer } from 'ws';
import { randomBytes } from 'node:crypto';
import { JoinTickets } from '../../../application/calls.ts';
import { createInMemoryEventStore } from '../../../adapters/event-store/memory.ts';
import { attachSignaling } from '../../../adapters/signaling/server.ts';
import { createRedisBus } from '../../../adapters/signaling/bus-redis.ts';
import type { SignalingHandle } from '../../../adapters/signaling/server.ts';
import { failChild, serveChild, settledMemory } from '../child.ts';

/**
 * Either our signaling endpoint (attachSignaling with join tickets redeemed into an in-memory store, and a permissive access check) or, as the
 * baseline, a bare ws relay: no tickets, no rooms, each message forwarded as is to the socket paired by `?pair=N`.
 * With SIGNALING_BENCH_REDIS_URL, ours runs on the Redis bus as node `argv[3]`, one of several sharing that Redis.
 */
const mode = process.argv[2] === 'bare' ? 'bare' : 'ours';
const redisUrl = process.env.SIGNALING_BENCH_REDIS_URL;

const httpServer = createServer((_req, res) => {
  res.writeHead(404).end();
});

let signaling: SignalingHandle | undefined;
let tickets: JoinTickets | undefined;
let bareSockets = 0;
let bareWss: WebSocketServer | undefined;

if (mode === 'ours') {
  tickets = new JoinTickets({ secret: randomBytes(32), store: createInMemoryEventStore(), ttlMs: 30 * 60_000 });
  signaling = attachSignaling(httpServer, {
    tickets,
    allowedOrigins: '*',
    checkAccess: async () => E.right({}),
    iceServersFor: () => [{ urls: ['stun:stun.l.google.com:19302'] }],
    ...(redisUrl !== undefined ? { bus: createRedisBus({ url: redisUrl, node: process.argv[3] ?? 'bench' }) } : {}),
  });
} else {
  const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false, clientTracking: false });
  bareWss = wss;
  const waiting = new Map<string, WebSocket>();
  const peers = new Map<WebSocket, WebSocket>();
  wss.on('connection', (ws, req) => {
    bareSockets += 1;
    const key = new URL(req.url ?? '/', 'http://localhost').searchParams.get('pair') ?? '';
    const other = waiting.get(key);
    if (other === undefined) {
      waiting.set(key, ws);
    } else {
      waiting.delete(key);
      peers.set(ws, other);
      peers.set(other, ws);
      ws.send('{"type":"paired"}');
      other.send('{"type":"paired"}');
    }
    ws.on('message', (data, isBinary) => {
      const peer = peers.get(ws);
      if (peer !== undefined && peer.readyState === WebSocket.OPEN) peer.send(data, { binary: isBinary });
    });
    ws.on('close', () => {
      bareSockets -= 1;
      if (waiting.get(key) === ws) waiting.delete(key);
      peers.delete(ws);
    });
    ws.on('error', () => {});
  });
}

await new Promise<void>((resolve, reject) => {
  httpServer.once('error', reject);
  httpServer.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => resolve());
}).catch(failChild);
const port = (httpServer.address() as AddressInfo).port;

serveChild(
  { mode, port, url: `ws://127.0.0.1:${port}` },
  {
    /** Two tickets per room: [instructor, customer]. */
    tickets: (args) => {
      const { rooms, offset } = args as { rooms: number; offset: number };
      if (tickets === undefined) return [];
      const now = new Date();
      const out: Array<[string, string]> = [];
      for (let i = offset; i < offset + rooms; i++) {
        out.push([
          tickets.issue({ userId: `instructor-${i}`, meetingId: `meeting-${i}`, role: 'instructor', now }),
          tickets.issue({ userId: `customer-${i}`, meetingId: `meeting-${i}`, role: 'customer', now }),
        ]);
      }
      return out;
    },
    memory: () => settledMemory(),
    sockets: () => (signaling !== undefined ? signaling.stats().sockets : bareSockets),
    bus: () => signaling?.bus(),
  },
  async () => {
    if (signaling !== undefined) await signaling.close();
    if (bareWss !== undefined) await new Promise<void>((resolve) => bareWss?.close(() => resolve()));
    await new Promise<void>((resolve) => {
      httpServer.close(() => resolve());
      httpServer.closeAllConnections();
    });
  },
);
