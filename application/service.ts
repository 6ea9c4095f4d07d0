import * as E from 'fp-ts/lib/Either.js';
import * as meeting from '../domain/meeting.ts';
import * as person from '../domain/person.ts';
import * as settings from '../domain/settings.ts';
import { assertNever, checkId } from '../domain/shared.ts';
import { createExecutor, newIdFor, writeRefusal } from './execute.ts';
import type { AppError, RequestContext } from './execute.ts';
import type { BookingGuard, BookingConflict } from './booking.ts';
import { conflictMessage, presentConflicts, unknownParticipants } from './booking.ts';
import type { AccessProvider, AuthUser } from './ports/access.ts';
import type { EventStore } from './ports/event-store.ts';
import type {
  CalendarEntry,
  HistoryEntry,
  HistoryPage,
  MeetingView,
  PersonView,
  ReadModels,
} from './ports/read-models.ts';
import type { ProjectionRunner } from './projections/runner.ts';

export type { AppError, RequestContext } from './execute.ts';

export interface ServiceDeps {
  readonly store: EventStore;
  readonly readModels: ReadModels;
  readonly projections: ProjectionRunner;
  readonly access: AccessProvider;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly bookings: BookingGuard;
}

export interface MeetingInput {
  readonly title: string;
  readonly customerId: string;
  readonly instructorId: string;
  readonly start: string;
  readonly end: string;
  readonly timezone?: string;
  readonly trainingType: meeting.TrainingType;
  readonly remoteLink?: string;
  readonly description?: string;
  readonly customerMetadata?: string;
  readonly instructorMetadata?: string;
}

export type MeetingPatch = Partial<MeetingInput>;

/** A 409 that names only the meetings the caller may see (no existence leak through the booking check). */
export const bookingConflict = async (
  access: AccessProvider,
  user: AuthUser,
  conflicts: ReadonlyArray<BookingConflict>,
): Promise<AppError> => ({
  _tag: 'Conflict',
  message: conflictMessage(conflicts),
  conflicts: await presentConflicts((m) => access.canView(user, m), conflicts),
});

const notFound = (what: string): AppError => ({ _tag: 'NotFound', message: `${what} not found` });
const forbidden = (message: string): AppError => ({ _tag: 'Forbidden', message });

const mapMeetingError = (error: meeting.MeetingError): AppError => {
  switch (error._tag) {
    case 'ValidationFailed':
      return error;
    case 'MeetingNotFound':
      return notFound('meeting');
    case 'MeetingAlreadyExists':
      return { _tag: 'Conflict', message: 'a meeting with this id already exists' };
    case 'InvalidTransition':
      return { _tag: 'Conflict', message: error.message };
    default:
      return assertNever(error);
  }
};

/**
 * A meeting's or a series' audit history with its instructor: what the caller may read of it depends on who they are
 * (the HTTP adapter's presenter hides the rest).
 */
export interface ParticipantHistory {
  readonly instructorId: string;
  readonly entries: ReadonlyArray<HistoryEntry>;
}

export const createService = (deps: ServiceDeps) => {
  const { readModels, projections, access, newId } = deps;

  const { execute, stamp } = createExecutor(deps);
  const guard = deps.bookings;

  const visibleMeeting = async (ctx: RequestContext, meetingId: string): Promise<E.Either<AppError, MeetingView>> => {
    const view = readModels.getMeeting(meetingId);
    if (view === undefined || !(await access.canView(ctx.user, view))) return E.left(notFound('meeting'));
    return E.right(view);
  };

  const modifiableMeeting = async (
    ctx: RequestContext,
    meetingId: string,
  ): Promise<E.Either<AppError, MeetingView>> => {
    const visible = await visibleMeeting(ctx, meetingId);
    if (E.isLeft(visible)) return visible;
    if (!(await access.canModify(ctx.user, visible.right))) return E.left(forbidden('you may not change this meeting'));
    return visible;
  };

  const meetingResult = (ctx: RequestContext, meetingId: string): E.Either<AppError, MeetingView> => {
    const view = readModels.getMeeting(meetingId);
    return view === undefined ? E.left(notFound('meeting')) : E.right(view);
  };

  const meetingCommand = async (
    ctx: RequestContext,
    meetingId: string,
    commands: ReadonlyArray<meeting.MeetingCommand>,
    expectedRevision?: number,
  ): Promise<E.Either<AppError, MeetingView>> => {
    const result = await execute(
      ctx,
      meeting.meetingStreamName(meetingId),
      meeting.meetingDecider,
      meeting.MeetingEvent,
      commands,
      mapMeetingError,
      expectedRevision !== undefined ? { expectedRevision } : {},
    );
    return E.isLeft(result) ? result : meetingResult(ctx, meetingId);
  };

  /** Whose calendar, if the caller may read it and the range is sensible. */
  const checkCalendarQuery = async (
    ctx: RequestContext,
    query: { from: string; to: string; userId?: string },
  ): Promise<E.Either<AppError, string>> => {
    const userId = query.userId ?? ctx.user.id;
    const badId = checkId('userId', userId);
    if (badId.length > 0) return E.left({ _tag: 'ValidationFailed', errors: badId });
    if (!(await access.canReadCalendarOf(ctx.user, userId)))
      return E.left(forbidden("you may not read this user's calendar"));
    if (Date.parse(query.to) <= Date.parse(query.from)) {
      return E.left({ _tag: 'ValidationFailed', errors: [{ path: 'to', message: 'must be after from' }] });
    }
    if (Date.parse(query.to) - Date.parse(query.from) > 366 * 24 * 3600 * 1000) {
      return E.left({ _tag: 'ValidationFailed', errors: [{ path: 'to', message: 'the range is at most 366 days' }] });
    }
    return E.right(userId);
  };

  return {
    readModels,

    async scheduleMeeting(ctx: RequestContext, input: MeetingInput): Promise<E.Either<AppError, MeetingView>> {
      if (!(await access.canCreate(ctx.user, input))) {
        return E.left(forbidden('only admins, or instructors for their own sessions, may schedule meetings'));
      }
      const meetingId = newIdFor(ctx, newId);
      const command: meeting.MeetingCommand = {
        type: 'ScheduleMeeting',
        data: { ...input, meetingId, timezone: input.timezone ?? 'UTC', ...stamp(ctx) },
      };
      const dryRun = meeting.decide(command, meeting.initialState());
      if (E.isLeft(dryRun)) return E.left(mapMeetingError(dryRun.left));
      // The directory check reads the read models: while they are behind the log its "unknown person" is no answer.
      const refusal = writeRefusal(projections);
      if (refusal !== undefined) return E.left(refusal);
      const unknown = await unknownParticipants(access, input);
      if (unknown.length > 0) return E.left({ _tag: 'ValidationFailed', errors: unknown });
      return guard.withLock([input.customerId, input.instructorId], async () => {
        // Its own id is left out: an idempotent retry may find the meeting it created before its answer was lost.
        const conflicts = guard.conflicts([input], input, new Set([meetingId]));
        if (conflicts.length > 0) return E.left(await bookingConflict(access, ctx.user, conflicts));
        return meetingCommand(ctx, meetingId, [command]);
      });
    },

    getMeeting: visibleMeeting,

    async changeMeeting(
      ctx: RequestContext,
      meetingId: string,
      patch: MeetingPatch,
      expectedRevision?: number,
    ): Promise<E.Either<AppError, MeetingView>> {
      const current = await modifiableMeeting(ctx, meetingId);
      if (E.isLeft(current)) return current;
      const view = current.right;
      if (
        (patch.customerId !== undefined && patch.customerId !== view.customerId) ||
        (patch.instructorId !== undefined && patch.instructorId !== view.instructorId)
      ) {
        const path =
          patch.customerId !== undefined && patch.customerId !== view.customerId ? 'customerId' : 'instructorId';
        return E.left({
          _tag: 'ValidationFailed',
          errors: [{ path, message: 'participants cannot be changed; cancel this meeting and schedule a new one' }],
        });
      }
      const s = stamp(ctx);
      const commands: meeting.MeetingCommand[] = [];
      const { title, description, customerMetadata, instructorMetadata } = patch;
      if ([title, description, customerMetadata, instructorMetadata].some((v) => v !== undefined)) {
        commands.push({
          type: 'ChangeMeetingDetails',
          data: {
            origin: 'meeting',
            ...s,
            ...(title !== undefined ? { title } : {}),
            ...(description !== undefined ? { description } : {}),
            ...(customerMetadata !== undefined ? { customerMetadata } : {}),
            ...(instructorMetadata !== undefined ? { instructorMetadata } : {}),
          },
        });
      }
      if (patch.start !== undefined || patch.end !== undefined || patch.timezone !== undefined) {
        commands.push({
          type: 'RescheduleMeeting',
          data: {
            ...(patch.start !== undefined ? { start: patch.start } : {}),
            ...(patch.end !== undefined ? { end: patch.end } : {}),
            ...(patch.timezone !== undefined ? { timezone: patch.timezone } : {}),
            origin: 'meeting',
            ...s,
          },
        });
      }
      if (patch.trainingType !== undefined || patch.remoteLink !== undefined) {
        const trainingType = patch.trainingType ?? view.trainingType;
        const remoteLink = patch.remoteLink ?? (trainingType === 'link' ? view.remoteLink : undefined);
        commands.push({
          type: 'ChangeTrainingType',
          data: { trainingType, ...(remoteLink !== undefined ? { remoteLink } : {}), origin: 'meeting', ...s },
        });
      }
      if (view.state === 'cancelled' && commands.length > 0) {
        return E.left({ _tag: 'Conflict', message: 'a cancelled meeting cannot be changed; reinstate it first' });
      }
      const moves = patch.start !== undefined || patch.end !== undefined;
      if (!moves) return meetingCommand(ctx, meetingId, commands, expectedRevision);
      return guard.withLock([view.customerId, view.instructorId], async () => {
        // Read again under the lock: a change that finished meanwhile is in the read model now.
        const fresh = readModels.getMeeting(meetingId) ?? view;
        const slot = { start: patch.start ?? fresh.start, end: patch.end ?? fresh.end };
        const conflicts = guard.conflicts([slot], view, new Set([meetingId]));
        if (conflicts.length > 0) return E.left(await bookingConflict(access, ctx.user, conflicts));
        return meetingCommand(ctx, meetingId, commands, expectedRevision);
      });
    },

    async cancelMeeting(ctx: RequestContext, meetingId: string, reason: string | undefined, expectedRevision?: number) {
      const current = await modifiableMeeting(ctx, meetingId);
      if (E.isLeft(current)) return current;
      return meetingCommand(
        ctx,
        meetingId,
        [
          {
            type: 'CancelMeeting',
            data: { origin: 'meeting', ...(reason !== undefined ? { reason } : {}), ...stamp(ctx) },
          },
        ],
        expectedRevision,
      );
    },

    async confirmMeeting(ctx: RequestContext, meetingId: string, expectedRevision?: number) {
      const current = await modifiableMeeting(ctx, meetingId);
      if (E.isLeft(current)) return current;
      return meetingCommand(ctx, meetingId, [{ type: 'ConfirmMeeting', data: stamp(ctx) }], expectedRevision);
    },

    async reinstateMeeting(ctx: RequestContext, meetingId: string, expectedRevision?: number) {
      const current = await modifiableMeeting(ctx, meetingId);
      if (E.isLeft(current)) return current;
      const view = current.right;
      return guard.withLock([view.customerId, view.instructorId], async () => {
        const conflicts = guard.conflicts([view], view, new Set([meetingId]));
        if (conflicts.length > 0) return E.left(await bookingConflict(access, ctx.user, conflicts));
        return meetingCommand(ctx, meetingId, [{ type: 'ReinstateMeeting', data: stamp(ctx) }], expectedRevision);
      });
    },

    async meetingHistory(
      ctx: RequestContext,
      meetingId: string,
      page?: HistoryPage,
    ): Promise<E.Either<AppError, ParticipantHistory>> {
      const visible = await visibleMeeting(ctx, meetingId);
      if (E.isLeft(visible)) return visible;
      const entries = readModels.history(meeting.meetingStreamName(meetingId), page);
      return E.right({ instructorId: visible.right.instructorId, entries });
    },

    checkCalendarQuery,

    async calendar(
      ctx: RequestContext,
      query: { from: string; to: string; userId?: string },
    ): Promise<E.Either<AppError, ReadonlyArray<CalendarEntry>>> {
      const checked = await checkCalendarQuery(ctx, query);
      if (E.isLeft(checked)) return checked;
      const items = await access.userMeetings(checked.right, query.from, query.to);
      return E.right(await access.filterVisible(ctx.user, items));
    },

    async upsertPerson(
      ctx: RequestContext,
      personId: string,
      input: { name: string; email: string; timezone?: string },
    ): Promise<E.Either<AppError, PersonView>> {
      if (!ctx.user.roles.includes('admin')) return E.left(forbidden('only admins may change the people directory'));
      const result = await execute(
        ctx,
        person.personStreamName(personId),
        person.personDecider,
        person.PersonEvent,
        [{ type: 'RecordPerson', data: { personId, ...input, ...stamp(ctx) } }],
        (error) => error,
      );
      if (E.isLeft(result)) return result;
      const view = readModels.getPerson(personId);
      return view === undefined ? E.left(notFound('person')) : E.right(view);
    },

    async getPerson(ctx: RequestContext, personId: string): Promise<E.Either<AppError, PersonView>> {
      if (!ctx.user.roles.includes('admin') && ctx.user.id !== personId)
        return E.left(forbidden('you may read only your own entry in the people directory'));
      const view = readModels.getPerson(personId);
      return view === undefined ? E.left(notFound('person')) : E.right(view);
    },

    /** The settings as they apply: the instructor's templates are shown even before they are first set. */
    async getSettings(ctx: RequestContext): Promise<E.Either<AppError, settings.CompleteSettings>> {
      if (!ctx.user.roles.includes('admin')) return E.left(forbidden('only admins may read settings'));
      return E.right(settings.completeSettings(readModels.getSettings()));
    },

    /** Fields the body leaves out (the instructor's templates, unknown to older clients) keep their values. */
    async putSettings(
      ctx: RequestContext,
      next: settings.Settings,
    ): Promise<E.Either<AppError, settings.CompleteSettings>> {
      if (!ctx.user.roles.includes('admin')) return E.left(forbidden('only admins may change settings'));
      const result = await execute(
        ctx,
        settings.settingsStreamName,
        settings.settingsDecider,
        settings.SettingsEvent,
        [{ type: 'ChangeSettings', data: { settings: next, ...stamp(ctx) } }],
        (error) => error,
      );
      return E.isLeft(result) ? result : E.right(settings.completeSettings(readModels.getSettings()));
    },

    async settingsHistory(
      ctx: RequestContext,
      page?: HistoryPage,
    ): Promise<E.Either<AppError, ReadonlyArray<HistoryEntry>>> {
      if (!ctx.user.roles.includes('admin')) return E.left(forbidden('only admins may read settings'));
      return E.right(readModels.history(settings.settingsStreamName, page));
    },
  };
};

export type Service = ReturnType<typeof createService>;
