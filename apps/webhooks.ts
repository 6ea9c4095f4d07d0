import type { Logger } from 'pino';
import { createWebhookModule } from '../application/webhooks/module.ts';
import type { WebhookModule } from '../application/webhooks/module.ts';
import type { WebhookPolicy } from '../application/webhooks/sender.ts';
import type { Executor } from '../application/execute.ts';
import type { EventStore } from '../application/ports/event-store.ts';
import type { Mailer } from '../application/ports/mailer.ts';
import type { ProjectionRunner } from '../application/projections/runner.ts';
import { createTargetPolicy, createWebhookTransport } from '../adapters/webhooks/transport.ts';
import type { Resolver } from '../adapters/webhooks/transport.ts';
import type { SqliteReadModels } from '../adapters/read-models/index.ts';
import type { Config } from './config.ts';

/** Test and deployment overrides: the retry schedule and timeouts, the auto-disable period, a DNS resolver. */
export interface WebhookOptions extends Partial<WebhookPolicy> {
  readonly resolver?: Resolver;
}

/**
 * TEST-ONLY timing for the process tests, which cannot pass options: `WEBHOOKS_TEST_RETRY_DELAYS_MS` (comma-separated
 * delays) and `WEBHOOKS_TEST_TIMEOUT_MS`. Inert unless WEBHOOKS_ALLOW_INSECURE_TARGETS is on too, so it cannot
 * shorten a production schedule by accident.
 */
const testTiming = (config: Config, env: NodeJS.ProcessEnv = process.env): Partial<WebhookPolicy> => {
  if (!config.webhooksAllowInsecureTargets) return {};
  const delays = env.WEBHOOKS_TEST_RETRY_DELAYS_MS?.trim();
  const timeout = Number(env.WEBHOOKS_TEST_TIMEOUT_MS ?? '');
  return {
    ...(delays ? { retryDelaysMs: delays.split(',').map((d) => Math.max(0, Number(d) || 0)) } : {}),
    ...(timeout > 0 ? { timeoutMs: timeout, leaseMarginMs: timeout } : {}),
  };
};

export const createWebhooks = (params: {
  readonly config: Config;
  readonly store: EventStore;
  readonly executor: Executor;
  readonly readModels: SqliteReadModels;
  readonly projections: ProjectionRunner;
  readonly mailer: Mailer;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly options?: WebhookOptions;
}): WebhookModule => {
  const { config, logger, options = {} } = params;
  const { resolver, ...given } = options;
  const policy = { ...testTiming(config), ...given };
  const log = logger.child({ component: 'webhooks' });
  const allowInsecure = config.webhooksAllowInsecureTargets;
  if (allowInsecure)
    log.warn(
      { WEBHOOKS_ALLOW_INSECURE_TARGETS: true },
      '!!! WEBHOOKS_ALLOW_INSECURE_TARGETS: webhook targets may be http: and private addresses — development and tests only !!!',
    );
  return createWebhookModule({
    store: params.store,
    executor: params.executor,
    readModels: params.readModels,
    queries: params.readModels.webhooks,
    checkpoints: params.readModels.notifications.checkpoints,
    projections: params.projections,
    transport: createWebhookTransport({ allowInsecure, ...(resolver !== undefined ? { resolver } : {}) }),
    targets: createTargetPolicy({ allowInsecure }),
    mailer: params.mailer,
    mail: { from: config.mailFrom, siteName: config.siteName },
    clock: params.clock,
    newId: params.newId,
    log,
    policy,
  });
};
