import { describe, expect, it } from 'vitest';
import { IdentityEvent, identityDecider } from '../../domain/identity.ts';
import type { IdentityCommand, IdentityEvent as Event } from '../../domain/identity.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(identityDecider);
const at = '2030-03-01T12:00:00.000Z';
const issuer = 'https://id.example.com';
const by = { id: 'cora', roles: ['customer' as const] };

const link = (personId: string, subject = 'sub-1'): IdentityCommand => ({
  type: 'LinkIdentity',
  data: { issuer, subject, personId, at, by },
});
const linked = (personId: string, subject = 'sub-1'): Event => ({
  type: 'IdentityLinked',
  data: { issuer, subject, personId, at, by },
});

describe('identity decider', () => {
  it('links an unlinked identity to the person', () => {
    spec
      .given([])
      .when(link('cora'))
      .then([linked('cora')]);
  });

  it('keeps the first link: linking again, even to another person, changes nothing', () => {
    spec
      .given([linked('cora')])
      .when(link('dave'))
      .then([]);
    spec
      .given([linked('cora')])
      .when(link('dave'))
      .thenState((state) => expect(state).toMatchObject({ status: 'linked', personId: 'cora' }));
  });

  it('refuses a blank or overlong subject and a bad person id', () => {
    spec
      .given([])
      .when(link('cora', ''))
      .thenError((error) => expect(error.errors.map((e) => e.path)).toEqual(['subject']));
    spec
      .given([])
      .when(link('cora', 'x'.repeat(256)))
      .thenError((error) => expect(error.errors.map((e) => e.path)).toEqual(['subject']));
    spec
      .given([])
      .when(link('bad\nid'))
      .thenError((error) => expect(error.errors.map((e) => e.path)).toEqual(['personId']));
  });

  it('records a refused sign-in without changing the link', () => {
    const failure: IdentityCommand = {
      type: 'RecordSignInFailure',
      data: { issuer, subject: 'sub-1', reason: 'person-deactivated', personId: 'cora', at, by },
    };
    spec
      .given([linked('cora')])
      .when(failure)
      .then([{ type: 'IdentitySignInFailed', data: failure.data }]);
    spec
      .given([linked('cora')])
      .when(failure)
      .thenState((state) => expect(state).toMatchObject({ status: 'linked', personId: 'cora' }));
  });

  it('decodes its events, and refuses an unknown refusal reason', () => {
    expect(IdentityEvent.is(linked('cora'))).toBe(true);
    const odd = { type: 'IdentitySignInFailed', data: { issuer, subject: 's', reason: 'because', at, by } };
    expect(IdentityEvent.decode(odd)._tag).toBe('Left');
  });
});
