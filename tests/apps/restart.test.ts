import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { aMeeting } from '../support/builders.ts';
import { startTestSystem, tempDir } from '../support/system.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const body = (start: string, end: string) =>
  aMeeting({ start, end, trainingType: 'link', remoteLink: 'https://meet.example/durable' });

describe('durability', () => {
  it('a restart on the same DATA_DIR keeps every meeting, the calendar and the history', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await startTestSystem({ dataDir });
    await first.people('cora', 'ivan');
    const admin = await first.as('ada', ['admin']);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await admin.request(
        'POST',
        '/meetings',
        body(`2031-01-0${i + 1}T10:00:00Z`, `2031-01-0${i + 1}T11:00:00Z`),
      );
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    await admin.request('POST', `/meetings/${ids[0]}/cancel`, { reason: 'moved' });
    await first.close();

    const second = await startTestSystem({ dataDir });
    const cora = await second.as('cora', ['customer']);
    for (const id of ids) expect((await cora.request('GET', `/meetings/${id}`)).status).toBe(200);
    const calendar = await cora.request('GET', '/calendar?from=2031-01-01T00:00:00Z&to=2031-02-01T00:00:00Z');
    expect(calendar.body.items.map((i: { meetingId: string }) => i.meetingId)).toEqual(ids);
    expect(calendar.body.items[0].state).toBe('cancelled');
    expect((await cora.request('GET', `/meetings/${ids[0]}/history`)).body.events).toHaveLength(2);
    // Writes keep working after the restart, with revisions continuing.
    const ivan = await second.as('ivan', ['instructor']);
    const confirmed = await ivan.request('POST', `/meetings/${ids[1]}/confirm`);
    expect(confirmed.body).toMatchObject({ state: 'scheduled', revision: 1 });
    await second.close();
  });

  it('read models deleted while stopped are rebuilt from the log with the same result', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await startTestSystem({ dataDir });
    await first.people('ivan', 'cora');
    const admin = await first.as('ada', ['admin']);
    const created = await admin.request('POST', '/meetings', body('2031-02-01T10:00:00Z', '2031-02-01T11:00:00Z'));
    expect(created.status).toBe(201);
    await admin.request('PATCH', `/meetings/${created.body.id}`, { title: 'Renamed' });
    const before = {
      meeting: (await admin.request('GET', `/meetings/${created.body.id}`)).body,
      calendar: (await admin.request('GET', '/calendar?userId=cora&from=2031-02-01T00:00:00Z&to=2031-03-01T00:00:00Z'))
        .body,
      history: (await admin.request('GET', `/meetings/${created.body.id}/history`)).body,
    };
    await first.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, `read-models.db${suffix}`), { force: true });

    const second = await startTestSystem({ dataDir });
    const admin2 = await second.as('ada', ['admin']);
    await second.system.projections.waitFor(await second.system.store.headPosition());
    expect((await admin2.request('GET', `/meetings/${created.body.id}`)).body).toEqual(before.meeting);
    expect(
      (await admin2.request('GET', '/calendar?userId=cora&from=2031-02-01T00:00:00Z&to=2031-03-01T00:00:00Z')).body,
    ).toEqual(before.calendar);
    expect((await admin2.request('GET', `/meetings/${created.body.id}/history`)).body).toEqual(before.history);
    await second.close();
  });

  it('npm run projections:rebuild rebuilds the read models from the log', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await startTestSystem({ dataDir });
    await first.people('cora', 'ivan');
    const admin = await first.as('ada', ['admin']);
    const created = await admin.request('POST', '/meetings', body('2031-03-01T10:00:00Z', '2031-03-01T11:00:00Z'));
    expect(created.status).toBe(201);
    const before = (await admin.request('GET', `/meetings/${created.body.id}`)).body;
    await first.close();
    // Every event of the log: the people, the meeting, its reservations on both schedules, and what the reactions
    // recorded of it (its reminder plan, its change window).
    const db = new Database(join(dataDir, 'events.db'), { readonly: true });
    const events = (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    db.close();
    expect(events).toBeGreaterThanOrEqual(6);

    const output = execFileSync(process.execPath, ['--import', 'tsx', 'apps/rebuild-projections.ts'], {
      env: { ...process.env, DATA_DIR: dataDir, AUTH_JWT_SECRET: 'x'.repeat(40) },
      encoding: 'utf8',
    });
    expect(output).toContain(
      `rebuilt meetings, people, settings, series, notifications, calendar-feeds, audit, sessions, attendance, reminders, webhooks from ${events} events`,
    );

    const second = await startTestSystem({ dataDir });
    const admin2 = await second.as('ada', ['admin']);
    expect((await admin2.request('GET', `/meetings/${created.body.id}`)).body).toEqual(before);
    await second.close();
  });
});
