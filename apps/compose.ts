import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import * as E from 'fp-ts/lib/Either.js';
import pino from 'pino';
import type { Logger } from 'pino';
import { defaultAccessProvider } from '../application/default-access.ts';
import type { AccessProvider } from '../application/ports/access.ts';
import { guardedAccessProvider } from '../application/access-plugin.ts';
import { loadAccessProvider, pluginQueries } from './access-provider.ts';
import type { EventStore } from '../application/ports/event-store.ts';
import type { Mailer } from '../application/ports/mailer.ts';
import type { ProjectionRunner } from '../application/projections/runner.ts';
import { trackReadVersion } from '../application/projections/read-version.ts';
import { meetingStreamPrefix } from '../domain/meeting.ts';
import { seriesStreamPrefix } from '../domain/series.ts';
import { personStreamPrefix } from '../domain/person.ts';
import { attendanceStreamPrefix } from '../domain/attendance.ts';
import { createCore } from '../application/core.ts';
import type { SeriesService } from '../application/series-service.ts';
import type { SeriesProcessManager } from '../application/series-process.ts';
import type { ScheduleReaction } from '../application/schedule-reaction.ts';
import type { Service } from '../application/service.ts';
import { openSqliteEventStore } from '../adapters/event-store/sqlite.ts';
import {
  KurrentDbAccessDeniedError,
  KurrentDbConnectionStringError,
  KurrentDbUnreachableError,
  openKurrentDbEventStore,
} from '../adapters/event-store/kurrentdb.ts';
import { createHttpApp } from '../adapters/http/app.ts';
import { createAuthenticator, mintToken } from '../adapters/http/auth.ts';
import { createSessions } from '../application/sessions.ts';
import type { Sessions } from '../application/sessions.ts';
import type { SignIn } from '../application/sign-in.ts';
import { SessionRevocationReaction } from '../application/session-revocation.ts';
import { createSignIn } from '../application/sign-in.ts';
import type { AuthRouteDeps } from '../adapters/http/auth/routes.ts';
import { chooseMailer } from './notifications.ts';
import { demoPeople } from './seed.ts';
import type { Authenticator } from '../adapters/http/auth.ts';
import { createOidcSignOn } from '../adapters/http/oidc/index.ts';
import { oidcSessionStarter } from '../adapters/http/oidc/session.ts';
import { setRefreshCookie } from '../adapters/http/auth/guards.ts';
import { openSqliteReadModels } from '../adapters/read-models/index.ts';
import type { SqliteReadModels } from '../adapters/read-models/index.ts';
import type { Config } from './config.ts';
import { claimNodeDir, devSecret, nodeId, prepareDir } from './node-files.ts';
import { ConfigError } from './config.ts';
import { seedDemo } from './seed.ts';
import { bookingCrashProbe, seriesCrashProbe } from './test-crash.ts';
import { createNotifications, settingsOfReminders } from './notifications.ts';
import type { NotificationOptions } from './notifications.ts';
import type { NotificationModule } from '../application/notifications/module.ts';
import { createWebhooks } from './webhooks.ts';
import type { WebhookOptions } from './webhooks.ts';
import type { WebhookModule } from '../application/webhooks/module.ts';
import { createReminderTopic, createReminders } from './reminders.ts';
import type { ReminderOptions } from './reminders.ts';
import type { ReminderModule } from '../application/reminders/module.ts';
import { createIcsFeedBuilder } from '../adapters/mail/ics.ts';
import { createCalendarFeedService } from '../application/calendar-feed.ts';
import { createAuditService } from '../application/audit.ts';
import { writeRefusal } from '../application/execute.ts';
import type { Executor } from '../application/execute.ts';
import { createIdempotency } from '../application/idempotency.ts';
import { projectedStreamPrefixes } from '../application/aggregates.ts';
import { JoinTickets, iceServersFor } from '../application/calls.ts';
import { callRoom } from '../application/call-room.ts';
import type { RoomOccupancy } from '../application/call-room.ts';
import { callAccess, createJoinService, participantUser } from '../application/join.ts';
import { JoinLinkSigner, createJoinLinks } from '../application/join-links.ts';
import type { JoinLinks } from '../application/join-links.ts';
import { joinLinkAuthenticator } from '../adapters/http/join-link.ts';
import { closeCallsOnMeetingChange } from '../application/call-rooms.ts';
import { createAttendanceRecorder } from '../application/attendance.ts';
import { createHealthCheck } from '../application/health.ts';
import { attachSignaling } from '../adapters/signaling/server.ts';
import { createSettingsPreview } from '../application/settings-preview.ts';
import { createRedisBus } from '../adapters/signaling/bus-redis.ts';
import type { SignalingHandle, SignalingOptions } from '../adapters/signaling/server.ts';
import { newId } from '../adapters/ids.ts';

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
  readonly webhooks: WebhookModule;
  /** Reminders before each session: planned from the log, sent through the notification log. */
  readonly reminders: ReminderModule;
  /** Sign-in sessions; undefined without a bearer secret to sign their tokens (AUTH_JWKS_URL alone). */
  readonly sessions: Sessions | undefined;
  /** Email sign-in, with the sessions. */
  readonly signIn: SignIn | undefined;
  /** Who may see what, as the application asks it (guarded; the site's ACCESS_PROVIDER when one is set). */
  readonly access: AccessProvider;
  close(): Promise<void>;
}

export interface SystemOptions {
  readonly logger?: Logger;
  readonly clock?: () => Date;
  readonly access?: (queries: SqliteReadModels) => AccessProvider;
  readonly store?: EventStore;
  /** Overrides for signaling intervals and limits (tests use short ones). */
  readonly signaling?: Partial<
    Pick<
      SignalingOptions,
      'pingIntervalMs' | 'maxPayloadBytes' | 'rateLimit' | 'maxBufferedBytes' | 'maxStrikes' | 'attendanceGraceMs'
    >
  >;
  /** Cancellation emails: retry timing (tests use milliseconds), jitter, or another mailer. */
  readonly notifications?: NotificationOptions;
  /** Webhooks: the retry schedule and timeouts (tests use milliseconds), the auto-disable period, a DNS resolver. */
  readonly webhooks?: WebhookOptions;
  /** Reminders: TEST-ONLY offsets in seconds and re-check delay (apps/reminders.ts). */
  readonly reminders?: ReminderOptions;
  /** The audit log's CSV export: the most entries one may hold (tests use a few). */
  readonly auditCsvMaxRows?: number;
  /** `false` only for the bench's baseline: bookings without the schedule streams (unsafe across nodes). */
  readonly bookingSchedules?: boolean;
}

/** Where a node keeps its files (see node-files.ts); `release` gives READ_MODELS_DIR back at shutdown. */
interface Dirs {
  readonly dataDir: string;
  readonly nodeDir: string;
  readonly release: () => void;
}

const prepareDirs = (config: Config): Dirs => {
  const dataDir = prepareDir('DATA_DIR', config.dataDir);
  const nodeDir = prepareDir('READ_MODELS_DIR', config.readModelsDir);
  return { dataDir, nodeDir, release: claimNodeDir(nodeDir) };
};

/** Start-up failed for a reason outside this process (e.g. the event store is unreachable); the message says it all. */
export class StartupError extends Error {}

const openStore = async (config: Config, dataDir: string, logger: Logger): Promise<EventStore> => {
  if (config.kurrentDbConnectionString === undefined) {
    return openSqliteEventStore({
      path: join(dataDir, 'events.db'),
      commitOn: config.eventStoreCommit,
      onCommitWorkerStopped: (reason) =>
        logger.error(
          { err: reason },
          'the event store commit worker stopped: the appends it held failed, and appends are committed on the main thread from now on',
        ),
    });
  }
  try {
    return await openKurrentDbEventStore({
      connectionString: config.kurrentDbConnectionString,
      streamPrefixes: projectedStreamPrefixes,
      logger: logger.child({ component: 'kurrentdb' }),
    });
  } catch (error) {
    if (error instanceof KurrentDbConnectionStringError)
      throw new ConfigError(`KURRENTDB_CONNECTION_STRING: ${error.message}`);
    if (error instanceof KurrentDbUnreachableError || error instanceof KurrentDbAccessDeniedError)
      throw new StartupError(error.message);
    throw error;
  }
};

interface Stores {
  readonly store: EventStore;
  readonly readModels: SqliteReadModels;
  readonly access: AccessProvider;
}

/**
 * Who may see what: a test's provider, else the site's ACCESS_PROVIDER module, else the default; whichever it is,
 * every call goes through the guard (a failing or garbled answer fails its request, never the server).
 */
const chooseAccess = async (config: Config, options: SystemOptions, readModels: SqliteReadModels, logger: Logger) => {
  const log = logger.child({ component: 'access-provider' });
  const base = defaultAccessProvider(readModels);
  const chosen =
    options.access?.(readModels) ??
    (config.accessProvider !== undefined
      ? await loadAccessProvider(config.accessProvider, {
          queries: pluginQueries(readModels),
          defaultProvider: base,
          log,
        })
      : base);
  return guardedAccessProvider(chosen, log);
};

/** The event store (embedded SQLite, else KurrentDB), the read models beside it, and who may see what. */
const openStores = async (config: Config, options: SystemOptions, dirs: Dirs, logger: Logger): Promise<Stores> => {
  const store = options.store ?? (await openStore(config, dirs.dataDir, logger));
  const readModels = openSqliteReadModels(
    join(dirs.nodeDir, config.kurrentDbConnectionString ? 'read-models-kurrentdb.db' : 'read-models.db'),
  );
  try {
    return { store, readModels, access: await chooseAccess(config, options, readModels, logger) };
  } catch (error) {
    readModels.close();
    if (options.store === undefined) await store.close();
    throw error;
  }
};

const startCore = (
  { store, readModels, access }: Stores,
  clock: () => Date,
  logger: Logger,
  settings: { config: Config; options: SystemOptions },
) =>
  createCore({
    store,
    readModels,
    access,
    clock,
    newId,
    onProjectionError: (error) => logger.error({ err: error }, 'projection stopped'),
    checkpoints: readModels.notifications.checkpoints,
    log: logger.child({ component: 'series-process' }),
    // Test-only crash points, inert unless SERIES_TEST_CRASH is set (apps/test-crash.ts).
    seriesProbe: seriesCrashProbe(),
    bookingProbe: bookingCrashProbe(),
    reservationGraceMs: settings.config.reservationGraceMs,
    schedules: settings.options.bookingSchedules,
  });

export const startSystem = async (config: Config, options: SystemOptions = {}): Promise<System> => {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const clock = options.clock ?? (() => new Date());
  const dirs = prepareDirs(config);
  let stores: Stores;
  try {
    stores = await openStores(config, options, dirs, logger);
  } catch (error) {
    dirs.release();
    throw error;
  }
  const core = startCore(stores, clock, logger, { config, options });
  try {
    return await startAdapters({ config, options, logger, clock, ...dirs, ...stores, ...core });
  } catch (error) {
    await stopCore({ ...stores, ...core, release: dirs.release });
    throw error;
  }
};

/** What follows the log stops before the stores it reads close. */
const stopCore = async (
  core: Pick<
    AdapterDeps,
    'seriesProcessManager' | 'scheduleReaction' | 'projections' | 'store' | 'readModels' | 'release'
  >,
) => {
  await core.seriesProcessManager.stop();
  await core.scheduleReaction.stop();
  await core.projections.stop();
  await core.store.close();
  core.readModels.close();
  core.release();
};

interface AdapterDeps extends Stores {
  readonly config: Config;
  readonly options: SystemOptions;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly dataDir: string;
  readonly nodeDir: string;
  readonly release: () => void;
  readonly projections: ProjectionRunner;
  readonly executor: Executor;
  readonly service: Service;
  readonly series: SeriesService;
  readonly seriesProcessManager: SeriesProcessManager;
  readonly scheduleReaction: ScheduleReaction;
}

/**
 * What is known only once the server listens (its port may be 0 until then): the public address without
 * PUBLIC_BASE_URL, the origins the signaling socket accepts, and the signaling server itself.
 */
interface Listening {
  publicBaseUrl: string;
  allowedOrigins?: ReadonlyArray<string> | '*';
  signaling?: SignalingHandle;
}

interface Auth {
  readonly devMode: boolean;
  readonly jwtSecret: Uint8Array | undefined;
  readonly authenticate: Authenticator;
}

/** Dev mode (neither JWT_SECRET nor JWKS_URL): tokens are signed with a secret generated once into DATA_DIR. */
const createAuth = (config: Config, dataDir: string, readModels: SqliteReadModels): Auth => {
  const devMode = config.jwtSecret === undefined && config.jwksUrl === undefined;
  const jwtSecret =
    config.jwtSecret !== undefined
      ? new TextEncoder().encode(config.jwtSecret)
      : devMode
        ? devSecret(dataDir)
        : undefined;
  const authenticate = createAuthenticator({
    secret: jwtSecret,
    jwksUrl: config.jwksUrl,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    maxTokenTtlSeconds: config.maxTokenTtlSeconds,
    isSessionRevoked: (sid) => readModels.sessionRevoked(sid),
  });
  return { devMode, jwtSecret, authenticate };
};

/** Sign-in sessions, signed with the bearer secret, and the reaction that ends them on deactivation or a role change. */
const createSessionParts = (deps: AdapterDeps, auth: Auth) => {
  const secret = auth.jwtSecret;
  if (secret === undefined) return undefined;
  const sessions = createSessions({
    store: deps.store,
    newId,
    clock: deps.clock,
    queries: deps.readModels,
    waitFor: (position) => deps.projections.waitFor(position),
    mintAccessToken: (claims, ttl, now) => mintToken(secret, claims, ttl, now),
    ...deps.config.session,
  });
  const reaction = new SessionRevocationReaction({
    store: deps.store,
    checkpoints: deps.readModels.notifications.checkpoints,
    log: deps.logger.child({ component: 'session-revocation' }),
    dependsOn: { waitFor: (position) => deps.projections.waitFor(position) },
    sessions,
  });
  return { sessions, reaction };
};

type SessionParts = NonNullable<ReturnType<typeof createSessionParts>>;

/** Email sign-in and the /auth routes' wiring: the site's own origins, and in dev mode the demo people. */
const signInRoutes = (
  deps: AdapterDeps,
  auth: Auth,
  parts: SessionParts,
  listening: Listening,
  mailer: Mailer,
): AuthRouteDeps => {
  const { config, readModels, logger } = deps;
  const signIn = createSignIn({
    store: deps.store,
    newId,
    clock: deps.clock,
    queries: readModels,
    sessions: parts.sessions,
    mailer,
    mail: { from: config.mailFrom, siteName: config.siteName },
    publicBaseUrl: () => listening.publicBaseUrl,
    log: logger.child({ component: 'sign-in' }),
    linksPerAddress: config.signIn.perAddress,
  });
  const ownOrigin = (origin: string) => {
    const own = new URL(listening.publicBaseUrl);
    if (origin === own.origin) return true;
    // Dev mode: the page may be open at any loopback spelling of this server (as for the signaling socket).
    const port = own.port || (own.protocol === 'https:' ? '443' : '80');
    return (
      auth.devMode && [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`].includes(origin)
    );
  };
  const devPeople = () =>
    demoPeople
      .map((p) => readModels.getPerson(p.sub))
      .filter((p) => p !== undefined && p.active && p.roles.length > 0)
      .map((p) => ({ id: p!.id, name: p!.name, email: p!.email, roles: [...p!.roles] }));
  return {
    sessions: parts.sessions,
    signIn,
    ownOrigin,
    perClient: config.signIn.perClient,
    ...(auth.devMode ? { devPeople } : {}),
  };
};

/** The signaling socket's URL: PUBLIC_BASE_URL's, as ws(s). */
const signalingUrlOf = (listening: Listening): string => `${listening.publicBaseUrl.replace(/^http/, 'ws')}/signaling`;

/** The call rooms' seats, from the signaling server once it listens (before that, nobody can be in a call). */
const roomOccupancy = (listening: Listening, log: Pick<Logger, 'warn'>): RoomOccupancy => ({
  occupants: async (meetingId) => {
    const signaling = listening.signaling;
    if (signaling === undefined) return E.right([]);
    const seats = await signaling.occupants(meetingId);
    // What the bus said (a Redis address, a script error) is for the log, never for the caller.
    if (E.isLeft(seats)) log.warn({ meetingId, err: seats.left.message }, 'call room not read');
    return seats;
  },
});

/** The ICE servers a participant gets: STUN, and TURN with short-lived credentials when a TURN secret is set. */
const iceFor = (config: Config) => (userId: string, now: Date) =>
  iceServersFor({
    stunUrls: [...config.stunUrls],
    turnUrls: [...config.turnUrls],
    turnSecret: config.turnSecret,
    ttlSeconds: config.turnTtlSeconds,
    userId,
    now,
  });

interface Calls {
  readonly tickets: JoinTickets;
  readonly ice: ReturnType<typeof iceFor>;
  readonly join: ReturnType<typeof createJoinService>;
  readonly links: JoinLinks;
}

/** Join tickets are signed with a key every node derives alike: from CALL_TICKET_SECRET, else the token secret. */
const ticketSecret = (config: Config, auth: Auth): Uint8Array => {
  if (config.callTicketSecret !== undefined) return new TextEncoder().encode(config.callTicketSecret);
  if (auth.jwtSecret !== undefined) return auth.jwtSecret;
  throw new ConfigError('CALL_TICKET_SECRET is required with AUTH_JWKS_URL and no AUTH_JWT_SECRET');
};

/** Join links are signed under their own HKDF label from the ticket secret, so every node checks them alike. */
const createLinks = (deps: AdapterDeps, auth: Auth, listening: Listening): JoinLinks =>
  createJoinLinks({
    signer: new JoinLinkSigner(ticketSecret(deps.config, auth)),
    queries: deps.readModels,
    clock: deps.clock,
    publicBaseUrl: () => listening.publicBaseUrl,
  });

const createCalls = (deps: AdapterDeps, auth: Auth, listening: Listening, links: JoinLinks): Calls => {
  const tickets = new JoinTickets({
    secret: ticketSecret(deps.config, auth),
    store: deps.store,
    ttlMs: 60_000,
    newId,
  });
  const ice = iceFor(deps.config);
  const join = createJoinService({
    linkFor: links.linkFor,
    access: deps.access,
    queries: deps.readModels,
    tickets,
    ticketTtlMs: tickets.ttlMs,
    iceServersFor: ice,
    signalingUrl: () => signalingUrlOf(listening),
    clock: deps.clock,
  });
  return { tickets, ice, join, links };
};

/** OIDC single sign-on when AUTH_OIDC_ISSUER is set: its routes, and the provider's tokens beside the server's own. */
const createOidc = (deps: AdapterDeps, auth: Auth, sessions: Sessions | undefined, listening: Listening) => {
  const oidc = deps.config.oidc;
  if (oidc === undefined) return undefined;
  if (auth.jwtSecret === undefined || sessions === undefined) {
    throw new ConfigError('AUTH_OIDC_ISSUER needs AUTH_JWT_SECRET (or dev mode) to sign its sessions');
  }
  return createOidcSignOn({
    settings: {
      ...oidc,
      redirectUri: () => `${listening.publicBaseUrl}/auth/oidc/callback`,
      allowInsecureRequests: oidc.insecureLoopback,
    },
    bearerSecret: auth.jwtSecret,
    recorder: deps.executor,
    queries: deps.readModels,
    clock: deps.clock,
    logger: deps.logger.child({ component: 'oidc' }),
    siteName: deps.config.siteName,
    startSession: oidcSessionStarter(sessions, setRefreshCookie),
  });
};

const createHttp = (
  deps: AdapterDeps,
  parts: {
    auth: Auth;
    calls: Calls;
    notifications: NotificationModule;
    webhooks: WebhookModule;
    reminders: ReminderModule;
    listening: Listening;
    oidc?: ReturnType<typeof createOidc>;
  },
  signIn?: AuthRouteDeps,
) => {
  const { config, store, readModels, projections, access, clock, logger } = deps;
  const { auth, calls, notifications, webhooks, reminders, listening, oidc } = parts;
  // Calendars show meetings, series, people's names and roles, and attendance: their cached answers and ETags follow
  // those streams only, not the notices, reminder plans and deliveries the reactions write meanwhile.
  const calendarVersion = trackReadVersion(projections, [
    meetingStreamPrefix,
    seriesStreamPrefix,
    personStreamPrefix,
    attendanceStreamPrefix,
  ]);
  const calendarFeeds = createCalendarFeedService({
    executor: deps.executor,
    queries: readModels,
    access,
    clock,
    newToken: () => randomBytes(32).toString('base64url'),
    publicBaseUrl: () => listening.publicBaseUrl,
    joinLink: calls.links.linkFor,
  });
  const health = createHealthCheck({
    projections,
    sinks: readModels.sinks,
    followers: [
      { name: notifications.reaction.name, status: () => notifications.status() },
      ...(notifications.changes !== undefined
        ? [{ name: notifications.changes.name, status: () => notifications.changes!.status() }]
        : []),
      { name: webhooks.reaction.name, status: () => webhooks.status() },
      { name: reminders.planner.name, status: () => reminders.status() },
    ],
    store: { name: store.capabilities.name, connectionStatus: store.connectionStatus?.bind(store) },
    signaling: () =>
      listening.signaling?.bus() ?? { name: config.redisUrl ? 'redis' : 'in-process', status: 'connecting' },
    node: { id: nodeId(deps.nodeDir) },
  });
  const room = { getMeeting: deps.service.getMeeting, occupancy: roomOccupancy(listening, logger) };
  return createHttpApp({
    service: deps.service,
    settingsPreview: createSettingsPreview({
      queries: readModels,
      siteName: config.siteName,
      clock,
      publicBaseUrl: () => listening.publicBaseUrl,
    }),
    series: deps.series,
    join: {
      join: calls.join.join,
      room: (ctx, meetingId) => callRoom(room, ctx, meetingId),
    },
    notifications: notifications.service,
    webhooks: webhooks.service,
    audit: createAuditService({ queries: readModels.audit, csvMaxRows: deps.options.auditCsvMaxRows }),
    calendarFeeds: {
      service: calendarFeeds,
      render: createIcsFeedBuilder({
        publicBaseUrl: () => listening.publicBaseUrl,
        siteName: config.siteName,
        sender: config.mailFrom,
      }),
    },
    readVersion: () => (access.deterministic === true ? calendarVersion() : undefined),
    idempotency: {
      keys: createIdempotency({
        store,
        clock,
        newId,
        self: { node: nodeId(deps.nodeDir), instance: randomUUID() },
      }),
      writable: () => writeRefusal(projections),
    },
    // A join link's token, the OpenID provider's, else the server's own.
    authenticate: joinLinkAuthenticator(calls.links, oidc?.authenticate(auth.authenticate) ?? auth.authenticate),
    ...(oidc !== undefined ? { oidc: oidc.routes } : {}),
    logger,
    health,
    publicBaseUrl: config.publicBaseUrl,
    signalingUrl: () => signalingUrlOf(listening),
    rateLimit: config.rateLimit,
    trustedProxyHops: config.trustedProxyHops,
    ...(signIn !== undefined ? { signIn } : {}),
    // The signaling server exists only once the HTTP server listens; until then no origin is allowed.
    signaling: {
      originAllowed: (origin) => listening.signaling?.originAllowed(origin) ?? false,
      suggestedOrigin: () => {
        const own = new URL(listening.publicBaseUrl).origin;
        if (listening.signaling?.originAllowed(own) === true) return own;
        return listening.allowedOrigins === '*' ? undefined : listening.allowedOrigins?.[0];
      },
    },
  });
};

const listenError = (config: Config, error: NodeJS.ErrnoException): ConfigError =>
  new ConfigError(
    error.code === 'EADDRINUSE'
      ? `port ${config.port} on ${config.host} is already in use (set PORT)`
      : error.code === 'EACCES'
        ? `not allowed to listen on ${config.host}:${config.port} (set PORT above 1023)`
        : `cannot listen on ${config.host}:${config.port}: ${error.message}`,
  );

const listen = async (config: Config, app: { fetch: Parameters<typeof serve>[0]['fetch'] }): Promise<Server> => {
  const server = await new Promise<Server>((resolvePromise, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }) as Server;
    s.once('listening', () => resolvePromise(s));
    s.once('error', (error: NodeJS.ErrnoException) => reject(listenError(config, error)));
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  return server;
};

/**
 * In dev mode the page may be opened at any spelling of this machine's address (npm start prints 127.0.0.1, links
 * say localhost): all of them are the same server, so the signaling socket accepts all of them.
 */
const originsFor = (config: Config, publicBaseUrl: string, port: number, devMode: boolean) =>
  config.allowedOriginsDefaulted
    ? [
        new URL(publicBaseUrl).origin,
        ...(devMode ? [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`] : []),
      ]
    : config.allowedOrigins;

const startSignaling = (
  deps: AdapterDeps,
  server: Server,
  calls: Calls,
  allowedOrigins: ReadonlyArray<string> | '*',
): SignalingHandle => {
  const { readModels, clock, logger } = deps;
  return attachSignaling(server, {
    tickets: calls.tickets,
    allowedOrigins: allowedOrigins === '*' ? '*' : [...allowedOrigins],
    checkAccess: async (meetingId, userId, now) => {
      const access = callAccess(readModels.getMeeting(meetingId), userId, now);
      if (E.isLeft(access)) return E.left(access.left);
      const user = participantUser(userId, readModels.getPerson(userId)?.roles, access.right.role);
      if (!(await deps.access.canView(user, access.right.meeting)))
        return E.left({ code: 'not_found', message: 'meeting not found' });
      if (access.right.meeting.trainingType !== '1-1') {
        return E.left({ code: 'not_native', message: 'this meeting now takes place through its remote link' });
      }
      return E.right({});
    },
    iceServersFor: (userId) => [...calls.ice(userId, clock())],
    logger: logger.child({ component: 'signaling' }),
    // Joins and leaves go to each meeting's attendance stream; a failing store never holds up or ends a call.
    attendance: createAttendanceRecorder(deps.executor),
    // With REDIS_URL, rooms are shared by every node through Redis; without it they live in this process.
    ...(deps.config.redisUrl !== undefined
      ? { bus: createRedisBus({ url: deps.config.redisUrl, logger: logger.child({ component: 'signaling-bus' }) }) }
      : {}),
    now: clock,
    ...deps.options.signaling,
  });
};

/**
 * The demo data is written like any other write, so only once the read models have caught up. Only an empty log
 * gets the demo data, and an empty log is caught up at once: a node catching up with a long log seeds nothing and
 * must not wait for it here.
 */
const seedIfDemo = async (deps: AdapterDeps, auth: Auth) => {
  const { config, store } = deps;
  if (!auth.devMode || !config.seedDemo || auth.jwtSecret === undefined) return [];
  if ((await store.headPosition()) === 0) await deps.projections.whenHealthy();
  return seedDemo(deps.service, store, auth.jwtSecret, deps.clock, deps.logger, config.maxTokenTtlSeconds);
};

/** Stops in the reverse order of the start: no new calls or requests first, then what follows the log, the stores last. */
const closer = (
  deps: AdapterDeps,
  server: Server,
  signaling: SignalingHandle,
  notifications: NotificationModule,
  webhooks: WebhookModule,
  reminders: ReminderModule,
  /** Sign-in's own work (queued link requests, the revocation reaction), stopped before the stores close. */
  stopSignIn: () => Promise<void>,
) => {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= (async () => {
      await signaling.close();
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
      await reminders.stop();
      await notifications.stop();
      await webhooks.stop();
      await stopSignIn();
      await stopCore(deps);
    })();
    return closing;
  };
};

const startAdapters = async (deps: AdapterDeps): Promise<System> => {
  const { config, logger, projections } = deps;
  const auth = createAuth(config, deps.dataDir, deps.readModels);
  // Without PUBLIC_BASE_URL the public address is this server's own, known only once it listens (PORT=0).
  const listening: Listening = { publicBaseUrl: config.publicBaseUrl };
  const links = createLinks(deps, auth, listening);
  // One mailer for every email the server sends: notices, webhook alerts, sign-in links.
  const mailer = deps.options.notifications?.mailer ?? chooseMailer(config, deps.dataDir, logger);
  // Reminders read their offsets, switch and templates from the settings.
  const reminderSettings = settingsOfReminders(deps.readModels);
  const notifications = createNotifications({
    config,
    dataDir: deps.dataDir,
    store: deps.store,
    executor: deps.executor,
    readModels: deps.readModels,
    projections,
    logger,
    clock: deps.clock,
    newId,
    options: { ...deps.options.notifications, mailer },
    joinLinks: links,
    publicBaseUrl: () => listening.publicBaseUrl,
    topics: {
      reminder: createReminderTopic({ ...deps, config, joinLinks: links, settings: reminderSettings }),
    },
  });
  const webhooks = createWebhooks({
    config,
    store: deps.store,
    executor: deps.executor,
    readModels: deps.readModels,
    projections,
    mailer,
    logger,
    clock: deps.clock,
    newId,
    options: deps.options.webhooks,
  });
  const reminders = createReminders({
    ...deps,
    notifications,
    newId,
    options: deps.options.reminders,
    settings: reminderSettings,
  });
  const sessionParts = createSessionParts(deps, auth);
  const calls = createCalls(deps, auth, listening, links);
  const signIn = sessionParts === undefined ? undefined : signInRoutes(deps, auth, sessionParts, listening, mailer);
  const oidc = createOidc(deps, auth, sessionParts?.sessions, listening);
  const app = createHttp(deps, { auth, calls, notifications, webhooks, reminders, listening, oidc }, signIn);
  const server = await listen(config, app);
  const port = (server.address() as AddressInfo).port;
  if (config.publicBaseUrlDefaulted) listening.publicBaseUrl = `http://localhost:${port}`;
  const allowedOrigins = originsFor(config, listening.publicBaseUrl, port, auth.devMode);
  listening.allowedOrigins = allowedOrigins;
  const signaling = startSignaling(deps, server, calls, allowedOrigins);
  listening.signaling = signaling;
  closeCallsOnMeetingChange(projections, signaling, logger);
  notifications.start();
  webhooks.start();
  reminders.start();
  sessionParts?.reaction.start();
  // Series sessions follow their series from the log: whatever a crash cut short is finished from the checkpoint on.
  deps.seriesProcessManager.start();
  // Orphaned reservations exist only where bookings are a saga (no atomic appends across streams).
  // A store that cannot say (a server not answering yet) gets the reaction: it only releases what no event owns.
  if (!(await deps.store.supportsMultiStreamAppend().catch(() => false))) deps.scheduleReaction.start();
  const demoTokens = await seedIfDemo(deps, auth);
  return {
    config,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    publicBaseUrl: listening.publicBaseUrl,
    port,
    server,
    store: deps.store,
    readModels: deps.readModels,
    projections,
    service: deps.service,
    series: deps.series,
    jwtSecret: auth.jwtSecret,
    devMode: auth.devMode,
    demoTokens,
    logger,
    signaling,
    notifications,
    webhooks,
    reminders,
    sessions: sessionParts?.sessions,
    signIn: signIn?.signIn,
    access: deps.access,
    close: closer(deps, server, signaling, notifications, webhooks, reminders, async () => {
      await signIn?.signIn.idle();
      await sessionParts?.reaction.stop();
    }),
  };
};
