import { describe, expect, it } from 'vitest';
import { createHealthCheck } from '../../application/health.ts';
import type { HealthDeps } from '../../application/health.ts';
import type { ProjectionStatus } from '../../application/projections/runner.ts';

const projections = (
  status: () => Promise<Record<string, ProjectionStatus>>,
  flags: { healthy?: boolean; catchingUp?: boolean } = {},
): HealthDeps['projections'] => ({ status, healthy: flags.healthy ?? true, catchingUp: flags.catchingUp ?? false });

const sinks = [
  { name: 'meetings', checkpoint: () => 7 },
  { name: 'series', checkpoint: () => 9 },
];

describe('the health check', () => {
  it('is ok when the read models are caught up and the store answers, listing followers beside projections', async () => {
    const health = createHealthCheck({
      projections: projections(async () => ({ meetings: { position: 10, lag: 0 } })),
      sinks,
      followers: [{ name: 'notifications', status: async () => ({ position: 8, lag: 2 }) }],
      store: { name: 'sqlite' },
      node: { id: 'node-a' },
    });
    expect(await health()).toStrictEqual({
      status: 'ok',
      body: {
        status: 'ok',
        ready: true,
        catchingUp: false,
        node: { id: 'node-a', caughtUp: true },
        store: { name: 'sqlite', status: 'ok' },
        projections: { meetings: { position: 10, lag: 0 }, notifications: { position: 8, lag: 2 } },
      },
    });
  });

  it('is degraded while the read models catch up, though the store is fine', async () => {
    const health = createHealthCheck({
      projections: projections(async () => ({ meetings: { position: 3, lag: 7 } }), {
        healthy: false,
        catchingUp: true,
      }),
      sinks,
      followers: [],
      store: { name: 'sqlite' },
      node: { id: 'node-a' },
    });
    const report = await health();
    expect(report.status).toBe('degraded');
    expect(report.body).toMatchObject({ ready: false, catchingUp: true, store: { status: 'ok' } });
    expect(report.body.node).toStrictEqual({ id: 'node-a', caughtUp: false });
  });

  it('tells lag from the last head seen and the sinks’ checkpoints when the store does not answer in time', async () => {
    let answers = true;
    const health = createHealthCheck({
      projections: projections(() =>
        answers ? Promise.resolve({ meetings: { position: 10, lag: 2 } }) : new Promise(() => {}),
      ),
      sinks,
      followers: [],
      store: { name: 'sqlite' },
      node: { id: 'node-a' },
      storeTimeoutMs: 20,
    });
    await health();
    answers = false;
    expect(await health()).toStrictEqual({
      status: 'degraded',
      body: {
        status: 'degraded',
        ready: true,
        catchingUp: false,
        // Whether it has caught up cannot be told without the store's head.
        node: { id: 'node-a', caughtUp: false },
        store: { name: 'sqlite', status: 'unreachable' },
        projections: { meetings: { position: 7, lag: 5 }, series: { position: 9, lag: 3 } },
      },
    });
  });

  it('reports a networked store’s own connection state over reachability', async () => {
    const check = (connection: string) =>
      createHealthCheck({
        projections: projections(async () => ({})),
        sinks,
        followers: [],
        store: { name: 'kurrentdb', connectionStatus: () => connection },
        node: { id: 'node-a' },
      })();
    expect((await check('connected')).body.store).toStrictEqual({ name: 'kurrentdb', status: 'ok' });
    const reconnecting = await check('reconnecting');
    expect(reconnecting.status).toBe('degraded');
    expect(reconnecting.body.store).toStrictEqual({ name: 'kurrentdb', status: 'reconnecting' });
  });

  it('reports the signaling bus, and a bus that is down does not take the node out (still ok)', async () => {
    let bus = { name: 'redis', status: 'ok' };
    const health = createHealthCheck({
      projections: projections(async () => ({})),
      sinks,
      followers: [],
      store: { name: 'sqlite' },
      node: { id: 'node-a' },
      signaling: () => bus,
    });
    expect((await health()).body.signaling).toStrictEqual({ bus: 'redis', status: 'ok' });
    bus = { name: 'redis', status: 'down' };
    const down = await health();
    expect(down.status).toBe('ok');
    expect(down.body.signaling).toStrictEqual({ bus: 'redis', status: 'down' });
  });
});
