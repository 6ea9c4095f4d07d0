import { describe, expect, it } from 'vitest';
import { useSystem } from '../../support/system.ts';

const sys = useSystem({ people: ['ivan'] });

describe('PUT /people/:id with a CRM record', () => {
  it('keeps it for admins and auditors, leaves it when a body has none, and refuses one out of bounds', async () => {
    const admin = await sys.as('ada', ['admin']);
    const body = { name: 'Cora', email: 'cora@example.com', roles: ['customer'] };
    const put = await admin.request('PUT', '/people/cora', {
      ...body,
      crm: { externalId: 'CRM-7', fields: { tier: 'gold' } },
    });
    expect(put.status).toBe(200);
    expect(put.body.crm).toEqual({ externalId: 'CRM-7', fields: { tier: 'gold' } });
    // An older client's body, without `crm`: the record stays.
    expect((await admin.request('PUT', '/people/cora', { ...body, name: 'Cora C' })).body.crm).toEqual({
      externalId: 'CRM-7',
      fields: { tier: 'gold' },
    });
    const auditor = await sys.as('audrey', ['auditor']);
    expect((await auditor.request('GET', '/people/cora')).body.crm).toEqual({
      externalId: 'CRM-7',
      fields: { tier: 'gold' },
    });
    const listed = await auditor.request('GET', '/people?query=cora');
    expect(listed.body.items[0].crm).toEqual({ externalId: 'CRM-7', fields: { tier: 'gold' } });
    const cora = await sys.as('cora', ['customer']);
    expect((await cora.request('GET', '/people/cora')).body).not.toHaveProperty('crm');
    const ivan = await sys.as('ivan', ['instructor']);
    expect(JSON.stringify((await ivan.request('GET', '/directory/names?query=cora')).body)).not.toContain('CRM-7');

    const bad = await admin.request('PUT', '/people/cora', {
      ...body,
      crm: { fields: { 'a/b': 'x', ok: 7 }, colour: 'red' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['crm.colour', 'crm.fields.ok']);
    const named = await admin.request('PUT', '/people/cora', { ...body, crm: { fields: { 'a/b': 'x' } } });
    expect(named.status).toBe(400);
    expect(named.body.errors).toEqual([expect.objectContaining({ path: 'crm.fields.a/b' })]);
    expect((await admin.request('PUT', '/people/cora', { ...body, crm: {} })).body).not.toHaveProperty('crm');
  });
});
