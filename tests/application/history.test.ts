import { randomUUID } from 'node:crypto';
import { isLeft } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';
import { createHistories } from '../../application/history.ts';
import type { EventMetadata, EventStore } from '../../application/ports/event-store.ts';

const by = { id: 'ivan', roles: ['instructor'] };
const recordedAt = new Date('2030-03-01T12:00:00.000Z');

const storeWith = async (
  appends: ReadonlyArray<{ stream: string; type: string; data: unknown; metadata?: EventMetadata }>,
): Promise<EventStore> => {
  const store = createInMemoryEventStore({ now: () => recordedAt });
  for (const { stream, type, data, metadata } of appends) {
    const result = await store.appendToStream(stream, [
      { id: randomUUID(), type, data, ...(metadata ? { metadata } : {}) },
    ]);
    if (isLeft(result)) throw new Error('append refused');
  }
  return store;
};

const meetingAndAttendance = () =>
  storeWith([
    { stream: 'meeting-m1', type: 'MeetingScheduled', data: { meetingId: 'm1', at: '2030-03-01T10:00:00.000Z', by } },
    { stream: 'meeting-m2', type: 'MeetingScheduled', data: { meetingId: 'm2', at: '2030-03-01T10:01:00.000Z', by } },
    { stream: 'attendance-m1', type: 'ParticipantJoined', data: { meetingId: 'm1', at: '2030-03-02T15:01:00.000Z' } },
    { stream: 'attendance-m1', type: 'ParticipantLeft', data: { meetingId: 'm1' }, metadata: { actor: by } },
    { stream: 'meeting-m1', type: 'MeetingConfirmed', data: { meetingId: 'm1', at: '2030-03-02T15:41:00.000Z', by } },
  ]);

describe('audit histories read from the streams', () => {
  it("merges a meeting's streams in log order, page by page, with who and when as the events say", async () => {
    const histories = createHistories(await meetingAndAttendance());
    const streams = ['meeting-m1', 'attendance-m1'];
    const all = await histories.mergedHistory(streams);
    expect(all).toEqual([
      {
        revision: 0,
        position: 1,
        type: 'MeetingScheduled',
        at: '2030-03-01T10:00:00.000Z',
        actor: by,
        data: { meetingId: 'm1', at: '2030-03-01T10:00:00.000Z', by },
      },
      {
        revision: 0,
        position: 3,
        type: 'ParticipantJoined',
        at: '2030-03-02T15:01:00.000Z',
        actor: { id: 'unknown', roles: [] },
        data: { meetingId: 'm1', at: '2030-03-02T15:01:00.000Z' },
      },
      // No `at` and no `by` in the event: when the store recorded it, by the actor of its metadata.
      {
        revision: 1,
        position: 4,
        type: 'ParticipantLeft',
        at: recordedAt.toISOString(),
        actor: by,
        data: { meetingId: 'm1' },
      },
      {
        revision: 1,
        position: 5,
        type: 'MeetingConfirmed',
        at: '2030-03-02T15:41:00.000Z',
        actor: by,
        data: { meetingId: 'm1', at: '2030-03-02T15:41:00.000Z', by },
      },
    ]);
    const page = await histories.mergedHistory(streams, { after: 1, limit: 2 });
    expect(page.map((entry) => entry.type)).toEqual(['ParticipantLeft', 'MeetingConfirmed']);
    expect(await histories.mergedHistory(streams, { after: 3, limit: 2 })).toEqual([]);
  });

  it("pages one stream's history by revision", async () => {
    const histories = createHistories(await meetingAndAttendance());
    const types = async (after: number, limit: number) =>
      (await histories.history('meeting-m1', { after, limit })).map((entry) => `${entry.revision}:${entry.type}`);
    expect(await types(-1, 1000)).toEqual(['0:MeetingScheduled', '1:MeetingConfirmed']);
    expect(await types(-1, 1)).toEqual(['0:MeetingScheduled']);
    expect(await types(0, 1)).toEqual(['1:MeetingConfirmed']);
    expect(await types(1, 1)).toEqual([]);
    expect(await histories.history('meeting-none')).toEqual([]);
  });

  it('leaves out of a merged history what was appended after the read began, so no entry skips ahead of another', async () => {
    const store = await meetingAndAttendance();
    // The head as a read that began before the last two appends saw it.
    const histories = createHistories({ readStream: (name) => store.readStream(name), headPosition: async () => 3 });
    const entries = await histories.mergedHistory(['meeting-m1', 'attendance-m1']);
    expect(entries.map((entry) => entry.position)).toEqual([1, 3]);
  });
});
