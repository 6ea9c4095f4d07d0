import { execFile } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../apps/config.ts';
import { aMeeting } from '../support/builders.ts';
import { startTestSystem, tempDir } from '../support/system.ts';

const run = promisify(execFile);

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: './data',
      publicBaseUrl: 'http://localhost:8080',
      mailFrom: 'Virtual Y <no-reply@localhost>',
      stunUrls: ['stun:stun.l.google.com:19302'],
      turnUrls: [],
      turnTtlSeconds: 3600,
      logLevel: 'info',
      allowedOrigins: ['http://localhost:8080'],
      maxTokenTtlSeconds: 86_400,
    });
    expect(config.jwtSecret).toBeUndefined();
    expect(config.kurrentDbConnectionString).toBeUndefined();
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must be between 0 and 65535/],
    [{ AUTH_JWT_SECRET: 'short' }, /AUTH_JWT_SECRET must be at least 32 characters/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ TURN_URLS: 'turn:turn.example.com' }, /TURN_URLS is set but TURN_SECRET is not/],
    [{ PUBLIC_BASE_URL: 'not a url' }, /PUBLIC_BASE_URL must be an absolute URL/],
    [{ TURN_TTL_SECONDS: '5' }, /TURN_TTL_SECONDS must be between/],
    [{ AUTH_MAX_TOKEN_TTL_SECONDS: 'a day' }, /AUTH_MAX_TOKEN_TTL_SECONDS must be a whole number/],
    [{ AUTH_MAX_TOKEN_TTL_SECONDS: '10' }, /AUTH_MAX_TOKEN_TTL_SECONDS must be between 60 and 31622400/],
    [{ AUTH_MAX_TOKEN_TTL_SECONDS: '99999999' }, /AUTH_MAX_TOKEN_TTL_SECONDS must be between 60 and 31622400/],
    [{ AUTH_JWKS_URL: 'https://idp.example.com/jwks.json' }, /AUTH_JWKS_URL needs AUTH_JWT_AUDIENCE/],
    [{ HOST: '0.0.0.0' }, /dev mode .* only runs on a loopback HOST, not 0.0.0.0/],
    [{ CALL_TICKET_SECRET: 'short' }, /CALL_TICKET_SECRET must be at least 32 characters/],
    [
      { AUTH_JWKS_URL: 'https://idp.example.com/jwks.json', AUTH_JWT_AUDIENCE: 'coaching' },
      /CALL_TICKET_SECRET is required with AUTH_JWKS_URL and no AUTH_JWT_SECRET/,
    ],
  ])('refuses %o with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('takes EVENT_STORE_COMMIT as worker or main-thread, the worker when unset, and refuses anything else', () => {
    expect(loadConfig({}).eventStoreCommit).toBe('worker');
    expect(loadConfig({ EVENT_STORE_COMMIT: ' ' }).eventStoreCommit).toBe('worker');
    expect(loadConfig({ EVENT_STORE_COMMIT: 'worker' }).eventStoreCommit).toBe('worker');
    expect(loadConfig({ EVENT_STORE_COMMIT: ' Main-Thread ' }).eventStoreCommit).toBe('main-thread');
    expect(() => loadConfig({ EVENT_STORE_COMMIT: 'thread' })).toThrow(ConfigError);
    expect(() => loadConfig({ EVENT_STORE_COMMIT: 'thread' })).toThrow(
      /EVENT_STORE_COMMIT must be worker or main-thread/,
    );
  });

  it('takes REDIS_URL as redis:// or rediss:// and refuses anything else without repeating its password', () => {
    expect(loadConfig({}).redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: ' ' }).redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBe('redis://127.0.0.1:6379');
    expect(loadConfig({ REDIS_URL: 'rediss://:s3cret@cache.example:6380/2' }).redisUrl).toBe(
      'rediss://:s3cret@cache.example:6380/2',
    );
    for (const bad of [
      'http://:hunter2@cache.example',
      'redis://:hunter2@',
      'hunter2',
      `redis://${'h'.repeat(2100)}`,
    ]) {
      let message = '';
      try {
        loadConfig({ REDIS_URL: bad });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        message = (error as Error).message;
      }
      expect(message).toMatch(/^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
      expect(message).not.toContain('hunter2');
    }
  });

  it('takes CALL_TICKET_SECRET beside any token setting, and needs it only when tokens come from JWKS alone', () => {
    const jwks = { AUTH_JWKS_URL: 'https://idp.example.com/jwks.json', AUTH_JWT_AUDIENCE: 'coaching' };
    const ticketSecret = 't'.repeat(32);
    expect(loadConfig({ ...jwks, CALL_TICKET_SECRET: ticketSecret }).callTicketSecret).toBe(ticketSecret);
    expect(loadConfig({ ...jwks, AUTH_JWT_SECRET: 'x'.repeat(32) }).callTicketSecret).toBeUndefined();
    expect(loadConfig({ CALL_TICKET_SECRET: ` ${ticketSecret} ` }).callTicketSecret).toBe(ticketSecret);
    expect(loadConfig({}).callTicketSecret).toBeUndefined();
  });

  it('runs dev mode on another address only when asked to, and never needs it with a secret', () => {
    expect(loadConfig({ HOST: '0.0.0.0', DEV_MODE: 'true' }).host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0', AUTH_JWT_SECRET: 'x'.repeat(32) }).host).toBe('0.0.0.0');
  });

  it('a DATA_DIR that is not a writable directory stops the start with a clear error', async () => {
    const dir = tempDir();
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    await expect(startTestSystem({ dataDir: join(file, 'data') })).rejects.toThrow(
      /DATA_DIR .* is not a readable and writable directory/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('a port in use stops the start with a clear error', async () => {
    const first = await startTestSystem();
    const dir = tempDir();
    await expect(startTestSystem({ dataDir: dir, env: { PORT: String(first.system.port) } })).rejects.toThrow(
      /port \d+ on 127.0.0.1 is already in use/,
    );
    await first.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('npm start exits with status 2 and a one-line message on bad configuration', async () => {
    const failure = await run(process.execPath, ['--import', 'tsx', 'apps/server.ts'], {
      env: { ...process.env, PORT: 'abc' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr.trim()).toBe(
      "Configuration error: PORT must be a whole number, got 'abc'",
    );
  });

  it('without PUBLIC_BASE_URL the signaling URL carries the port the server really listens on', async () => {
    const sys = await startTestSystem();
    await sys.people('cora', 'ivan');
    const admin = await sys.as('ada', ['admin']);
    const start = new Date(Date.now() - 5 * 60_000);
    const created = await admin.request(
      'POST',
      '/meetings',
      aMeeting({ start: start.toISOString(), end: new Date(start.getTime() + 3_600_000).toISOString() }),
    );
    const join = await (await sys.as('cora', ['customer'])).request('POST', `/meetings/${created.body.id}/join`);
    expect(join.body.signalingUrl).toBe(`ws://localhost:${sys.system.port}/signaling`);
    await sys.destroy();
  });
});
