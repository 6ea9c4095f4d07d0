import { LogFollower } from '../log-follower.ts';
import type { EventStore, RecordedEvent } from '../ports/event-store.ts';
import type { ProjectionSink } from '../ports/read-models.ts';

export interface ProjectionStatus {
  readonly position: number;
  readonly lag: number;
  readonly error?: string;
}

const MAX_BATCH = 500;
const MIN_RESTART_DELAY_MS = 500;

interface Waiter {
  readonly position: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** What the runner does with what its follower hands over. */
interface ProjectionHooks {
  /** Where to follow from: the sinks keep their own checkpoints, with their data. */
  resumeFrom(): number;
  started(): void;
  receive(event: RecordedEvent): void;
  /** Every event up to this position was received or left out (a stream no sink reads). */
  passed(position: number): void;
  failed(error: Error): void;
}

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
// The sinks keep their positions with their data, in the same transaction as what they apply.
const noCheckpoints = { get: () => 0, set: () => {} };

/** The log follower under the runner: the subscription, its pause and back-off after an error, and its restart. */
class ProjectionFollower extends LogFollower {
  constructor(
    store: EventStore,
    private readonly hooks: ProjectionHooks,
    private readonly ignored: ReadonlyArray<string>,
  ) {
    // The runner reports its errors itself (onError), so the follower's own pause is not logged again.
    super({ store, checkpoints: noCheckpoints, log: quiet }, 'projections', 'projections paused');
  }

  protected handle(event: RecordedEvent): Promise<void> {
    this.hooks.receive(event);
    return Promise.resolve();
  }

  protected override ignoredStreamPrefixes(): ReadonlyArray<string> {
    return this.ignored;
  }

  protected override passed(position: number): void {
    this.hooks.passed(position);
  }

  protected override resumePosition(): number {
    return this.hooks.resumeFrom();
  }

  protected override started(): void {
    this.clearError();
    this.hooks.started();
  }

  protected override failed(error: Error): void {
    this.hooks.failed(error);
  }

  /** The error the runner stopped on, until it starts again. */
  get error(): Error | undefined {
    return this.lastError;
  }

  /** A batch failed outside the subscription's handler: stop following, pause, and resume from the checkpoints. */
  failWith(error: unknown): void {
    this.abort(error);
  }

  /** A batch was applied: the next error backs off from scratch. */
  applied(): void {
    this.recovered();
  }
}

/**
 * Feeds every projection sink from one catch-up subscription. Each sink skips what it already has, so replays after
 * a crash are harmless. `waitFor` lets a writer answer only once its write is visible ("read your writes").
 */
export class ProjectionRunner {
  private readonly follower: ProjectionFollower;
  private position = 0;
  private head = 0;
  private waiters: Waiter[] = [];
  /** Told when the runner turns healthy (or stops): `whenHealthy` waits on this instead of polling. */
  private healthWaiters: Array<{ readonly settle: (error?: Error) => void }> = [];
  private readonly listeners: Array<(event: RecordedEvent) => void> = [];
  private buffer: RecordedEvent[] = [];
  /** Left-out events after the buffered ones: the position reached once the buffer is applied. */
  private passedTo = 0;
  private flushTimer: NodeJS.Immediate | undefined;
  private stopped = false;
  /**
   * The log head as of the (re)start or the last failure, which must be applied before writes (and the checks that
   * read the read models, like double bookings) resume. Read models that are new, deleted or behind catch up to it.
   */
  private recoverUntil: number | undefined;
  /** The head as of the (re)start is still being asked for: until it is known, the read models count as behind. */
  private headPending = false;
  private headTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly sinks: ReadonlyArray<ProjectionSink>,
    private readonly onError: (error: unknown) => void = () => {},
    /** Runs a batch for every sink in one transaction of the read-model store, when it has one. */
    private readonly transaction: (work: () => void) => void = (work) => work(),
    /** Streams (by name prefix) no sink reads: the store need not hand them over (SubscribeOptions). */
    ignoreStreamPrefixes: ReadonlyArray<string> = [],
  ) {
    this.follower = new ProjectionFollower(
      store,
      {
        resumeFrom: () => {
          this.buffer = [];
          this.passedTo = 0;
          this.position = Math.min(...this.sinks.map((sink) => sink.checkpoint()));
          return this.position;
        },
        started: () => this.catchUpToHead(),
        receive: (event) => this.handle(event),
        passed: (position) => this.pass(position),
        failed: (error) => this.fail(error),
      },
      ignoreStreamPrefixes,
    );
  }

  private get failure(): Error | undefined {
    return this.follower.error;
  }

  start(): void {
    this.stopped = false;
    this.follower.start();
  }

  /** Captures the log head as of now; writes wait until every sink has applied it (asked again while the store fails). */
  private catchUpToHead(): void {
    this.headPending = true;
    this.store.headPosition().then(
      (head) => {
        this.headPending = false;
        if (head > this.head) this.head = head;
        if (head > this.position) this.recoverUntil = Math.max(this.recoverUntil ?? 0, head);
        else if (this.recoverUntil !== undefined && this.position >= this.recoverUntil) this.recoverUntil = undefined;
        this.settleHealthWaiters();
      },
      () => {
        if (this.stopped) return;
        this.headTimer = setTimeout(() => {
          this.headTimer = undefined;
          if (!this.stopped) this.catchUpToHead();
        }, MIN_RESTART_DELAY_MS);
        this.headTimer.unref();
      },
    );
  }

  /**
   * Events that arrive together (a group commit, a catch-up batch) are applied together: one read-model transaction
   * per batch instead of one per event and sink.
   */
  private handle(event: RecordedEvent): void {
    this.buffer.push(event);
    if (this.buffer.length >= MAX_BATCH) {
      this.flush();
      return;
    }
    this.flushTimer ??= setImmediate(() => {
      try {
        this.flush();
      } catch (error) {
        this.follower.failWith(error);
      }
    });
  }

  /**
   * Events no sink reads were left out up to `position`: the read models show everything up to it once what is
   * buffered (all before it) is applied, so read-your-writes holds for a write whose last event was left out.
   */
  private pass(position: number): void {
    if (this.buffer.length > 0) {
      this.passedTo = Math.max(this.passedTo, position);
      return;
    }
    if (position > this.position) this.reached(position);
  }

  /** The read models show everything up to `position`. */
  private reached(position: number): void {
    this.position = position;
    if (this.recoverUntil !== undefined && this.position >= this.recoverUntil) this.recoverUntil = undefined;
    if (position > this.head) this.head = position;
    this.settleWaiters();
    this.settleHealthWaiters();
  }

  private flush(): void {
    if (this.flushTimer !== undefined) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    const last = batch[batch.length - 1];
    if (last === undefined) return;
    this.transaction(() => {
      for (const sink of this.sinks) sink.apply(batch);
    });
    const passedTo = this.passedTo;
    this.passedTo = 0;
    this.follower.applied();
    this.reached(Math.max(last.position, passedTo));
    for (const event of batch) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (error) {
          this.onError(error);
        }
      }
    }
  }

  /** Called after every projected event, once the read models show it; listeners must not throw. */
  onProjected(listener: (event: RecordedEvent) => void): void {
    this.listeners.push(listener);
  }

  /**
   * A failed batch leaves the read models at their last good checkpoint; the follower starts again from there after
   * a growing pause, so a passing fault (a locked file, a full disk freed later) heals without a restart of the
   * process. What was buffered is dropped and the writers waiting on it are told.
   */
  private fail(error: Error): void {
    if (this.flushTimer !== undefined) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    this.buffer = [];
    this.passedTo = 0;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.waiters = [];
    this.onError(error);
    this.recoverUntil = Math.max(this.recoverUntil ?? 0, this.head);
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.position <= this.position) {
        clearTimeout(waiter.timer);
        waiter.resolve();
      } else still.push(waiter);
    }
    this.waiters = still;
  }

  /** Resolves once every projection has applied the event at `position`. */
  waitFor(position: number | undefined, timeoutMs = 10_000): Promise<void> {
    if (position === undefined || position <= this.position) return Promise.resolve();
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (position > this.head) this.head = position;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`projections did not reach position ${position} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({ position, resolve, reject, timer });
    });
  }

  async status(): Promise<Record<string, ProjectionStatus>> {
    const head = Math.max(this.head, await this.store.headPosition());
    this.head = head;
    const result: Record<string, ProjectionStatus> = {};
    for (const sink of this.sinks) {
      // A sink's checkpoint is the last event it was handed; the runner may have passed events no sink reads since.
      const position = Math.max(sink.checkpoint(), this.position);
      result[sink.name] = {
        position,
        lag: Math.max(0, head - position),
        ...(this.failure !== undefined ? { error: 'stopped by an error (see the log); restarting' } : {}),
      };
    }
    return result;
  }

  /** Position of the last event every read model shows. */
  get appliedPosition(): number {
    return this.position;
  }

  /**
   * Running, and caught up with everything written before the start and before any failure: reads and booking checks
   * are current, so writes may go ahead.
   */
  get healthy(): boolean {
    return this.failure === undefined && this.recoverUntil === undefined && !this.headPending;
  }

  /** Running but still behind the head as of the (re)start or the last failure. */
  get catchingUp(): boolean {
    return this.failure === undefined && (this.recoverUntil !== undefined || this.headPending);
  }

  /** Resolves once `healthy` (e.g. before a start-up task writes); rejects after `timeoutMs`, or when stopped. */
  whenHealthy(timeoutMs = 120_000): Promise<void> {
    if (this.healthy) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error('projections stopped'));
    return new Promise((resolve, reject) => {
      const waiter = {
        settle: (error?: Error) => {
          clearTimeout(timer);
          if (error === undefined) resolve();
          else reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.healthWaiters = this.healthWaiters.filter((w) => w !== waiter);
        reject(new Error(`projections did not catch up within ${timeoutMs} ms`));
      }, timeoutMs);
      this.healthWaiters.push(waiter);
    });
  }

  private settleHealthWaiters(error?: Error): void {
    if (this.healthWaiters.length === 0 || (error === undefined && !this.healthy)) return;
    const waiters = this.healthWaiters;
    this.healthWaiters = [];
    for (const waiter of waiters) waiter.settle(error);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.headTimer !== undefined) clearTimeout(this.headTimer);
    this.headTimer = undefined;
    await this.follower.stop();
    if (this.failure === undefined) this.flush();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('projections stopped'));
    }
    this.waiters = [];
    this.settleHealthWaiters(new Error('projections stopped'));
  }
}

/** Rebuilds every sink from the whole log, reporting progress as (done, total). */
export const rebuildProjections = async (
  store: EventStore,
  sinks: ReadonlyArray<ProjectionSink>,
  onProgress: (done: number, total: number) => void = () => {},
  batchSize = 1000,
): Promise<number> => {
  for (const sink of sinks) sink.reset();
  const total = await store.headPosition();
  let after = 0;
  let count = 0;
  for (;;) {
    const batch = await store.readAll({ after, limit: batchSize });
    if (batch.length === 0) break;
    for (const sink of sinks) sink.apply(batch);
    const last = batch[batch.length - 1];
    if (last === undefined) break;
    after = last.position;
    count += batch.length;
    onProgress(Math.min(after, total), total);
  }
  return count;
};
