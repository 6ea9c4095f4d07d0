import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { identities } from '../../application/aggregates.ts';
import { createRecorder } from '../../application/execute.ts';
import { createIdentities, identityKey, rolesFromClaim } from '../../application/oidc.ts';
import type { PersonView } from '../../application/ports/read-models.ts';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';

const issuer = 'https://id.example.com';
const person = (id: string, extra: Partial<PersonView> = {}): PersonView => ({
  id,
  name: id,
  email: `${id}@example.com`,
  roles: ['customer'],
  active: true,
  updatedAt: '2030-01-01T00:00:00.000Z',
  ...extra,
});

const setup = (people: ReadonlyArray<PersonView>, rolesClaim?: string) => {
  const store = createInMemoryEventStore();
  let n = 0;
  const recorder = createRecorder({ store, newId: () => `id-${++n}` });
  const queries = {
    getPerson: (id: string) => people.find((p) => p.id === id),
    personByEmail: (email: string) => people.find((p) => p.email.toLowerCase() === email.toLowerCase()),
  };
  const clock = () => new Date('2030-03-01T12:00:00.000Z');
  const ids = createIdentities({ recorder, queries, clock, issuer, ...(rolesClaim ? { rolesClaim } : {}) });
  const events = async (subject: string) => {
    const loaded = await store.readStream(identities.streamName(identityKey(issuer, subject)));
    return loaded.map((e) => e.type);
  };
  return { ids, recorder, events, store };
};

describe('identifying a person signing in through the OpenID provider', () => {
  it('matches by verified email on a sign-in, links the identity, and then finds the person by the link', async () => {
    const { ids, events } = setup([person('cora')]);
    const first = await ids.identify({ sub: 's1', email: 'CORA@example.com', email_verified: true }, true);
    expect(E.isRight(first) && first.right).toMatchObject({
      person: { id: 'cora' },
      roles: ['customer'],
      linked: true,
    });
    expect(await events('s1')).toEqual(['IdentityLinked']);
    // The address changed at the provider: the link still says who this is.
    const again = await ids.identify({ sub: 's1', email: 'other@example.com', email_verified: false }, true);
    expect(E.isRight(again) && again.right).toMatchObject({ person: { id: 'cora' }, linked: false });
    expect(await events('s1')).toEqual(['IdentityLinked']);
  });

  it('does not match an unverified address, and records the refusal', async () => {
    const { ids, events } = setup([person('cora')]);
    const result = await ids.identify({ sub: 's2', email: 'cora@example.com', email_verified: false }, true);
    expect(result).toEqual(E.left(expect.objectContaining({ reason: 'no-matching-person' })));
    expect(await events('s2')).toEqual(['IdentitySignInFailed']);
  });

  it('refuses a linked person once deactivated (the directory is asked every time, only the link is kept)', async () => {
    const people = [person('cora')];
    const { ids } = setup(people);
    const claims = { sub: 's7', email: 'cora@example.com', email_verified: true };
    expect(E.isRight(await ids.identify(claims, true))).toBe(true);
    expect(E.isRight(await ids.identify(claims, false))).toBe(true);
    people[0] = person('cora', { active: false });
    expect(await ids.identify(claims, false)).toEqual(
      E.left(expect.objectContaining({ reason: 'person-deactivated' })),
    );
  });

  it('refuses a deactivated person', async () => {
    const { ids } = setup([person('dave', { active: false })]);
    const result = await ids.identify({ sub: 's3', email: 'dave@example.com', email_verified: true }, true);
    expect(result).toEqual(E.left({ reason: 'person-deactivated', message: 'the account is deactivated' }));
  });

  it('a bearer token only reads: it neither links nor records', async () => {
    const { ids, events } = setup([person('cora')]);
    const ok = await ids.identify({ sub: 's4', email: 'cora@example.com', email_verified: 'true' }, false);
    expect(E.isRight(ok) && ok.right.linked).toBe(false);
    await ids.identify({ sub: 's5' }, false);
    expect(await events('s4')).toEqual([]);
    expect(await events('s5')).toEqual([]);
  });

  it('takes roles from the configured claim (array, string or dotted path), keeping only known roles', async () => {
    const { ids } = setup([person('ada', { roles: ['customer'] })], 'realm_access.roles');
    const claims = { sub: 's6', email: 'ada@example.com', email_verified: true };
    const result = await ids.identify({ ...claims, realm_access: { roles: ['admin', 'superuser'] } }, true);
    expect(E.isRight(result) && result.right.roles).toEqual(['admin']);
    const none = await ids.identify({ ...claims, realm_access: { roles: ['superuser'] } }, true);
    expect(none).toEqual(E.left(expect.objectContaining({ reason: 'no-roles' })));
    expect(rolesFromClaim('auditor  instructor')).toEqual(['auditor', 'instructor']);
    expect(rolesFromClaim(42)).toEqual([]);
  });
});
