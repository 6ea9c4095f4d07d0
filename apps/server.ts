import { ConfigError, loadConfig } from './config.ts';
import { StartupError, startSystem } from './compose.ts';
import { ensureWebApp } from './web-build.ts';

const tokenLifetime = (seconds: number): string =>
  seconds % 3600 === 0 ? `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}` : `${Math.floor(seconds / 60)} minutes`;

const main = async () => {
  const config = loadConfig();
  // The web app is built before the server listens when it is missing or older than its sources (SKIP_WEB_BUILD=true
  // leaves the bundle on disk as it is, for deployments that build it ahead).
  if (process.env.SKIP_WEB_BUILD !== 'true') {
    const started = Date.now();
    if (await ensureWebApp()) process.stdout.write(`  Built the web app in ${Date.now() - started} ms.\n`);
  }
  const system = await startSystem(config);
  const { logger } = system;
  logger.info(
    {
      url: system.url,
      store: system.store.capabilities.name,
      ...(config.kurrentDbConnectionString === undefined ? { commit: config.eventStoreCommit } : {}),
      signalingBus: system.signaling.bus().name,
      dataDir: config.dataDir,
      devMode: system.devMode,
    },
    'listening',
  );
  if (system.devMode) {
    // The public address, not the bind address: links and the call page's signaling socket are made for it.
    const url = system.publicBaseUrl;
    const lines = [
      '',
      `  1on1 Meetings API on ${url}  (web app: ${url}/ , API docs: ${url}/docs)`,
      `  Sign in: ${url}/sign-in (from this machine, dev mode lists the demo people to sign in as)`,
      ...(system.demoTokens.length === 0
        ? [
            '  Dev mode: AUTH_JWT_SECRET is not set, so a secret was generated in DATA_DIR (SEED_DEMO=false: no demo tokens; mint one with npm run token).',
          ]
        : [
            `  Dev mode: AUTH_JWT_SECRET is not set, so a secret was generated in DATA_DIR. Demo tokens (valid ${tokenLifetime(system.demoTokens[0]?.ttlSeconds ?? 0)}):`,
            ...system.demoTokens.map(
              (t) => `\n  ${t.name} (${t.sub}, ${t.roles.join(',')}):\n  export TOKEN=${t.token}`,
            ),
            '',
            `  Try, with Ada Admin's token: curl -H "Authorization: Bearer $TOKEN" "${url}/calendar?userId=customer-1&from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 7 * 86_400_000).toISOString()}"`,
          ]),
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    system.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
};

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(2);
  }
  if (error instanceof StartupError) {
    process.stderr.write(`Failed to start: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`Failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
