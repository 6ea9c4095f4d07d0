import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { Role } from '../domain/shared.ts';
import { idProblem } from '../domain/shared.ts';
import type { SignInError } from '../domain/sign-in.ts';
import type { RevocationReason, SessionClient, SessionError, SessionEvent, SessionMethod } from '../domain/session.ts';
import type { StaleRevision, TooMuchContention } from './command-handler.ts';
import type { CorruptEvent } from './decode.ts';
import { sessions as sessionAggregate, signIns } from './aggregates.ts';
import { createRecorder } from './execute.ts';
import type { AppError } from './execute.ts';
import type { EventStore } from './ports/event-store.ts';
import type { MeetingQueries, PersonView, SessionQueries } from './ports/read-models.ts';

/**
 * Sessions of people who signed in (by email link, OIDC or in dev mode): a short-lived access token for the API (an
 * HS256 JWT with the server's bearer secret, so the authenticator verifies it like any bearer token) and a refresh
 * credential for a cookie. The refresh credential is 256 random bits; only its SHA-256 is recorded. It is good once:
 * each refresh hands out the next one, appended at the revision read, so two nodes cannot both accept the same one.
 */

export const DEFAULT_ACCESS_TTL_SECONDS = 5 * 60;
export const DEFAULT_REFRESH_TTL_SECONDS = 30 * 24 * 3600;

export interface AccessClaims {
  readonly sub: string;
  readonly roles: ReadonlyArray<Role>;
  readonly sid: string;
  readonly name?: string;
  readonly email?: string;
}

export interface SessionsDeps {
  readonly store: EventStore;
  readonly newId: () => string;
  readonly clock: () => Date;
  readonly queries: Pick<MeetingQueries, 'getPerson'> & SessionQueries;
  /** Resolves once the read models show the event at this position (a revocation is then refused everywhere). */
  readonly waitFor: (position: number | undefined) => Promise<void>;
  /** Signs an access token with the bearer secret (adapters/http/auth.ts `mintToken`). */
  readonly mintAccessToken: (claims: AccessClaims, ttlSeconds: number, now: Date) => Promise<string>;
  readonly accessTtlSeconds?: number;
  readonly refreshTtlSeconds?: number;
}

/** The signed-in person, as sign-in answers name them. */
export interface SignedInPerson {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly roles: ReadonlyArray<Role>;
  readonly timezone?: string;
  readonly language?: string;
}

export interface RefreshCookie {
  /** `<sessionId>.<credential>`: the whole cookie value. */
  readonly value: string;
  readonly maxAgeSeconds: number;
}

export interface SessionGrant {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly person: SignedInPerson;
  readonly refreshCookie: RefreshCookie;
}

/** A refresh or sign-in the client must answer by signing in again (one message for every cause). */
export interface SessionRefused {
  readonly _tag: 'SessionRefused';
  readonly message: string;
}

const refused: SessionRefused = { _tag: 'SessionRefused', message: 'the session is not valid; sign in again' };

export const hashCredential = (credential: string): string => createHash('sha256').update(credential).digest('hex');

const CREDENTIAL_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The cookie's session id and credential, or undefined for anything that is not one this server made. */
export const parseRefreshCookie = (
  value: string | undefined,
): { sessionId: string; credential: string } | undefined => {
  if (value === undefined || value.length > 200) return undefined;
  const dot = value.indexOf('.');
  if (dot < 0) return undefined;
  const sessionId = value.slice(0, dot);
  const credential = value.slice(dot + 1);
  if (idProblem(sessionId) !== undefined || !CREDENTIAL_PATTERN.test(credential)) return undefined;
  return { sessionId, credential };
};

/** At most this much of the user agent is kept: enough to recognise a browser in the audit log. */
const MAX_USER_AGENT = 200;
const boundedClient = (client: SessionClient): SessionClient => ({
  ...(client.ip !== undefined ? { ip: client.ip.slice(0, 64) } : {}),
  ...(client.userAgent !== undefined ? { userAgent: client.userAgent.slice(0, MAX_USER_AGENT) } : {}),
});

const personOf = (p: PersonView): SignedInPerson => ({
  id: p.id,
  name: p.name,
  email: p.email,
  roles: [...p.roles],
  ...(p.timezone !== undefined ? { timezone: p.timezone } : {}),
  ...(p.language !== undefined ? { language: p.language } : {}),
});

const sameHash = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

const isInfrastructure = (error: { _tag: string }): error is StaleRevision | TooMuchContention | CorruptEvent =>
  error._tag === 'StaleRevision' || error._tag === 'TooMuchContention' || error._tag === 'CorruptEvent';

const appErrorOf = (error: SessionError | StaleRevision | TooMuchContention | CorruptEvent): AppError =>
  isInfrastructure(error) ? error : sessionAggregate.mapError(error);

export const signInErrorOf = (error: SignInError | StaleRevision | TooMuchContention | CorruptEvent): AppError =>
  isInfrastructure(error) ? error : signIns.mapError(error);

/** What every session operation shares: the recorder, who may have one, and how a grant and a revocation are made. */
const sessionKit = (deps: SessionsDeps) => {
  const recorder = createRecorder(deps);
  const accessTtl = deps.accessTtlSeconds ?? DEFAULT_ACCESS_TTL_SECONDS;
  const refreshTtl = deps.refreshTtlSeconds ?? DEFAULT_REFRESH_TTL_SECONDS;

  /**
   * The person a session may be for now: in the directory, active, with at least one role: the identity provider's
   * for the session when it gave them (`roles`), else the directory's. The answer carries the roles the session has.
   */
  const eligible = (personId: string, roles?: ReadonlyArray<Role>): PersonView | undefined => {
    const person = deps.queries.getPerson(personId);
    if (person === undefined || !person.active) return undefined;
    const effective = roles ?? person.roles;
    return effective.length > 0 ? { ...person, roles: effective } : undefined;
  };

  const newCredential = () => {
    const credential = randomBytes(32).toString('base64url');
    return { credential, hash: hashCredential(credential) };
  };

  const grant = async (person: PersonView, sessionId: string, credential: string, now: Date): Promise<SessionGrant> => {
    const accessToken = await deps.mintAccessToken(
      { sub: person.id, roles: person.roles, sid: sessionId, name: person.name, email: person.email },
      accessTtl,
      now,
    );
    return {
      accessToken,
      expiresIn: accessTtl,
      person: personOf(person),
      refreshCookie: { value: `${sessionId}.${credential}`, maxAgeSeconds: refreshTtl },
    };
  };

  const revoke = async (sessionId: string, reason: RevocationReason): Promise<E.Either<AppError, void>> => {
    const at = deps.clock().toISOString();
    const result = await recorder.record(sessionAggregate, sessionId, {
      type: 'RevokeSession',
      data: { sessionId, reason, at },
    });
    if (E.isLeft(result)) {
      const error = result.left;
      if (error._tag === 'SessionNotFound') return E.right(undefined);
      return E.left(appErrorOf(error));
    }
    await deps.waitFor(result.right.position);
    return E.right(undefined);
  };

  return { recorder, accessTtl, refreshTtl, eligible, newCredential, grant, revoke };
};

type SessionKit = ReturnType<typeof sessionKit>;

/** Exchanges the cookie's credential for a new one and a new access token; a replay ends the whole family. */
const refreshWith = async (
  deps: SessionsDeps,
  kit: SessionKit,
  cookieValue: string | undefined,
  client: SessionClient,
): Promise<E.Either<SessionRefused | AppError, SessionGrant>> => {
  const parsed = parseRefreshCookie(cookieValue);
  if (parsed === undefined) return E.left(refused);
  const loaded = await kit.recorder.load(sessionAggregate, parsed.sessionId);
  if (E.isLeft(loaded)) return E.left(loaded.left);
  const state = loaded.right.state;
  if (state.status !== 'active') return E.left(refused);
  if (kit.eligible(state.personId, state.roles) === undefined) {
    const ended = await kit.revoke(parsed.sessionId, 'deactivated');
    return E.isLeft(ended) ? ended : E.left(refused);
  }
  const now = deps.clock();
  const next = kit.newCredential();
  const result = await kit.recorder.record(sessionAggregate, parsed.sessionId, {
    type: 'RefreshSession',
    data: {
      sessionId: parsed.sessionId,
      presentedHash: hashCredential(parsed.credential),
      refreshHash: next.hash,
      expiresAt: new Date(now.getTime() + kit.refreshTtl * 1000).toISOString(),
      client: boundedClient(client),
      at: now.toISOString(),
    },
  });
  if (E.isLeft(result)) {
    const error = result.left;
    return E.left(isInfrastructure(error) ? error : refused);
  }
  const decided: ReadonlyArray<SessionEvent> = result.right.events;
  if (decided.some((e) => e.type === 'SessionRevoked')) {
    // A replay or a late use: the revocation is recorded; the token of every node refuses the family once shown.
    await deps.waitFor(result.right.position);
    return E.left(refused);
  }
  const person = kit.eligible(state.personId, state.roles);
  if (person === undefined) return E.left(refused);
  return E.right(await kit.grant(person, parsed.sessionId, next.credential, now));
};

export const createSessions = (deps: SessionsDeps) => {
  const kit = sessionKit(deps);
  const { recorder, accessTtl, refreshTtl, eligible, newCredential, grant, revoke } = kit;
  const refresh = (cookieValue: string | undefined, client: SessionClient) =>
    refreshWith(deps, kit, cookieValue, client);

  /**
   * Starts a session for a person who may have one now; either way the attempt is recorded (`SignedIn` or
   * `SignInFailed`), in the attempt's stream when the caller has one (an email link's), else in a new one.
   */
  const start = async (request: {
    readonly personId: string;
    readonly method: SessionMethod;
    readonly client: SessionClient;
    readonly attemptId?: string;
    /** The roles an identity provider gave (its roles claim): the session carries these, not the directory's. */
    readonly roles?: ReadonlyArray<Role>;
  }): Promise<E.Either<AppError, SessionGrant>> => {
    const attemptId = request.attemptId ?? deps.newId();
    const person = eligible(request.personId, request.roles);
    if (person === undefined) {
      const failed = await recorder.record(signIns, attemptId, {
        type: 'RecordFailure',
        data: {
          attemptId,
          method: request.method,
          reason: 'not-allowed',
          at: deps.clock().toISOString(),
          ...(idProblem(request.personId) === undefined ? { personId: request.personId } : {}),
        },
      });
      if (E.isLeft(failed)) return E.left(signInErrorOf(failed.left));
      return E.left({ _tag: 'Forbidden', message: 'this person may not sign in (unknown, deactivated or no role)' });
    }
    const now = deps.clock();
    const sessionId = deps.newId();
    const { credential, hash } = newCredential();
    const result = await recorder.record(sessionAggregate, sessionId, {
      type: 'StartSession',
      data: {
        sessionId,
        personId: person.id,
        method: request.method,
        refreshHash: hash,
        expiresAt: new Date(now.getTime() + refreshTtl * 1000).toISOString(),
        client: boundedClient(request.client),
        at: now.toISOString(),
        ...(request.roles !== undefined ? { roles: [...request.roles] } : {}),
      },
    });
    if (E.isLeft(result)) return E.left(appErrorOf(result.left));
    const signedIn = await recorder.record(signIns, attemptId, {
      type: 'RecordSignIn',
      data: { attemptId, personId: person.id, method: request.method, sessionId, at: now.toISOString() },
    });
    if (E.isLeft(signedIn)) return E.left(signInErrorOf(signedIn.left));
    return E.right(await grant(person, sessionId, credential, now));
  };

  /**
   * Ends the family of the cookie's credential. Only a credential of that family (the current one or a used one)
   * may end it, so knowing a session id (it is in every access token) is not enough to sign someone out.
   */
  const signOut = async (cookieValue: string | undefined): Promise<E.Either<AppError, void>> => {
    const parsed = parseRefreshCookie(cookieValue);
    if (parsed === undefined) return E.right(undefined);
    const loaded = await recorder.load(sessionAggregate, parsed.sessionId);
    if (E.isLeft(loaded)) return E.left(loaded.left);
    const state = loaded.right.state;
    if (state.status !== 'active') return E.right(undefined);
    const presented = hashCredential(parsed.credential);
    const known = [state.currentHash, ...state.previousHashes].some((h) => sameHash(h, presented));
    return known ? revoke(parsed.sessionId, 'sign-out') : E.right(undefined);
  };

  /** Ends every session of a person (deactivated, roles changed): their access tokens are refused from now on. */
  const revokeAllOf = async (personId: string, reason: RevocationReason): Promise<E.Either<AppError, number>> => {
    const ids = deps.queries.activeSessionsOf(personId);
    for (const sessionId of ids) {
      const ended = await revoke(sessionId, reason);
      if (E.isLeft(ended)) return ended;
    }
    return E.right(ids.length);
  };

  return {
    start,
    refresh,
    signOut,
    revokeAllOf,
    accessTtlSeconds: accessTtl,
    refreshTtlSeconds: refreshTtl,
  };
};

export type Sessions = ReturnType<typeof createSessions>;
