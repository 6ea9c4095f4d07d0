import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';
import { openReadModelDatabase } from '../../adapters/read-models/kit.ts';
import { openReminderReadModel } from '../../adapters/read-models/reminders.ts';
import type { EventStore } from '../../application/ports/event-store.ts';
import type { CheckpointStore } from '../../application/ports/notifications.ts';
import { ReminderPlanner } from '../../application/reminders/planner.ts';
import { ReminderScheduler } from '../../application/reminders/scheduler.ts';
import { reminderTopic } from '../../application/reminders/topic.ts';
import { settingsOfReminders } from '../../apps/notifications.ts';
import { prepareRound } from '../../application/notifications/topics.ts';
import type { PersonView } from '../../application/ports/read-models.ts';
import { defaultSettings } from '../../domain/settings.ts';
import { aMeetingScheduled } from '../support/builders.ts';
import { tempDir } from '../support/system.ts';

/**
 * The planner on an in-memory log with the real SQLite plans' read model: a settings change of the offsets re-plans
 * every upcoming session, and a second node (its own checkpoint) following the same log writes no plan twice.
 */

const BOOKED = '2030-03-01T12:00:00.000Z';
const by = { id: 'ada', roles: ['admin'] };
const HOUR = 3600;
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const append = async (store: EventStore, stream: string, type: string, data: unknown) => {
  const result = await store.appendToStream(stream, [{ id: randomUUID(), type, data }]);
  if (E.isLeft(result)) throw new Error(`append to ${stream} failed`);
};

const memoryCheckpoints = (): CheckpointStore => {
  const positions = new Map<string, number>();
  return { get: (name) => positions.get(name) ?? 0, set: (name, position) => void positions.set(name, position) };
};

const setup = () => {
  const dir = tempDir();
  dirs.push(dir);
  const store = createInMemoryEventStore();
  const model = openReminderReadModel(openReadModelDatabase(join(dir, 'read-models.db'), 1));
  /** The read model follows the log when asked, as the projection runner would. */
  const project = async (position: number) => {
    const events = await store.readAll({ after: model.sink.checkpoint() });
    model.sink.apply(events.filter((e) => e.position <= Math.max(position, model.sink.checkpoint())));
  };
  let offsets: ReadonlyArray<number> = [24 * HOUR, HOUR];
  const planner = (checkpoints: CheckpointStore = memoryCheckpoints()) =>
    new ReminderPlanner({
      store,
      checkpoints,
      log: silent,
      dependsOn: { waitFor: project },
      queries: model.queries,
      offsetsSeconds: () => offsets,
      waitForReadModels: project,
      newId: randomUUID,
    });
  const reminderEvents = async () =>
    (await store.readAll({})).filter((e) => e.streamName.startsWith('reminders-')).map((e) => e.type);
  const caughtUp = async (follower: ReminderPlanner) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const status = await follower.status();
      const head = await store.headPosition();
      // Caught up with every event it writes itself, too.
      if (status.lag === 0 && status.position === head) {
        await project(head);
        return;
      }
      if (Date.now() > deadline) throw new Error(`planner did not catch up: ${JSON.stringify(status)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return {
    store,
    project,
    queries: model.queries,
    planner,
    reminderEvents,
    caughtUp,
    setOffsets: (next: ReadonlyArray<number>) => {
      offsets = next;
    },
  };
};

const book = (store: EventStore, meetingId: string, start: string) =>
  append(store, `meeting-${meetingId}`, 'MeetingScheduled', aMeetingScheduled(meetingId, start, { at: BOOKED, by }));

/** Schedulers ("nodes") on the world's log and plans, with the reminder topic and a clock stopped at `now`. */
const schedulers = (
  world: ReturnType<typeof setup>,
  now: Date,
  queries: ReturnType<typeof setup>['queries'] = world.queries,
) => {
  const people: Record<string, PersonView> = {
    cora: { id: 'cora', name: 'Cora', email: 'cora@example.com', roles: [], active: true, updatedAt: BOOKED },
    ivan: { id: 'ivan', name: 'Ivan', email: 'ivan@example.com', roles: [], active: true, updatedAt: BOOKED },
  };
  const topic = reminderTopic({
    store: world.store,
    queries: { getPerson: (id) => people[id] },
    enabled: () => true,
    // The built-in reminder templates, rendered as the server renders them.
    render: settingsOfReminders({ getSettings: () => defaultSettings }).render,
    config: { siteName: 'Virtual Y', mailFrom: 'Virtual Y <no-reply@example.com>' },
    joinLinks: { factsFor: () => ({ baseUrl: 'https://coaching.example.com', epoch: 0 }) },
    clock: () => now,
  });
  const scheduled: string[] = [];
  const node = () =>
    new ReminderScheduler({
      store: world.store,
      queries,
      notices: { prepare: prepareRound({ reminder: topic }), schedule: (id) => scheduled.push(id) },
      clock: () => now,
      newId: randomUUID,
      log: silent,
      recheckMs: 50,
    });
  return { node, scheduled };
};

describe('the reminder planner', () => {
  it('re-plans every upcoming session when the settings change the offsets', async () => {
    const world = setup();
    const planner = world.planner();
    planner.start();
    await book(world.store, 'm1', '2030-03-10T15:00:00.000Z');
    await book(world.store, 'm2', '2030-03-12T15:00:00.000Z');
    // Over before the settings change: left as it was.
    await book(world.store, 'past', '2030-03-01T18:00:00.000Z');
    await world.caughtUp(planner);
    expect(world.queries.getPlan('m1')?.reminders.map((r) => r.dueAt)).toEqual([
      '2030-03-09T15:00:00.000Z',
      '2030-03-10T14:00:00.000Z',
    ]);
    expect(world.queries.getPlan('past')?.reminders.map((r) => r.offsetSeconds)).toEqual([HOUR]);

    world.setOffsets([2 * HOUR]);
    await append(world.store, 'settings-global', 'SettingsChanged', {
      settings: defaultSettings,
      at: '2030-03-05T00:00:00.000Z',
      by,
    });
    await world.caughtUp(planner);
    expect(world.queries.getPlan('m1')?.reminders.map((r) => r.dueAt)).toEqual(['2030-03-10T13:00:00.000Z']);
    expect(world.queries.getPlan('m2')?.reminders.map((r) => r.dueAt)).toEqual(['2030-03-12T13:00:00.000Z']);
    expect(world.queries.getPlan('past')?.offsetsSeconds).toEqual([24 * HOUR, HOUR]);
    await planner.stop();
  });

  it('writes no plan twice when a second node follows the same log from the start', async () => {
    const world = setup();
    const first = world.planner();
    first.start();
    await book(world.store, 'm1', '2030-03-10T15:00:00.000Z');
    await append(world.store, 'meeting-m1', 'MeetingRescheduled', {
      meetingId: 'm1',
      start: '2030-03-11T15:00:00.000Z',
      end: '2030-03-11T16:00:00.000Z',
      timezone: 'America/New_York',
      previous: { start: '2030-03-10T15:00:00.000Z', end: '2030-03-10T16:00:00.000Z', timezone: 'America/New_York' },
      origin: 'meeting',
      at: '2030-03-02T00:00:00.000Z',
      by,
    });
    await book(world.store, 'm2', '2030-03-12T15:00:00.000Z');
    await world.caughtUp(first);
    expect(world.queries.getPlan('m2')?.status).toBe('planned');
    await append(world.store, 'meeting-m2', 'SessionCancelled', {
      meetingId: 'm2',
      origin: 'meeting',
      at: '2030-03-02T00:00:00.000Z',
      by,
    });
    await world.caughtUp(first);
    const written = await world.reminderEvents();
    expect(written.length).toBeGreaterThan(0);
    expect(world.queries.getPlan('m1')).toMatchObject({ status: 'planned', start: '2030-03-11T15:00:00.000Z' });
    expect(world.queries.getPlan('m2')).toMatchObject({ status: 'dropped', reminders: [] });

    const second = world.planner();
    second.start();
    await world.caughtUp(second);
    expect(await world.reminderEvents()).toEqual(written);
    await first.stop();
    await second.stop();
  });

  it('claims a due reminder once when two nodes find it due at the same moment', async () => {
    const world = setup();
    const planner = world.planner();
    planner.start();
    await book(world.store, 'm1', '2030-03-10T15:00:00.000Z');
    await world.caughtUp(planner);
    await planner.stop();
    // After the 24 h reminder's due time, before the 1 h one's.
    const now = new Date('2030-03-09T15:00:30.000Z');
    const { node, scheduled } = schedulers(world, now);
    const [a, b] = [node(), node()];
    a.start();
    b.start();
    const deadline = Date.now() + 20_000;
    const claimed = async () => (await world.store.readAll({})).filter((e) => e.type === 'ReminderClaimed').length;
    while ((await claimed()) === 0) {
      if (Date.now() > deadline) throw new Error('the reminder was not claimed');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await world.project(await world.store.headPosition());
    await a.stop();
    await b.stop();
    const events = await world.store.readAll({});
    const requested = events.filter((e) => e.type === 'NotificationRequested');
    expect(requested).toHaveLength(1);
    expect(requested[0]!.data).toMatchObject({
      topic: 'reminder',
      recipient: { personId: 'cora', role: 'customer', email: 'cora@example.com' },
      meetingIds: ['m1'],
    });
    expect(events.filter((e) => e.type === 'NotificationPrepared')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'ReminderClaimed')).toHaveLength(1);
    expect(new Set(scheduled)).toEqual(new Set([requested[0]!.streamName.slice('notification-'.length)]));
    // The 1 h reminder is still to go.
    expect(world.queries.getPlan('m1')?.reminders.map((r) => r.offsetSeconds)).toEqual([HOUR]);
  });

  it('sends only the latest of several reminders due at once (after an outage), and marks the others missed', async () => {
    const world = setup();
    const planner = world.planner();
    planner.start();
    await book(world.store, 'm1', '2030-03-10T15:00:00.000Z');
    await world.caughtUp(planner);
    await planner.stop();
    const { node } = schedulers(world, new Date('2030-03-10T14:30:00.000Z'));
    const scheduler = node();
    scheduler.start();
    const deadline = Date.now() + 20_000;
    const marks = async () =>
      (await world.store.readAll({})).filter((e) => e.type === 'ReminderClaimed' || e.type === 'ReminderMissed');
    while ((await marks()).length < 2) {
      if (Date.now() > deadline) throw new Error('the reminders were not marked');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await scheduler.stop();
    const byOffset = Object.fromEntries(
      (await marks()).map((e) => [(e.data as { offsetSeconds: number }).offsetSeconds, e.type]),
    );
    expect(byOffset).toEqual({ [24 * HOUR]: 'ReminderMissed', [HOUR]: 'ReminderClaimed' });
    expect((await world.store.readAll({})).filter((e) => e.type === 'NotificationRequested')).toHaveLength(1);
  });
  it('lets go of reminders of meetings that cannot be read, and stuck rows waiting on a re-plan hold up no others', async () => {
    const world = setup();
    const planner = world.planner();
    planner.start();
    await book(world.store, 'good', '2030-03-10T15:00:00.000Z');
    await book(world.store, 'bad', '2030-03-10T15:00:00.000Z');
    await world.caughtUp(planner);
    await planner.stop();
    // The meeting's events no longer decode: it can never be reminded of.
    await append(world.store, 'meeting-bad', 'MeetingRescheduled', { nonsense: true });
    // More stuck rows than a batch, earliest first: their sessions moved, and the planner has not re-planned them.
    const stuck = Array.from({ length: 250 }, (_, i) => ({
      meetingId: `moved-${i}`,
      offsetSeconds: HOUR,
      start: '2030-03-10T10:00:00.000Z',
      dueAt: '2030-03-10T09:00:00.000Z',
      plannedEventId: randomUUID(),
    }));
    for (const row of stuck) await book(world.store, row.meetingId, '2030-03-12T10:00:00.000Z');
    const queries = {
      ...world.queries,
      dueReminders: (until: string, limit: number) =>
        [...stuck, ...world.queries.dueReminders(until, limit)].slice(0, limit),
    };
    const reads = new Map<string, number>();
    const readStream = world.store.readStream.bind(world.store);
    world.store.readStream = (async (name: string, ...rest: unknown[]) => {
      reads.set(name, (reads.get(name) ?? 0) + 1);
      return (readStream as (...args: unknown[]) => unknown)(name, ...rest);
    }) as typeof world.store.readStream;
    const { node } = schedulers(world, new Date('2030-03-10T14:30:00.000Z'), queries);
    const scheduler = node();
    scheduler.start();
    const deadline = Date.now() + 30_000;
    const marks = async () =>
      (await world.store.readAll({})).filter((e) => e.type === 'ReminderClaimed' || e.type === 'ReminderMissed');
    while ((await marks()).length < 4) {
      if (Date.now() > deadline) throw new Error(`the reminders were not marked: ${(await marks()).length}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Some rechecks later, the stuck rows have still been read once each: they wait for a plan to change.
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await scheduler.stop();
    const byStream = (await marks()).map(
      (e) => `${e.streamName}:${(e.data as { offsetSeconds: number }).offsetSeconds}:${e.type}`,
    );
    expect(byStream.sort()).toEqual(
      [
        `reminders-bad:${24 * HOUR}:ReminderMissed`,
        `reminders-bad:${HOUR}:ReminderMissed`,
        `reminders-good:${24 * HOUR}:ReminderMissed`,
        `reminders-good:${HOUR}:ReminderClaimed`,
      ].sort(),
    );
    expect(reads.get('meeting-moved-0')).toBe(1);
    expect(reads.get('meeting-moved-249')).toBe(1);
  });
});
