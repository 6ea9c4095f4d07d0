import * as E from 'fp-ts/lib/Either.js';
import type * as meeting from '../domain/meeting.ts';
import * as series from '../domain/series.ts';
import { assertNever } from '../domain/shared.ts';
import type { BookingGuard } from './booking.ts';
import { unknownParticipants } from './booking.ts';
import { newIdFor, writeRefusal } from './execute.ts';
import type { Executor, AppError, RequestContext } from './execute.ts';
import type { AccessProvider } from './ports/access.ts';
import type { HistoryPage, MeetingQueries, MeetingView, SeriesView } from './ports/read-models.ts';
import type { ProjectionRunner } from './projections/runner.ts';
import { bookingConflict } from './service.ts';
import type { ParticipantHistory } from './service.ts';
import type { SeriesOperation, SeriesProbe } from './series-probe.ts';
import type { ConvergeResult, SeriesProcess } from './series-process.ts';

export interface SeriesInput {
  readonly title: string;
  readonly customerId: string;
  readonly instructorId: string;
  readonly trainingType: meeting.TrainingType;
  readonly remoteLink?: string;
  readonly description?: string;
  readonly customerMetadata?: string;
  readonly instructorMetadata?: string;
  readonly timezone: string;
  readonly startDate: string;
  readonly startTime: string;
  readonly durationMinutes: number;
  readonly rrule: string;
  readonly exclusions?: string[];
}

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
}

const mapSeriesError = (error: series.SeriesError): AppError => {
  switch (error._tag) {
    case 'ValidationFailed':
      return error;
    case 'SeriesNotFound':
      return { _tag: 'NotFound', message: 'series not found' };
    case 'SeriesAlreadyExists':
      return { _tag: 'Conflict', message: 'a series with this id already exists' };
    case 'SeriesIsCancelled':
      return { _tag: 'Conflict', message: error.message };
    default:
      return assertNever(error);
  }
};

export const createSeriesService = (deps: SeriesServiceDeps) => {
  const { queries, access, executor, bookings, clock, newId } = deps;
  const { execute, stamp } = executor;

  const visible = async (ctx: RequestContext, seriesId: string): Promise<E.Either<AppError, SeriesView>> => {
    const view = queries.getSeries(seriesId);
    if (view === undefined || !(await access.canView(ctx.user, view)))
      return E.left({ _tag: 'NotFound', message: 'series not found' });
    return E.right(view);
  };

  const modifiable = async (ctx: RequestContext, seriesId: string): Promise<E.Either<AppError, SeriesView>> => {
    const view = await visible(ctx, seriesId);
    if (E.isLeft(view)) return view;
    if (!(await access.canModify(ctx.user, view.right)))
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

  const answer = (seriesId: string, converged: ConvergeResult): E.Either<AppError, SeriesView> => {
    const failure = partlyDone(converged);
    if (failure !== undefined) return E.left(failure);
    const view = queries.getSeries(seriesId);
    return view === undefined ? E.left({ _tag: 'NotFound', message: 'series not found' }) : E.right(view);
  };

  const occurrenceMeetings = (seriesId: string): MeetingView[] => queries.meetingsOfSeries(seriesId);

  return {
    async scheduleSeries(ctx: RequestContext, input: SeriesInput): Promise<E.Either<AppError, SeriesView>> {
      if (!(await access.canCreate(ctx.user, input))) {
        return E.left({
          _tag: 'Forbidden',
          message: 'only admins, or instructors for their own sessions, may schedule series',
        });
      }
      const seriesId = newIdFor(ctx, newId);
      const s = stamp(ctx);
      const command: series.SeriesCommand = { type: 'ScheduleSeries', data: { ...input, seriesId, ...s } };
      const dryRun = series.decide(command, series.initialState());
      if (E.isLeft(dryRun)) return E.left(mapSeriesError(dryRun.left));
      const planned = dryRun.right[0];
      if (planned?.type !== 'SeriesScheduled')
        return E.left({ _tag: 'Conflict', message: 'the series could not be planned' });
      // The directory check reads the read models: while they are behind the log its "unknown person" is no answer.
      const refusal = writeRefusal(deps.projections);
      if (refusal !== undefined) return E.left(refusal);
      const unknown = await unknownParticipants(access, input);
      if (unknown.length > 0) return E.left({ _tag: 'ValidationFailed', errors: unknown });
      return bookings.withLock([input.customerId, input.instructorId], async () => {
        // Its own sessions are left out: an idempotent retry may find those it created before its answer was lost.
        const conflicts = bookings.conflicts(
          planned.data.occurrences,
          input,
          new Set(planned.data.occurrences.map((o) => o.meetingId)),
        );
        if (conflicts.length > 0) return E.left(await bookingConflict(access, ctx.user, conflicts));
        const result = await execute(
          ctx,
          series.seriesStreamName(seriesId),
          series.seriesDecider,
          series.SeriesEvent,
          command,
          mapSeriesError,
          { wait: false },
        );
        if (E.isLeft(result)) return result;
        deps.probe?.({ operation: 'create', step: 'series-event' });
        const converged = await deps.process.converge(seriesId, ctx, 'create');
        await deps.projections.waitFor(result.right.position);
        return answer(seriesId, converged);
      });
    },

    getSeries: visible,

    async changeSeries(
      ctx: RequestContext,
      seriesId: string,
      patch: SeriesPatch,
      expectedRevision?: number,
    ): Promise<E.Either<AppError, SeriesView>> {
      const current = await modifiable(ctx, seriesId);
      if (E.isLeft(current)) return current;
      const view = current.right;
      for (const field of ['customerId', 'instructorId'] as const) {
        if (patch[field] !== undefined && patch[field] !== view[field]) {
          return E.left({
            _tag: 'ValidationFailed',
            errors: [
              { path: field, message: 'participants cannot be changed; cancel this series and schedule a new one' },
            ],
          });
        }
      }
      const s = stamp(ctx);
      const commands: series.SeriesCommand[] = [];
      const { rrule, startDate, startTime, durationMinutes, timezone, exclusions } = patch;
      if ([rrule, startDate, startTime, durationMinutes, timezone, exclusions].some((v) => v !== undefined)) {
        commands.push({
          type: 'ChangeSeriesRecurrence',
          data: {
            ...s,
            ...(rrule !== undefined ? { rrule } : {}),
            ...(startDate !== undefined ? { startDate } : {}),
            ...(startTime !== undefined ? { startTime } : {}),
            ...(durationMinutes !== undefined ? { durationMinutes } : {}),
            ...(timezone !== undefined ? { timezone } : {}),
            ...(exclusions !== undefined ? { exclusions } : {}),
            cancellationId: newId(),
          },
        });
      }
      const { title, description, customerMetadata, instructorMetadata, trainingType, remoteLink } = patch;
      if (
        [title, description, customerMetadata, instructorMetadata, trainingType, remoteLink].some(
          (v) => v !== undefined,
        )
      ) {
        commands.push({
          type: 'ChangeSeriesDetails',
          data: {
            ...s,
            ...(title !== undefined ? { title } : {}),
            ...(description !== undefined ? { description } : {}),
            ...(customerMetadata !== undefined ? { customerMetadata } : {}),
            ...(instructorMetadata !== undefined ? { instructorMetadata } : {}),
            ...(trainingType !== undefined ? { trainingType } : {}),
            ...(remoteLink !== undefined ? { remoteLink } : {}),
          },
        });
      }
      if (commands.length === 0) return E.right(view);
      const operation: SeriesOperation =
        commands[0]?.type !== 'ChangeSeriesRecurrence'
          ? 'details'
          : rrule === undefined && startDate === undefined && exclusions === undefined
            ? 'time'
            : 'recurrence';

      return bookings.withLock([view.customerId, view.instructorId], async () => {
        const loaded = await executor.load(
          series.seriesStreamName(seriesId),
          series.SeriesEvent,
          series.evolve,
          series.initialState(),
        );
        if (E.isLeft(loaded)) return loaded;
        if (expectedRevision !== undefined && loaded.right.revision !== expectedRevision) {
          return E.left({ _tag: 'StaleRevision', expected: expectedRevision, actual: loaded.right.revision });
        }
        const dryRun = executor.decideAll(series.seriesDecider, commands, loaded.right.state);
        if (E.isLeft(dryRun)) return E.left(mapSeriesError(dryRun.left));
        const meetings = new Map(occurrenceMeetings(seriesId).map((m) => [m.id, m]));
        const now = clock().toISOString();
        const recurrenceChange = dryRun.right.find(
          (e): e is series.SeriesEvent & { type: 'SeriesRecurrenceChanged' } => e.type === 'SeriesRecurrenceChanged',
        );
        if (recurrenceChange !== undefined) {
          const { added, moved } = recurrenceChange.data;
          const toBook = [
            ...added.filter((slot) => {
              const existing = meetings.get(slot.meetingId);
              return (
                existing === undefined ||
                existing.state !== 'cancelled' ||
                (existing.cancelledBy === 'series' && existing.start > now)
              );
            }),
            ...moved.filter((slot) => {
              const existing = meetings.get(slot.meetingId);
              return (
                existing !== undefined &&
                existing.state !== 'cancelled' &&
                !existing.individuallyEdited.includes('time')
              );
            }),
          ];
          // The series' own other sessions still count: only those this change moves, removes or brings back are ignored.
          const changing = new Set([...toBook, ...recurrenceChange.data.removed].map((slot) => slot.meetingId));
          const conflicts = bookings.conflicts(toBook, view, changing);
          if (conflicts.length > 0) return E.left(await bookingConflict(access, ctx.user, conflicts));
        }
        const result = await execute(
          ctx,
          series.seriesStreamName(seriesId),
          series.seriesDecider,
          series.SeriesEvent,
          commands,
          mapSeriesError,
          {
            expectedRevision: loaded.right.revision,
            wait: false,
          },
        );
        if (E.isLeft(result)) return result;
        if (result.right.events.length > 0) deps.probe?.({ operation, step: 'series-event' });
        // Also when the series already said so (a repeated request): the sessions are brought in line with it.
        const converged = await deps.process.converge(seriesId, ctx, operation);
        await deps.projections.waitFor(result.right.position);
        return answer(seriesId, converged);
      });
    },

    async cancelSeries(
      ctx: RequestContext,
      seriesId: string,
      input: { reason?: string; from?: string },
      expectedRevision?: number,
    ): Promise<E.Either<AppError, SeriesView>> {
      const current = await modifiable(ctx, seriesId);
      if (E.isLeft(current)) return current;
      // The same lock as series changes: the sessions to cancel are read and cancelled with no change in between.
      return bookings.withLock([current.right.customerId, current.right.instructorId], async () => {
        const s = stamp(ctx);
        const from = input.from ?? s.at;
        const toCancel = occurrenceMeetings(seriesId)
          .filter((m) => m.state !== 'cancelled' && m.start >= from)
          .map((m) => ({ meetingId: m.id, start: m.start, end: m.end }));
        const cancellationId = newIdFor(ctx, newId);
        const result = await execute(
          ctx,
          series.seriesStreamName(seriesId),
          series.seriesDecider,
          series.SeriesEvent,
          {
            type: 'CancelSeries',
            data: {
              cancellationId,
              from,
              toCancel,
              ...(input.reason !== undefined ? { reason: input.reason } : {}),
              ...s,
            },
          },
          mapSeriesError,
          { wait: false, ...(expectedRevision !== undefined ? { expectedRevision } : {}) },
        );
        if (E.isLeft(result)) {
          // A repeated cancellation is refused (409), but what the first one left undone is finished before answering.
          if (result.left._tag === 'Conflict') await deps.process.converge(seriesId, ctx, 'cancel');
          return result;
        }
        deps.probe?.({ operation: 'cancel', step: 'series-event' });
        const converged = await deps.process.converge(seriesId, ctx, 'cancel');
        await deps.projections.waitFor(result.right.position);
        return answer(seriesId, converged);
      });
    },

    /** Brings a series' sessions in line with it now (under its booking lock); how many sessions were written. */
    async reconcile(seriesId: string): Promise<number> {
      return (await deps.process.reconcile(seriesId)).changed;
    },

    async seriesHistory(
      ctx: RequestContext,
      seriesId: string,
      page?: HistoryPage,
    ): Promise<E.Either<AppError, ParticipantHistory>> {
      const view = await visible(ctx, seriesId);
      if (E.isLeft(view)) return view;
      const entries = queries.history(series.seriesStreamName(seriesId), page);
      return E.right({ instructorId: view.right.instructorId, entries });
    },
  };
};

export type SeriesService = ReturnType<typeof createSeriesService>;
