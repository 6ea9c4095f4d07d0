export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** This node's own files (read models, checkpoints, node id); DATA_DIR unless READ_MODELS_DIR says otherwise. */
  readonly readModelsDir: string;
  readonly kurrentDbConnectionString?: string;
  /** The embedded store's commit (EVENT_STORE_COMMIT): on its worker thread (the default) or on the main thread. */
  readonly eventStoreCommit: 'worker' | 'main-thread';
  /** The signaling bus across nodes (`redis://` or `rediss://`); unset: rooms live in this process only. */
  readonly redisUrl?: string;
  readonly jwtSecret?: string;
  readonly jwksUrl?: string;
  readonly jwtIssuer?: string;
  readonly jwtAudience?: string;
  /** Signs call join tickets (HKDF-derived); unset, the key is derived from AUTH_JWT_SECRET or the dev secret. */
  readonly callTicketSecret?: string;
  /** The longest token lifetime accepted (exp minus iat, or minus now), in seconds. */
  readonly maxTokenTtlSeconds: number;
  readonly resendApiKey?: string;
  readonly mailFrom: string;
  readonly siteName: string;
  /** The coalescing window of change emails when the settings set none (NOTIFY_COALESCE_SECONDS, 0..3600, 60). */
  readonly notifyCoalesceSeconds: number;
  readonly publicBaseUrl: string;
  /** PUBLIC_BASE_URL was not set: the server's own address, with the port it really listens on. */
  readonly publicBaseUrlDefaulted: boolean;
  readonly stunUrls: ReadonlyArray<string>;
  readonly turnUrls: ReadonlyArray<string>;
  readonly turnSecret?: string;
  readonly turnTtlSeconds: number;
  readonly allowedOrigins: ReadonlyArray<string> | '*';
  /** ALLOWED_ORIGINS was not set: the origin of the public base URL. */
  readonly allowedOriginsDefaulted: boolean;
  readonly logLevel: string;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  /** How many proxies in front of this server append to `X-Forwarded-For` (0: the connection's peer is the client). */
  readonly trustedProxyHops: number;
  readonly seedDemo: boolean;
  /** OIDC single sign-on (AUTH_OIDC_ISSUER and AUTH_OIDC_CLIENT_ID); unset: none. */
  readonly oidc?: OidcConfig;
  /** How long a schedule reservation may wait for its meeting or series event before it is released as orphaned. */
  readonly reservationGraceMs: number;
  /** Sign-in sessions: the access token's lifetime and the refresh credential's (sliding), in seconds. */
  readonly session: { readonly accessTtlSeconds: number; readonly refreshTtlSeconds: number };
  /** Sign-in requests per 15 minutes: per client address (then 429), and links per email address (silently). */
  readonly signIn: { readonly perClient: number; readonly perAddress: number };
  /** WEBHOOKS_ALLOW_INSECURE_TARGETS=true: webhook endpoints may be http: and private addresses (development, tests). */
  readonly webhooksAllowInsecureTargets: boolean;
  /** ACCESS_PROVIDER: the site's access provider module (a path from the working directory, or a package). */
  readonly accessProvider?: string;
}

export interface OidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly scopes: string;
  readonly rolesClaim?: string;
  /** The issuer is on a loopback address over plain http (a local provider): allowed, as nothing leaves the host. */
  readonly insecureLoopback: boolean;
}

export class ConfigError extends Error {}

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const int = (name: string, value: string | undefined, fallback: number, min: number, max: number): number => {
  if (value === undefined || value.trim() === '') return fallback;
  if (!/^\d+$/.test(value.trim())) throw new ConfigError(`${name} must be a whole number, got '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
};

/**
 * REDIS_URL: `redis://` or `rediss://` with a host, at most 2048 characters. The message never repeats the value,
 * which may carry a password.
 */
const redisUrl = (value: string | undefined): string | undefined => {
  const url = value?.trim();
  if (url === undefined || url === '') return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (
    url.length > 2048 ||
    parsed === undefined ||
    !['redis:', 'rediss:'].includes(parsed.protocol) ||
    !parsed.hostname
  ) {
    throw new ConfigError(
      'REDIS_URL must be a redis:// or rediss:// URL with a host (e.g. redis://:password@host:6379)',
    );
  }
  return url;
};

/** `true` or `false` (unset: false); anything else is refused rather than guessed. */
const flag = (name: string, value: string | undefined): boolean => {
  const v = value?.trim().toLowerCase();
  if (v === undefined || v === '' || v === 'false') return false;
  if (v === 'true') return true;
  throw new ConfigError(`${name} must be true or false, got '${value}'`);
};

/**
 * Where the embedded store commits unless EVENT_STORE_COMMIT says otherwise: its worker thread, which keeps the fsync
 * and the inserts off the event loop (the benchmark's bookings run about a fifth faster than on the main thread).
 */
export const DEFAULT_EVENT_STORE_COMMIT = 'worker';

/** EVENT_STORE_COMMIT: `worker` or `main-thread`; unset: DEFAULT_EVENT_STORE_COMMIT. */
const eventStoreCommit = (value: string | undefined): 'worker' | 'main-thread' => {
  const v = value?.trim().toLowerCase();
  if (v === undefined || v === '') return DEFAULT_EVENT_STORE_COMMIT;
  if (v === 'worker' || v === 'main-thread') return v;
  throw new ConfigError(`EVENT_STORE_COMMIT must be worker or main-thread, got '${value}'`);
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** AUTH_MAX_TOKEN_TTL_SECONDS: a minute to a year, 24 hours by default; `npm run token` reads it too. */
export const maxTokenTtlSeconds = (env: NodeJS.ProcessEnv = process.env): number =>
  int('AUTH_MAX_TOKEN_TTL_SECONDS', env.AUTH_MAX_TOKEN_TTL_SECONDS, 86_400, 60, 366 * 86_400);

/** AUTH_OIDC_*: both the issuer (https, or http on a loopback address) and the client id, or neither. */
const oidcConfig = (env: NodeJS.ProcessEnv): OidcConfig | undefined => {
  const issuer = env.AUTH_OIDC_ISSUER?.trim() || undefined;
  const clientId = env.AUTH_OIDC_CLIENT_ID?.trim() || undefined;
  if (issuer === undefined && clientId === undefined) return undefined;
  if (issuer === undefined || clientId === undefined) {
    throw new ConfigError(
      'AUTH_OIDC_ISSUER and AUTH_OIDC_CLIENT_ID go together: set both for single sign-on, or neither',
    );
  }
  let url: URL | undefined;
  try {
    url = new URL(issuer);
  } catch {
    url = undefined;
  }
  const loopback = url !== undefined && /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/i.test(url.hostname);
  if (
    url === undefined ||
    issuer.length > 2048 ||
    !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))
  ) {
    throw new ConfigError('AUTH_OIDC_ISSUER must be an https:// URL (plain http only for a loopback address)');
  }
  if (clientId.length > 255) throw new ConfigError('AUTH_OIDC_CLIENT_ID must be at most 255 characters');
  const scopes = env.AUTH_OIDC_SCOPES?.trim() || 'openid email profile';
  if (!scopes.split(/\s+/).includes('openid')) throw new ConfigError("AUTH_OIDC_SCOPES must include 'openid'");
  const rolesClaim = env.AUTH_OIDC_ROLES_CLAIM?.trim() || undefined;
  if (rolesClaim !== undefined && rolesClaim.length > 255) {
    throw new ConfigError('AUTH_OIDC_ROLES_CLAIM must be at most 255 characters');
  }
  const clientSecret = env.AUTH_OIDC_CLIENT_SECRET?.trim() || undefined;
  return {
    issuer,
    clientId,
    ...(clientSecret !== undefined ? { clientSecret } : {}),
    scopes,
    ...(rolesClaim !== undefined ? { rolesClaim } : {}),
    insecureLoopback: url.protocol === 'http:',
  };
};

/** Reads the environment once, failing with a message that names the variable. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const port = int('PORT', env.PORT, 8080, 0, 65535);
  const host = env.HOST?.trim() || '127.0.0.1';
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const publicBaseUrl = (env.PUBLIC_BASE_URL?.trim() || `http://localhost:${port}`).replace(/\/+$/, '');
  try {
    new URL(publicBaseUrl);
  } catch {
    throw new ConfigError(`PUBLIC_BASE_URL must be an absolute URL, got '${publicBaseUrl}'`);
  }
  const jwtSecret = env.AUTH_JWT_SECRET?.trim() || undefined;
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('AUTH_JWT_SECRET must be at least 32 characters (HS256 needs a 256-bit key)');
  }
  const jwksUrl = env.AUTH_JWKS_URL?.trim() || undefined;
  const jwtIssuer = env.AUTH_JWT_ISSUER?.trim() || undefined;
  const jwtAudience = env.AUTH_JWT_AUDIENCE?.trim() || undefined;
  const maxTokenTtl = maxTokenTtlSeconds(env);
  if (jwksUrl !== undefined && jwtAudience === undefined) {
    throw new ConfigError(
      'AUTH_JWKS_URL needs AUTH_JWT_AUDIENCE: without it, tokens the identity provider issued to any other application would be accepted',
    );
  }
  const callTicketSecret = env.CALL_TICKET_SECRET?.trim() || undefined;
  if (callTicketSecret !== undefined && callTicketSecret.length < 32) {
    throw new ConfigError('CALL_TICKET_SECRET must be at least 32 characters (it keys HMAC-SHA256)');
  }
  if (callTicketSecret === undefined && jwtSecret === undefined && jwksUrl !== undefined) {
    throw new ConfigError(
      'CALL_TICKET_SECRET is required with AUTH_JWKS_URL and no AUTH_JWT_SECRET: call join tickets are signed with a secret every node shares',
    );
  }
  const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i.test(host);
  if (jwtSecret === undefined && jwksUrl === undefined && !loopback && env.DEV_MODE !== 'true') {
    throw new ConfigError(
      `AUTH_JWT_SECRET is not set, and dev mode (a generated secret and printed admin tokens) only runs on a loopback HOST, not ${host}; set AUTH_JWT_SECRET, or DEV_MODE=true to insist`,
    );
  }
  const oidc = oidcConfig(env);
  if (oidc !== undefined && jwtSecret === undefined && jwksUrl !== undefined) {
    throw new ConfigError(
      'AUTH_OIDC_ISSUER needs AUTH_JWT_SECRET: sessions and the sign-in flow are signed with a secret every node shares',
    );
  }
  const redis = redisUrl(env.REDIS_URL);
  const commit = eventStoreCommit(env.EVENT_STORE_COMMIT);
  const origins = list(env.ALLOWED_ORIGINS);
  const turnUrls = list(env.TURN_URLS);
  const turnSecret = env.TURN_SECRET?.trim() || undefined;
  if (turnUrls.length > 0 && turnSecret === undefined) throw new ConfigError('TURN_URLS is set but TURN_SECRET is not');
  return {
    port,
    host,
    dataDir: env.DATA_DIR?.trim() || './data',
    readModelsDir: env.READ_MODELS_DIR?.trim() || env.DATA_DIR?.trim() || './data',
    ...(env.KURRENTDB_CONNECTION_STRING?.trim()
      ? { kurrentDbConnectionString: env.KURRENTDB_CONNECTION_STRING.trim() }
      : {}),
    eventStoreCommit: commit,
    ...(redis !== undefined ? { redisUrl: redis } : {}),
    jwtSecret,
    jwksUrl,
    jwtIssuer,
    jwtAudience,
    ...(callTicketSecret !== undefined ? { callTicketSecret } : {}),
    maxTokenTtlSeconds: maxTokenTtl,
    ...(env.RESEND_API_KEY?.trim() ? { resendApiKey: env.RESEND_API_KEY.trim() } : {}),
    mailFrom: env.MAIL_FROM?.trim() || 'Virtual Y <no-reply@localhost>',
    siteName: env.SITE_NAME?.trim() || 'Virtual Y',
    notifyCoalesceSeconds: int('NOTIFY_COALESCE_SECONDS', env.NOTIFY_COALESCE_SECONDS, 60, 0, 3600),
    publicBaseUrl,
    publicBaseUrlDefaulted: !env.PUBLIC_BASE_URL?.trim(),
    stunUrls: env.STUN_URLS === undefined ? ['stun:stun.l.google.com:19302'] : list(env.STUN_URLS),
    turnUrls,
    turnSecret,
    turnTtlSeconds: int('TURN_TTL_SECONDS', env.TURN_TTL_SECONDS, 3600, 60, 86_400),
    allowedOriginsDefaulted: origins.length === 0,
    allowedOrigins: origins.length === 0 ? [new URL(publicBaseUrl).origin] : origins.includes('*') ? '*' : origins,
    logLevel,
    rateLimit: {
      perSecond: int('RATE_LIMIT_PER_SECOND', env.RATE_LIMIT_PER_SECOND, 100, 1, 1_000_000),
      burst: int('RATE_LIMIT_BURST', env.RATE_LIMIT_BURST, 400, 1, 1_000_000),
    },
    trustedProxyHops: int('TRUSTED_PROXY_HOPS', env.TRUSTED_PROXY_HOPS, 0, 0, 10),
    seedDemo: env.SEED_DEMO !== 'false',
    ...(oidc !== undefined ? { oidc } : {}),
    reservationGraceMs:
      1000 * int('SCHEDULE_RESERVATION_GRACE_SECONDS', env.SCHEDULE_RESERVATION_GRACE_SECONDS, 30, 1, 3600),
    session: {
      accessTtlSeconds: int('SESSION_ACCESS_TTL_SECONDS', env.SESSION_ACCESS_TTL_SECONDS, 300, 30, 3600),
      refreshTtlSeconds: int(
        'SESSION_REFRESH_TTL_SECONDS',
        env.SESSION_REFRESH_TTL_SECONDS,
        30 * 86_400,
        300,
        366 * 86_400,
      ),
    },
    ...(env.ACCESS_PROVIDER?.trim() ? { accessProvider: env.ACCESS_PROVIDER.trim() } : {}),
    signIn: {
      perClient: int('SIGN_IN_LIMIT_PER_CLIENT', env.SIGN_IN_LIMIT_PER_CLIENT, 30, 1, 1_000_000),
      perAddress: int('SIGN_IN_LIMIT_PER_ADDRESS', env.SIGN_IN_LIMIT_PER_ADDRESS, 5, 1, 1000),
    },
    webhooksAllowInsecureTargets: flag('WEBHOOKS_ALLOW_INSECURE_TARGETS', env.WEBHOOKS_ALLOW_INSECURE_TARGETS),
  };
};
