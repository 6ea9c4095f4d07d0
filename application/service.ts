import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type * as meeting from '../domain/meeting.ts';
import * as settings from '../domain/settings.ts';
import { checkId } from '../domain/shared.ts';
import { attendanceAggregate, meetings, notFound, settingsAggregate } from './aggregates.ts';
import { attendanceEntries, markAttendance } from './attendance.ts';
import type { AttendanceEntry } from './attendance.ts';
import type { AttendanceStatus } from '../domain/attendance.ts';
import { newIdFor } from './execute.ts';
import type { AppError, ExecuteOptions, Executor, RequestContext } from './execute.ts';
import type { BookingGuard, BookingConflict, DecidedMeeting } from './booking.ts';
import { conflictMessage, presentConflicts, unknownParticipants } from './booking.ts';
import { fieldsSet } from './patch.ts';
import type { Histories } from './history.ts';
import * as directory from './people.ts';
import { importPeople, importRefusal } from './people-import.ts';
import type { ImportOptions, ImportRow } from './people-import.ts';
import type { PersonInput } from './people.ts';
import { readsAll } from './ports/access.ts';
import type { AccessProvider, AuthUser } from './ports/access.ts';
import type {
  CalendarEntry,
  HistoryEntry,
  HistoryPage,
  MeetingView,
  PeopleQuery,
  ReadModels,
} from './ports/read-models.ts';

export type { AppError, RequestContext } from './execute.ts';

export interface ServiceDeps {
  readonly readModels: ReadModels;
  readonly access: AccessProvider;
  readonly newId: () => string;
  readonly bookings: BookingGuard;
  readonly executor: Pick<Executor, 'execute' | 'stamp' | 'load' | 'writeRefusal'>;
  /** The audit histories, read from the streams themselves. */
  readonly histories: Histories;
}

/** What a client gives to schedule a meeting: the schedule command's fields, read off its codec (timezone: UTC). */
export type MeetingInput = Readonly<
  t.TypeOf<t.TypeC<typeof meeting.meetingRequiredFields>> &
    Partial<t.TypeOf<t.TypeC<typeof meeting.meetingOptionalFields>>> & { timezone?: string }
>;

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

/** What a read model shows of a thing, or that it is not there. */
const found = <A>(what: string, view: A | undefined): E.Either<AppError, A> =>
  view === undefined ? E.left(notFound(what)) : E.right(view);
const forbidden = (message: string): AppError => ({ _tag: 'Forbidden', message });

/**
 * A meeting's or a series' audit history with its instructor: what the caller may read of it depends on who they are
 * (the HTTP adapter's presenter hides the rest).
 */
export interface ParticipantHistory {
  readonly instructorId: string;
  readonly entries: ReadonlyArray<HistoryEntry>;
}

const visibleMeeting = async (
  deps: ServiceDeps,
  ctx: RequestContext,
  meetingId: string,
): Promise<E.Either<AppError, MeetingView>> => {
  const view = deps.readModels.getMeeting(meetingId);
  if (view === undefined || !(await deps.access.canView(ctx.user, view))) return E.left(notFound('meeting'));
  return E.right(view);
};

const modifiableMeeting = async (
  deps: ServiceDeps,
  ctx: RequestContext,
  meetingId: string,
  refusal = 'you may not change this meeting',
): Promise<E.Either<AppError, MeetingView>> => {
  const visible = await visibleMeeting(deps, ctx, meetingId);
  if (E.isLeft(visible)) return visible;
  if (!(await deps.access.canModify(ctx.user, visible.right))) return E.left(forbidden(refusal));
  return visible;
};

/** Runs meeting commands and answers with the meeting as the read model now shows it. */
const meetingCommand = async (
  deps: ServiceDeps,
  ctx: RequestContext,
  meetingId: string,
  commands: ReadonlyArray<meeting.MeetingCommand>,
  options: ExecuteOptions<meeting.MeetingEvent, meeting.MeetingState> = {},
): Promise<E.Either<AppError, MeetingView>> => {
  const result = await deps.executor.execute(ctx, meetings, meetingId, commands, {
    // The schedules refuse what the calendar's pre-check could not see (a booking on another node): the same 409.
    refuseBooking: (conflicts) => bookingConflict(deps.access, ctx.user, conflicts),
    ...options,
  });
  return E.isLeft(result) ? result : found('meeting', deps.readModels.getMeeting(meetingId));
};

/** A meeting as a decision left it, for the booking guard to lay over the read model until it shows it. */
const decidedMeetings = (state: meeting.MeetingState, revision: number): DecidedMeeting[] =>
  state.status === 'none'
    ? []
    : [
        {
          id: state.id,
          customerId: state.customerId,
          instructorId: state.instructorId,
          start: state.start,
          end: state.end,
          active: state.status !== 'cancelled',
          revision,
        },
      ];

/**
 * Runs meeting commands that take a slot (a booking, a move, a reinstatement): `before` (checks on the read models),
 * the decision and its checks run under the participants' lock, which is let go once the append is handed to the
 * store; the answer then waits, outside the lock, for the append and until the read models show the meeting (see
 * BookingGuard).
 */
const bookingCommand = async (
  deps: ServiceDeps,
  ctx: RequestContext,
  people: { readonly customerId: string; readonly instructorId: string },
  meetingId: string,
  commands: ReadonlyArray<meeting.MeetingCommand>,
  options: ExecuteOptions<meeting.MeetingEvent, meeting.MeetingState>,
  before: () => Promise<AppError | undefined> = async () => undefined,
): Promise<E.Either<AppError, MeetingView>> => {
  const decided = await deps.bookings.decide([people.customerId, people.instructorId], async (issued) => {
    const refused = await before();
    if (refused !== undefined) return E.left(refused);
    const result = await deps.executor.execute(ctx, meetings, meetingId, commands, {
      refuseBooking: (conflicts) => bookingConflict(deps.access, ctx.user, conflicts),
      ...options,
      issued: (state, revision) => issued(decidedMeetings(state, revision)),
      wait: false,
    });
    if (E.isLeft(result)) return result;
    const { state, revision, position, seenPosition } = result.right;
    return E.right({ meetings: decidedMeetings(state, revision), position: position ?? seenPosition });
  });
  return E.isLeft(decided) ? decided : found('meeting', deps.readModels.getMeeting(meetingId));
};

/** Whose calendar, if the caller may read it and the range is sensible. */
const checkCalendarQuery = async (
  access: AccessProvider,
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

const scheduleMeeting = async (
  deps: ServiceDeps,
  ctx: RequestContext,
  input: MeetingInput,
): Promise<E.Either<AppError, MeetingView>> => {
  const { access, bookings } = deps;
  if (!(await access.canCreate(ctx.user, input))) {
    return E.left(forbidden('only admins, or instructors for their own sessions, may schedule meetings'));
  }
  const meetingId = newIdFor(ctx, deps.newId);
  const command: meeting.MeetingCommand = {
    type: 'ScheduleMeeting',
    data: { ...input, meetingId, timezone: input.timezone ?? 'UTC', ...deps.executor.stamp(ctx) },
  };
  // The domain's answer comes first; the directory and the calendar are checked on what it decided, before the
  // append and under the participants' lock (the executor refuses first while the read models are behind the log,
  // when an "unknown person" or "no conflict" would be no answer).
  return bookingCommand(deps, ctx, input, meetingId, [command], {
    newStream: true,
    check: async () => {
      const unknown = [
        ...directory.deactivatedParticipants(deps.readModels, input),
        ...(await unknownParticipants(access, input)),
      ];
      if (unknown.length > 0) return { _tag: 'ValidationFailed', errors: unknown };
      // Its own id is left out: an idempotent retry may find the meeting it created before its answer was lost.
      const conflicts = await bookings.conflictsDecided([input], input, new Set([meetingId]));
      return conflicts.length > 0 ? bookingConflict(access, ctx.user, conflicts) : undefined;
    },
  });
};

/** A meeting keeps its participants: a patch that names others is refused. */
const participantsKept = (view: MeetingView, patch: MeetingPatch): E.Either<AppError, void> => {
  for (const path of ['customerId', 'instructorId'] as const) {
    if (patch[path] !== undefined && patch[path] !== view[path]) {
      return E.left({
        _tag: 'ValidationFailed',
        errors: [{ path, message: 'participants cannot be changed; cancel this meeting and schedule a new one' }],
      });
    }
  }
  return E.right(undefined);
};

/** The commands a patch amounts to, in the order they are decided: details, time, training type. */
const changeCommands = (
  view: MeetingView,
  patch: MeetingPatch,
  stamp: ReturnType<Executor['stamp']>,
): meeting.MeetingCommand[] => {
  const commands: meeting.MeetingCommand[] = [];
  const details = fieldsSet(patch, ['title', 'description', 'customerMetadata', 'instructorMetadata']);
  if (details !== undefined)
    commands.push({ type: 'ChangeMeetingDetails', data: { origin: 'meeting', ...stamp, ...details } });
  const time = fieldsSet(patch, ['start', 'end', 'timezone']);
  if (time !== undefined) commands.push({ type: 'RescheduleMeeting', data: { ...time, origin: 'meeting', ...stamp } });
  if (patch.trainingType !== undefined || patch.remoteLink !== undefined) {
    const trainingType = patch.trainingType ?? view.trainingType;
    const remoteLink = patch.remoteLink ?? (trainingType === 'link' ? view.remoteLink : undefined);
    commands.push({
      type: 'ChangeTrainingType',
      data: { trainingType, ...(remoteLink !== undefined ? { remoteLink } : {}), origin: 'meeting', ...stamp },
    });
  }
  return commands;
};

const changeMeeting = async (
  deps: ServiceDeps,
  ctx: RequestContext,
  meetingId: string,
  patch: MeetingPatch,
  expectedRevision?: number,
): Promise<E.Either<AppError, MeetingView>> => {
  const current = await modifiableMeeting(deps, ctx, meetingId);
  if (E.isLeft(current)) return current;
  const view = current.right;
  const kept = participantsKept(view, patch);
  if (E.isLeft(kept)) return kept;
  const commands = changeCommands(view, patch, deps.executor.stamp(ctx));
  if (view.state === 'cancelled' && commands.length > 0) {
    return E.left({ _tag: 'Conflict', message: 'a cancelled meeting cannot be changed; reinstate it first' });
  }
  const moves = patch.start !== undefined || patch.end !== undefined;
  if (!moves) return meetingCommand(deps, ctx, meetingId, commands, { expectedRevision });
  return bookIfFree(deps, ctx, view, commands, expectedRevision, () => {
    // Read again under the lock: a change that finished meanwhile is in the read model now, or was decided here.
    const fresh = deps.bookings.latest(meetingId) ?? deps.readModels.getMeeting(meetingId) ?? view;
    return { start: patch.start ?? fresh.start, end: patch.end ?? fresh.end };
  });
};

/**
 * Runs a meeting's commands if the slot it will take (asked under the participants' lock) double-books neither of
 * them; the meeting itself is no conflict.
 */
const bookIfFree = (
  deps: ServiceDeps,
  ctx: RequestContext,
  view: MeetingView,
  commands: ReadonlyArray<meeting.MeetingCommand>,
  expectedRevision: number | undefined,
  slotUnderLock: () => { start: string; end: string },
): Promise<E.Either<AppError, MeetingView>> =>
  bookingCommand(deps, ctx, view, view.id, commands, { expectedRevision }, async () => {
    // A move or a reinstatement books the slot anew: not for someone deactivated since.
    const deactivated = directory.deactivatedParticipants(deps.readModels, view);
    if (deactivated.length > 0) return { _tag: 'ValidationFailed', errors: deactivated };
    const conflicts = await deps.bookings.conflictsDecided([slotUnderLock()], view, new Set([view.id]));
    return conflicts.length > 0 ? bookingConflict(deps.access, ctx.user, conflicts) : undefined;
  });

const reinstateMeeting = async (
  deps: ServiceDeps,
  ctx: RequestContext,
  meetingId: string,
  expectedRevision?: number,
): Promise<E.Either<AppError, MeetingView>> => {
  const current = await modifiableMeeting(deps, ctx, meetingId);
  if (E.isLeft(current)) return current;
  const view = current.right;
  const command: meeting.MeetingCommand = { type: 'ReinstateMeeting', data: deps.executor.stamp(ctx) };
  return bookIfFree(deps, ctx, view, [command], expectedRevision, () => view);
};

/** Fields the body leaves out (the instructor's templates, unknown to older clients) keep their values. */
const putSettings = async (
  deps: ServiceDeps,
  ctx: RequestContext,
  next: settings.Settings,
): Promise<E.Either<AppError, settings.CompleteSettings>> => {
  if (!ctx.user.roles.includes('admin')) return E.left(forbidden('only admins may change settings'));
  const result = await deps.executor.execute(ctx, settingsAggregate, settings.settingsId, [
    { type: 'ChangeSettings', data: { settings: next, ...deps.executor.stamp(ctx) } },
  ]);
  return E.isLeft(result) ? result : E.right(settings.completeSettings(deps.readModels.getSettings()));
};

/** The meetings, people and settings a request reads and changes. */
export const createService = (deps: ServiceDeps) => {
  const { readModels, access } = deps;
  const { stamp } = deps.executor;
  return {
    readModels,
    scheduleMeeting: (ctx: RequestContext, input: MeetingInput) => scheduleMeeting(deps, ctx, input),
    getMeeting: (ctx: RequestContext, meetingId: string) => visibleMeeting(deps, ctx, meetingId),
    changeMeeting: (ctx: RequestContext, meetingId: string, patch: MeetingPatch, expectedRevision?: number) =>
      changeMeeting(deps, ctx, meetingId, patch, expectedRevision),

    async cancelMeeting(ctx: RequestContext, meetingId: string, reason: string | undefined, expectedRevision?: number) {
      const current = await modifiableMeeting(deps, ctx, meetingId);
      if (E.isLeft(current)) return current;
      const command: meeting.MeetingCommand = {
        type: 'CancelMeeting',
        data: { origin: 'meeting', ...(reason !== undefined ? { reason } : {}), ...stamp(ctx) },
      };
      return meetingCommand(deps, ctx, meetingId, [command], { expectedRevision });
    },

    async confirmMeeting(ctx: RequestContext, meetingId: string, expectedRevision?: number) {
      const current = await modifiableMeeting(deps, ctx, meetingId);
      if (E.isLeft(current)) return current;
      const command: meeting.MeetingCommand = { type: 'ConfirmMeeting', data: stamp(ctx) };
      return meetingCommand(deps, ctx, meetingId, [command], { expectedRevision });
    },

    reinstateMeeting: (ctx: RequestContext, meetingId: string, expectedRevision?: number) =>
      reinstateMeeting(deps, ctx, meetingId, expectedRevision),

    async meetingHistory(
      ctx: RequestContext,
      meetingId: string,
      page?: HistoryPage,
    ): Promise<E.Either<AppError, ParticipantHistory>> {
      const visible = await visibleMeeting(deps, ctx, meetingId);
      if (E.isLeft(visible)) return visible;
      // The meeting's own events and its attendance's, in the order the log has them.
      const streams = [meetings.streamName(meetingId), attendanceAggregate.streamName(meetingId)];
      const entries = await deps.histories.mergedHistory(streams, page);
      return E.right({ instructorId: visible.right.instructorId, entries });
    },

    /** The attendance of a meeting the caller has been shown, and its stream's revision (-1 before any event). */
    attendanceOf(view: MeetingView): { entries: ReadonlyArray<AttendanceEntry>; revision: number } {
      const recorded = readModels.getAttendance(view.id);
      return { entries: attendanceEntries(view, recorded), revision: recorded?.revision ?? -1 };
    },

    /** Only the meeting's instructor or an admin may mark (404 for who may not see the meeting, like its other writes). */
    async markAttendance(
      ctx: RequestContext,
      meetingId: string,
      personId: string,
      status: AttendanceStatus,
    ): Promise<E.Either<AppError, AttendanceEntry>> {
      const current = await modifiableMeeting(
        deps,
        ctx,
        meetingId,
        "only the meeting's instructor or an admin may mark attendance",
      );
      if (E.isLeft(current)) return current;
      return markAttendance(deps, ctx, current.right, personId, status);
    },

    checkCalendarQuery: (ctx: RequestContext, query: { from: string; to: string; userId?: string }) =>
      checkCalendarQuery(access, ctx, query),

    async calendar(
      ctx: RequestContext,
      query: { from: string; to: string; userId?: string },
    ): Promise<E.Either<AppError, ReadonlyArray<CalendarEntry>>> {
      const checked = await checkCalendarQuery(access, ctx, query);
      if (E.isLeft(checked)) return checked;
      const items = await access.userMeetings(checked.right, query.from, query.to);
      return E.right(await access.filterVisible(ctx.user, items));
    },

    upsertPerson: (ctx: RequestContext, personId: string, input: PersonInput) =>
      directory.upsertPerson(deps, ctx, personId, input),
    getPerson: (ctx: RequestContext, personId: string) => directory.getPerson(deps, ctx, personId),
    listPeople: (ctx: RequestContext, query: PeopleQuery) => directory.listPeople(deps, ctx, query),
    lookupNames: (ctx: RequestContext, lookup: directory.NameLookup) => directory.lookupNames(deps, ctx, lookup),
    me: (ctx: RequestContext) => directory.me(deps, ctx),
    importPeople: (ctx: RequestContext, rows: ReadonlyArray<ImportRow>, options: ImportOptions) =>
      importPeople(deps, ctx, rows, options),
    importRefusal: (ctx: RequestContext) => importRefusal(deps, ctx),

    /** The settings as they apply: the instructor's templates are shown even before they are first set. */
    async getSettings(ctx: RequestContext): Promise<E.Either<AppError, settings.CompleteSettings>> {
      if (!readsAll(ctx.user)) return E.left(forbidden('only admins and auditors may read settings'));
      return E.right(settings.completeSettings(readModels.getSettings()));
    },

    putSettings: (ctx: RequestContext, next: settings.Settings) => putSettings(deps, ctx, next),

    async settingsHistory(
      ctx: RequestContext,
      page?: HistoryPage,
    ): Promise<E.Either<AppError, ReadonlyArray<HistoryEntry>>> {
      if (!readsAll(ctx.user)) return E.left(forbidden('only admins and auditors may read settings'));
      return E.right(await deps.histories.history(settings.settingsStreamName, page));
    },
  };
};

export type Service = ReturnType<typeof createService>;
