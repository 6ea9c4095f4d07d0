import { describe, expect, it } from 'vitest';
import { signInDecider } from '../../domain/sign-in.ts';
import type { SignInCommand, SignInEvent } from '../../domain/sign-in.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(signInDecider);
const h = (c: string) => c.repeat(64);
const sent: SignInEvent = {
  type: 'SignInLinkSent',
  data: {
    attemptId: 'a1',
    personId: 'kim',
    purpose: 'sign-in',
    codeHash: h('a'),
    expiresAt: '2030-01-01T10:15:00.000Z',
    at: '2030-01-01T10:00:00.000Z',
    by: { id: 'kim', roles: ['customer'] },
  },
};
const redeem = (codeHash: string, at = '2030-01-01T10:05:00.000Z'): SignInCommand => ({
  type: 'RedeemCode',
  data: { attemptId: 'a1', codeHash, at },
});
const redeemed: SignInEvent = {
  type: 'SignInCodeRedeemed',
  data: { attemptId: 'a1', personId: 'kim', at: '2030-01-01T10:05:00.000Z' },
};

describe('the sign-in attempt decider', () => {
  it('redeems the code of a link once, before it expires', () => {
    spec
      .given([sent])
      .when(redeem(h('a')))
      .then([redeemed]);
    spec
      .given([sent, redeemed])
      .when(redeem(h('a')))
      .thenError({ _tag: 'CodeRefused', reason: 'code-used' });
    spec
      .given([sent])
      .when(redeem(h('a'), '2030-01-01T10:15:00.000Z'))
      .thenError({ _tag: 'CodeRefused', reason: 'code-expired' });
    spec
      .given([sent])
      .when(redeem(h('b')))
      .thenError({ _tag: 'CodeRefused', reason: 'unknown-code' });
    spec
      .given([])
      .when(redeem(h('a')))
      .thenError({ _tag: 'CodeRefused', reason: 'unknown-code' });
  });

  it('records the sign-in after the redemption, for the same person only', () => {
    const signIn = (personId: string): SignInCommand => ({
      type: 'RecordSignIn',
      data: { attemptId: 'a1', personId, method: 'email', sessionId: 's1', at: '2030-01-01T10:05:00.000Z' },
    });
    spec
      .given([sent, redeemed])
      .when(signIn('kim'))
      .thenState((s) => expect(s).toEqual({ status: 'signed-in', personId: 'kim' }));
    spec.given([sent, redeemed]).when(signIn('eve')).thenError({ _tag: 'AttemptAlreadyExists' });
    // A link not yet redeemed signs nobody in.
    spec.given([sent]).when(signIn('kim')).thenError({ _tag: 'AttemptAlreadyExists' });
  });

  it('keeps only hashes: a code hash that is not a SHA-256 is refused', () => {
    spec
      .given([])
      .when({ type: 'SendLink', data: { ...sent.data, codeHash: 'the-code-itself' } } as SignInCommand)
      .thenError({ _tag: 'ValidationFailed' });
    spec
      .given([])
      .when({
        type: 'RecordFailure',
        data: {
          attemptId: 'a2',
          method: 'email',
          reason: 'unknown-address',
          addressHash: 'kim@example.com',
          at: sent.data.at,
        },
      })
      .thenError({ _tag: 'ValidationFailed' });
  });
});
