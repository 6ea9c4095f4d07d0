import type { ProjectionRunner, ProjectionStatus } from './projections/runner.ts';
import type { ProjectionSink } from './ports/read-models.ts';

/** Something that follows the log besides the projections (the notification reaction), reported alongside them. */
export interface FollowerHealth {
  readonly name: string;
  status(): Promise<ProjectionStatus>;
}

export interface HealthDeps {
  readonly projections: Pick<ProjectionRunner, 'status' | 'healthy' | 'catchingUp'>;
  /** The read models' own checkpoints: what can still be told while the store cannot answer. */
  readonly sinks: ReadonlyArray<Pick<ProjectionSink, 'name' | 'checkpoint'>>;
  readonly followers: ReadonlyArray<FollowerHealth>;
  readonly store: {
    readonly name: string;
    /** The connection state a networked store observed ('connected' when all is well); absent for an embedded one. */
    readonly connectionStatus?: () => string;
  };
  /** Which node answers (its id from READ_MODELS_DIR, no secret): behind a load balancer each node reports itself. */
  readonly node: { readonly id: string };
  /** How long the store may take to tell its head before it counts as unreachable. */
  readonly storeTimeoutMs?: number;
  /**
   * The signaling bus: reported, but it does not degrade the report. Without it calls cannot be joined, yet the API
   * serves; a load balancer that took every node out while Redis is down would take the API down with it.
   */
  readonly signaling?: () => { readonly name: string; readonly status: string };
}

export interface HealthReport {
  readonly status: 'ok' | 'degraded';
  readonly body: {
    readonly status: 'ok' | 'degraded';
    /** Writes are taken: the read models their checks read have caught up with the log as of the start. */
    readonly ready: boolean;
    readonly catchingUp: boolean;
    readonly node: {
      readonly id: string;
      /** Every read model of this node has applied the log head as the store tells it now. */
      readonly caughtUp: boolean;
    };
    readonly store: { readonly name: string; readonly status: string };
    readonly projections: Record<string, ProjectionStatus>;
    readonly signaling?: { readonly bus: string; readonly status: string };
  };
}

const STORE_TIMEOUT_MS = 2_000;

const withTimeout = async <A>(work: Promise<A>, timeoutMs: number): Promise<A> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer from the event store')), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * What `/health` reports: whether writes are taken, how far each projection and follower is behind the log, and
 * whether the store answers. A store that does not answer in time degrades the report instead of holding it up.
 */
export const createHealthCheck = (deps: HealthDeps): (() => Promise<HealthReport>) => {
  const { projections, sinks, followers, store } = deps;
  const timeoutMs = deps.storeTimeoutMs ?? STORE_TIMEOUT_MS;
  // Last head seen, so that lag can still be told while the store cannot answer.
  let lastHead = 0;
  const positions = async (): Promise<{ status: Record<string, ProjectionStatus>; caughtUp: boolean }> => {
    const status = { ...(await projections.status()) };
    const caughtUp = Object.values(status).every((p) => p.lag === 0 && p.error === undefined);
    for (const follower of followers) status[follower.name] = await follower.status();
    return { status, caughtUp };
  };
  return async () => {
    let projectionStatus: Record<string, ProjectionStatus>;
    let reachable = true;
    let caughtUp = false;
    try {
      ({ status: projectionStatus, caughtUp } = await withTimeout(positions(), timeoutMs));
      for (const p of Object.values(projectionStatus)) lastHead = Math.max(lastHead, p.position + p.lag);
    } catch {
      reachable = false;
      projectionStatus = Object.fromEntries(
        sinks.map((sink) => [
          sink.name,
          { position: sink.checkpoint(), lag: Math.max(0, lastHead - sink.checkpoint()) },
        ]),
      );
    }
    const connection = store.connectionStatus?.();
    const storeStatus =
      connection !== undefined && connection !== 'connected' ? connection : reachable ? 'ok' : 'unreachable';
    const ready = projections.healthy;
    const status = storeStatus === 'ok' && ready ? 'ok' : 'degraded';
    const bus = deps.signaling?.();
    return {
      status,
      body: {
        status,
        ready,
        catchingUp: projections.catchingUp,
        node: { id: deps.node.id, caughtUp: reachable && caughtUp },
        store: { name: store.name, status: storeStatus },
        projections: projectionStatus,
        ...(bus !== undefined ? { signaling: { bus: bus.name, status: bus.status } } : {}),
      },
    };
  };
};
