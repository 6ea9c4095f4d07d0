import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../apps/config.ts';
import { startSystem } from '../../apps/compose.ts';
import type { System, SystemOptions } from '../../apps/compose.ts';
import type { Service } from '../../application/service.ts';
import { mintToken } from '../../adapters/http/auth.ts';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256!!';

export const tempDir = (prefix = 'oneonone-'): string => mkdtempSync(join(tmpdir(), prefix));

export interface TestSystem {
  readonly system: System;
  readonly url: string;
  readonly dataDir: string;
  token(sub: string, roles: string[], extra?: { name?: string; email?: string; ttlSeconds?: number }): Promise<string>;
  as(sub: string, roles: string[]): Promise<Client>;
  /**
   * Puts these people into the people directory (name from the id, `<id>@example.com`), as an admin would with
   * PUT /people: meetings and series can be booked only for people the directory knows.
   */
  people(...ids: string[]): Promise<void>;
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

/** A directory entry per id, through the service as an admin; fails loudly if one is refused. */
export const registerPeople = async (service: Service, ids: ReadonlyArray<string>): Promise<void> => {
  const admin = { user: { id: 'test-admin', roles: ['admin' as const] }, correlationId: 'test-people' };
  for (const id of ids) {
    const name = id.replace(/^./, (c) => c.toUpperCase());
    const result = await service.upsertPerson(admin, id, {
      name,
      email: `${id.replace(/[^A-Za-z0-9.-]/g, '-')}@example.com`,
    });
    if (result._tag === 'Left')
      throw new Error(`cannot put ${id} into the people directory: ${JSON.stringify(result.left)}`);
  }
};

export const startTestSystem = async (
  options: { dataDir?: string; env?: Record<string, string>; system?: SystemOptions; waitUntilReady?: boolean } = {},
): Promise<TestSystem> => {
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
    people: (...ids) => registerPeople(system.service, ids),
    close: () => system.close(),
    destroy: async () => {
      await system.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
