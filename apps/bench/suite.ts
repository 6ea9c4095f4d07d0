import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '../../adapters/http/auth.ts';
import type { Metric } from './report.ts';

export interface BenchOptions {
  readonly quick: boolean;
  /**
   * Shorter still than quick (which it implies): about a second per load, small seeds. For the test that checks
   * every figure is printed; its numbers mean nothing.
   */
  readonly smoke: boolean;
  /** Profile the real server's main thread over each measured window and print where its time went. */
  readonly profile: boolean;
  readonly log: (line: string) => void;
}

export interface SuiteResult {
  readonly metrics: Metric[];
  readonly notes: string[];
}

export const BENCH_SECRET = 'bench-secret-long-enough-for-hs256-0123456789';

export const benchTempDir = (name: string): string => mkdtempSync(join(tmpdir(), `oneonone-bench-${name}-`));

/** Environment for the real server: temp data, a fixed secret, no logging, rate limits out of the way. */
export const systemEnv = (dataDir: string): NodeJS.ProcessEnv => ({
  PORT: '0',
  HOST: '127.0.0.1',
  DATA_DIR: dataDir,
  AUTH_JWT_SECRET: BENCH_SECRET,
  LOG_LEVEL: 'silent',
  RATE_LIMIT_PER_SECOND: '1000000',
  RATE_LIMIT_BURST: '1000000',
  SEED_DEMO: 'false',
  STUN_URLS: '',
});

export const token = (sub: string, roles: string[]): Promise<string> =>
  mintToken(new TextEncoder().encode(BENCH_SECRET), { sub, roles, name: sub }, 6 * 3600);

export const jsonRequest = async (
  url: string,
  method: string,
  bearer: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> => {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed };
};

export const expectStatus = (what: string, result: { status: number; body: unknown }, status: number): void => {
  if (result.status !== status)
    throw new Error(`${what}: expected ${status}, got ${result.status}: ${JSON.stringify(result.body).slice(0, 500)}`);
};
