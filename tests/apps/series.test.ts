import { describe, expect, it } from 'vitest';
import { aMeeting, aSeriesBody } from '../support/builders.ts';
import { useSystem } from '../support/system.ts';

let now = new Date('2030-03-01T00:00:00Z');
const sys = useSystem({
  system: { clock: () => now },
  people: [
    'ivan',
    'olga',
    'cora',
    'cam',
    'kim',
    ...Array.from({ length: 12 }, (_, i) => `racer-${i}`),
    ...Array.from({ length: 4 }, (_, i) => `s-racer-${i}`),
  ],
});
const admin = sys.client('ada', ['admin']);
const ivan = sys.client('ivan', ['instructor']);
const olga = sys.client('olga', ['instructor']);
const cora = sys.client('cora', ['customer']);
const cam = sys.client('cam', ['customer']);

type Occ = { meetingId: string; localDate: string; start: string; end: string; state: string };

describe('series', () => {
  it('expands in the series zone, keeping 10:00 New York across the DST change', async () => {
    const res = await ivan.request(
      'POST',
      '/series',
      aSeriesBody({
        title: 'Spring strength',
        timezone: 'America/New_York',
        startDate: '2030-03-04',
        startTime: '10:00',
        durationMinutes: 60,
        rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10',
      }),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/series/${res.body.id}`);
    const occ: Occ[] = res.body.occurrences;
    expect(occ.map((o) => o.localDate)).toEqual([
      '2030-03-04',
      '2030-03-06',
      '2030-03-11',
      '2030-03-13',
      '2030-03-18',
      '2030-03-20',
      '2030-03-25',
      '2030-03-27',
      '2030-04-01',
      '2030-04-03',
    ]);
    // EST (UTC-5) before 2030-03-10, EDT (UTC-4) after.
    expect(occ[0]).toMatchObject({
      start: '2030-03-04T15:00:00.000Z',
      end: '2030-03-04T16:00:00.000Z',
      state: 'planned',
    });
    expect(occ[1]?.start).toBe('2030-03-06T15:00:00.000Z');
    expect(occ[2]?.start).toBe('2030-03-11T14:00:00.000Z');
    expect(res.body).toMatchObject({
      state: 'active',
      timezone: 'America/New_York',
      rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10',
      revision: 0,
    });

    const calendar = await cora.request('GET', '/calendar?from=2030-03-01T00:00:00Z&to=2030-05-01T00:00:00Z');
    expect(calendar.body.items).toHaveLength(10);
    expect(calendar.body.items.every((i: { seriesId: string }) => i.seriesId === res.body.id)).toBe(true);
    const meeting = await cora.request('GET', `/meetings/${occ[0]?.meetingId}`);
    expect(meeting.body).toMatchObject({
      seriesId: res.body.id,
      title: 'Spring strength',
      timezone: 'America/New_York',
    });
    await ivan.request('POST', `/series/${res.body.id}/cancel`, { from: '2030-01-01T00:00:00Z' });
  });

  it('validates the recurrence and names the field', async () => {
    const noEnd = await ivan.request('POST', '/series', aSeriesBody({ rrule: 'FREQ=WEEKLY;BYDAY=MO' }));
    expect(noEnd.status).toBe(400);
    expect(noEnd.body.errors[0].path).toBe('rrule');
    const minutely = await ivan.request('POST', '/series', aSeriesBody({ rrule: 'FREQ=MINUTELY;COUNT=5' }));
    expect(minutely.status).toBe(400);
    const tooMany = await ivan.request('POST', '/series', aSeriesBody({ rrule: 'FREQ=DAILY;COUNT=501' }));
    expect(tooMany.status).toBe(400);
    const zone = await ivan.request('POST', '/series', aSeriesBody({ timezone: 'Mars/Base', startTime: '25:00' }));
    expect(zone.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['startTime', 'timezone']);
    expect((await cora.request('POST', '/series', aSeriesBody())).status).toBe(403);
    expect((await olga.request('POST', '/series', aSeriesBody())).status).toBe(403);
  });

  it('changing the recurrence keeps started sessions, individual edits and individual cancellations', async () => {
    now = new Date('2030-03-01T00:00:00Z');
    const created = await ivan.request(
      'POST',
      '/series',
      aSeriesBody({
        startDate: '2030-06-03',
        rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8',
        timezone: 'Europe/London',
        title: 'Summer',
      }),
    );
    expect(created.status).toBe(201);
    const seriesId = created.body.id;
    const occ: Occ[] = created.body.occurrences;
    const [first, second, third, fourth, fifth] = occ as [Occ, Occ, Occ, Occ, Occ];

    // Individual edits on single sessions.
    expect((await ivan.request('POST', `/meetings/${third.meetingId}/cancel`, { reason: 'holiday' })).status).toBe(200);
    const moved = await ivan.request('PATCH', `/meetings/${fourth.meetingId}`, {
      start: '2030-06-12T16:00:00Z',
      end: '2030-06-12T17:00:00Z',
      title: 'Special',
    });
    expect(moved.status).toBe(200);

    // Time passes: the first two sessions have started.
    now = new Date('2030-06-06T00:00:00Z');
    const changed = await ivan.request('PATCH', `/series/${seriesId}`, { startTime: '11:00', title: 'Summer v2' });
    expect(changed.status).toBe(200);
    const after: Occ[] = changed.body.occurrences;
    const byId = new Map(after.map((o) => [o.meetingId, o]));
    // Started sessions never change.
    expect(byId.get(first.meetingId)).toMatchObject({ start: first.start, state: 'planned' });
    expect(byId.get(second.meetingId)).toMatchObject({ start: second.start });
    // The individually cancelled one stays cancelled.
    expect(byId.get(third.meetingId)?.state).toBe('cancelled');
    // The individually moved one keeps its own time; others move to 11:00 London (10:00Z in BST).
    expect(byId.get(fourth.meetingId)?.start).toBe('2030-06-12T16:00:00.000Z');
    expect(byId.get(fifth.meetingId)?.start).toBe('2030-06-17T10:00:00.000Z');
    // Same meeting ids: nothing was deleted and recreated.
    expect(after.map((o) => o.meetingId).sort()).toEqual(occ.map((o) => o.meetingId).sort());
    // Title: applied where not individually edited.
    expect((await admin.request('GET', `/meetings/${fifth.meetingId}`)).body.title).toBe('Summer v2');
    expect((await admin.request('GET', `/meetings/${fourth.meetingId}`)).body.title).toBe('Special');
    expect((await admin.request('GET', `/meetings/${first.meetingId}`)).body.title).toBe('Summer');

    // Dropping Wednesdays cancels future Wednesday sessions (kept, with a reason), not past ones.
    const mondays = await ivan.request('PATCH', `/series/${seriesId}`, { rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=4' });
    expect(mondays.status).toBe(200);
    const states = new Map((mondays.body.occurrences as Occ[]).map((o) => [o.localDate, o.state]));
    expect(states.get('2030-06-05')).toBe('planned'); // a started Wednesday is untouched
    expect(states.get('2030-06-19')).toBe('cancelled');
    expect(states.get('2030-06-17')).toBe('planned');
    const wednesday = (mondays.body.occurrences as Occ[]).find((o) => o.localDate === '2030-06-19')!;
    const history = await cora.request('GET', `/meetings/${wednesday.meetingId}/history`);
    expect(history.body.events.at(-1)).toMatchObject({
      type: 'SessionCancelled',
      data: { origin: 'series', reason: 'The series schedule changed' },
    });

    // Bringing Wednesdays back reinstates the series-cancelled sessions, not the individually cancelled one.
    const back = await ivan.request('PATCH', `/series/${seriesId}`, { rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8' });
    const backStates = new Map((back.body.occurrences as Occ[]).map((o) => [o.meetingId, o.state]));
    expect(backStates.get(wednesday.meetingId)).toBe('planned');
    expect(backStates.get(third.meetingId)).toBe('cancelled');

    const seriesHistory = await cora.request('GET', `/series/${seriesId}/history`);
    expect(seriesHistory.body.events.map((e: { type: string }) => e.type)).toEqual([
      'SeriesScheduled',
      'SeriesRecurrenceChanged',
      'SeriesDetailsChanged',
      'SeriesRecurrenceChanged',
      'SeriesOccurrencesCancelled',
      'SeriesRecurrenceChanged',
    ]);
    const notice = seriesHistory.body.events[4];
    expect(notice.data.cancelled.map((c: { meetingId: string }) => c.meetingId)).toContain(wednesday.meetingId);
    expect(notice.data.cancelled.map((c: { meetingId: string }) => c.meetingId)).not.toContain(third.meetingId);
    await ivan.request('POST', `/series/${seriesId}/cancel`, { from: '2030-01-01T00:00:00Z' });
  });

  it('cancelling from an instant cancels the not-yet-cancelled sessions from then on, in one event', async () => {
    now = new Date('2030-08-01T00:00:00Z');
    const created = await ivan.request(
      'POST',
      '/series',
      aSeriesBody({ startDate: '2030-09-02', rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=6' }),
    );
    const occ: Occ[] = created.body.occurrences;
    await ivan.request('POST', `/meetings/${occ[4]!.meetingId}/cancel`, {});
    const res = await ivan.request('POST', `/series/${created.body.id}/cancel`, {
      from: occ[2]!.start,
      reason: 'Gym closed',
    });
    expect(res.status).toBe(200);
    expect(res.body.occurrences.map((o: Occ) => o.state)).toEqual([
      'planned',
      'planned',
      'cancelled',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    const history = await admin.request('GET', `/series/${created.body.id}/history`);
    const cancelled = history.body.events.at(-1);
    expect(cancelled.type).toBe('SeriesCancelled');
    expect(cancelled.data.cancelled.map((c: { meetingId: string }) => c.meetingId)).toEqual([
      occ[2]!.meetingId,
      occ[3]!.meetingId,
      occ[5]!.meetingId,
    ]);
    expect(cancelled.data.reason).toBe('Gym closed');
    const meetingHistory = await cora.request('GET', `/meetings/${occ[3]!.meetingId}/history`);
    expect(meetingHistory.body.events.at(-1).data).toMatchObject({
      origin: 'series',
      seriesCancellationId: cancelled.data.cancellationId,
    });
    // Cancelling everything left (default from = now) marks the series cancelled.
    const all = await ivan.request('POST', `/series/${created.body.id}/cancel`, {});
    expect(all.body.state).toBe('cancelled');
    expect((await ivan.request('POST', `/series/${created.body.id}/cancel`, {})).status).toBe(409);
    expect((await ivan.request('PATCH', `/series/${created.body.id}`, { title: 'x' })).status).toBe(409);
  });

  it("keeps its own sessions straight: hand-reinstated ones are cancelled with it, returning ones get today's details, its sessions do not double-book each other", async () => {
    now = new Date('2030-09-01T00:00:00Z');
    const created = await ivan.request(
      'POST',
      '/series',
      aSeriesBody({
        customerId: 'kim',
        timezone: 'UTC',
        startDate: '2030-09-09',
        startTime: '10:00',
        durationMinutes: 60,
        rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6',
      }),
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    const wednesday = `${id}_2030-09-11`;
    // Dropping Wednesdays cancels them; an admin brings one back by hand.
    await ivan.request('PATCH', `/series/${id}`, { rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=3' });
    expect((await admin.request('POST', `/meetings/${wednesday}/reinstate`)).status).toBe(200);
    // The series changes meanwhile; a returning Wednesday takes the current title and link.
    await ivan.request('PATCH', `/series/${id}`, {
      title: 'Autumn',
      trainingType: 'link',
      remoteLink: 'https://zoom.example/j/autumn',
    });
    const back = await ivan.request('PATCH', `/series/${id}`, { rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6' });
    expect(back.status).toBe(200);
    const returned = (await admin.request('GET', `/meetings/${id}_2030-09-18`)).body;
    expect(returned).toMatchObject({
      state: 'planned',
      title: 'Autumn',
      trainingType: 'link',
      remoteLink: 'https://zoom.example/j/autumn',
    });
    // A session moved by hand onto a Tuesday blocks a pattern that would put another session of the series there.
    expect(
      (
        await ivan.request('PATCH', `/meetings/${id}_2030-09-16`, {
          start: '2030-09-17T10:00:00Z',
          end: '2030-09-17T11:00:00Z',
        })
      ).status,
    ).toBe(200);
    const tuesdays = await ivan.request('PATCH', `/series/${id}`, { rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE;COUNT=9' });
    expect(tuesdays.status).toBe(409);
    expect(tuesdays.body.conflicts[0]).toMatchObject({ meetingId: `${id}_2030-09-16` });
    // Cancelling the series cancels every one of its sessions, the hand-reinstated one included.
    const cancelled = await ivan.request('POST', `/series/${id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.occurrences.filter((o: Occ) => o.state !== 'cancelled')).toEqual([]);
    expect((await admin.request('GET', `/meetings/${wednesday}`)).body.state).toBe('cancelled');
  });

  it('series access follows the meeting rules', async () => {
    now = new Date('2030-10-01T00:00:00Z');
    const created = await ivan.request(
      'POST',
      '/series',
      aSeriesBody({
        startDate: '2030-10-07',
        rrule: 'FREQ=WEEKLY;COUNT=2',
        customerMetadata: 'crm-1',
        instructorMetadata: 'crm-2',
      }),
    );
    const id = created.body.id;
    expect((await cam.request('GET', `/series/${id}`)).status).toBe(404);
    expect((await olga.request('GET', `/series/${id}`)).status).toBe(404);
    expect((await cam.request('GET', `/series/${id}/history`)).status).toBe(404);
    const asCustomer = await cora.request('GET', `/series/${id}`);
    expect(asCustomer.status).toBe(200);
    expect(asCustomer.body).not.toHaveProperty('customerMetadata');
    expect((await cora.request('PATCH', `/series/${id}`, { title: 'x' })).status).toBe(403);
    expect((await cora.request('POST', `/series/${id}/cancel`, {})).status).toBe(403);
    expect((await admin.request('GET', `/series/${id}`)).body).toMatchObject({
      customerMetadata: 'crm-1',
      instructorMetadata: 'crm-2',
    });
    const customerHistory = JSON.stringify((await cora.request('GET', `/series/${id}/history`)).body);
    expect(customerHistory).toContain('SeriesScheduled');
    expect(customerHistory).not.toContain('crm-');
    const instructorHistory = JSON.stringify((await ivan.request('GET', `/series/${id}/history`)).body);
    expect(instructorHistory).toContain('crm-1');
    expect(instructorHistory).not.toContain('crm-2');
    const occurrenceHistory = JSON.stringify(
      (await cora.request('GET', `/meetings/${created.body.occurrences[0].meetingId}/history`)).body,
    );
    expect(occurrenceHistory).not.toContain('crm-');
    const stale = await admin.request('PATCH', `/series/${id}`, { title: 'y' }, { 'if-match': '"7"' });
    expect(stale.status).toBe(412);
    await ivan.request('POST', `/series/${id}/cancel`, { from: '2030-01-01T00:00:00Z' });
  });
});

describe('no double bookings', () => {
  it('refuses a meeting overlapping an occurrence of the same instructor or customer, listing conflicts', async () => {
    now = new Date('2030-11-01T00:00:00Z');
    const created = await ivan.request(
      'POST',
      '/series',
      aSeriesBody({
        timezone: 'UTC',
        startDate: '2030-11-04',
        startTime: '10:00',
        durationMinutes: 60,
        rrule: 'FREQ=DAILY;COUNT=20',
      }),
    );
    expect(created.status).toBe(201);
    const overlapInstructor = await admin.request(
      'POST',
      '/meetings',
      aMeeting({ customerId: 'cam', instructorId: 'ivan', start: '2030-11-10T10:30:00Z', end: '2030-11-10T11:30:00Z' }),
    );
    expect(overlapInstructor.status).toBe(409);
    expect(overlapInstructor.body.conflicts).toEqual([
      expect.objectContaining({
        meetingId: `${created.body.id}_2030-11-10`,
        participant: 'instructor',
        userId: 'ivan',
      }),
    ]);
    const overlapCustomer = await admin.request(
      'POST',
      '/meetings',
      aMeeting({
        customerId: 'cora',
        instructorId: 'olga',
        start: '2030-11-10T09:30:00Z',
        end: '2030-11-10T10:01:00Z',
      }),
    );
    expect(overlapCustomer.status).toBe(409);
    expect(overlapCustomer.body.conflicts[0]).toMatchObject({ participant: 'customer', userId: 'cora' });
    // Another instructor is told that the customer is busy then, not what with, nor the meeting's id or times.
    const blind = await olga.request(
      'POST',
      '/meetings',
      aMeeting({
        customerId: 'cora',
        instructorId: 'olga',
        start: '2030-11-10T09:30:00Z',
        end: '2030-11-10T10:01:00Z',
      }),
    );
    expect(blind.status).toBe(409);
    expect(blind.body.conflicts).toEqual([
      {
        participant: 'customer',
        userId: 'cora',
        slot: { start: '2030-11-10T09:30:00.000Z', end: '2030-11-10T10:01:00.000Z' },
      },
    ]);
    // Back to back is fine.
    const adjacent = await admin.request(
      'POST',
      '/meetings',
      aMeeting({
        customerId: 'cora',
        instructorId: 'olga',
        start: '2030-11-10T11:00:00Z',
        end: '2030-11-10T11:30:00Z',
      }),
    );
    expect(adjacent.status).toBe(201);
    // Every occurrence of a new series is checked, not just the first ones.
    const clashSeries = await admin.request(
      'POST',
      '/series',
      aSeriesBody({
        customerId: 'cam',
        timezone: 'UTC',
        startDate: '2030-10-01',
        startTime: '10:00',
        rrule: 'FREQ=WEEKLY;BYDAY=SU;COUNT=10',
      }),
    );
    expect(clashSeries.status).toBe(409);
    expect(clashSeries.body.conflicts.map((c: { meetingId: string }) => c.meetingId)).toEqual([
      `${created.body.id}_2030-11-10`,
      `${created.body.id}_2030-11-17`,
    ]);
    // A cancelled occurrence frees its slot; reinstating it while the slot is taken is refused.
    const occurrence = `${created.body.id}_2030-11-12`;
    await ivan.request('POST', `/meetings/${occurrence}/cancel`, {});
    const taken = await admin.request(
      'POST',
      '/meetings',
      aMeeting({ customerId: 'cam', instructorId: 'ivan', start: '2030-11-12T10:00:00Z', end: '2030-11-12T11:00:00Z' }),
    );
    expect(taken.status).toBe(201);
    expect((await ivan.request('POST', `/meetings/${occurrence}/reinstate`)).status).toBe(409);
    // Rescheduling onto an occupied slot is refused too.
    const other = `${created.body.id}_2030-11-13`;
    const onto = await ivan.request('PATCH', `/meetings/${other}`, {
      start: '2030-11-12T10:30:00Z',
      end: '2030-11-12T11:30:00Z',
    });
    expect(onto.status).toBe(409);
  });

  it('of concurrent requests for the same slot exactly one succeeds', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        admin.request(
          'POST',
          '/meetings',
          aMeeting({
            customerId: `racer-${i}`,
            instructorId: 'olga',
            start: '2031-01-05T10:00:00Z',
            end: '2031-01-05T11:00:00Z',
          }),
        ),
      ),
    );
    expect(attempts.filter((r) => r.status === 201)).toHaveLength(1);
    expect(attempts.filter((r) => r.status === 409)).toHaveLength(11);
    const seriesAttempts = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        admin.request(
          'POST',
          '/series',
          aSeriesBody({
            customerId: `s-racer-${i}`,
            instructorId: 'olga',
            startDate: '2031-02-03',
            rrule: 'FREQ=WEEKLY;COUNT=5',
          }),
        ),
      ),
    );
    expect(seriesAttempts.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
  });
});
