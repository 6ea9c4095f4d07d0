import * as E from 'fp-ts/lib/Either.js';
import * as meeting from '../domain/meeting.ts';
import * as series from '../domain/series.ts';
import { isEmptyPlan, planSeries } from '../domain/series-planner.ts';
import type { SeriesPlan, SessionPlan } from '../domain/series-planner.ts';
import { evolveHistory, evolveSession, initialHistory } from '../domain/series-process.ts';
import { scheduleStreamPrefix } from '../domain/schedule.ts';
import type { SeriesHistory, Session } from '../domain/series-process.ts';
import type { BookingGuard } from './booking.ts';
import { meetings, seriesAggregate } from './aggregates.ts';
import { loadAggregate } from './command-handler.ts';
import type { CorruptEvent } from './decode.ts';
import type { Executor, RequestContext } from './execute.ts';
import { actorOf } from './execute.ts';
import { LogFollower } from './log-follower.ts';
import type { LogFollowerDeps } from './log-follower.ts';
import type { EventStore, RecordedEvent } from './ports/event-store.ts';
import type { Log } from './ports/logger.ts';
import type { ProjectionRunner } from './projections/runner.ts';
import type { SeriesOperation, SeriesProbe } from './series-probe.ts';

/** How many sessions are written at once: the store commits concurrent appends together. */
const CONCURRENCY = 16;
const ATTEMPTS = 3;
/** Plan, apply, plan again: the second round writes the notices, a third finds nothing; more means something refuses. */
const MAX_ROUNDS = 4;

export interface ConvergeResult {
  /** Sessions written to. */
  readonly changed: number;
  /** Sessions that could not be written (the store failed, or the read models are recovering): worth a retry. */
  readonly failed: ReadonlyArray<string>;
  /** Sessions whose commands were refused: a retry would be refused too. */
  readonly refused: ReadonlyArray<string>;
}

export interface SeriesProcessDeps {
  readonly store: EventStore;
  readonly executor: Executor;
  readonly projections: ProjectionRunner;
  readonly bookings: BookingGuard;
  readonly clock: () => Date;
  readonly log?: Log;
  readonly probe?: SeriesProbe;
}

const SYSTEM: RequestContext = { user: { id: 'system', roles: ['admin'] } };

class Transient extends Error {}

const withoutClaim = ({ idempotency: _claim, ...ctx }: RequestContext): RequestContext => ctx;

/** A series or meeting stream whose events cannot be read: retrying cannot help. */
export class UnreadableStream extends Error {}

/** A series' history as the planner reads it, with the stream's revision and the position of its last event. */
export interface LoadedHistory {
  readonly history: SeriesHistory;
  readonly revision: number;
  readonly position: number;
}

/** What one `converge` has done so far, across its rounds. */
interface Progress {
  count: number;
  readonly positions: number[];
  readonly failed: Set<string>;
  readonly refused: Set<string>;
  readonly refusedOnce: Set<string>;
}

// The plan is decided on these reads: through the command handler's load, so from the leader on a cluster.
const readHistory = async (store: EventStore, seriesId: string): Promise<E.Either<CorruptEvent, LoadedHistory>> => {
  const loaded = await loadAggregate(
    store,
    series.seriesStreamName(seriesId),
    series.SeriesEvent,
    (h, e, r) => evolveHistory(h, e, r.position),
    initialHistory(),
  );
  if (E.isLeft(loaded)) return loaded;
  const { state: history, revision, events } = loaded.right;
  return E.right({ history, revision, position: events[events.length - 1]?.position ?? 0 });
};

const loadHistory = async (store: EventStore, seriesId: string): Promise<LoadedHistory> => {
  const loaded = await readHistory(store, seriesId);
  if (E.isLeft(loaded)) throw new UnreadableStream(`series ${seriesId} cannot be read: ${loaded.left.message}`);
  return loaded.right;
};

const loadSession = async (store: EventStore, meetingId: string): Promise<Session | undefined> => {
  const loaded = await loadAggregate<meeting.MeetingEvent, Session | undefined>(
    store,
    meeting.meetingStreamName(meetingId),
    meeting.MeetingEvent,
    (s, e, r) => evolveSession(s, e, r.position),
    undefined,
  );
  if (E.isLeft(loaded)) throw new UnreadableStream(`meeting ${meetingId} cannot be read: ${loaded.left.message}`);
  return loaded.right.state;
};

/** Runs `work` over `items`, at most CONCURRENCY at a time; after a throw no further item is started. */
const pool = async <A>(items: ReadonlyArray<A>, work: (item: A) => Promise<void>): Promise<void> => {
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
    try {
      while (!failed && next < items.length) await work(items[next++] as A);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
  await Promise.all(lanes);
};

/** The sessions that exist among `ids`, in the series' own order, whatever order the reads finished in. */
const loadSessions = async (store: EventStore, ids: ReadonlyArray<string>): Promise<Map<string, Session>> => {
  const loaded = new Map<string, Session>();
  await pool(ids, async (id) => {
    const session = await loadSession(store, id);
    if (session !== undefined) loaded.set(id, session);
  });
  return new Map(
    ids.flatMap((id) => {
      const s = loaded.get(id);
      return s === undefined ? [] : [[id, s] as const];
    }),
  );
};

/** One session's commands, retried when the store fails; whether they were applied. */
const applyOne = async (
  deps: SeriesProcessDeps,
  seriesId: string,
  ctx: RequestContext,
  { meetingId, commands }: SessionPlan,
  done: Progress,
): Promise<boolean> => {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await deps.executor.execute(ctx, meetings, meetingId, [...commands], { wait: false });
      if (E.isLeft(result)) {
        if (result.left._tag === 'Unavailable' || result.left._tag === 'TooMuchContention')
          throw new Transient(result.left._tag);
        // Another writer (a second node) may have got there first: planned again on fresh state before giving up.
        if (done.refusedOnce.has(meetingId)) {
          done.refused.add(meetingId);
          deps.log?.error({ seriesId, meetingId, error: result.left }, 'series session command refused');
        } else done.refusedOnce.add(meetingId);
        return false;
      }
      done.failed.delete(meetingId);
      if (result.right.position !== undefined) done.positions.push(result.right.position);
      return true;
    } catch (error) {
      if (attempt >= ATTEMPTS) {
        done.failed.add(meetingId);
        deps.log?.warn({ seriesId, meetingId, err: error }, 'series session could not be written');
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
};

/** The dropped-sessions notices, each written once, at the revision the plan was made on. */
const writeNotices = async (
  deps: SeriesProcessDeps,
  ctx: RequestContext,
  seriesId: string,
  revision: number,
  notices: SeriesPlan['notices'],
  done: Progress,
): Promise<void> => {
  let expected = revision;
  for (const notice of notices) {
    // Written at the revision the plan was made on: a notice written meanwhile makes this one stale, never twice.
    // Not under the request's Idempotency-Key claim: the series stream holds that request's own event already,
    // which would make the notice look applied and leave it unwritten.
    const result = await deps.executor.execute(
      withoutClaim(ctx),
      seriesAggregate,
      seriesId,
      {
        type: 'RecordOccurrencesCancelled',
        data: {
          cancellationId: notice.cancellationId,
          cancelled: [...notice.cancelled],
          reason: notice.reason,
          ...deps.executor.stamp(ctx),
        },
      },
      { expectedRevision: expected, wait: false },
    );
    if (E.isLeft(result)) {
      if (result.left._tag === 'StaleRevision') return;
      // Not written yet (the store is down, or the node is still catching up with the log): a failure, so the
      // process manager keeps its checkpoint before this event and tries again, rather than a notice left unwritten.
      if (result.left._tag === 'Unavailable' || result.left._tag === 'TooMuchContention') {
        done.failed.add(`notice ${notice.cancellationId}`);
        return;
      }
      deps.log?.error({ seriesId, cancellationId: notice.cancellationId, error: result.left }, 'series notice refused');
      return;
    }
    expected = result.right.revision;
    if (result.right.position !== undefined) done.positions.push(result.right.position);
  }
};

const apply = async (
  deps: SeriesProcessDeps,
  ctx: RequestContext,
  seriesId: string,
  revision: number,
  plan: SeriesPlan,
  operation: SeriesOperation | undefined,
  done: Progress,
): Promise<void> => {
  await pool(plan.sessions, async (item) => {
    if (!(await applyOne(deps, seriesId, ctx, item, done))) return;
    done.count += 1;
    // Outside the retries: the test-only crash point must stop everything, like a kill.
    if (operation !== undefined) deps.probe?.({ operation, step: 'session', count: done.count });
  });
  if (plan.notices.length === 0) return;
  if (operation !== undefined) deps.probe?.({ operation, step: 'sessions-done' });
  await writeNotices(deps, ctx, seriesId, revision, plan.notices, done);
};

/**
 * Brings the series' sessions to what the series says; the caller holds the booking lock of its participants.
 * Resolves once the read models show every write.
 */
const converge = async (
  deps: SeriesProcessDeps,
  seriesId: string,
  ctx: RequestContext = SYSTEM,
  operation?: SeriesOperation,
): Promise<ConvergeResult & { position: number }> => {
  const done: Progress = { count: 0, positions: [], failed: new Set(), refused: new Set(), refusedOnce: new Set() };
  let position = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const loaded = await loadHistory(deps.store, seriesId);
    position = loaded.position;
    if (loaded.history.series.status === 'none') break;
    const sessions = await loadSessions(deps.store, loaded.history.meetingIds);
    const plan = planSeries(loaded.history, sessions, deps.clock().toISOString(), actorOf(ctx.user));
    const open: SeriesPlan = {
      sessions: plan.sessions.filter((p) => !done.refused.has(p.meetingId)),
      notices: plan.notices,
    };
    if (isEmptyPlan(open)) break;
    const progress = () => done.count + done.positions.length + done.refusedOnce.size + done.refused.size;
    const before = progress();
    await apply(deps, ctx, seriesId, loaded.revision, open, operation, done);
    // Nothing written and nothing learnt (the store keeps failing): the caller retries later.
    if (progress() === before && (open.notices.length === 0 || done.failed.size > 0)) break;
  }
  if (done.positions.length > 0) await deps.projections.waitFor(Math.max(...done.positions), 30_000);
  return { changed: done.count, failed: [...done.failed], refused: [...done.refused], position };
};

/**
 * Runs the pure series planner against the log and applies its plan, one meeting stream at a time (idempotent per
 * session: each plan is computed from the session's own stream, and an applied plan plans nothing). `converge` is
 * what a series request runs inline, under the booking lock it already holds; `reconcile` takes the lock itself.
 * The loads are what a request plans on before it appends.
 */
export const createSeriesProcess = (deps: SeriesProcessDeps) => {
  const participants = async (seriesId: string): Promise<string[]> => {
    const { history } = await loadHistory(deps.store, seriesId);
    return history.series.status === 'none' ? [] : [history.series.customerId, history.series.instructorId];
  };
  return {
    converge: (seriesId: string, ctx?: RequestContext, operation?: SeriesOperation) =>
      converge(deps, seriesId, ctx, operation),
    /** `converge` under the series' booking lock, for work outside a request (the process manager, tools). */
    reconcile: async (seriesId: string): Promise<ConvergeResult & { position: number }> =>
      deps.bookings.withLock(await participants(seriesId), () => converge(deps, seriesId)),
    loadHistory: (seriesId: string) => loadHistory(deps.store, seriesId),
    readHistory: (seriesId: string) => readHistory(deps.store, seriesId),
    loadSessions: (ids: ReadonlyArray<string>) => loadSessions(deps.store, ids),
  };
};

export type SeriesProcess = ReturnType<typeof createSeriesProcess>;

const seriesEventTypes: ReadonlySet<string> = new Set(series.seriesEventTypes);
const REMEMBERED = 10_000;

export interface SeriesProcessManagerDeps extends LogFollowerDeps {
  readonly process: Pick<SeriesProcess, 'reconcile'>;
  /** Resolves once writes are taken (the read models caught up with the log); a series event waits for it. */
  readonly ready?: () => Promise<void>;
}

/**
 * The series process manager: follows the event log from its own durable checkpoint and, for every series event,
 * brings that series' sessions in line with it. The checkpoint moves past an event only once its series has
 * converged, so a crash at any point of a series operation (after the series event, halfway through its sessions,
 * before the notice) is finished after the restart; a replay (lost checkpoint, a second node) plans nothing new.
 */
export class SeriesProcessManager extends LogFollower {
  /** Series already converged through a position: later events of the same catch-up need no second pass. */
  private readonly convergedThrough = new Map<string, number>();

  constructor(private readonly deps: SeriesProcessManagerDeps) {
    super(deps, 'series-process', 'series process paused; resuming from its checkpoint');
  }

  // Only series events plan anything; the two schedule events of every booking need not even be decoded.
  protected override ignoredStreamPrefixes(): ReadonlyArray<string> {
    return [scheduleStreamPrefix];
  }

  protected async handle(recorded: RecordedEvent): Promise<void> {
    if (!recorded.streamName.startsWith('series-') || !seriesEventTypes.has(recorded.type)) {
      this.advance(recorded.position, false);
      return;
    }
    const seriesId = recorded.streamName.slice('series-'.length);
    if ((this.convergedThrough.get(seriesId) ?? 0) < recorded.position) {
      await this.deps.ready?.();
      let result: Awaited<ReturnType<SeriesProcess['reconcile']>>;
      try {
        result = await this.deps.process.reconcile(seriesId);
      } catch (error) {
        if (!(error instanceof UnreadableStream)) throw error;
        // One unreadable stream must not stop every later series: logged, left behind, and the process goes on.
        this.deps.log.error(
          { seriesId, position: recorded.position, error: error.message },
          'series cannot be brought in line; left as it is',
        );
        this.advance(recorded.position, true);
        return;
      }
      if (result.failed.length > 0) {
        throw new Error(
          `series ${seriesId}: ${result.failed.length} session(s) could not be written (${result.failed.slice(0, 5).join(', ')})`,
        );
      }
      if (result.refused.length > 0) {
        this.deps.log.error(
          { seriesId, refused: result.refused.slice(0, 20) },
          'series sessions refused their commands; left as they are',
        );
      }
      if (this.convergedThrough.size >= REMEMBERED) this.convergedThrough.clear();
      this.convergedThrough.set(seriesId, result.position);
      if (result.changed > 0)
        this.deps.log.info({ seriesId, sessions: result.changed }, 'series sessions brought in line with their series');
    }
    this.recovered();
    this.advance(recorded.position, true);
  }
}
