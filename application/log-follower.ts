import type { EventStore, RecordedEvent, Subscription } from './ports/event-store.ts';
import type { Log } from './ports/logger.ts';
import type { CheckpointStore } from './ports/notifications.ts';

export interface LogFollowerDeps {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly log: Log;
  readonly name?: string;
  /** First delay before resubscribing after an error; doubles up to 30 s. */
  readonly restartDelayMs?: number;
  /**
   * The read models the follower reads while it handles an event (settings, people): it is handed each event only
   * once they show it, so what it reads is never older than what it reacts to.
   */
  readonly dependsOn?: AppliedReadModels;
}

/** Read models that say when they include an event. */
export interface AppliedReadModels {
  /** Resolves once they include the event at `position`; rejects when they cannot (stopped, or too slow). */
  waitFor(position: number): Promise<void>;
}

export interface FollowerStatus {
  readonly position: number;
  readonly lag: number;
  readonly error?: string;
}

const CHECKPOINT_EVERY = 500;

/**
 * A reaction to the event log: follows it from its own durable checkpoint, hands every event to `handle`, and on an
 * error pauses, backs off and resumes from the last saved position. A subclass decides what each event means and
 * when its position may be saved (`advance`); events it only passes over are saved in batches.
 */
export abstract class LogFollower {
  readonly name: string;
  private subscription: Subscription | undefined;
  private position: number;
  private saved: number;
  private failure: Error | undefined;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = true;

  protected constructor(
    private readonly follow: LogFollowerDeps,
    defaultName: string,
    /** Logged when the follower pauses after an error. */
    private readonly pausedMessage: string,
  ) {
    this.name = follow.name ?? defaultName;
    this.position = follow.checkpoints.get(this.name);
    this.saved = this.position;
  }

  protected abstract handle(recorded: RecordedEvent): Promise<void>;

  private async deliver(recorded: RecordedEvent): Promise<void> {
    await this.follow.dependsOn?.waitFor(recorded.position);
    await this.handle(recorded);
  }

  start(): void {
    if (this.subscription !== undefined) return;
    this.stopped = false;
    const from = this.resumePosition();
    const ignored = this.ignoredStreamPrefixes();
    this.subscription = this.follow.store.subscribeToAll(
      {
        ...(from > 0 ? { after: from } : {}),
        ...(ignored.length > 0 ? { ignoreStreamPrefixes: ignored, onPassed: (p: number) => this.passed(p) } : {}),
      },
      (event) => this.deliver(event),
      (error) => this.fail(error),
    );
    this.started();
  }

  /** Where a (re)start follows the log from: by default, the last event dealt with. */
  protected resumePosition(): number {
    return this.position;
  }

  /**
   * Streams (by name prefix) whose events `handle` would only pass over: the store may leave them out, and then
   * `passed` is told how far it went.
   */
  protected ignoredStreamPrefixes(): ReadonlyArray<string> {
    return [];
  }

  /** Every event up to `position` was handled or left out as ignored: as for an event passed over. */
  protected passed(position: number): void {
    this.advance(position, false);
  }

  /** Called once subscribed, at every (re)start. */
  protected started(): void {}

  /** Called on every failure, before the pause (also when stopped): what the follower must drop or tell. */
  protected failed(_error: Error): void {}

  /** The error the follower stopped on, until `recovered` (or `clearError`). */
  protected get lastError(): Error | undefined {
    return this.failure;
  }

  /** Forgets the error without resetting the back-off (a follower healthy again as soon as it resubscribes). */
  protected clearError(): void {
    this.failure = undefined;
  }

  /** Stops following on an error found outside the subscription's handler, then pauses and resumes as on any. */
  protected abort(error: unknown): void {
    const subscription = this.subscription;
    this.subscription = undefined;
    void subscription?.stop();
    this.fail(error);
  }

  /** The event at `position` is dealt with; `save` stores the checkpoint now (else at most CHECKPOINT_EVERY later). */
  protected advance(position: number, save: boolean): void {
    this.position = position;
    if (save || position - this.saved >= CHECKPOINT_EVERY) this.save();
  }

  /** An event was handled after earlier failures: the follower is healthy again and backs off from scratch. */
  protected recovered(): void {
    this.failures = 0;
    this.failure = undefined;
  }

  private save(): void {
    if (this.position === this.saved) return;
    this.follow.checkpoints.set(this.name, this.position);
    this.saved = this.position;
  }

  private fail(error: unknown): void {
    this.subscription = undefined;
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.failed(this.failure);
    if (this.stopped) return;
    this.failures += 1;
    const delay = Math.min(30_000, (this.follow.restartDelayMs ?? 500) * 2 ** (this.failures - 1));
    this.follow.log.error({ err: this.failure, position: this.position, retryInMs: delay }, this.pausedMessage);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) this.start();
    }, delay);
    this.restartTimer.unref();
  }

  async status(): Promise<FollowerStatus> {
    const head = await this.follow.store.headPosition();
    return {
      position: this.position,
      lag: Math.max(0, head - this.position),
      ...(this.failure !== undefined ? { error: this.failure.message } : {}),
    };
  }

  get healthy(): boolean {
    return this.failure === undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const subscription = this.subscription;
    this.subscription = undefined;
    if (subscription !== undefined) await subscription.stop();
    this.save();
  }
}
