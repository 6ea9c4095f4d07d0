import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { occurrenceMeetingId } from '../../domain/series.ts';
import { startTestSystem, tempDir } from '../support/system.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const eventually = async <A>(check: () => Promise<A | undefined>, what: string, timeoutMs = 20_000): Promise<A> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const by = { id: 'ada', roles: ['admin'] };

describe('series repair by the series process manager at start', () => {
  it('schedules the sessions a crash left unwritten, and cancels those a series cancellation covers, once', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const now = new Date('2031-01-01T00:00:00Z');
    const first = await startTestSystem({ dataDir, system: { clock: () => now } });
    const seriesId = 'crashy';
    const slot = (localDate: string) => ({
      meetingId: occurrenceMeetingId(seriesId, localDate),
      localDate,
      start: `${localDate}T10:00:00.000Z`,
      end: `${localDate}T11:00:00.000Z`,
    });
    const slots = [slot('2031-02-03'), slot('2031-02-10'), slot('2031-02-17')];
    const at = now.toISOString();
    // The series event was written, then the process died after the first of its sessions.
    await first.system.store.appendToStream(
      `series-${seriesId}`,
      [
        {
          id: randomUUID(),
          type: 'SeriesScheduled',
          data: {
            seriesId,
            title: 'Interrupted',
            customerId: 'cora',
            instructorId: 'ivan',
            trainingType: '1-1',
            description: '',
            customerMetadata: '',
            instructorMetadata: '',
            recurrence: {
              rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=3',
              startDate: '2031-02-03',
              startTime: '10:00',
              durationMinutes: 60,
              timezone: 'UTC',
              exclusions: [],
            },
            occurrences: slots,
            at,
            by,
          },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    await first.system.store.appendToStream(
      `meeting-${slots[0]!.meetingId}`,
      [
        {
          id: randomUUID(),
          type: 'MeetingScheduled',
          data: {
            meetingId: slots[0]!.meetingId,
            seriesId,
            title: 'Interrupted',
            customerId: 'cora',
            instructorId: 'ivan',
            start: slots[0]!.start,
            end: slots[0]!.end,
            timezone: 'UTC',
            trainingType: '1-1',
            description: '',
            customerMetadata: '',
            instructorMetadata: '',
            at,
            by,
          },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    await first.close();

    const second = await startTestSystem({ dataDir, system: { clock: () => now } });
    const admin = await second.as('ada', ['admin']);
    const repaired = await eventually(async () => {
      const view = (await admin.request('GET', `/series/${seriesId}`)).body;
      return view.occurrences?.length === 3 ? view : undefined;
    }, 'the missing sessions');
    expect(repaired.occurrences.map((o: { state: string }) => o.state)).toEqual(['planned', 'planned', 'planned']);

    // Now a cancellation that got as far as its series event and one session.
    const cancellationId = randomUUID();
    await second.system.store.appendToStream(`series-${seriesId}`, [
      {
        id: randomUUID(),
        type: 'SeriesCancelled',
        data: {
          seriesId,
          cancellationId,
          from: at,
          cancelled: slots.map(({ meetingId, start, end }) => ({ meetingId, start, end })),
          reason: 'Gym closed',
          at,
          by,
        },
      },
    ]);
    await second.system.store.appendToStream(`meeting-${slots[0]!.meetingId}`, [
      {
        id: randomUUID(),
        type: 'SessionCancelled',
        data: {
          meetingId: slots[0]!.meetingId,
          origin: 'series',
          seriesId,
          seriesCancellationId: cancellationId,
          reason: 'Gym closed',
          at,
          by,
        },
      },
    ]);
    await second.close();

    const third = await startTestSystem({ dataDir, system: { clock: () => now } });
    const admin3 = await third.as('ada', ['admin']);
    const cancelled = await eventually(async () => {
      const view = (await admin3.request('GET', `/series/${seriesId}`)).body;
      return view.occurrences?.every((o: { state: string }) => o.state === 'cancelled') ? view : undefined;
    }, 'the covered sessions to be cancelled');
    expect(cancelled.state).toBe('cancelled');
    const history = (await admin3.request('GET', `/meetings/${slots[2]!.meetingId}/history`)).body.events;
    expect(history.at(-1)).toMatchObject({
      type: 'SessionCancelled',
      data: { seriesCancellationId: cancellationId, origin: 'series' },
    });
    // Running the repair again finds nothing to do.
    expect(await third.system.series.reconcile(seriesId)).toBe(0);
    expect(await third.system.store.readStream(`meeting-${slots[2]!.meetingId}`)).toHaveLength(2);
    await third.close();
  });
});
