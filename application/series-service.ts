import * as E from 'fp-ts/lib/Either.js';
import * as series from '../domain/series.ts';
import { planRequest, requestSessionIds, sessionsToCancel } from '../domain/series-planner.ts';
import type { RequestPlan } from '../domain/series-planner.ts';
import { initialHistory } from '../domain/series-process.ts';
import type { Actor } from '../domain/shared.ts';
import type { BookingGuard } from './booking.ts';
import { unknownParticipants } from './booking.ts';
import { deactivatedParticipants } from './people.ts';
import { seriesAggregate } from './aggregates.ts';
import { seriesChange } from './schedule.ts';
import { actorOf, newIdFor } from './execute.ts';
import type { AppError, ExecuteOptions, Executor, RequestContext } from './execute.ts';
import { fieldsSet } from './patch.ts';
import type { Histories } from './history.ts';
import type { AccessProvider } from './ports/access.ts';
import type { HistoryPage, MeetingQueries, SeriesView } from './ports/read-models.ts';
import type { ProjectionRunner } from './projections/runner.ts';
import { bookingConflict } from './service.ts';
import { presentConflicts } from './booking.ts';
import type { PresentedConflict } from './booking.ts';
import type { ParticipantHistory } from './service.ts';
import type { SeriesOperation, SeriesProbe } from './series-probe.ts';
import type { ConvergeResult, SeriesProcess } from './series-process.ts';

export type SeriesInput = Readonly<series.SeriesFields>;

export type SeriesPatch = Partial<SeriesInput>;

export interface SeriesServiceDeps {
  readonly queries: MeetingQueries;
  readonly projections: ProjectionRunner;
  readonly access: AccessProvider;
  readonly executor: Executor;
  readonly bookings: BookingGuard;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly process: SeriesProcess;
  readonly probe?: SeriesProbe;
  /** The audit histories, read from the streams themselves. */
  readonly histories: Histories;
}

const seriesNotFound = (): AppError => ({ _tag: 'NotFound', message: 'series not found' });

const visible = async (
  deps: SeriesServiceDeps,
  ctx: RequestContext,
  seriesId: string,
): Promise<E.Either<AppError, SeriesView>> => {
  const view = deps.queries.getSeries(seriesId);
  if (view === undefined || !(await deps.access.canView(ctx.user, view))) return E.left(seriesNotFound());
  return E.right(view);
};

const modifiable: typeof visible = async (deps, ctx, seriesId) => {
  const view = await visible(deps, ctx, seriesId);
  if (E.isLeft(view)) return view;
  if (!(await deps.access.canModify(ctx.user, view.right)))
    return E.left({ _tag: 'Forbidden', message: 'you may not change this series' });
  return view;
};

/** A session left behind is finished by the series process in the background; the answer says to look again. */
const partlyDone = (r: ConvergeResult): AppError | undefined => {
  const left = [...r.failed, ...r.refused];
  return left.length === 0
    ? undefined
    : {
        _tag: 'Unavailable',
        message: `the series was saved, but ${left.length} session(s) could not be updated yet (${left.slice(0, 5).join(', ')}); repeat the request`,
      };
};

/** The 409 of a request whose sessions would double-book its people; undefined when every slot is free. */
const doubleBooking = async (
  deps: SeriesServiceDeps,
  ctx: RequestContext,
  people: { readonly customerId: string; readonly instructorId: string },
  plan: RequestPlan,
): Promise<AppError | undefined> => {
  const conflicts = await deps.bookings.conflictsDecided(plan.toBook, people, plan.changing);
  return conflicts.length > 0 ? bookingConflict(deps.access, ctx.user, conflicts) : undefined;
};

const appendToSeries = (
  deps: SeriesServiceDeps,
  ctx: RequestContext,
  seriesId: string,
  commands: series.SeriesCommand | ReadonlyArray<series.SeriesCommand>,
  options: ExecuteOptions<series.SeriesEvent, series.SeriesState> = {},
) =>
  deps.executor.execute(ctx, seriesAggregate, seriesId, commands, {
    refuseBooking: (conflicts) => bookingConflict(deps.access, ctx.user, conflicts),
    ...options,
    wait: false,
  });

/**
 * A series request checked and booked on one plan: the check plans its sessions (and pre-checks the calendar), and
 * the sessions it books are reserved on the people's schedules with the series event, owned by it.
 */
const bookedOnPlan = (
  people: { readonly customerId: string; readonly instructorId: string },
  check: (
    decided: ReadonlyArray<series.SeriesEvent>,
    keep: (plan: RequestPlan) => void,
  ) => Promise<AppError | undefined>,
): Pick<ExecuteOptions<series.SeriesEvent, series.SeriesState>, 'check' | 'books'> => {
  let plan: RequestPlan | undefined;
  return {
    check: (decided) => {
      plan = undefined;
      return check(decided, (p) => (plan = p));
    },
    books: async () => seriesChange(people, plan?.toBook ?? [], plan?.changing ?? []),
  };
};

/**
 * After the series event: its sessions brought in line (under the lock the caller holds), then the series as the
 * read models show it. Also when the series already said so (a repeated request).
 */
const settle = async (
  deps: SeriesServiceDeps,
  ctx: RequestContext,
  seriesId: string,
  operation: SeriesOperation,
  position: number | undefined,
): Promise<E.Either<AppError, SeriesView>> => {
  const converged = await deps.process.converge(seriesId, ctx, operation);
  await deps.projections.waitFor(position);
  const failure = partlyDone(converged);
  if (failure !== undefined) return E.left(failure);
  const view = deps.queries.getSeries(seriesId);
  return view === undefined ? E.left(seriesNotFound()) : E.right(view);
};

const mayNotSchedule: AppError = {
  _tag: 'Forbidden',
  message: 'only admins, or instructors for their own sessions, may schedule series',
};

/** A series' customer or instructor the directory does not know or has deactivated: 400 naming the field. */
const refusedParticipants = async (deps: SeriesServiceDeps, input: SeriesInput): Promise<AppError | undefined> => {
  const unknown = [...deactivatedParticipants(deps.queries, input), ...(await unknownParticipants(deps.access, input))];
  return unknown.length > 0 ? { _tag: 'ValidationFailed', errors: unknown } : undefined;
};

/** A new series' checks on what it decided: its people exist, and its sessions double-book neither of them. */
const checkNewSeries = async (
  deps: SeriesServiceDeps,
  ctx: RequestContext,
  input: SeriesInput,
  decided: ReadonlyArray<series.SeriesEvent>,
  now: string,
  keep: (plan: RequestPlan) => void,
): Promise<AppError | undefined> => {
  if (decided[0]?.type !== 'SeriesScheduled') return { _tag: 'Conflict', message: 'the series could not be planned' };
  const refused = await refusedParticipants(deps, input);
  if (refused !== undefined) return refused;
  // A new series has no sessions: the plan books every occurrence. Its own sessions are no conflict: an idempotent
  // retry may find those it created before its answer was lost.
  const plan = planRequest(initialHistory(), decided, new Map(), now, actorOf(ctx.user));
  keep(plan);
  return doubleBooking(deps, ctx, input, plan);
};

const scheduleSeries = async (
  deps: SeriesServiceDeps,
  ctx: RequestContext,
  input: SeriesInput,
): Promise<E.Either<AppError, SeriesView>> => {
  if (!(await deps.access.canCreate(ctx.user, input))) return E.left(mayNotSchedule);
  const seriesId = newIdFor(ctx, deps.newId);
  const s = deps.executor.stamp(ctx);
  const command: series.SeriesCommand = { type: 'ScheduleSeries', data: { ...input, seriesId, ...s } };
  // The domain's answer comes first; the directory and the calendar are checked on the sessions it planned, before
  // the append and under the participants' lock (the executor refuses first while the read models are behind the
  // log, when an "unknown person" or "no conflict" would be no answer).
  return deps.bookings.withLock([input.customerId, input.instructorId], async () => {
    const result = await appendToSeries(
      deps,
      ctx,
      seriesId,
      command,
      bookedOnPlan(input, (decided, keep) => checkNewSeries(deps, ctx, input, decided, s.at, keep)),
    );
    if (E.isLeft(result)) return result;
    deps.probe?.({ operation: 'create', step: 'series-event' });
    return settle(deps, ctx, seriesId, 'create', result.right.position);
  });
};

/** An occurrence a series would have, and what it would clash with (as much as the caller may see). */
export interface PreviewOccurrence {
  readonly localDate: string;
  readonly start: string;
  readonly end: string;
  readonly conflicts: ReadonlyArray<PresentedConflict>;
}

/** The id a preview plans under: never appended, so it names no series. */
const PREVIEW_ID = 'preview';

/**
 * `POST /series/preview`: the occurrences `scheduleSeries` would create for this body, decided by the same domain
 * code on the same input, with the bookings each would clash with now. Writes nothing; the same authorization and
 * the same field errors (an unknown or deactivated person included) as scheduling it.
 */
const previewSeries = async (
  deps: SeriesServiceDeps,
  ctx: RequestContext,
  input: SeriesInput,
): Promise<E.Either<AppError, { occurrences: ReadonlyArray<PreviewOccurrence> }>> => {
  if (!(await deps.access.canCreate(ctx.user, input))) return E.left(mayNotSchedule);
  const s = deps.executor.stamp(ctx);
  const command: series.SeriesCommand = { type: 'ScheduleSeries', data: { ...input, seriesId: PREVIEW_ID, ...s } };
  const decided = series.decide(command, series.initialState());
  if (E.isLeft(decided)) return E.left(seriesAggregate.mapError(decided.left));
  const scheduled = decided.right[0];
  if (scheduled?.type !== 'SeriesScheduled')
    return E.left({ _tag: 'Conflict', message: 'the series could not be planned' });
  const refused = await refusedParticipants(deps, input);
  if (refused !== undefined) return E.left(refused);
  const plan = planRequest(initialHistory(), decided.right, new Map(), s.at, actorOf(ctx.user));
  const clashes = await presentConflicts(
    (m) => deps.access.canView(ctx.user, m),
    deps.bookings.conflicts(plan.toBook, input, plan.changing),
  );
  const occurrences = scheduled.data.occurrences.map((o) => ({
    localDate: o.localDate,
    start: o.start,
    end: o.end,
    conflicts: clashes.filter((c) => c.slot.start === o.start && c.slot.end === o.end),
  }));
  return E.right({ occurrences });
};

/** Participants are fixed for the life of a series. */
const participantChange = (patch: SeriesPatch, view: SeriesView): AppError | undefined => {
  const field = (['customerId', 'instructorId'] as const).find((f) => patch[f] !== undefined && patch[f] !== view[f]);
  return field === undefined
    ? undefined
    : {
        _tag: 'ValidationFailed',
        errors: [{ path: field, message: 'participants cannot be changed; cancel this series and schedule a new one' }],
      };
};

/** The series commands of a PATCH: a recurrence change and a details change, each only when it names a field. */
const changeCommands = (
  patch: SeriesPatch,
  s: { readonly at: string; readonly by: Actor },
  newId: () => string,
): series.SeriesCommand[] => {
  const commands: series.SeriesCommand[] = [];
  const recurrence = fieldsSet(patch, ['rrule', 'startDate', 'startTime', 'durationMinutes', 'timezone', 'exclusions']);
  if (recurrence !== undefined)
    commands.push({ type: 'ChangeSeriesRecurrence', data: { ...s, ...recurrence, cancellationId: newId() } });
  const details = fieldsSet(patch, [
    'title',
    'description',
    'customerMetadata',
    'instructorMetadata',
    'trainingType',
    'remoteLink',
  ]);
  if (details !== undefined) commands.push({ type: 'ChangeSeriesDetails', data: { ...s, ...details } });
  return commands;
};

const operationOf = (patch: SeriesPatch, commands: ReadonlyArray<series.SeriesCommand>): SeriesOperation =>
  commands[0]?.type !== 'ChangeSeriesRecurrence'
    ? 'details'
    : patch.rrule === undefined && patch.startDate === undefined && patch.exclusions === undefined
      ? 'time'
      : 'recurrence';

/**
 * A change's check on what it decided: the sessions its events name, planned as the series process will once they
 * are appended, double-book nobody. The series' own other sessions still count: only those this change moves, removes
 * or brings back are ignored.
 */
const checkChange = async (
  deps: SeriesServiceDeps,
  ctx: RequestContext,
  view: SeriesView,
  decided: ReadonlyArray<series.SeriesEvent>,
  keep: (plan: RequestPlan) => void,
): Promise<AppError | undefined> => {
  const named = requestSessionIds(decided);
  if (named.length === 0) return undefined;
  // Read under the participants' lock, like the series state the change was decided on: nothing writes in between.
  const loaded = await deps.process.readHistory(view.id);
  if (E.isLeft(loaded)) return loaded.left;
  const sessions = await deps.process.loadSessions(named);
  const plan = planRequest(loaded.right.history, decided, sessions, deps.clock().toISOString(), actorOf(ctx.user));
  keep(plan);
  // Sessions booked anew (moved or brought back) are not for someone deactivated since; removing some still is.
  const deactivated = plan.toBook.length > 0 ? deactivatedParticipants(deps.queries, view) : [];
  if (deactivated.length > 0) return { _tag: 'ValidationFailed', errors: deactivated };
  return doubleBooking(deps, ctx, view, plan);
};

const changeSeries = async (
  deps: SeriesServiceDeps,
  ctx: RequestContext,
  seriesId: string,
  patch: SeriesPatch,
  expectedRevision?: number,
): Promise<E.Either<AppError, SeriesView>> => {
  const current = await modifiable(deps, ctx, seriesId);
  if (E.isLeft(current)) return current;
  const view = current.right;
  const fixed = participantChange(patch, view);
  if (fixed !== undefined) return E.left(fixed);
  const commands = changeCommands(patch, deps.executor.stamp(ctx), deps.newId);
  if (commands.length === 0) return E.right(view);
  const operation = operationOf(patch, commands);
  return deps.bookings.withLock([view.customerId, view.instructorId], async () => {
    const result = await appendToSeries(deps, ctx, view.id, commands, {
      expectedRevision,
      ...bookedOnPlan(view, (decided, keep) => checkChange(deps, ctx, view, decided, keep)),
    });
    if (E.isLeft(result)) return result;
    if (result.right.events.length > 0) deps.probe?.({ operation, step: 'series-event' });
    return settle(deps, ctx, view.id, operation, result.right.position);
  });
};

const cancelSeries = async (
  deps: SeriesServiceDeps,
  ctx: RequestContext,
  seriesId: string,
  input: { reason?: string; from?: string },
  expectedRevision?: number,
): Promise<E.Either<AppError, SeriesView>> => {
  const current = await modifiable(deps, ctx, seriesId);
  if (E.isLeft(current)) return current;
  // The same lock as series changes: the sessions to cancel are read and cancelled with no change in between.
  return deps.bookings.withLock([current.right.customerId, current.right.instructorId], async () => {
    const s = deps.executor.stamp(ctx);
    const from = input.from ?? s.at;
    const loaded = await deps.process.readHistory(seriesId);
    if (E.isLeft(loaded)) return loaded;
    const sessions = await deps.process.loadSessions(loaded.right.history.meetingIds);
    const toCancel = sessionsToCancel(sessions.values(), from);
    const cancellationId = newIdFor(ctx, deps.newId);
    const command: series.SeriesCommand = {
      type: 'CancelSeries',
      data: { cancellationId, from, toCancel, reason: input.reason, ...s },
    };
    const result = await appendToSeries(deps, ctx, seriesId, command, { expectedRevision });
    if (E.isLeft(result)) {
      // A repeated cancellation is refused (409), but what the first one left undone is finished before answering.
      if (result.left._tag === 'Conflict') await deps.process.converge(seriesId, ctx, 'cancel');
      return result;
    }
    deps.probe?.({ operation: 'cancel', step: 'series-event' });
    return settle(deps, ctx, seriesId, 'cancel', result.right.position);
  });
};

/** The series' audit history, with whose it is: the HTTP presenter hides what the caller may not read. */
const seriesHistory = async (
  deps: SeriesServiceDeps,
  ctx: RequestContext,
  seriesId: string,
  page?: HistoryPage,
): Promise<E.Either<AppError, ParticipantHistory>> => {
  const view = await visible(deps, ctx, seriesId);
  if (E.isLeft(view)) return view;
  const entries = await deps.histories.history(series.seriesStreamName(seriesId), page);
  return E.right({ instructorId: view.right.instructorId, entries });
};

/**
 * Series requests: each loads the series (and the sessions it names), plans with the pure series planner what its
 * events will do to the sessions, checks the bookings of that plan, appends, and lets the series process apply it.
 */
export const createSeriesService = (deps: SeriesServiceDeps) => ({
  scheduleSeries: (ctx: RequestContext, input: SeriesInput) => scheduleSeries(deps, ctx, input),
  previewSeries: (ctx: RequestContext, input: SeriesInput) => previewSeries(deps, ctx, input),
  getSeries: (ctx: RequestContext, seriesId: string) => visible(deps, ctx, seriesId),
  changeSeries: (ctx: RequestContext, seriesId: string, patch: SeriesPatch, expectedRevision?: number) =>
    changeSeries(deps, ctx, seriesId, patch, expectedRevision),
  cancelSeries: (
    ctx: RequestContext,
    seriesId: string,
    input: { reason?: string; from?: string },
    expectedRevision?: number,
  ) => cancelSeries(deps, ctx, seriesId, input, expectedRevision),
  /** Brings a series' sessions in line with it now (under its booking lock); how many sessions were written. */
  reconcile: async (seriesId: string): Promise<number> => (await deps.process.reconcile(seriesId)).changed,
  seriesHistory: (ctx: RequestContext, seriesId: string, page?: HistoryPage) =>
    seriesHistory(deps, ctx, seriesId, page),
});

export type SeriesService = ReturnType<typeof createSeriesService>;
