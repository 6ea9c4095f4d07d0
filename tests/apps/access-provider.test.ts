import { describe, expect, it } from 'vitest';
import { defaultAccessProvider } from '../../application/default-access.ts';
import type { AccessProvider } from '../../application/ports/access.ts';
import { aMeeting } from '../support/builders.ts';
import { useSystem } from '../support/system.ts';

// A site's own provider, as the original's PersonalTrainingProvider plugin: a front desk sees every session,
// a CRM-blocked member sees none, and lists hide cancelled sessions.
const calls: string[] = [];
const crmPeople = new Set(['ivan', 'blocked']);

const sys = useSystem({
  system: {
    access: (queries) => {
      const base = defaultAccessProvider(queries);
      const provider: AccessProvider = {
        name: 'crm',
        canView: async (user, m) => {
          calls.push(`view:${user.id}`);
          if (user.id === 'blocked') return false;
          return user.id === 'desk' || base.canView(user, m);
        },
        canModify: async (user, m) => {
          calls.push(`modify:${user.id}`);
          return base.canModify(user, m);
        },
        canCreate: async (user, draft) => {
          calls.push(`create:${user.id}`);
          return base.canCreate(user, draft);
        },
        canReadCalendarOf: async (user, userId) => user.id === 'desk' || base.canReadCalendarOf(user, userId),
        filterVisible: async (user, items) => {
          const visible = [];
          for (const item of items) {
            if ((await provider.canView(user, item)) && (item.state !== 'cancelled' || user.id === 'desk'))
              visible.push(item);
          }
          return visible;
        },
        userMeetings: (userId, from, to) => base.userMeetings(userId, from, to),
        // The CRM knows its members and coaches, none of whom was ever put into the people directory.
        personExists: async (personId) => {
          calls.push(`exists:${personId}`);
          return crmPeople.has(personId) || base.personExists(personId);
        },
      };
      return provider;
    },
  },
});

describe('a plugged-in access provider', () => {
  it('decides every read and write', async () => {
    const ivan = await sys.as('ivan', ['instructor']);
    const body = { customerId: 'blocked', instructorId: 'ivan' };
    const kept = await ivan.request(
      'POST',
      '/meetings',
      aMeeting({ ...body, start: '2032-01-01T10:00:00Z', end: '2032-01-01T11:00:00Z' }),
    );
    const dropped = await ivan.request(
      'POST',
      '/meetings',
      aMeeting({ ...body, start: '2032-01-02T10:00:00Z', end: '2032-01-02T11:00:00Z' }),
    );
    expect([kept.status, dropped.status]).toEqual([201, 201]);
    expect(calls).toContain('create:ivan');
    expect(calls).toEqual(expect.arrayContaining(['exists:blocked', 'exists:ivan']));
    // Someone neither the CRM nor the directory knows: 400, and the directory still counts for the rest.
    const ghost = await ivan.request(
      'POST',
      '/meetings',
      aMeeting({ ...body, customerId: 'ghost-99', start: '2032-01-03T10:00:00Z', end: '2032-01-03T11:00:00Z' }),
    );
    expect(ghost.status).toBe(400);
    expect(ghost.body.errors).toEqual([expect.objectContaining({ path: 'customerId' })]);
    const admin = await sys.as('ada', ['admin']);
    expect(
      (await admin.request('PUT', '/people/ghost-99', { name: 'Gus Ghost', email: 'gus@example.com' })).status,
    ).toBe(200);
    const listed = await ivan.request(
      'POST',
      '/meetings',
      aMeeting({ ...body, customerId: 'ghost-99', start: '2032-01-03T10:00:00Z', end: '2032-01-03T11:00:00Z' }),
    );
    expect(listed.status).toBe(201);
    await ivan.request('POST', `/meetings/${listed.body.id}/cancel`, {});
    await ivan.request('POST', `/meetings/${dropped.body.id}/cancel`, {});
    expect(calls).toContain('modify:ivan');

    const desk = await sys.as('desk', ['instructor']);
    expect((await desk.request('GET', `/meetings/${kept.body.id}`)).status).toBe(200);
    expect((await desk.request('PATCH', `/meetings/${kept.body.id}`, { title: 'x' })).status).toBe(403);
    const deskCalendar = await desk.request(
      'GET',
      '/calendar?userId=ivan&from=2032-01-01T00:00:00Z&to=2032-01-03T00:00:00Z',
    );
    expect(deskCalendar.body.items).toHaveLength(2);

    const blocked = await sys.as('blocked', ['customer']);
    expect((await blocked.request('GET', `/meetings/${kept.body.id}`)).status).toBe(404);
    const own = await blocked.request('GET', '/calendar?from=2032-01-01T00:00:00Z&to=2032-01-03T00:00:00Z');
    expect(own.body.items).toEqual([]);

    const ivanCalendar = await ivan.request('GET', '/calendar?from=2032-01-01T00:00:00Z&to=2032-01-03T00:00:00Z');
    expect(ivanCalendar.body.items.map((i: { meetingId: string }) => i.meetingId)).toEqual([kept.body.id]);
  });
});
