import { describe, expect, it } from 'vitest';
import { personDecider } from '../../domain/person.ts';
import type { PersonCommand, PersonEvent } from '../../domain/person.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(personDecider);
const at = '2030-01-01T10:00:00.000Z';
const by = { id: 'admin-1', roles: ['admin' as const] };
const stamped = { personId: 'p1', at, by };
const details = { ...stamped, name: 'Cora', email: 'cora@example.com' };

const record = (extra: Partial<PersonCommand['data']> = {}): PersonCommand => ({
  type: 'RecordPerson',
  data: { ...details, ...extra },
});
const registered: PersonEvent = { type: 'PersonRegistered', data: { ...details, timezone: undefined } };

describe('the person decider', () => {
  it('registers a new person, with the roles and language given, active', () => {
    spec
      .given([])
      .when(record({ roles: ['customer', 'customer', 'admin'], language: 'es-MX' }))
      .then([
        { type: 'PersonRegistered', data: { ...details, timezone: undefined, language: 'es-MX' } },
        { type: 'PersonRolesChanged', data: { ...stamped, roles: ['admin', 'customer'], previous: [] } },
      ]);
    spec
      .given([])
      .when(record({ roles: ['instructor'] }))
      .thenState((s) => expect(s).toMatchObject({ status: 'known', roles: ['instructor'], active: true }));
  });

  it('names a role change and a deactivation as events of their own, and decides nothing when nothing changes', () => {
    const withRoles: PersonEvent = {
      type: 'PersonRolesChanged',
      data: { ...stamped, roles: ['customer'], previous: [] },
    };
    spec
      .given([registered, withRoles])
      .when(record({ roles: ['customer', 'instructor'], active: false }))
      .then([
        { type: 'PersonRolesChanged', data: { ...stamped, roles: ['instructor', 'customer'], previous: ['customer'] } },
        { type: 'PersonDeactivated', data: stamped },
      ]);
    spec
      .given([registered, withRoles])
      .when(record({ roles: ['customer'], active: true }))
      .then([]);
    spec.given([registered, withRoles]).when(record()).then([]);
  });

  it('reactivates, and keeps roles and active state through a change of details', () => {
    const deactivated: PersonEvent = { type: 'PersonDeactivated', data: stamped };
    const withRoles: PersonEvent = {
      type: 'PersonRolesChanged',
      data: { ...stamped, roles: ['auditor'], previous: [] },
    };
    spec
      .given([registered, withRoles, deactivated])
      .when(record({ name: 'Cora Q.' }))
      .thenState((s) => expect(s).toMatchObject({ name: 'Cora Q.', roles: ['auditor'], active: false }));
    spec
      .given([registered, deactivated])
      .when(record({ active: true }))
      .then([{ type: 'PersonReactivated', data: stamped }]);
  });

  it('keeps the language when a body leaves it out, and changes it when one names another', () => {
    const withLanguage: PersonEvent = {
      type: 'PersonRegistered',
      data: { ...details, timezone: undefined, language: 'fr' },
    };
    spec.given([withLanguage]).when(record()).then([]);
    spec
      .given([withLanguage])
      .when(record({ language: 'de-CH' }))
      .then([{ type: 'PersonUpdated', data: { ...details, timezone: undefined, language: 'de-CH' } }]);
  });

  it('refuses a language that is no BCP 47 tag, naming the field', () => {
    for (const language of ['', 'e', 'english language', 'en_US', `en-${'x'.repeat(40)}`, 'en-\n'])
      spec
        .given([])
        .when(record({ language }))
        .thenError((e) => expect(e.errors.map((x) => x.path)).toEqual(['language']));
  });
});
