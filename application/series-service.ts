import * as E from 'fp-ts/lib/Either.js';
import * as meeting from '../domain/meeting.ts';
import * as series from '../domain/series.ts';
import { assertNever } from '../domain/shared.ts';
import type { BookingGuard } from './booking.ts';
import { newIdFor } from './execute.ts';
import type { Executor, AppError, RequestContext } from './execute.ts';
import type { AccessProvider } from './ports/access.ts';
import type { HistoryEntry, HistoryPage, MeetingQueries, MeetingView, SeriesView } from './ports/read-models.ts';
import type { ProjectionRunner } from './projections/runner.ts';
import { bookingConflict, presentHistory } from './service.ts';

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

/** What a series hands down to each of its sessions. */
interface SeriesDetails {
  readonly title: string;
  readonly customerId: string;
  readonly instructorId: string;
  readonly trainingType: meeting.TrainingType;
  readonly remoteLink?: string;
  readonly description: string;
  readonly customerMetadata: string;
  readonly instructorMetadata: string;
}

const scheduleOccurrence = (
  seriesId: string,
  d: SeriesDetails,
  slot: { meetingId: string; start: string; end: string },
  timezone: string,
  stamp: { at: string; by: meeting.MeetingCommand['data']['by'] },
): meeting.MeetingCommand => ({
  type: 'ScheduleMeeting',
  data: {
    meetingId: slot.meetingId,
    seriesId,
    title: d.title,
    customerId: d.customerId,
    instructorId: d.instructorId,
    start: slot.start,
    end: slot.end,
    timezone,
    trainingType: d.trainingType,
    ...(d.remoteLink !== undefined ? { remoteLink: d.remoteLink } : {}),
    description: d.description,
    customerMetadata: d.customerMetadata,
    instructorMetadata: d.instructorMetadata,
    ...stamp,
  },
});

const SERIES_CHANGED = 'The series schedule changed';
const FAN_OUT_ATTEMPTS = 3;

export const createSeriesService = (deps: SeriesServiceDeps) => {
  const { queries, access, executor, bookings, clock, newId } = deps;
  const { execute, stamp } = executor;

  const visible = async (ctx: RequestContext, seriesId: string): Promise<E.Either<AppError, SeriesView>> => {
    const view = queries.getSeries(seriesId);
    if (view === undefined || !(await access.canView(ctx.user, view))) return E.left({ _tag: 'NotFound', message: 'series not found' });
    return E.right(view);
  };

  const modifiable = async (ctx: RequestContext, seriesId: string): Promise<E.Either<AppError, SeriesView>> => {
    const view = await visible(ctx, seriesId);
    if (E.isLeft(view)) return view;
    if (!(await access.canModify(ctx.user, view.right))) return E.left({ _tag: 'Forbidden', message: 'you may not change this series' });
    return view;
  };

  /**
   * Runs meeting commands for many occurrences at once; the store commits concurrent appends together. One session
   * failing must not leave the others undone (nor stop the series notice that follows), so each is tried on its own,
   * again after a pause if it threw; the ones that still failed are returned.
   */
  const onMeetings = async (ctx: RequestContext, work: ReadonlyArray<{ meetingId: string; commands: meeting.MeetingCommand[] }>) => {
    const runOne = async (w: { meetingId: string; commands: meeting.MeetingCommand[] }) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await execute(ctx, meeting.meetingStreamName(w.meetingId), meeting.meetingDecider, meeting.MeetingEvent, w.commands, (e) => ({ _tag: 'Conflict', message: e._tag }) as AppError, {
            wait: false,
          });
        } catch (error) {
          if (attempt >= FAN_OUT_ATTEMPTS) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        }
      }
    };
    const settled = await Promise.allSettled(work.filter((w) => w.commands.length > 0).map(runOne));
    const results = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [work.filter((w) => w.commands.length > 0)[i]?.meetingId ?? '?'] : []));
    const positions = results.flatMap((r) => (E.isRight(r) && r.right.position !== undefined ? [r.right.position] : []));
    if (positions.length > 0) await deps.projections.waitFor(Math.max(...positions));
    return { events: results.flatMap((r) => (E.isRight(r) ? r.right.events : [])), failed };
  };

  const partlyDone = (failed: ReadonlyArray<string>): AppError => ({
    _tag: 'Unavailable',
    message: `the series was saved, but ${failed.length} session(s) could not be updated (${failed.slice(0, 5).join(', ')}); repeat the request`,
  });

  const detailCommands = (
    changes: series.SeriesEvent & { type: 'SeriesDetailsChanged' },
    s: ReturnType<typeof stamp>,
  ): meeting.MeetingCommand[] => {
    const { title, description, customerMetadata, instructorMetadata, trainingType, remoteLink } = changes.data.changes;
    const commands: meeting.MeetingCommand[] = [];
    if ([title, description, customerMetadata, instructorMetadata].some((v) => v !== undefined)) {
      commands.push({
        type: 'ChangeMeetingDetails',
        data: {
          origin: 'series',
          ...s,
          ...(title !== undefined ? { title } : {}),
          ...(description !== undefined ? { description } : {}),
          ...(customerMetadata !== undefined ? { customerMetadata } : {}),
          ...(instructorMetadata !== undefined ? { instructorMetadata } : {}),
        },
      });
    }
    if (trainingType !== undefined || remoteLink !== undefined) {
      commands.push({
        type: 'ChangeTrainingType',
        data: { trainingType: trainingType ?? 'link', ...(remoteLink !== undefined ? { remoteLink } : {}), origin: 'series', ...s },
      });
    }
    return commands;
  };

  const occurrenceMeetings = (seriesId: string): MeetingView[] => queries.meetingsOfSeries(seriesId);
  const participantsOf = async (seriesId: string): Promise<string[]> => {
    const view = queries.getSeries(seriesId);
    return view === undefined ? [] : [view.customerId, view.instructorId];
  };

  return {
    async scheduleSeries(ctx: RequestContext, input: SeriesInput): Promise<E.Either<AppError, SeriesView>> {
      if (!(await access.canCreate(ctx.user, input))) {
        return E.left({ _tag: 'Forbidden', message: 'only admins, or instructors for their own sessions, may schedule series' });
      }
      const seriesId = newIdFor(ctx, newId);
      const s = stamp(ctx);
      const command: series.SeriesCommand = { type: 'ScheduleSeries', data: { ...input, seriesId, ...s } };
      const dryRun = series.decide(command, series.initialState());
      if (E.isLeft(dryRun)) return E.left(mapSeriesError(dryRun.left));
      const planned = dryRun.right[0];
      if (planned?.type !== 'SeriesScheduled') return E.left({ _tag: 'Conflict', message: 'the series could not be planned' });
      return bookings.withLock([input.customerId, input.instructorId], async () => {
        // Its own sessions are left out: an idempotent retry may find those it created before its answer was lost.
        const conflicts = bookings.conflicts(planned.data.occurrences, input, new Set(planned.data.occurrences.map((o) => o.meetingId)));
        if (conflicts.length > 0) return E.left(await bookingConflict(access, ctx.user, conflicts));
        const result = await execute(ctx, series.seriesStreamName(seriesId), series.seriesDecider, series.SeriesEvent, command, mapSeriesError, { wait: false });
        if (E.isLeft(result)) return result;
        const d = planned.data;
        const created = await onMeetings(
          ctx,
          d.occurrences.map((o) => ({
            meetingId: o.meetingId,
            commands: [scheduleOccurrence(seriesId, d, o, d.recurrence.timezone, s)],
          })),
        );
        await deps.projections.waitFor(result.right.position);
        if (created.failed.length > 0) return E.left(partlyDone(created.failed));
        const view = queries.getSeries(seriesId);
        return view === undefined ? E.left({ _tag: 'NotFound', message: 'series not found' }) : E.right(view);
      });
    },

    getSeries: visible,

    async changeSeries(ctx: RequestContext, seriesId: string, patch: SeriesPatch, expectedRevision?: number): Promise<E.Either<AppError, SeriesView>> {
      const current = await modifiable(ctx, seriesId);
      if (E.isLeft(current)) return current;
      const view = current.right;
      for (const field of ['customerId', 'instructorId'] as const) {
        if (patch[field] !== undefined && patch[field] !== view[field]) {
          return E.left({ _tag: 'ValidationFailed', errors: [{ path: field, message: 'participants cannot be changed; cancel this series and schedule a new one' }] });
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
          },
        });
      }
      const { title, description, customerMetadata, instructorMetadata, trainingType, remoteLink } = patch;
      if ([title, description, customerMetadata, instructorMetadata, trainingType, remoteLink].some((v) => v !== undefined)) {
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

      return bookings.withLock([view.customerId, view.instructorId], async () => {
        const loaded = await executor.load(series.seriesStreamName(seriesId), series.SeriesEvent, series.evolve, series.initialState());
        if (E.isLeft(loaded)) return loaded;
        if (expectedRevision !== undefined && loaded.right.revision !== expectedRevision) {
          return E.left({ _tag: 'StaleRevision', expected: expectedRevision, actual: loaded.right.revision });
        }
        const dryRun = executor.decideAll(series.seriesDecider, commands, loaded.right.state);
        if (E.isLeft(dryRun)) return E.left(mapSeriesError(dryRun.left));
        const meetings = new Map(occurrenceMeetings(seriesId).map((m) => [m.id, m]));
        const now = clock().toISOString();
        const recurrenceChange = dryRun.right.find((e): e is series.SeriesEvent & { type: 'SeriesRecurrenceChanged' } => e.type === 'SeriesRecurrenceChanged');
        if (recurrenceChange !== undefined) {
          const { added, moved } = recurrenceChange.data;
          const toBook = [
            ...added.filter((slot) => {
              const existing = meetings.get(slot.meetingId);
              return existing === undefined || existing.state !== 'cancelled' || (existing.cancelledBy === 'series' && existing.start > now);
            }),
            ...moved.filter((slot) => {
              const existing = meetings.get(slot.meetingId);
              return existing !== undefined && existing.state !== 'cancelled' && !existing.individuallyEdited.includes('time');
            }),
          ];
          // The series' own other sessions still count: only those this change moves, removes or brings back are ignored.
          const changing = new Set([...toBook, ...recurrenceChange.data.removed].map((slot) => slot.meetingId));
          const conflicts = bookings.conflicts(toBook, view, changing);
          if (conflicts.length > 0) return E.left(await bookingConflict(access, ctx.user, conflicts));
        }
        const result = await execute(ctx, series.seriesStreamName(seriesId), series.seriesDecider, series.SeriesEvent, commands, mapSeriesError, {
          expectedRevision: loaded.right.revision,
          wait: false,
        });
        if (E.isLeft(result)) return result;
        const state = result.right.state;
        if (state.status === 'none') return E.left({ _tag: 'NotFound', message: 'series not found' });
        const cancellationId = newId();
        const work = new Map<string, meeting.MeetingCommand[]>();
        const push = (meetingId: string, command: meeting.MeetingCommand) => work.set(meetingId, [...(work.get(meetingId) ?? []), command]);
        for (const event of result.right.events) {
          switch (event.type) {
            case 'SeriesRecurrenceChanged':
              for (const slot of event.data.removed) {
                const m = meetings.get(slot.meetingId);
                if (m !== undefined && m.state !== 'cancelled' && m.start > now) {
                  push(slot.meetingId, { type: 'CancelMeeting', data: { origin: 'series', reason: SERIES_CHANGED, seriesCancellationId: cancellationId, ...s } });
                }
              }
              for (const slot of event.data.moved) {
                const m = meetings.get(slot.meetingId);
                if (m !== undefined && m.state !== 'cancelled' && m.start > now) {
                  push(slot.meetingId, { type: 'RescheduleMeeting', data: { start: slot.start, end: slot.end, timezone: event.data.recurrence.timezone, origin: 'series', ...s } });
                }
              }
              for (const slot of event.data.added) {
                const m = meetings.get(slot.meetingId);
                if (m === undefined) {
                  push(slot.meetingId, scheduleOccurrence(seriesId, state, slot, event.data.recurrence.timezone, s));
                } else if (m.state === 'cancelled' && m.cancelledBy === 'series' && m.start > now) {
                  // Only a session still ahead comes back; one whose time has passed stays as it was, cancelled.
                  // The slot is back in the pattern: the meeting a series edit cancelled comes back, with its history.
                  push(slot.meetingId, { type: 'ReinstateMeeting', data: s });
                  push(slot.meetingId, { type: 'RescheduleMeeting', data: { start: slot.start, end: slot.end, timezone: event.data.recurrence.timezone, origin: 'series', ...s } });
                  // The series may have changed while this session was out of it; individual edits still win.
                  push(slot.meetingId, {
                    type: 'ChangeMeetingDetails',
                    data: { origin: 'series', title: state.title, description: state.description, customerMetadata: state.customerMetadata, instructorMetadata: state.instructorMetadata, ...s },
                  });
                  push(slot.meetingId, {
                    type: 'ChangeTrainingType',
                    data: { trainingType: state.trainingType, ...(state.remoteLink !== undefined ? { remoteLink: state.remoteLink } : {}), origin: 'series', ...s },
                  });
                }
              }
              break;
            case 'SeriesDetailsChanged': {
              const commandsForDetails = detailCommands(event, s);
              const future = new Set(state.occurrences.filter((o) => o.start > now).map((o) => o.meetingId));
              for (const [meetingId, m] of meetings) {
                if (future.has(meetingId) && m.state !== 'cancelled' && m.start > now) for (const c of commandsForDetails) push(meetingId, c);
              }
              break;
            }
            case 'SeriesScheduled':
            case 'SeriesCancelled':
            case 'SeriesOccurrencesCancelled':
              break;
            default:
              assertNever(event);
          }
        }
        const applied = await onMeetings(ctx, [...work].map(([meetingId, commandsFor]) => ({ meetingId, commands: commandsFor })));
        // One notice for every session this edit cancelled, written after the cancels so it names exactly those.
        const cancelled = applied.events.flatMap((e) => {
          if (e.type !== 'SessionCancelled' || e.data.seriesCancellationId !== cancellationId) return [];
          const m = meetings.get(e.data.meetingId);
          return m === undefined ? [] : [{ meetingId: m.id, start: m.start, end: m.end }];
        });
        const noted = await execute(
          ctx,
          series.seriesStreamName(seriesId),
          series.seriesDecider,
          series.SeriesEvent,
          { type: 'RecordOccurrencesCancelled', data: { cancellationId, cancelled, reason: SERIES_CHANGED, ...s } },
          mapSeriesError,
        );
        if (E.isLeft(noted)) return noted;
        await deps.projections.waitFor(result.right.position);
        if (applied.failed.length > 0) return E.left(partlyDone(applied.failed));
        const updated = queries.getSeries(seriesId);
        return updated === undefined ? E.left({ _tag: 'NotFound', message: 'series not found' }) : E.right(updated);
      });
    },

    async cancelSeries(ctx: RequestContext, seriesId: string, input: { reason?: string; from?: string }, expectedRevision?: number): Promise<E.Either<AppError, SeriesView>> {
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
          { type: 'CancelSeries', data: { cancellationId, from, toCancel, ...(input.reason !== undefined ? { reason: input.reason } : {}), ...s } },
          mapSeriesError,
          { wait: false, ...(expectedRevision !== undefined ? { expectedRevision } : {}) },
        );
        if (E.isLeft(result)) return result;
        // Re-run of an idempotent request whose series event is stored: what it has not cancelled yet is still to do,
        // under the same cancellation id (fixed by its claim), so the one notice stays one.
        const cancelled = result.right.alreadyApplied === true ? toCancel : result.right.events.flatMap((e) => (e.type === 'SeriesCancelled' ? e.data.cancelled : []));
        const done = await onMeetings(
          ctx,
          cancelled.map((o) => ({
            meetingId: o.meetingId,
            commands: [{ type: 'CancelMeeting', data: { origin: 'series', seriesCancellationId: cancellationId, ...(input.reason !== undefined ? { reason: input.reason } : {}), ...s } }],
          })),
        );
        await deps.projections.waitFor(result.right.position);
        if (done.failed.length > 0) return E.left(partlyDone(done.failed));
        const updated = queries.getSeries(seriesId);
        return updated === undefined ? E.left({ _tag: 'NotFound', message: 'series not found' }) : E.right(updated);
      });
    },

    /**
     * Brings a series' sessions in line with the series after an operation was cut short (a crash between the series
     * event and its sessions): missing future sessions are scheduled, and future sessions a series cancellation covers
     * are cancelled under that cancellation, so its one email stays the only one. Safe to run any number of times.
     */
    async reconcile(seriesId: string): Promise<number> {
      const ctx: RequestContext = { user: { id: 'system', roles: ['admin'] }, correlationId: `reconcile-${seriesId}` };
      return bookings.withLock(await participantsOf(seriesId), async () => {
        const loaded = await executor.load(series.seriesStreamName(seriesId), series.SeriesEvent, series.evolve, series.initialState());
        if (E.isLeft(loaded) || loaded.right.state.status === 'none') return 0;
        const state = loaded.right.state;
        const lastCancel = [...loaded.right.events].reverse().find((r) => r.type === 'SeriesCancelled');
        const cancellation = lastCancel?.data as { cancellationId?: string; reason?: string } | undefined;
        const now = clock().toISOString();
        const s = { at: now, by: { id: ctx.user.id, roles: ctx.user.roles } };
        const meetings = new Map(occurrenceMeetings(seriesId).map((m) => [m.id, m]));
        const work: Array<{ meetingId: string; commands: meeting.MeetingCommand[] }> = [];
        for (const slot of state.occurrences) {
          if (slot.start <= now) continue;
          const covered = state.cancelledFrom !== undefined && slot.start >= state.cancelledFrom;
          const m = meetings.get(slot.meetingId);
          if (m === undefined && !covered) {
            work.push({
              meetingId: slot.meetingId,
              commands: [scheduleOccurrence(seriesId, state, slot, state.recurrence.timezone, s)],
            });
          } else if (m !== undefined && covered && m.state !== 'cancelled' && cancellation?.cancellationId !== undefined) {
            work.push({
              meetingId: slot.meetingId,
              commands: [
                {
                  type: 'CancelMeeting',
                  data: {
                    origin: 'series',
                    seriesCancellationId: cancellation.cancellationId,
                    ...(cancellation.reason !== undefined ? { reason: cancellation.reason } : {}),
                    ...s,
                  },
                },
              ],
            });
          }
        }
        if (work.length === 0) return 0;
        const done = await onMeetings(ctx, work);
        return work.length - done.failed.length;
      });
    },

    async reconcileAll(): Promise<number> {
      let repaired = 0;
      for (const seriesId of queries.seriesWithSessionsAfter(clock().toISOString())) repaired += await this.reconcile(seriesId);
      return repaired;
    },

    async seriesHistory(ctx: RequestContext, seriesId: string, page?: HistoryPage): Promise<E.Either<AppError, ReadonlyArray<HistoryEntry>>> {
      const view = await visible(ctx, seriesId);
      if (E.isLeft(view)) return view;
      return E.right(presentHistory(ctx.user, view.right, queries.history(series.seriesStreamName(seriesId), page)));
    },
  };
};

export type SeriesService = ReturnType<typeof createSeriesService>;
