import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../apps/config.ts';
import { startSystem } from '../../apps/compose.ts';
import type { System, SystemOptions } from '../../apps/compose.ts';
import type { Service } from '../../application/service.ts';
import { mintToken } from '../../adapters/http/auth.ts';
import { personOf } from './builders.ts';
import type { PersonEntry } from './builders.ts';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256!!';

export const tempDir = (prefix = 'oneonone-'): string => mkdtempSync(join(tmpdir(), prefix));

export interface TestSystem {
  readonly system: System;
  readonly url: string;
  readonly dataDir: string;
  token(sub: string, roles: string[], extra?: { name?: string; email?: string; ttlSeconds?: number }): Promise<string>;
  as(sub: string, roles: string[]): Promise<Client>;
  /** A client for this user that mints its token at its first request, so it can be made before the system starts. */
  client(sub: string, roles: string[]): Client;
  /**
   * Puts these people into the people directory (by default the name from the id and `<id>@example.com`, see
   * `aPerson`), as an admin would with PUT /people: meetings and series can be booked only for people it knows.
   */
  people(...entries: PersonEntry[]): Promise<void>;
  close(): Promise<void>;
  /** Closes and removes the data directory. */
  destroy(): Promise<void>;
}

export interface Client {
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
}

export const client = (url: string, token: string | undefined): Client => ({
  async request(method, path, body, headers = {}) {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed, headers: response.headers };
  },
});

/** A client whose token is minted once, at its first request. */
const lazyClient = (url: () => string, mint: () => Promise<string>): Client => {
  let token: Promise<string> | undefined;
  return {
    request: async (...args) => client(url(), await (token ??= mint())).request(...args),
  };
};

/**
 * A directory entry per person over HTTP (PUT /people/{id}) with an admin's client, for a system in another process;
 * fails loudly if one is refused.
 */
export const putPeople = async (admin: Client, ...entries: PersonEntry[]): Promise<void> => {
  for (const entry of entries) {
    const { id, body } = personOf(entry);
    const res = await admin.request('PUT', `/people/${encodeURIComponent(id)}`, body);
    if (res.status !== 200) throw new Error(`PUT /people/${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
};

/** A directory entry per person, through the service as an admin; fails loudly if one is refused. */
export const registerPeople = async (service: Service, entries: ReadonlyArray<PersonEntry>): Promise<void> => {
  const admin = { user: { id: 'test-admin', roles: ['admin' as const] }, correlationId: 'test-people' };
  for (const entry of entries) {
    const { id, body } = personOf(entry);
    const result = await service.upsertPerson(admin, id, body);
    if (result._tag === 'Left')
      throw new Error(`cannot put ${id} into the people directory: ${JSON.stringify(result.left)}`);
  }
};

/**
 * Streams the server's background reactions write on their own (reminder plans, change windows, notices, webhook
 * deliveries and alerts): they follow earlier writes at their own pace, so "this request appended nothing" leaves
 * them out.
 */
const REACTION_STREAM_PREFIXES = [
  'reminders-',
  'change-window-',
  'notification-',
  'webhook-delivery-',
  'webhook-alert-',
];

/** The events after `head` that requests wrote (not the background reactions): `[]` when a request appended nothing. */
export const requestEventsSince = async (
  store: Pick<TestSystem['system']['store'], 'readAll'>,
  head: number,
): Promise<ReadonlyArray<{ streamName: string; type: string }>> =>
  (await store.readAll({ after: head }))
    .filter((e) => !REACTION_STREAM_PREFIXES.some((prefix) => e.streamName.startsWith(prefix)))
    .map((e) => ({ streamName: e.streamName, type: e.type }));

export interface TestSystemOptions {
  readonly dataDir?: string;
  readonly env?: Record<string, string>;
  readonly system?: SystemOptions;
  readonly waitUntilReady?: boolean;
}

export const startTestSystem = async (options: TestSystemOptions = {}): Promise<TestSystem> => {
  const dataDir = options.dataDir ?? tempDir();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
    ...options.env,
  });
  const system = await startSystem(config, { logger: pino({ level: 'silent' }), ...options.system });
  // A node takes writes once its read models have caught up with the log as of its start; tests begin there.
  if (options.waitUntilReady !== false) await system.projections.whenHealthy(60_000);
  const secret = new TextEncoder().encode(options.env?.AUTH_JWT_SECRET ?? TEST_SECRET);
  const token = (sub: string, roles: string[], extra: { name?: string; email?: string; ttlSeconds?: number } = {}) =>
    mintToken(
      secret,
      {
        sub,
        roles,
        ...(extra.name !== undefined ? { name: extra.name } : {}),
        ...(extra.email !== undefined ? { email: extra.email } : {}),
      },
      extra.ttlSeconds ?? 3600,
    );
  return {
    system,
    url: system.url,
    dataDir,
    token,
    as: async (sub, roles) => client(system.url, await token(sub, roles)),
    client: (sub, roles) =>
      lazyClient(
        () => system.url,
        () => token(sub, roles),
      ),
    people: (...entries) => registerPeople(system.service, entries),
    close: () => system.close(),
    destroy: async () => {
      await system.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

/**
 * The test file's (or describe block's) system: started in a `beforeAll` with these people in its directory, and
 * destroyed in an `afterAll` (vitest runs after-hooks in reverse, so those registered after this call run before
 * it, while the system is still up). The handle stands for the running system: use it in tests and in hooks
 * registered after this call. Its `client(...)` may be called at once, at the top level.
 */
export const useSystem = (options: TestSystemOptions & { readonly people?: ReadonlyArray<PersonEntry> } = {}) => {
  let started: TestSystem | undefined;
  const current = (): TestSystem => {
    if (started === undefined) throw new Error('useSystem: the system is not running (outside its beforeAll/afterAll)');
    return started;
  };
  beforeAll(async () => {
    started = await startTestSystem(options);
    await started.people(...(options.people ?? []));
  });
  afterAll(async () => {
    await started?.destroy();
    started = undefined;
  });
  const handle: TestSystem = {
    get system() {
      return current().system;
    },
    get url() {
      return current().url;
    },
    get dataDir() {
      return current().dataDir;
    },
    token: (...args) => current().token(...args),
    as: (...args) => current().as(...args),
    client: (sub, roles) =>
      lazyClient(
        () => current().url,
        () => current().token(sub, roles),
      ),
    people: (...entries) => current().people(...entries),
    close: () => current().close(),
    destroy: () => current().destroy(),
  };
  return handle;
};
