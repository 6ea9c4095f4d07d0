import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { Actor, IsoInstant, assertNever, checkId, validationFailed } from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';

/**
 * A person's identity at an OpenID provider: the provider's `iss` and `sub`, linked to one person of the directory.
 * One stream per identity, named by a digest of issuer and subject (a `sub` may hold any characters); the link is made
 * once, on the first sign-in matched by verified email, and later sign-ins find the person by it. Refused sign-ins
 * are recorded on the same stream so the audit log shows them.
 */

const stamp = { at: IsoInstant, by: Actor };
const identity = { issuer: t.string, subject: t.string };

export const IdentityLinked = t.type({
  type: t.literal('IdentityLinked'),
  data: t.type({ ...identity, personId: t.string, ...stamp }),
});
/** Why a sign-in through the provider was refused: no person matched, the person is deactivated or has no role. */
export const IdentityRefusalReason = t.keyof({
  'no-matching-person': null,
  'person-deactivated': null,
  'no-roles': null,
});
export type IdentityRefusalReason = t.TypeOf<typeof IdentityRefusalReason>;
export const IdentitySignInFailed = t.type({
  type: t.literal('IdentitySignInFailed'),
  data: t.intersection([
    t.type({ ...identity, reason: IdentityRefusalReason, ...stamp }),
    t.partial({ personId: t.string }),
  ]),
});
export const IdentityEvent = t.union([IdentityLinked, IdentitySignInFailed]);
export type IdentityEvent = t.TypeOf<typeof IdentityEvent>;
export const identityEventTypes = eventTypesOf(IdentityEvent);

export type IdentityCommand =
  | { readonly type: 'LinkIdentity'; readonly data: t.TypeOf<typeof IdentityLinked>['data'] }
  | { readonly type: 'RecordSignInFailure'; readonly data: t.TypeOf<typeof IdentitySignInFailed>['data'] };

export type IdentityState =
  | { readonly status: 'unlinked' }
  | { readonly status: 'linked'; readonly issuer: string; readonly subject: string; readonly personId: string };

export const initialState = (): IdentityState => ({ status: 'unlinked' });

export const MAX_SUBJECT_LENGTH = 255;
export const MAX_ISSUER_LENGTH = 2048;

const checkIdentity = (issuer: string, subject: string): FieldError[] => [
  ...(issuer.length === 0 || issuer.length > MAX_ISSUER_LENGTH
    ? [{ path: 'issuer', message: `must be 1 to ${MAX_ISSUER_LENGTH} characters` }]
    : []),
  ...(subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH
    ? [{ path: 'subject', message: `must be 1 to ${MAX_SUBJECT_LENGTH} characters` }]
    : []),
];

/** Linking an identity that is linked already changes nothing: the first link stays (an admin unlinks, not a login). */
export const decide = (command: IdentityCommand, state: IdentityState): E.Either<ValidationFailed, IdentityEvent[]> => {
  switch (command.type) {
    case 'LinkIdentity': {
      const { issuer, subject, personId } = command.data;
      const errors = [...checkIdentity(issuer, subject), ...checkId('personId', personId)];
      if (errors.length > 0) return E.left(validationFailed(errors));
      if (state.status === 'linked') return E.right([]);
      return E.right([{ type: 'IdentityLinked', data: command.data }]);
    }
    case 'RecordSignInFailure': {
      const errors = checkIdentity(command.data.issuer, command.data.subject);
      if (errors.length > 0) return E.left(validationFailed(errors));
      return E.right([{ type: 'IdentitySignInFailed', data: command.data }]);
    }
    default:
      return assertNever(command);
  }
};

export const evolve = (state: IdentityState, event: IdentityEvent): IdentityState => {
  switch (event.type) {
    case 'IdentityLinked':
      return {
        status: 'linked',
        issuer: event.data.issuer,
        subject: event.data.subject,
        personId: event.data.personId,
      };
    case 'IdentitySignInFailed':
      return state;
    default:
      return assertNever(event);
  }
};

export const identityStreamPrefix = 'identity-';
/** `key` is the identity's digest (see application/oidc.ts), never the raw subject. */
export const identityStreamName = (key: string): string => `${identityStreamPrefix}${key}`;
export const identityDecider: Decider<IdentityCommand, IdentityEvent, IdentityState, ValidationFailed> = {
  decide,
  evolve,
  initialState,
};
