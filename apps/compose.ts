import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import * as E from 'fp-ts/lib/Either.js';
import pino from 'pino';
import type { Logger } from 'pino';
import { defaultAccessProvider } from '../application/default-access.ts';
import type { AccessProvider } from '../application/ports/access.ts';
import type { EventStore } from '../application/ports/event-store.ts';
import type { ProjectionRunner } from '../application/projections/runner.ts';
import { createCore } from '../application/core.ts';
import type { SeriesService } from '../application/series-service.ts';
import type { SeriesProcessManager } from '../application/series-process.ts';
import type { Service } from '../application/service.ts';
import { openSqliteEventStore } from '../adapters/event-store/sqlite.ts';
import {
  KurrentDbAccessDeniedError,
  KurrentDbConnectionStringError,
  KurrentDbUnreachableError,
  openKurrentDbEventStore,
} from '../adapters/event-store/kurrentdb.ts';
import type { KurrentDbLogger } from '../adapters/event-store/kurrentdb.ts';
import type { ProjectionStatus } from '../application/projections/runner.ts';
import { createHttpApp } from '../adapters/http/app.ts';
import { createAuthenticator } from '../adapters/http/auth.ts';
import { openSqliteReadModels } from '../adapters/read-models/index.ts';
import type { SqliteReadModels } from '../adapters/read-models/index.ts';
import type { Config } from './config.ts';
import { ConfigError } from './config.ts';
import { seedDemo } from './seed.ts';
import { seriesCrashProbe } from './test-crash.ts';
import { createNotifications } from './notifications.ts';
import type { NotificationOptions } from './notifications.ts';
import type { NotificationModule } from '../application/notifications/module.ts';
import { createIcsFeedBuilder } from '../adapters/mail/ics.ts';
import { createCalendarFeedService } from '../application/calendar-feed.ts';
import { writeRefusal } from '../application/execute.ts';
import type { Executor } from '../application/execute.ts';
import { createIdempotency } from '../application/idempotency.ts';
import { STREAM_PREFIXES } from './streams.ts';
import { TicketBook, iceServersFor } from '../application/calls.ts';
import { callAccess, createJoinService } from '../application/join.ts';
import { attachSignaling } from '../adapters/signaling/server.ts';
import type { SignalingHandle, SignalingOptions } from '../adapters/signaling/server.ts';

export interface System {
  readonly config: Config;
  /** Where the server listens (`http://127.0.0.1:8080`). */
  readonly url: string;
  /** The address to give people (PUBLIC_BASE_URL, else `http://localhost:<port>`): links and calls work there. */
  readonly publicBaseUrl: string;
  readonly port: number;
  readonly server: Server;
  readonly store: EventStore;
  readonly readModels: SqliteReadModels;
  readonly projections: ProjectionRunner;
  readonly service: Service;
  readonly series: SeriesService;
  readonly jwtSecret: Uint8Array | undefined;
  readonly devMode: boolean;
  readonly demoTokens: ReadonlyArray<{ name: string; sub: string; roles: string[]; token: string; ttlSeconds: number }>;
  readonly logger: Logger;
  readonly signaling: SignalingHandle;
  readonly notifications: NotificationModule;
  close(): Promise<void>;
}

export interface SystemOptions {
  readonly logger?: Logger;
  readonly clock?: () => Date;
  readonly access?: (queries: SqliteReadModels) => AccessProvider;
  readonly store?: EventStore;
  /** Overrides for signaling intervals and limits (tests use short ones). */
  readonly signaling?: Partial<
    Pick<SignalingOptions, 'pingIntervalMs' | 'maxPayloadBytes' | 'rateLimit' | 'maxBufferedBytes' | 'maxStrikes'>
  >;
  /** Cancellation emails: retry timing (tests use milliseconds), jitter, or another mailer. */
  readonly notifications?: NotificationOptions;
}

const prepareDataDir = (dir: string): string => {
  const path = resolve(dir);
  try {
    mkdirSync(path, { recursive: true });
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw new ConfigError(`DATA_DIR '${path}' is not a readable and writable directory: ${(error as Error).message}`);
  }
  return path;
};

/** Dev mode: no configured secret, so one is generated once and kept in DATA_DIR (never printed). */
const devSecret = (dataDir: string): Uint8Array => {
  const file = join(dataDir, 'dev-jwt-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return new TextEncoder().encode(readFileSync(file, 'utf8').trim());
};

/**
 * This node's id, kept in DATA_DIR: an idempotency claim of an earlier process of this node, still unanswered, is
 * one that died with it and is taken over at once (another node's waits for its lease).
 */
const nodeId = (dataDir: string): string => {
  const file = join(dataDir, 'node-id');
  if (!existsSync(file)) writeFileSync(file, randomUUID(), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
};

/** Start-up failed for a reason outside this process (e.g. the event store is unreachable); the message says it all. */
export class StartupError extends Error {}

/** The adapter logs plain sentences; pino takes (object, message). */
const kurrentDbLogger = (logger: Logger): KurrentDbLogger => {
  const log = logger.child({ component: 'kurrentdb' });
  return {
    info: (message) => log.info(message),
    warn: (message) => log.warn(message),
    error: (message) => log.error(message),
  };
};

const openStore = async (config: Config, dataDir: string, logger: Logger): Promise<EventStore> => {
  if (config.kurrentDbConnectionString === undefined) {
    return openSqliteEventStore({ path: join(dataDir, 'events.db') });
  }
  try {
    return await openKurrentDbEventStore({
      connectionString: config.kurrentDbConnectionString,
      streamPrefixes: STREAM_PREFIXES,
      logger: kurrentDbLogger(logger),
    });
  } catch (error) {
    if (error instanceof KurrentDbConnectionStringError)
      throw new ConfigError(`KURRENTDB_CONNECTION_STRING: ${error.message}`);
    if (error instanceof KurrentDbUnreachableError || error instanceof KurrentDbAccessDeniedError)
      throw new StartupError(error.message);
    throw error;
  }
};

const HEALTH_STORE_TIMEOUT_MS = 2_000;

/** Test-only crash points, inert unless SERIES_TEST_CRASH is set (apps/test-crash.ts). */
const seriesProbeOption = () => {
  const probe = seriesCrashProbe();
  return probe !== undefined ? { seriesProbe: probe } : {};
};

export const startSystem = async (config: Config, options: SystemOptions = {}): Promise<System> => {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const clock = options.clock ?? (() => new Date());
  const dataDir = prepareDataDir(config.dataDir);
  const store = options.store ?? (await openStore(config, dataDir, logger));
  const readModels = openSqliteReadModels(
    join(dataDir, config.kurrentDbConnectionString ? 'read-models-kurrentdb.db' : 'read-models.db'),
  );
  const access = options.access?.(readModels) ?? defaultAccessProvider(readModels);
  const {
    projections,
    executor,
    service,
    series: seriesService,
    seriesProcessManager,
  } = createCore({
    store,
    readModels,
    access,
    clock,
    newId: randomUUID,
    onProjectionError: (error) => logger.error({ err: error }, 'projection stopped'),
    checkpoints: readModels.notifications.checkpoints,
    log: logger.child({ component: 'series-process' }),
    ...seriesProbeOption(),
  });
  const stopCore = async () => {
    await seriesProcessManager.stop();
    await projections.stop();
    await store.close();
    readModels.close();
  };
  try {
    return await startAdapters({
      config,
      options,
      logger,
      clock,
      dataDir,
      store,
      readModels,
      projections,
      executor,
      service,
      seriesService,
      seriesProcessManager,
      access,
    });
  } catch (error) {
    await stopCore();
    throw error;
  }
};

interface AdapterDeps {
  readonly config: Config;
  readonly options: SystemOptions;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly dataDir: string;
  readonly store: EventStore;
  readonly readModels: SqliteReadModels;
  readonly projections: ProjectionRunner;
  readonly executor: Executor;
  readonly service: Service;
  readonly seriesService: SeriesService;
  readonly seriesProcessManager: SeriesProcessManager;
  readonly access: AccessProvider;
}

const startAdapters = async (deps: AdapterDeps): Promise<System> => {
  const {
    config,
    options,
    logger,
    clock,
    dataDir,
    store,
    readModels,
    projections,
    executor,
    service,
    seriesService,
    seriesProcessManager,
    access,
  } = deps;
  const notifications = createNotifications({
    config,
    dataDir,
    store,
    executor,
    readModels,
    projections,
    logger,
    clock,
    newId: randomUUID,
    ...(options.notifications !== undefined ? { options: options.notifications } : {}),
  });

  const devMode = config.jwtSecret === undefined && config.jwksUrl === undefined;
  const jwtSecret =
    config.jwtSecret !== undefined
      ? new TextEncoder().encode(config.jwtSecret)
      : devMode
        ? devSecret(dataDir)
        : undefined;
  const authenticate = createAuthenticator({
    ...(jwtSecret !== undefined ? { secret: jwtSecret } : {}),
    ...(config.jwksUrl !== undefined ? { jwksUrl: config.jwksUrl } : {}),
    ...(config.jwtIssuer !== undefined ? { issuer: config.jwtIssuer } : {}),
    ...(config.jwtAudience !== undefined ? { audience: config.jwtAudience } : {}),
    maxTokenTtlSeconds: config.maxTokenTtlSeconds,
  });

  // Last head seen, so that lag can still be told while the store cannot answer.
  let lastHead = 0;
  const health = async () => {
    let projectionStatus: Record<string, ProjectionStatus>;
    let reachable = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      projectionStatus = await Promise.race([
        projections
          .status()
          .then(async (status) => ({ ...status, [notifications.reaction.name]: await notifications.status() })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer from the event store')), HEALTH_STORE_TIMEOUT_MS);
        }),
      ]);
      for (const p of Object.values(projectionStatus)) lastHead = Math.max(lastHead, p.position + p.lag);
    } catch {
      reachable = false;
      projectionStatus = Object.fromEntries(
        readModels.sinks.map((sink) => [
          sink.name,
          { position: sink.checkpoint(), lag: Math.max(0, lastHead - sink.checkpoint()) },
        ]),
      );
    } finally {
      clearTimeout(timer);
    }
    const kurrent = store.connectionStatus?.();
    const storeStatus = kurrent !== undefined && kurrent !== 'connected' ? kurrent : reachable ? 'ok' : 'unreachable';
    // `ready`: writes are taken (the read models their checks read have caught up with the log as of the start).
    const ready = projections.healthy;
    const ok = storeStatus === 'ok' && ready;
    return {
      status: ok ? ('ok' as const) : ('degraded' as const),
      body: {
        status: ok ? 'ok' : 'degraded',
        ready,
        catchingUp: projections.catchingUp,
        store: { name: store.capabilities.name, status: storeStatus },
        projections: projectionStatus,
      },
    };
  };

  const tickets = new TicketBook({ ttlMs: 60_000 });
  const ice = (userId: string, now: Date) =>
    iceServersFor({
      stunUrls: [...config.stunUrls],
      turnUrls: [...config.turnUrls],
      ...(config.turnSecret !== undefined ? { turnSecret: config.turnSecret } : {}),
      ttlSeconds: config.turnTtlSeconds,
      userId,
      now,
    });
  // Without PUBLIC_BASE_URL the public address is this server's own, known only once it listens (PORT=0).
  let publicBaseUrl = config.publicBaseUrl;
  const joinService = createJoinService({
    queries: readModels,
    tickets,
    ticketTtlMs: tickets.ttlMs,
    iceServersFor: ice,
    signalingUrl: () => `${publicBaseUrl.replace(/^http/, 'ws')}/signaling`,
    clock,
  });
  const calendarFeeds = createCalendarFeedService({
    executor,
    queries: readModels,
    access,
    clock,
    newToken: () => randomBytes(32).toString('base64url'),
    publicBaseUrl: () => publicBaseUrl,
  });

  // Both known once the server listens (the port may be 0 until then).
  let signalingHandle: SignalingHandle | undefined;
  let allowedOrigins: ReadonlyArray<string> | '*' | undefined;
  const app = createHttpApp({
    service,
    series: seriesService,
    join: joinService,
    notifications: notifications.service,
    calendarFeeds: {
      service: calendarFeeds,
      render: createIcsFeedBuilder({
        publicBaseUrl: () => publicBaseUrl,
        siteName: config.siteName,
        sender: config.mailFrom,
      }),
    },
    readVersion: () => (access.deterministic === true ? projections.appliedPosition : undefined),
    idempotency: {
      keys: createIdempotency({
        store,
        clock,
        newId: randomUUID,
        self: { node: nodeId(dataDir), instance: randomUUID() },
      }),
      writable: () => writeRefusal(projections),
    },
    authenticate,
    logger,
    health,
    publicBaseUrl: config.publicBaseUrl,
    rateLimit: config.rateLimit,
    // The signaling server exists only once the HTTP server listens; until then no origin is allowed.
    signaling: {
      originAllowed: (origin) => signalingHandle?.originAllowed(origin) ?? false,
      suggestedOrigin: () => {
        const own = new URL(publicBaseUrl).origin;
        if (signalingHandle?.originAllowed(own) === true) return own;
        return allowedOrigins === '*' ? undefined : allowedOrigins?.[0];
      },
    },
  });

  const server = await new Promise<Server>((resolvePromise, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }) as Server;
    s.once('listening', () => resolvePromise(s));
    s.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new ConfigError(
          error.code === 'EADDRINUSE'
            ? `port ${config.port} on ${config.host} is already in use (set PORT)`
            : error.code === 'EACCES'
              ? `not allowed to listen on ${config.host}:${config.port} (set PORT above 1023)`
              : `cannot listen on ${config.host}:${config.port}: ${error.message}`,
        ),
      );
    });
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  const port = (server.address() as AddressInfo).port;
  if (config.publicBaseUrlDefaulted) publicBaseUrl = `http://localhost:${port}`;
  // In dev mode the page may be opened at any spelling of this machine's address (npm start prints 127.0.0.1, links
  // say localhost): all of them are the same server, so the signaling socket accepts all of them.
  allowedOrigins = config.allowedOriginsDefaulted
    ? [
        new URL(publicBaseUrl).origin,
        ...(devMode ? [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`] : []),
      ]
    : config.allowedOrigins;

  const signaling = attachSignaling(server, {
    tickets,
    allowedOrigins: allowedOrigins === '*' ? '*' : [...allowedOrigins],
    checkAccess: async (meetingId, userId, now) => {
      const access = callAccess(readModels.getMeeting(meetingId), userId, now);
      if (E.isLeft(access)) return E.left(access.left);
      if (access.right.meeting.trainingType !== '1-1') {
        return E.left({ code: 'not_native', message: 'this meeting now takes place through its remote link' });
      }
      return E.right({});
    },
    iceServersFor: (userId) => [...ice(userId, clock())],
    logger: logger.child({ component: 'signaling' }),
    now: clock,
    ...options.signaling,
  });
  signalingHandle = signaling;
  // A cancelled or moved meeting ends its call: the room re-checks access once the read model shows the change.
  projections.onProjected((event) => {
    if (
      event.type === 'SessionCancelled' ||
      event.type === 'MeetingRescheduled' ||
      event.type === 'TrainingTypeChanged'
    ) {
      const meetingId = (event.data as { meetingId?: unknown }).meetingId;
      if (typeof meetingId === 'string') {
        signaling
          .meetingChanged(meetingId)
          .catch((error: unknown) => logger.warn({ err: error, meetingId }, 'signaling re-check failed'));
      }
    }
  });

  notifications.start();

  // Series sessions follow their series from the log: whatever a crash cut short is finished from the checkpoint on.
  seriesProcessManager.start();

  // The demo data is written like any other write, so only once the read models have caught up.
  // Only an empty log gets the demo data, and an empty log is caught up at once: a node catching up with a long log
  // seeds nothing and must not wait for it here.
  if (devMode && config.seedDemo && (await store.headPosition()) === 0) await projections.whenHealthy();
  const demoTokens =
    devMode && config.seedDemo && jwtSecret !== undefined
      ? await seedDemo(service, store, jwtSecret, clock, logger, config.maxTokenTtlSeconds)
      : [];

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await signaling.close();
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
      await notifications.stop();
      await seriesProcessManager.stop();
      await projections.stop();
      await store.close();
      readModels.close();
    })();
    return closing;
  };

  return {
    config,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    publicBaseUrl,
    port,
    server,
    store,
    readModels,
    projections,
    service,
    series: seriesService,
    jwtSecret,
    devMode,
    demoTokens,
    logger,
    signaling,
    notifications,
    close,
  };
};
