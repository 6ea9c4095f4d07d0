import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { MAX_CRM_FIELDS, MAX_CRM_VALUE_LENGTH, decide, evolve, initialState } from '../../domain/person.ts';
import type { PersonCommand, PersonEvent, PersonState } from '../../domain/person.ts';

const stamp = { at: '2031-01-01T00:00:00.000Z', by: { id: 'ada', roles: ['admin' as const] } };
const record = (extra: Partial<PersonCommand['data']> = {}): PersonCommand => ({
  type: 'RecordPerson',
  data: { personId: 'p1', name: 'Pat', email: 'pat@example.com', ...stamp, ...extra },
});
const run = (state: PersonState, command: PersonCommand) => {
  const decided = decide(command, state);
  if (E.isLeft(decided)) throw new Error(JSON.stringify(decided.left));
  return { events: decided.right, state: decided.right.reduce(evolve, state) };
};

describe('the CRM record of a person', () => {
  it('is kept in one spelling, left as it is when a command gives none, and cleared by an empty one', () => {
    const first = run(
      initialState(),
      record({ crm: { externalId: ' CRM-1 ', fields: { b: '2', a: '1', empty: '' } } }),
    );
    expect(first.events).toEqual([
      expect.objectContaining({
        type: 'PersonRegistered',
        data: expect.objectContaining({ crm: { externalId: 'CRM-1', fields: { a: '1', b: '2' } } }),
      }),
    ]);
    // The same record in another order, or no record at all: nothing to record.
    expect(run(first.state, record({ crm: { fields: { a: '1', b: '2' }, externalId: 'CRM-1' } })).events).toEqual([]);
    expect(run(first.state, record()).events).toEqual([]);
    const renamed = run(first.state, record({ name: 'Pat P' }));
    expect(renamed.state).toMatchObject({ crm: { externalId: 'CRM-1' } });
    expect((renamed.events[0] as PersonEvent).data).not.toHaveProperty('crm');
    const cleared = run(renamed.state, record({ name: 'Pat P', crm: {} }));
    expect(cleared.events).toEqual([
      expect.objectContaining({ type: 'PersonUpdated', data: expect.objectContaining({ crm: {} }) }),
    ]);
    expect(cleared.state).not.toHaveProperty('crm');
  });

  it('reads events recorded before it was kept: they have none and change none', () => {
    const old: PersonEvent[] = [
      { type: 'PersonRegistered', data: { personId: 'p1', name: 'Pat', email: 'pat@example.com', ...stamp } },
      {
        type: 'PersonUpdated',
        data: { personId: 'p1', name: 'Pat', email: 'pat@example.com', timezone: 'Europe/Oslo', ...stamp },
      },
    ];
    const state = old.reduce(evolve, initialState());
    expect(state).not.toHaveProperty('crm');
    const withCrm = evolve(state, {
      type: 'PersonUpdated',
      data: { personId: 'p1', name: 'Pat', email: 'pat@example.com', crm: { externalId: 'X' }, ...stamp },
    });
    expect(evolve(withCrm, old[1]!)).toMatchObject({ crm: { externalId: 'X' } });
  });

  it('is bounded: the number of fields, their names, their values, the external id', () => {
    const errors = (crm: NonNullable<PersonCommand['data']['crm']>) => {
      const decided = decide(record({ crm }), initialState());
      return E.isLeft(decided) ? decided.left.errors.map((e) => e.path) : [];
    };
    const many = Object.fromEntries(Array.from({ length: MAX_CRM_FIELDS + 1 }, (_, i) => [`f${i}`, 'x']));
    expect(errors({ fields: many })).toEqual(['crm.fields']);
    expect(errors({ fields: { 'bad/name': 'x', ok: 'y'.repeat(MAX_CRM_VALUE_LENGTH + 1) } })).toEqual([
      'crm.fields.bad/name',
      'crm.fields.ok',
    ]);
    expect(errors({ fields: { note: 'two\nlines' } })).toEqual(['crm.fields.note']);
    expect(errors({ externalId: '   ' })).toEqual(['crm.externalId']);
    expect(errors({ externalId: 'CRM-1', fields: { 'Member Level': 'gold' } })).toEqual([]);
  });
});
