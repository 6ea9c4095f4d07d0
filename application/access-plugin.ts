/**
 * A site's own access provider, as the original's PersonalTrainingProvider plugin: a module (ACCESS_PROVIDER) whose
 * default export is an `AccessProviderFactory`. Here is what a plugin gets, the check that what it made fits the
 * port, and the guard every call to it goes through: an answer of the wrong kind, a throw, or no answer within a few
 * seconds fails that one request (a 500 problem, logged) and never the server, and a list never shows a meeting, nor
 * any field of one, the plugin was not given.
 */
import type { AccessProvider, AuthUser, MeetingDraft, Participants } from './ports/access.ts';
import type { Log } from './ports/logger.ts';
import type { CalendarEntry, MeetingQueries } from './ports/read-models.ts';

/** What a plugin may read (read-only), the default provider (to wrap or fall back to), and a log of its own. */
export interface AccessPluginContext {
  readonly queries: Pick<MeetingQueries, 'calendar' | 'getPerson' | 'personActive' | 'getMeeting'>;
  readonly defaultProvider: AccessProvider;
  readonly log: Log;
}

/** A plugin module's default export. */
export type AccessProviderFactory = (context: AccessPluginContext) => AccessProvider | Promise<AccessProvider>;

export const ACCESS_PROVIDER_METHODS = [
  'canView',
  'canModify',
  'canCreate',
  'canReadCalendarOf',
  'filterVisible',
  'userMeetings',
  'personExists',
] as const satisfies ReadonlyArray<keyof AccessProvider>;

/** Why a value is no AccessProvider, one reason per missing or wrong member; empty when it fits. */
export const accessProviderMisfits = (value: unknown): string[] => {
  if (typeof value !== 'object' || value === null)
    return [`it is ${value === null ? 'null' : typeof value}, not an object`];
  const provider = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof provider.name !== 'string' || provider.name.trim() === '')
    problems.push('`name` is not a non-empty string');
  if (provider.deterministic !== undefined && typeof provider.deterministic !== 'boolean')
    problems.push('`deterministic` is not a boolean');
  for (const method of ACCESS_PROVIDER_METHODS) {
    if (provider[method] === undefined) problems.push(`\`${method}\` is missing`);
    else if (typeof provider[method] !== 'function') problems.push(`\`${method}\` is not a function`);
  }
  return problems;
};

/** A plugin's call failed or answered what the port does not allow: the request fails, the server goes on. */
export class AccessProviderFailure extends Error {
  constructor(provider: string, method: string, reason: string) {
    super(`access provider '${provider}': ${method} ${reason}`);
    this.name = 'AccessProviderFailure';
  }
}

const describe = (value: unknown): string => {
  if (value === undefined) return 'undefined';
  try {
    return (JSON.stringify(value) ?? typeof value).slice(0, 80);
  } catch {
    return typeof value;
  }
};

const isEntry = (value: unknown): value is CalendarEntry => {
  const e = value as Partial<Record<keyof CalendarEntry, unknown>> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.meetingId === 'string' &&
    typeof e.customerId === 'string' &&
    typeof e.instructorId === 'string' &&
    typeof e.start === 'string' &&
    typeof e.end === 'string'
  );
};

/** How long the guard waits for one answer of a plugin before it fails that request. */
export const DEFAULT_ACCESS_PROVIDER_TIMEOUT_MS = 5_000;

export interface GuardOptions {
  /** Default DEFAULT_ACCESS_PROVIDER_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

class TimedOut extends Error {}

/** The plugin's answer, or a TimedOut once `ms` have passed (a late answer or throw is then ignored). */
const within = (ms: number, run: () => Promise<unknown>): Promise<unknown> => {
  const answer = (async () => run())();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(`took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  answer.catch(() => undefined);
  return Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
};

/**
 * The provider with every answer checked: each call answers within `timeoutMs` (else the request fails, logged);
 * booleans are booleans; `filterVisible` returns some of the items it was given (by meeting id, each once), and the
 * guard answers the given items themselves, never the plugin's objects; `userMeetings` returns calendar entries of
 * that user overlapping the range.
 */
export const guardedAccessProvider = (
  provider: AccessProvider,
  log: Pick<Log, 'error'>,
  options: GuardOptions = {},
): AccessProvider => {
  const name = provider.name;
  const timeoutMs = options.timeoutMs ?? DEFAULT_ACCESS_PROVIDER_TIMEOUT_MS;
  const call = async <A>(method: string, run: () => Promise<unknown>, check: (value: unknown) => A): Promise<A> => {
    let value: unknown;
    try {
      value = await within(timeoutMs, run);
    } catch (error) {
      if (error instanceof TimedOut) {
        log.error({ provider: name, method, timeoutMs }, 'access provider timed out');
        throw new AccessProviderFailure(name, method, error.message);
      }
      const reason = error instanceof Error ? error.message : describe(error);
      log.error({ provider: name, method, err: reason }, 'access provider failed');
      throw new AccessProviderFailure(name, method, `threw: ${reason}`);
    }
    try {
      return check(value);
    } catch (error) {
      const failure = error as AccessProviderFailure;
      log.error({ provider: name, method, err: failure.message }, 'access provider answered out of contract');
      throw failure;
    }
  };
  const bool = (method: string) => (value: unknown) => {
    if (typeof value !== 'boolean')
      throw new AccessProviderFailure(name, method, `answered ${describe(value)}, not a boolean`);
    return value;
  };
  const yesNo = (method: string, run: () => Promise<unknown>) => call(method, run, bool(method));
  return {
    name,
    ...(provider.deterministic !== undefined ? { deterministic: provider.deterministic } : {}),
    canView: (user: AuthUser, m: Participants) => yesNo('canView', () => provider.canView(user, m)),
    canModify: (user: AuthUser, m: Participants) => yesNo('canModify', () => provider.canModify(user, m)),
    canCreate: (user: AuthUser, draft: MeetingDraft) => yesNo('canCreate', () => provider.canCreate(user, draft)),
    canReadCalendarOf: (user: AuthUser, userId: string) =>
      yesNo('canReadCalendarOf', () => provider.canReadCalendarOf(user, userId)),
    personExists: (personId: string) => yesNo('personExists', () => provider.personExists(personId)),
    filterVisible: (user, items) =>
      call(
        'filterVisible',
        () => provider.filterVisible(user, items),
        (value) => {
          if (!Array.isArray(value)) throw new AccessProviderFailure(name, 'filterVisible', 'answered no array');
          const given = new Map(items.map((item) => [item.meetingId, item]));
          const seen = new Set<string>();
          for (const item of value as unknown[]) {
            const id = isEntry(item) ? item.meetingId : undefined;
            if (id === undefined || !given.has(id) || seen.has(id))
              throw new AccessProviderFailure(name, 'filterVisible', 'answered an item it was not given (or twice)');
            seen.add(id);
          }
          // The given items themselves, in the given order: no field of the plugin's objects reaches an answer.
          return items.filter((item) => seen.has(item.meetingId));
        },
      ),
    userMeetings: (userId, from, to) =>
      call(
        'userMeetings',
        () => provider.userMeetings(userId, from, to),
        (value) => {
          if (!Array.isArray(value)) throw new AccessProviderFailure(name, 'userMeetings', 'answered no array');
          for (const item of value as unknown[]) {
            if (!isEntry(item))
              throw new AccessProviderFailure(name, 'userMeetings', `answered ${describe(item)}, not a calendar entry`);
            if (item.customerId !== userId && item.instructorId !== userId)
              throw new AccessProviderFailure(name, 'userMeetings', `answered a meeting ${userId} is not part of`);
            if (!(Date.parse(item.start) < Date.parse(to) && Date.parse(item.end) > Date.parse(from)))
              throw new AccessProviderFailure(name, 'userMeetings', 'answered a meeting outside the range');
          }
          return value as ReadonlyArray<CalendarEntry>;
        },
      ),
  };
};
