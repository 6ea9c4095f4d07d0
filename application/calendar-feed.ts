import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type * as feed from '../domain/calendar-feed.ts';
import type { MeetingStatus } from '../domain/meeting.ts';
import { calendarFeeds } from './aggregates.ts';
import type { AppError, Executor, RequestContext } from './execute.ts';
import type { LinkedMeeting } from './join-links.ts';
import type { AccessProvider } from './ports/access.ts';
import type { CalendarFeedQueries, MeetingQueries } from './ports/read-models.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** What a subscribed calendar shows: the recent past and a little over a year ahead. */
export const FEED_PAST_DAYS = 30;
export const FEED_FUTURE_DAYS = 400;
/** Longer than any token we issue; anything longer is refused before hashing. */
const MAX_TOKEN_LENGTH = 256;

export interface FeedEvent {
  readonly meetingId: string;
  readonly title: string;
  readonly start: string;
  readonly end: string;
  readonly state: MeetingStatus;
  /** RFC 5545 SEQUENCE, from the meeting view: the same number the cancellation emails carry. */
  readonly sequence: number;
  readonly updatedAt: string;
  readonly role: 'customer' | 'instructor';
  readonly counterpartId: string;
  readonly counterpartName?: string;
  /** The session's organizer in the feed (ORGANIZER), from the people directory. */
  readonly instructorName?: string;
  readonly instructorEmail?: string;
  /** The feed owner's own join link, for a session that has not ended. */
  readonly joinLink?: string;
}

export interface CalendarFeed {
  readonly userId: string;
  readonly ownerName?: string;
  readonly generatedAt: string;
  readonly events: ReadonlyArray<FeedEvent>;
}

export interface FeedSubscription {
  readonly token: string;
  readonly url: string;
}

/** Unknown, malformed and revoked tokens get the same answer, so the answer tells nothing about a token. */
export interface FeedRefused {
  readonly _tag: 'Unauthorized';
  readonly message: string;
}

export interface CalendarFeedDeps {
  readonly executor: Pick<Executor, 'execute' | 'stamp'>;
  readonly queries: Pick<MeetingQueries, 'getMeeting' | 'getPerson'> & CalendarFeedQueries;
  readonly access: Pick<AccessProvider, 'canReadCalendarOf' | 'userMeetings'>;
  readonly clock: () => Date;
  /** The secret for a new feed URL; must be unguessable (the server uses 32 random bytes, base64url). */
  readonly newToken: () => string;
  /** Read when a URL is made, since the server's own address is known only once it listens. */
  readonly publicBaseUrl: () => string;
  /** The owner's join link to a session (application/join-links.ts). */
  readonly joinLink?: (personId: string, meeting: LinkedMeeting) => string | undefined;
}

export const hashFeedToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export const feedUrl = (publicBaseUrl: string, token: string): string =>
  `${publicBaseUrl}/calendar.ics?token=${encodeURIComponent(token)}`;

/** Said when a feed request with an `Idempotency-Key` is repeated: the secret it answered is kept nowhere. */
export const SECRET_NOT_REPEATED =
  'this request already issued a new feed address, which is shown only once and kept nowhere; enable the feed again with a new Idempotency-Key to get a new address (the lost one is then revoked)';
const secretNotRepeated: AppError = { _tag: 'Conflict', message: SECRET_NOT_REPEATED };

const refused: FeedRefused = { _tag: 'Unauthorized', message: 'unknown or revoked calendar feed token' };

type Organizer = Pick<FeedEvent, 'instructorName' | 'instructorEmail'>;

/** The organizer of each session (ORGANIZER): its instructor, looked up once per instructor. */
const organizers = (queries: CalendarFeedDeps['queries']): ((instructorId: string) => Organizer) => {
  const instructors = new Map<string, Organizer>();
  return (id) => {
    let found = instructors.get(id);
    if (found === undefined) {
      const person = queries.getPerson(id);
      found = person === undefined ? {} : { instructorName: person.name, instructorEmail: person.email };
      instructors.set(id, found);
    }
    return found;
  };
};

const readFeed = async (
  deps: CalendarFeedDeps,
  token: string | undefined,
): Promise<E.Either<FeedRefused, CalendarFeed>> => {
  const { queries, access, clock } = deps;
  if (token === undefined || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return E.left(refused);
  const userId = queries.feedOwner(hashFeedToken(token));
  if (userId === undefined) return E.left(refused);
  const now = clock();
  const from = new Date(now.getTime() - FEED_PAST_DAYS * DAY_MS).toISOString();
  const to = new Date(now.getTime() + FEED_FUTURE_DAYS * DAY_MS).toISOString();
  const seen = new Set<string>();
  const events: FeedEvent[] = [];
  const instructor = organizers(queries);
  for (const item of await access.userMeetings(userId, from, to)) {
    // One VEVENT per UID: a meeting appears once even if a provider lists it twice.
    if (seen.has(item.meetingId)) continue;
    const view = queries.getMeeting(item.meetingId);
    if (view === undefined) continue;
    seen.add(item.meetingId);
    // An ended session's link would be refused; a cancelled one's still reads it (and joins it if reinstated).
    const joinLink = Date.parse(view.end) > now.getTime() ? deps.joinLink?.(userId, view) : undefined;
    events.push({
      meetingId: item.meetingId,
      title: item.title,
      start: item.start,
      end: item.end,
      state: item.state,
      sequence: view.sequence,
      updatedAt: view.updatedAt,
      role: item.role,
      counterpartId: item.role === 'customer' ? item.instructorId : item.customerId,
      counterpartName: item.counterpartName,
      ...instructor(item.instructorId),
      ...(joinLink !== undefined ? { joinLink } : {}),
    });
  }
  return E.right({ userId, ownerName: queries.getPerson(userId)?.name, generatedAt: now.toISOString(), events });
};

export const createCalendarFeedService = (deps: CalendarFeedDeps) => {
  const { executor, access } = deps;

  // Whoever may read the user's calendar, except by the auditor role alone: reading it gives no right to change a feed.
  const mayManage = async (ctx: RequestContext, userId: string): Promise<E.Either<AppError, void>> => {
    const withoutAuditing = { ...ctx.user, roles: ctx.user.roles.filter((role) => role !== 'auditor') };
    return (await access.canReadCalendarOf(withoutAuditing, userId))
      ? E.right(undefined)
      : E.left({ _tag: 'Forbidden', message: "you may not manage this user's calendar feed" });
  };

  const run = (ctx: RequestContext, userId: string, command: feed.CalendarFeedCommand) =>
    executor.execute(ctx, calendarFeeds, userId, [command]);

  return {
    /** Issues a new secret feed URL for the user, revoking any earlier one. Self, or whoever may read their calendar. */
    async enableFeed(ctx: RequestContext, userId: string = ctx.user.id): Promise<E.Either<AppError, FeedSubscription>> {
      const allowed = await mayManage(ctx, userId);
      if (E.isLeft(allowed)) return allowed;
      const token = deps.newToken();
      const result = await run(ctx, userId, {
        type: 'EnableCalendarFeed',
        data: { userId, tokenHash: hashFeedToken(token), ...executor.stamp(ctx) },
      });
      if (E.isLeft(result)) return result;
      // An earlier attempt of this idempotent request issued the address, and only its hash was kept: it cannot be
      // shown again (and this new token was never recorded, so it would not work).
      if (result.right.alreadyApplied === true) return E.left(secretNotRepeated);
      return E.right({ token, url: feedUrl(deps.publicBaseUrl(), token) });
    },

    /** Revokes the user's feed URL; nothing to revoke is fine too. */
    async disableFeed(ctx: RequestContext, userId: string = ctx.user.id): Promise<E.Either<AppError, void>> {
      const allowed = await mayManage(ctx, userId);
      if (E.isLeft(allowed)) return allowed;
      const result = await run(ctx, userId, { type: 'DisableCalendarFeed', data: { userId, ...executor.stamp(ctx) } });
      return E.isLeft(result) ? result : E.right(undefined);
    },

    /** The owner's sessions (as customer and as instructor) from 30 days back to 400 days ahead, cancelled ones included. */
    feed: (token: string | undefined) => readFeed(deps, token),
  };
};

export type CalendarFeedService = ReturnType<typeof createCalendarFeedService>;
