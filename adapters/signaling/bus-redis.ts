import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import type { CallRole } from '../../application/calls.ts';
import type { Log } from '../../application/ports/logger.ts';
import type {
  BusDelivery,
  BusStatus,
  BusUnavailable,
  Seat,
  SeatClaim,
  SeatPeer,
  SignalingBus,
} from '../../application/ports/signaling-bus.ts';
import { CLAIM, LEAVE, OCCUPANTS, RESEAT } from './bus-redis-scripts.ts';
import type { Script } from './bus-redis-scripts.ts';
import { errorText } from './errors.ts';

export interface RedisBusOptions {
  /** `redis://` or `rediss://`, with credentials if any (never logged). */
  readonly url: string;
  /** This node's id on the bus; default a fresh UUID per process. */
  readonly node?: string;
  /** Prefix of every key and channel; default `signaling:`. */
  readonly keyPrefix?: string;
  /** How often this node refreshes its key and its members' seats; default 5000 ms. A node is dead after 3 of them. */
  readonly heartbeatMs?: number;
  /** How long a claim or a leave may take before the bus counts as unavailable; default 2000 ms. */
  readonly commandTimeoutMs?: number;
  /** Leaves kept while Redis cannot be reached, given up once it can (the oldest are dropped beyond); default 10 000. */
  readonly maxPendingLeaves?: number;
  readonly logger?: Pick<Log, 'info' | 'warn' | 'debug'>;
}

const ROLES: ReadonlySet<string> = new Set<CallRole>(['customer', 'instructor']);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asPeer = (value: unknown): SeatPeer | undefined =>
  isRecord(value) &&
  typeof value['peerId'] === 'string' &&
  typeof value['node'] === 'string' &&
  typeof value['role'] === 'string' &&
  ROLES.has(value['role'])
    ? { peerId: value['peerId'], role: value['role'] as CallRole, node: value['node'] }
    : undefined;

const asSeat = (value: unknown): Seat | undefined => {
  const peer = asPeer(value);
  return peer !== undefined && isRecord(value) && typeof value['userId'] === 'string'
    ? { ...peer, userId: value['userId'] }
    : undefined;
};

/** A delivery as published by a script or another node, or undefined when it is not one. */
const asDelivery = (text: string): BusDelivery | undefined => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const { kind, to } = value;
  if (kind === 'recheck') {
    const { meetingId, origin } = value;
    return typeof meetingId === 'string' && typeof origin === 'string' ? { kind, meetingId, origin } : undefined;
  }
  if (typeof to !== 'string') return undefined;
  if (kind === 'replaced') return { kind, to };
  if (kind === 'peer-left') {
    if (typeof value['peerId'] !== 'string') return undefined;
    return { kind, to, peerId: value['peerId'], ...(value['reason'] === 'left' ? { reason: 'left' as const } : {}) };
  }
  if (kind === 'paired') {
    const peer = asPeer(value['peer']);
    const connectionId = value['connectionId'];
    return peer !== undefined && typeof connectionId === 'string' ? { kind, to, peer, connectionId } : undefined;
  }
  if (kind === 'signal') {
    const { from, connectionId, data } = value;
    return typeof from === 'string' && typeof connectionId === 'string' && isRecord(data)
      ? { kind, to, from, connectionId, data }
      : undefined;
  }
  return undefined;
};

const unavailable = (message: string): BusUnavailable => ({ kind: 'BusUnavailable', message });
const NOT_CONNECTED = unavailable('the signaling bus (Redis) is not connected');
const noop = (): void => {};

/** Where Redis is, for logs: host and port only, never the credentials. */
export const redisAddress = (url: string): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return 'redis';
  }
};

interface Connection {
  /** Both clients answer and the subscriptions are in place. */
  ready(): boolean;
  status(): BusStatus;
  /** Runs a script (EVALSHA, loading it once when Redis does not know it); `prefix` is its first argument. */
  run(script: Script, keys: string[], args: string[]): Promise<unknown>;
  command(args: string[]): Promise<unknown>;
  /** Publishes without waiting: refused at once while not ready, a failure afterwards is only logged. */
  publish(channel: string, message: string): Either<BusUnavailable, void>;
  connect(channels: string[], onMessage: (text: string) => void, onReady: () => void): void;
  close(): Promise<void>;
}

/**
 * Two clients (commands, subscriptions) that reconnect with backoff. Commands are never queued while Redis is
 * unreachable: they fail at once (`disableOfflineQueue`), and the subscriber's only commands are its subscriptions.
 */
const redisConnection = (options: RedisBusOptions, prefix: string, log: Logs): Connection => {
  const address = redisAddress(options.url);
  const timeout = options.commandTimeoutMs ?? 2_000;
  const client = createClient({
    url: options.url,
    socket: { connectTimeout: timeout, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000) },
    disableOfflineQueue: true,
    commandOptions: { timeout },
  });
  const subscriber = client.duplicate({ disableOfflineQueue: false, commandOptions: {} });
  let subscribed = false;
  let subscribing = false;
  let everReady = false;
  let lost = false;
  let closed = false;
  const ready = () => client.isReady && subscriber.isReady && subscribed;
  const onError = (err: unknown) => {
    if (closed) return;
    // Every failed reconnection emits an error: say it once per outage.
    if (!lost) {
      log.warn({ redis: address, err: errorText(err) }, `signaling bus: ${everReady ? 'lost' : 'cannot reach'} Redis`);
    }
    lost = true;
  };
  const command = (args: string[]) => client.sendCommand(args);
  return {
    ready,
    status: () => (ready() ? 'ok' : everReady ? 'down' : 'connecting'),
    command,
    async run(script, keys, args) {
      const tail = [String(keys.length), ...keys, prefix, ...args];
      try {
        return await command(['EVALSHA', script.sha, ...tail]);
      } catch (err) {
        if (!errorText(err).startsWith('NOSCRIPT')) throw err;
        return command(['EVAL', script.text, ...tail]);
      }
    },
    publish(channel, message) {
      if (!ready()) return E.left(NOT_CONNECTED);
      command(['PUBLISH', channel, message]).catch((err: unknown) => {
        log.debug({ err: errorText(err) }, 'signaling bus: publish failed');
      });
      return E.right(undefined);
    },
    connect(channels, onMessage, onReady) {
      const readyNow = () => {
        if (!ready()) return;
        if (!everReady || lost) log.info({ redis: address }, 'signaling bus: connected to Redis');
        everReady = true;
        lost = false;
        onReady();
      };
      // A subscription cut short by a lost connection registered nothing: it is asked for again once connected.
      const subscribe = () => {
        subscribing = true;
        subscriber.subscribe(channels, onMessage).then(
          () => {
            subscribed = true;
            readyNow();
          },
          (err: unknown) => {
            subscribing = false;
            onError(err);
          },
        );
      };
      for (const c of [client, subscriber]) {
        c.on('error', onError);
        c.on('ready', () => {
          if (c === subscriber && !subscribed && !subscribing) subscribe();
          readyNow();
        });
        c.connect().catch(onError);
      }
      subscribe();
    },
    async close() {
      closed = true;
      for (const c of [subscriber, client]) {
        if (c.isReady) await c.close().catch(() => c.destroy());
        else if (c.isOpen) c.destroy();
      }
    },
  };
};

type Logs = Pick<Log, 'info' | 'warn' | 'debug'>;

/**
 * The signaling bus on Redis: rooms in hashes changed by Lua scripts (bus-redis-scripts.ts), deliveries over
 * pub/sub, one channel per node. While Redis is unreachable joins are refused at once and signals across nodes are
 * dropped; once it is back, the next heartbeat seats this node's members again and gives up the leaves kept
 * meanwhile.
 */
/** The keys and channels of the bus, for this node. */
const keysOf = (prefix: string, node: string) => ({
  room: (meetingId: string) => `${prefix}room:${meetingId}`,
  node: `${prefix}node:${node}`,
  inbox: (to: string) => `${prefix}to:${to}`,
  all: `${prefix}all`,
});

/** The seats of live nodes in a room (read only). */
const readOccupants = async (redis: Connection, room: string): Promise<Either<BusUnavailable, Seat[]>> => {
  if (!redis.ready()) return E.left(NOT_CONNECTED);
  try {
    const reply = await redis.run(OCCUPANTS, [room], []);
    const seats = (Array.isArray(reply) ? reply : []).map((text) => asSeat(JSON.parse(String(text))));
    return E.right(seats.filter((seat): seat is Seat => seat !== undefined));
  } catch (err) {
    return E.left(unavailable(`the signaling bus (Redis) did not answer: ${errorText(err)}`));
  }
};

export const createRedisBus = (options: RedisBusOptions): SignalingBus => {
  const node = options.node ?? randomUUID();
  const prefix = options.keyPrefix ?? 'signaling:';
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const nodeTtlMs = heartbeatMs * 3;
  const roomTtlMs = Math.max(60_000, nodeTtlMs * 2);
  const maxPendingLeaves = options.maxPendingLeaves ?? 10_000;
  const log = options.logger ?? { info: noop, warn: noop, debug: noop };
  const key = keysOf(prefix, node);
  const redis = redisConnection(options, prefix, log);
  let deliver: (delivery: BusDelivery) => void = noop;
  let localSeats: () => Iterable<{ meetingId: string; seat: Seat }> = () => [];
  let heartbeat: NodeJS.Timeout | undefined;
  let closed = false;
  let beating = false;
  type Leave = { meetingId: string; partner: SeatPeer | undefined; reason: 'left' | undefined };
  const pendingLeaves = new Map<string, Leave>();

  const keepLeave = (peerId: string, leave: Leave): void => {
    pendingLeaves.set(peerId, leave);
    if (pendingLeaves.size > maxPendingLeaves) pendingLeaves.delete(pendingLeaves.keys().next().value as string);
  };
  const leaveNow = (meetingId: string, peerId: string, reason: 'left' | undefined) =>
    redis.run(LEAVE, [key.room(meetingId)], [peerId, reason ?? '']);
  const seatArgs = (seat: Seat) => [JSON.stringify(seat), String(roomTtlMs), String(nodeTtlMs)];

  /** This node's key, the leaves kept while Redis was away, and its members' seats (seated again if Redis lost them). */
  const beat = async (): Promise<void> => {
    // One at a time: a slow Redis must not pile heartbeats up.
    if (!redis.ready() || beating) return;
    beating = true;
    try {
      await redis.command(['SET', key.node, '1', 'PX', String(nodeTtlMs)]);
      for (const [peerId, { meetingId, partner, reason }] of [...pendingLeaves]) {
        const left = await leaveNow(meetingId, peerId, reason);
        pendingLeaves.delete(peerId);
        // Redis lost the seat (a restart): nobody told the partner, so tell it here.
        if (left === 0 && partner !== undefined) {
          const notice = { kind: 'peer-left', to: partner.peerId, peerId, ...(reason !== undefined ? { reason } : {}) };
          redis.publish(key.inbox(partner.node), JSON.stringify(notice));
        }
      }
      const seats = [...localSeats()];
      const answers = await Promise.all(
        seats.map(({ meetingId, seat }) => redis.run(RESEAT, [key.room(meetingId), key.node], seatArgs(seat))),
      );
      answers.forEach((answer, i) => {
        const seat = seats[i]?.seat;
        if (answer === 'taken' && seat !== undefined) deliver({ kind: 'replaced', to: seat.peerId });
      });
    } catch (err) {
      log.debug({ err: errorText(err) }, 'signaling bus: heartbeat failed');
    } finally {
      beating = false;
    }
  };

  const onMessage = (text: string) => {
    const delivery = asDelivery(text);
    if (delivery === undefined) return log.debug({}, 'signaling bus: ignored a malformed delivery');
    // A broadcast comes back to its sender too; it is meant for the others.
    if (delivery.kind === 'recheck' && delivery.origin === node) return;
    try {
      deliver(delivery);
    } catch (err) {
      log.warn({ err: errorText(err) }, 'signaling bus: delivery failed');
    }
  };

  const claim = async (meetingId: string, seat: Seat, connectionId: string) => {
    if (!redis.ready()) return E.left(NOT_CONNECTED);
    let reply: unknown;
    try {
      const args = [JSON.stringify(seat), connectionId, String(roomTtlMs), String(nodeTtlMs)];
      reply = await redis.run(CLAIM, [key.room(meetingId), key.node], args);
    } catch (err) {
      return E.left(unavailable(`the signaling bus (Redis) did not answer: ${errorText(err)}`));
    }
    const answer = JSON.parse(String(reply)) as Record<string, unknown>;
    const replaced = asSeat(answer['replaced']);
    return E.right<BusUnavailable, SeatClaim>(
      answer['admitted'] === true
        ? { admitted: true, replaced, partner: asPeer(answer['partner']) }
        : { admitted: false, reason: 'room_full', replaced },
    );
  };

  return {
    name: 'redis',
    node,
    start(handler, seats) {
      deliver = handler;
      localSeats = seats;
      redis.connect([key.inbox(node), key.all], onMessage, () => void beat());
      heartbeat = setInterval(() => void beat(), heartbeatMs);
      heartbeat.unref();
    },
    claim,
    async leave(meetingId, peerId, partner, reason) {
      if (!redis.ready()) {
        keepLeave(peerId, { meetingId, partner, reason });
        return E.left(NOT_CONNECTED);
      }
      try {
        await leaveNow(meetingId, peerId, reason);
        return E.right(undefined);
      } catch (err) {
        keepLeave(peerId, { meetingId, partner, reason });
        return E.left(unavailable(`the signaling bus (Redis) did not answer: ${errorText(err)}`));
      }
    },
    occupants: (meetingId) => readOccupants(redis, key.room(meetingId)),
    send(to, delivery) {
      if (to !== node) return redis.publish(key.inbox(to), JSON.stringify(delivery));
      deliver(delivery);
      return E.right(undefined);
    },
    broadcast: (delivery) => redis.publish(key.all, JSON.stringify(delivery)),
    status: () => redis.status(),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      // Without this node's key, whatever seats it still had are dropped by the next claim in their rooms.
      if (redis.ready()) await redis.command(['DEL', key.node]).catch(noop);
      await redis.close();
    },
  };
};
