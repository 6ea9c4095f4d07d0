import { describe, expect, it } from 'vitest';
import { sessionDecider } from '../../domain/session.ts';
import type { SessionCommand, SessionEvent } from '../../domain/session.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(sessionDecider);
const h = (c: string) => c.repeat(64);
const ids = { sessionId: 's1', personId: 'cora' };
const started: SessionEvent = {
  type: 'SessionStarted',
  data: {
    ...ids,
    method: 'email',
    refreshHash: h('a'),
    expiresAt: '2030-01-31T10:00:00.000Z',
    client: {},
    at: '2030-01-01T10:00:00.000Z',
  },
};
const refresh = (presented: string, next: string, at = '2030-01-02T10:00:00.000Z'): SessionCommand => ({
  type: 'RefreshSession',
  data: {
    sessionId: 's1',
    presentedHash: presented,
    refreshHash: next,
    expiresAt: '2030-02-01T10:00:00.000Z',
    client: {},
    at,
  },
});
const refreshed: SessionEvent = {
  type: 'SessionRefreshed',
  data: {
    ...ids,
    refreshHash: h('b'),
    previousHash: h('a'),
    expiresAt: '2030-02-01T10:00:00.000Z',
    client: {},
    at: '2030-01-02T10:00:00.000Z',
  },
};

describe('the session decider', () => {
  it('starts a family with the hash of its first credential, once', () => {
    spec.given([]).when({ type: 'StartSession', data: started.data }).then([started]);
    spec
      .given([started])
      .when({ type: 'StartSession', data: started.data })
      .thenError({ _tag: 'SessionAlreadyExists' });
    spec
      .given([])
      .when({ type: 'StartSession', data: { ...started.data, refreshHash: 'not-a-hash' } })
      .thenError({ _tag: 'ValidationFailed' });
  });

  it('rotates the current credential and keeps only hashes', () => {
    spec
      .given([started])
      .when(refresh(h('a'), h('b')))
      .then([refreshed]);
    spec
      .given([started, refreshed])
      .when(refresh(h('b'), h('c')))
      .thenState((s) =>
        expect(s).toMatchObject({ status: 'active', currentHash: h('c'), previousHashes: [h('a'), h('b')] }),
      );
  });

  it('revokes the whole family when a used credential comes back (a replay)', () => {
    spec
      .given([started, refreshed])
      .when(refresh(h('a'), h('c')))
      .then([{ type: 'SessionRevoked', data: { ...ids, reason: 'replay', at: '2030-01-02T10:00:00.000Z' } }]);
    const revoked: SessionEvent = { type: 'SessionRevoked', data: { ...ids, reason: 'replay', at: started.data.at } };
    // Even the credential that was current is good for nothing afterwards.
    spec
      .given([started, refreshed, revoked])
      .when(refresh(h('b'), h('c')))
      .thenError({ _tag: 'SessionEnded', reason: 'replay' });
  });

  it('refuses a credential the family never handed out, without ending it', () => {
    spec
      .given([started])
      .when(refresh(h('f'), h('c')))
      .thenError({ _tag: 'UnknownCredential' });
  });

  it('ends a family used after its refresh lifetime as expired', () => {
    spec
      .given([started])
      .when(refresh(h('a'), h('b'), '2030-01-31T10:00:00.000Z'))
      .then([{ type: 'SessionRevoked', data: { ...ids, reason: 'expired', at: '2030-01-31T10:00:00.000Z' } }]);
  });

  it('revokes with the first reason given; a second revocation changes nothing', () => {
    const revoke = (reason: 'sign-out' | 'deactivated'): SessionCommand => ({
      type: 'RevokeSession',
      data: { sessionId: 's1', reason, at: '2030-01-03T10:00:00.000Z' },
    });
    const signedOut: SessionEvent = {
      type: 'SessionRevoked',
      data: { ...ids, reason: 'sign-out', at: '2030-01-03T10:00:00.000Z' },
    };
    spec.given([started]).when(revoke('sign-out')).then([signedOut]);
    spec.given([started, signedOut]).when(revoke('deactivated')).then([]);
    spec.given([]).when(revoke('sign-out')).thenError({ _tag: 'SessionNotFound' });
  });
});
