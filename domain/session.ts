import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { IsoInstant, Role, assertNever, checkId, validationFailed } from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';

/**
 * A session family: what one sign-in started, and every refresh credential it handed out since. Each refresh
 * credential is good once (rotation); presenting one that was already used means it leaked, so the whole family is
 * revoked. Only SHA-256 hashes of credentials are ever recorded: the event log is readable by auditors.
 */

export const SessionMethod = t.keyof({ email: null, oidc: null, dev: null });
export type SessionMethod = t.TypeOf<typeof SessionMethod>;

export const RevocationReason = t.keyof({
  'sign-out': null,
  replay: null,
  deactivated: null,
  'roles-changed': null,
  expired: null,
});
export type RevocationReason = t.TypeOf<typeof RevocationReason>;

/** Where a request came from, as the server saw it (bounded; for the audit log). */
export const SessionClient = t.partial({ ip: t.string, userAgent: t.string });
export type SessionClient = t.TypeOf<typeof SessionClient>;

const ids = { sessionId: t.string, personId: t.string };

export const SessionStarted = t.type({
  type: t.literal('SessionStarted'),
  data: t.intersection([
    t.type({
      ...ids,
      method: SessionMethod,
      refreshHash: t.string,
      /** When the refresh credential stops being good unless used before (sliding). */
      expiresAt: IsoInstant,
      client: SessionClient,
      at: IsoInstant,
    }),
    /**
     * The roles the identity provider gave at sign-in (its roles claim), which the session's tokens carry; without
     * them, the directory's roles at each refresh.
     */
    t.partial({ roles: t.array(Role) }),
  ]),
});
export const SessionRefreshed = t.type({
  type: t.literal('SessionRefreshed'),
  data: t.type({
    ...ids,
    refreshHash: t.string,
    previousHash: t.string,
    expiresAt: IsoInstant,
    client: SessionClient,
    at: IsoInstant,
  }),
});
export const SessionRevoked = t.type({
  type: t.literal('SessionRevoked'),
  data: t.type({ ...ids, reason: RevocationReason, at: IsoInstant }),
});
export const SessionEvent = t.union([SessionStarted, SessionRefreshed, SessionRevoked]);
export type SessionEvent = t.TypeOf<typeof SessionEvent>;
export const sessionEventTypes = eventTypesOf(SessionEvent);

export type SessionCommand =
  | {
      readonly type: 'StartSession';
      readonly data: t.TypeOf<typeof SessionStarted>['data'];
    }
  | {
      readonly type: 'RefreshSession';
      readonly data: {
        readonly sessionId: string;
        /** The hash of the credential the client presented. */
        readonly presentedHash: string;
        readonly refreshHash: string;
        readonly expiresAt: string;
        readonly client: SessionClient;
        readonly at: string;
      };
    }
  | {
      readonly type: 'RevokeSession';
      readonly data: { readonly sessionId: string; readonly reason: RevocationReason; readonly at: string };
    };

interface Family {
  readonly sessionId: string;
  readonly personId: string;
  readonly method: SessionMethod;
  /** The identity provider's roles for this session, when it gave them (see SessionStarted). */
  readonly roles?: ReadonlyArray<Role>;
  /** Hashes of the credentials already used up, oldest first. */
  readonly previousHashes: ReadonlyArray<string>;
}
export type SessionState =
  | { readonly status: 'none' }
  | (Family & { readonly status: 'active'; readonly currentHash: string; readonly expiresAt: string })
  | (Family & { readonly status: 'revoked'; readonly reason: RevocationReason });

export const initialState = (): SessionState => ({ status: 'none' });

export type SessionError =
  | ValidationFailed
  | { readonly _tag: 'SessionNotFound' }
  | { readonly _tag: 'SessionAlreadyExists' }
  /** The family was revoked earlier: nothing it handed out is good any more. */
  | { readonly _tag: 'SessionEnded'; readonly reason: RevocationReason }
  /** A credential this family never handed out. */
  | { readonly _tag: 'UnknownCredential' };

const sha256Hex = /^[0-9a-f]{64}$/;

const hashErrors = (fields: Record<string, string>): FieldError[] =>
  Object.entries(fields)
    .filter(([, value]) => !sha256Hex.test(value))
    .map(([path]) => ({ path, message: 'must be a SHA-256 in lowercase hexadecimal' }));

const start = (data: t.TypeOf<typeof SessionStarted>['data'], state: SessionState) => {
  const errors = [
    ...checkId('sessionId', data.sessionId),
    ...checkId('personId', data.personId),
    ...hashErrors({ refreshHash: data.refreshHash }),
  ];
  if (errors.length > 0) return E.left(validationFailed(errors));
  if (state.status !== 'none') return E.left({ _tag: 'SessionAlreadyExists' } as const);
  return E.right([{ type: 'SessionStarted', data } as const]);
};

/**
 * The current credential, before its family expires, is exchanged for a new one. One used before is a replay: the
 * family is revoked (the decision is that event; the caller answers the client with a refusal). A late use of an
 * expired family revokes it as expired.
 */
const refresh = (
  data: Extract<SessionCommand, { type: 'RefreshSession' }>['data'],
  state: SessionState,
): E.Either<SessionError, SessionEvent[]> => {
  const errors = hashErrors({ presentedHash: data.presentedHash, refreshHash: data.refreshHash });
  if (errors.length > 0) return E.left(validationFailed(errors));
  switch (state.status) {
    case 'none':
      return E.left({ _tag: 'SessionNotFound' });
    case 'revoked':
      return E.left({ _tag: 'SessionEnded', reason: state.reason });
    case 'active': {
      const ids = { sessionId: state.sessionId, personId: state.personId };
      if (state.previousHashes.includes(data.presentedHash))
        return E.right([{ type: 'SessionRevoked', data: { ...ids, reason: 'replay', at: data.at } }]);
      if (data.presentedHash !== state.currentHash) return E.left({ _tag: 'UnknownCredential' });
      if (Date.parse(state.expiresAt) <= Date.parse(data.at))
        return E.right([{ type: 'SessionRevoked', data: { ...ids, reason: 'expired', at: data.at } }]);
      return E.right([
        {
          type: 'SessionRefreshed',
          data: {
            ...ids,
            refreshHash: data.refreshHash,
            previousHash: state.currentHash,
            expiresAt: data.expiresAt,
            client: data.client,
            at: data.at,
          },
        },
      ]);
    }
    default:
      return assertNever(state);
  }
};

export const decide = (command: SessionCommand, state: SessionState): E.Either<SessionError, SessionEvent[]> => {
  switch (command.type) {
    case 'StartSession':
      return start(command.data, state);
    case 'RefreshSession':
      return refresh(command.data, state);
    case 'RevokeSession': {
      if (state.status === 'none') return E.left({ _tag: 'SessionNotFound' });
      // Revoking an ended family changes nothing: the first reason stands.
      if (state.status === 'revoked') return E.right([]);
      const { sessionId, personId } = state;
      return E.right([
        { type: 'SessionRevoked', data: { sessionId, personId, reason: command.data.reason, at: command.data.at } },
      ]);
    }
    default:
      return assertNever(command);
  }
};

export const evolve = (state: SessionState, event: SessionEvent): SessionState => {
  switch (event.type) {
    case 'SessionStarted': {
      const { sessionId, personId, method, refreshHash, expiresAt, roles } = event.data;
      return {
        status: 'active',
        sessionId,
        personId,
        method,
        ...(roles !== undefined ? { roles } : {}),
        previousHashes: [],
        currentHash: refreshHash,
        expiresAt,
      };
    }
    case 'SessionRefreshed':
      return state.status === 'active'
        ? {
            ...state,
            previousHashes: [...state.previousHashes, state.currentHash],
            currentHash: event.data.refreshHash,
            expiresAt: event.data.expiresAt,
          }
        : state;
    case 'SessionRevoked': {
      if (state.status !== 'active') return state;
      const { sessionId, personId, method, previousHashes, currentHash } = state;
      return {
        status: 'revoked',
        sessionId,
        personId,
        method,
        previousHashes: [...previousHashes, currentHash],
        reason: event.data.reason,
      };
    }
    default:
      return assertNever(event);
  }
};

export const sessionStreamPrefix = 'session-';
export const sessionStreamName = (sessionId: string): string => `${sessionStreamPrefix}${sessionId}`;
export const sessionDecider: Decider<SessionCommand, SessionEvent, SessionState, SessionError> = {
  decide,
  evolve,
  initialState,
};
