import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { Actor, IsoInstant, assertNever, checkId, validationFailed } from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';
import { SessionMethod } from './session.ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';

/**
 * A sign-in attempt: one request for an email link (or an invitation), then at most one use of its code; or one
 * sign-in by another method, or one refusal. Every sign-in and every failed one is an event here, for the audit log.
 * The code itself is never recorded, only its SHA-256; an address nobody in the directory has is recorded as its
 * hash, never as typed.
 */

export const LinkPurpose = t.keyof({ 'sign-in': null, invitation: null });
export type LinkPurpose = t.TypeOf<typeof LinkPurpose>;

export const SignInFailureReason = t.keyof({
  /** No one (or more than one person) in the directory has the address. */
  'unknown-address': null,
  /** The person is deactivated, or has no role in the directory. */
  'not-allowed': null,
  /** Too many links asked for this address lately. */
  'rate-limited': null,
  'code-used': null,
  'code-expired': null,
  /** A code this server never handed out. */
  'unknown-code': null,
});
export type SignInFailureReason = t.TypeOf<typeof SignInFailureReason>;

const attempt = { attemptId: t.string, at: IsoInstant };

export const SignInLinkSent = t.type({
  type: t.literal('SignInLinkSent'),
  data: t.type({
    ...attempt,
    personId: t.string,
    purpose: LinkPurpose,
    codeHash: t.string,
    expiresAt: IsoInstant,
    /** Who asked: the person themselves (their id) or the admin who invited them. */
    by: Actor,
  }),
});
/** The link's code was exchanged: it is good for nothing more. */
export const SignInCodeRedeemed = t.type({
  type: t.literal('SignInCodeRedeemed'),
  data: t.type({ ...attempt, personId: t.string }),
});
export const SignedIn = t.type({
  type: t.literal('SignedIn'),
  data: t.type({ ...attempt, personId: t.string, method: SessionMethod, sessionId: t.string }),
});
export const SignInFailed = t.type({
  type: t.literal('SignInFailed'),
  data: t.intersection([
    t.type({ ...attempt, method: SessionMethod, reason: SignInFailureReason }),
    t.partial({ personId: t.string, addressHash: t.string }),
  ]),
});
export const SignInEvent = t.union([SignInLinkSent, SignInCodeRedeemed, SignedIn, SignInFailed]);
export type SignInEvent = t.TypeOf<typeof SignInEvent>;
export const signInEventTypes = eventTypesOf(SignInEvent);

type Data<K extends SignInEvent['type']> = Extract<SignInEvent, { type: K }>['data'];

export type SignInCommand =
  | { readonly type: 'SendLink'; readonly data: Data<'SignInLinkSent'> }
  | {
      readonly type: 'RedeemCode';
      readonly data: { readonly attemptId: string; readonly codeHash: string; readonly at: string };
    }
  | { readonly type: 'RecordSignIn'; readonly data: Data<'SignedIn'> }
  | { readonly type: 'RecordFailure'; readonly data: Data<'SignInFailed'> };

export type SignInState =
  | { readonly status: 'none' }
  | {
      readonly status: 'link-sent';
      readonly personId: string;
      readonly codeHash: string;
      readonly expiresAt: string;
    }
  | { readonly status: 'redeemed'; readonly personId: string }
  | { readonly status: 'signed-in'; readonly personId: string }
  | { readonly status: 'failed' };

export const initialState = (): SignInState => ({ status: 'none' });

export type SignInError =
  | ValidationFailed
  | { readonly _tag: 'AttemptAlreadyExists' }
  | { readonly _tag: 'CodeRefused'; readonly reason: 'code-used' | 'code-expired' | 'unknown-code' };

const sha256Hex = /^[0-9a-f]{64}$/;
const hashError = (path: string, value: string | undefined): FieldError[] =>
  value === undefined || sha256Hex.test(value) ? [] : [{ path, message: 'must be a SHA-256 in lowercase hexadecimal' }];

const invalid = (errors: FieldError[]) => (errors.length > 0 ? validationFailed(errors) : undefined);

const redeem = (
  data: Extract<SignInCommand, { type: 'RedeemCode' }>['data'],
  state: SignInState,
): E.Either<SignInError, SignInEvent[]> => {
  const refused = invalid(hashError('codeHash', data.codeHash));
  if (refused !== undefined) return E.left(refused);
  switch (state.status) {
    case 'none':
    case 'failed':
      return E.left({ _tag: 'CodeRefused', reason: 'unknown-code' });
    case 'redeemed':
    case 'signed-in':
      return E.left({ _tag: 'CodeRefused', reason: 'code-used' });
    case 'link-sent':
      if (state.codeHash !== data.codeHash) return E.left({ _tag: 'CodeRefused', reason: 'unknown-code' });
      if (Date.parse(state.expiresAt) <= Date.parse(data.at))
        return E.left({ _tag: 'CodeRefused', reason: 'code-expired' });
      return E.right([
        { type: 'SignInCodeRedeemed', data: { attemptId: data.attemptId, personId: state.personId, at: data.at } },
      ]);
    default:
      return assertNever(state);
  }
};

export const decide = (command: SignInCommand, state: SignInState): E.Either<SignInError, SignInEvent[]> => {
  switch (command.type) {
    case 'SendLink': {
      const d = command.data;
      const refused = invalid([
        ...checkId('attemptId', d.attemptId),
        ...checkId('personId', d.personId),
        ...hashError('codeHash', d.codeHash),
      ]);
      if (refused !== undefined) return E.left(refused);
      if (state.status !== 'none') return E.left({ _tag: 'AttemptAlreadyExists' });
      return E.right([{ type: 'SignInLinkSent', data: d }]);
    }
    case 'RedeemCode':
      return redeem(command.data, state);
    case 'RecordSignIn': {
      const d = command.data;
      const refused = invalid([...checkId('personId', d.personId), ...checkId('sessionId', d.sessionId)]);
      if (refused !== undefined) return E.left(refused);
      // A sign-in by link follows the code's redemption, for the same person; any other is an attempt of its own.
      const follows = state.status === 'redeemed' && state.personId === d.personId;
      if (state.status !== 'none' && !follows) return E.left({ _tag: 'AttemptAlreadyExists' });
      return E.right([{ type: 'SignedIn', data: d }]);
    }
    case 'RecordFailure': {
      const refused = invalid(hashError('addressHash', command.data.addressHash));
      if (refused !== undefined) return E.left(refused);
      // A failed use of a link is recorded on the link; it changes nothing about the link itself.
      return E.right([{ type: 'SignInFailed', data: command.data }]);
    }
    default:
      return assertNever(command);
  }
};

export const evolve = (state: SignInState, event: SignInEvent): SignInState => {
  switch (event.type) {
    case 'SignInLinkSent':
      return {
        status: 'link-sent',
        personId: event.data.personId,
        codeHash: event.data.codeHash,
        expiresAt: event.data.expiresAt,
      };
    case 'SignInCodeRedeemed':
      return { status: 'redeemed', personId: event.data.personId };
    case 'SignedIn':
      return { status: 'signed-in', personId: event.data.personId };
    case 'SignInFailed':
      return state.status === 'none' ? { status: 'failed' } : state;
    default:
      return assertNever(event);
  }
};

export const signInStreamPrefix = 'signin-';
export const signInStreamName = (attemptId: string): string => `${signInStreamPrefix}${attemptId}`;
export const signInDecider: Decider<SignInCommand, SignInEvent, SignInState, SignInError> = {
  decide,
  evolve,
  initialState,
};
