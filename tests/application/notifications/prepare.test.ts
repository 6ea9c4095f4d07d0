import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../../../adapters/event-store/memory.ts';
import { createIcsCancellationBuilder } from '../../../adapters/mail/ics.ts';
import {
  createRoundPreparer,
  notificationIdFor,
  notificationKey,
  readCancellation,
  stillCancelledNow,
} from '../../../application/notifications/prepare.ts';
import type { EventStore, RecordedEvent } from '../../../application/ports/event-store.ts';
import type { PersonView } from '../../../application/ports/read-models.ts';
import { defaultSettings } from '../../../domain/settings.ts';
import type { Settings } from '../../../domain/settings.ts';
import { contactOf, parseCalendar } from '../../support/ical.ts';
import { aMeetingScheduled } from '../../support/builders.ts';

const at = '2030-03-01T12:00:00.000Z';
const by = { id: 'ada', roles: ['admin'] };

const append = async (
  store: EventStore,
  stream: string,
  type: string,
  data: Record<string, unknown>,
): Promise<RecordedEvent> => {
  const result = await store.appendToStream(stream, [{ id: randomUUID(), type, data }]);
  if (E.isLeft(result)) throw new Error('append failed');
  const events = await store.readStream(stream);
  return events[events.length - 1]!;
};

const schedule = (store: EventStore, meetingId: string, start: string, seriesId?: string) =>
  append(
    store,
    `meeting-${meetingId}`,
    'MeetingScheduled',
    aMeetingScheduled(meetingId, start, { ...(seriesId !== undefined ? { seriesId } : {}), at, by }),
  );

const read = async (store: EventStore, recorded: RecordedEvent) => {
  const result = await readCancellation(store, recorded);
  if (E.isLeft(result)) throw new Error(result.left);
  return result.right;
};

describe('reading a cancellation from the log', () => {
  it('a meeting cancel gives the meeting as the cancel left it, with the bumped SEQUENCE', async () => {
    const store = createInMemoryEventStore();
    await schedule(store, 'm1', '2030-03-02T15:00:00.000Z');
    await append(store, 'meeting-m1', 'MeetingRescheduled', {
      meetingId: 'm1',
      start: '2030-03-03T15:00:00.000Z',
      end: '2030-03-03T16:00:00.000Z',
      timezone: 'America/New_York',
      previous: { start: '2030-03-02T15:00:00.000Z', end: '2030-03-02T16:00:00.000Z', timezone: 'America/New_York' },
      origin: 'meeting',
      at,
      by,
    });
    const cancel = await append(store, 'meeting-m1', 'SessionCancelled', {
      meetingId: 'm1',
      origin: 'meeting',
      reason: 'ill',
      at,
      by,
    });
    const cancellation = await read(store, cancel);
    expect(cancellation).toMatchObject({
      kind: 'meeting',
      cancellationEventId: cancel.id,
      meetingIds: ['m1'],
      stillCancelled: ['m1'],
      snapshot: {
        title: 'Strength',
        reason: 'ill',
        sessions: [{ meetingId: 'm1', start: '2030-03-03T15:00:00.000Z', sequence: 2 }],
      },
    });
    await append(store, 'meeting-m1', 'MeetingReinstated', { meetingId: 'm1', at, by });
    expect(await read(store, cancel)).toMatchObject({ stillCancelled: [] });
    const still = await stillCancelledNow(store, cancel.id, cancellation!.snapshot);
    expect(still).toEqual(E.right([]));
  });

  it("ignores a series occurrence's own cancel: the series event announces it", async () => {
    const store = createInMemoryEventStore();
    await schedule(store, 's_1', '2030-03-02T15:00:00.000Z', 's');
    const cancel = await append(store, 'meeting-s_1', 'SessionCancelled', {
      meetingId: 's_1',
      origin: 'series',
      seriesId: 's',
      seriesCancellationId: 'c1',
      at,
      by,
    });
    expect(await read(store, cancel)).toBeUndefined();
  });

  it('reads a series cancellation whether the occurrences were cancelled before or after the series event', async () => {
    const store = createInMemoryEventStore();
    await schedule(store, 's_2', '2030-03-09T15:00:00.000Z', 's');
    await schedule(store, 's_1', '2030-03-02T15:00:00.000Z', 's');
    // One occurrence already cancelled with this cancellation id, the other not yet.
    await append(store, 'meeting-s_2', 'SessionCancelled', {
      meetingId: 's_2',
      origin: 'series',
      seriesId: 's',
      seriesCancellationId: 'c1',
      at,
      by,
    });
    const seriesEvent = await append(store, 'series-s', 'SeriesCancelled', {
      seriesId: 's',
      cancellationId: 'c1',
      from: at,
      reason: ' Gym closed ',
      cancelled: [
        { meetingId: 's_2', start: '2030-03-09T15:00:00.000Z', end: '2030-03-09T16:00:00.000Z' },
        { meetingId: 's_1', start: '2030-03-02T15:00:00.000Z', end: '2030-03-02T16:00:00.000Z' },
      ],
      at,
      by,
    });
    const cancellation = await read(store, seriesEvent);
    expect(cancellation).toMatchObject({
      kind: 'series',
      seriesId: 's',
      meetingIds: ['s_1', 's_2'],
      stillCancelled: ['s_1', 's_2'],
      snapshot: {
        reason: 'Gym closed',
        seriesCancellationId: 'c1',
        sessions: [
          { meetingId: 's_1', sequence: 1 },
          { meetingId: 's_2', sequence: 1 },
        ],
      },
    });
    await append(store, 'meeting-s_1', 'SessionCancelled', {
      meetingId: 's_1',
      origin: 'series',
      seriesId: 's',
      seriesCancellationId: 'c1',
      at,
      by,
    });
    await append(store, 'meeting-s_2', 'MeetingReinstated', { meetingId: 's_2', at, by });
    expect(await stillCancelledNow(store, seriesEvent.id, cancellation!.snapshot)).toEqual(E.right(['s_1']));
  });

  it('reports an undecodable event instead of throwing', async () => {
    const store = createInMemoryEventStore();
    const broken = await append(store, 'series-x', 'SeriesCancelled', { seriesId: 'x' });
    const result = await readCancellation(store, broken);
    expect(E.isLeft(result) && result.left).toContain('SeriesCancelled');
  });

  it('derives one stable id per cancellation and recipient', () => {
    const id = notificationIdFor(notificationKey('event-1', 'cora'));
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(notificationIdFor(notificationKey('event-1', 'cora'))).toBe(id);
    expect(notificationIdFor(notificationKey('event-1', 'ivan'))).not.toBe(id);
  });
});

describe('preparing a round', () => {
  const people: Record<string, PersonView> = {
    cora: {
      id: 'cora',
      name: 'Cora',
      email: 'cora@example.com',
      timezone: 'America/Chicago',
      roles: [],
      active: true,
      updatedAt: at,
    },
    ivan: { id: 'ivan', name: 'Ivan', email: 'ivan@example.com', roles: [], active: true, updatedAt: at },
  };
  let settings: Settings = defaultSettings;
  const prepare = createRoundPreparer({
    queries: { getSettings: () => settings, getPerson: (id) => people[id] },
    buildCalendar: createIcsCancellationBuilder({
      publicBaseUrl: 'https://coaching.example.com',
      sender: 'Virtual Y <no-reply@example.com>',
    }),
    config: { siteName: 'Virtual Y', mailFrom: 'Virtual Y <no-reply@example.com>' },
  });
  const snapshot = {
    title: 'Strength',
    timezone: 'America/New_York',
    customerId: 'cora',
    instructorId: 'ivan',
    cancelledAt: at,
    sessions: [{ meetingId: 'm1', start: '2030-03-02T15:00:00.000Z', end: '2030-03-02T16:00:00.000Z', sequence: 1 }],
  };
  const request = {
    topic: 'cancelled' as const,
    kind: 'meeting' as const,
    snapshot,
    current: ['m1'],
    role: 'customer' as const,
    at,
  };

  it('renders the email for the address and zone in the people directory', () => {
    const facts = prepare({ ...request, personId: 'cora' });
    expect(facts.recipient).toEqual({
      personId: 'cora',
      role: 'customer',
      email: 'cora@example.com',
      timezone: 'America/Chicago',
    });
    expect(facts.message?.to).toBe('cora@example.com');
    expect(facts.message?.html).toContain('9:00 AM CST');
    expect(facts.message?.attachments[0]?.content).toContain('UID:m1@coaching.example.com');
  });

  it("falls back to the meeting's zone", () => {
    expect(prepare({ ...request, personId: 'ivan', role: 'instructor' }).message?.html).toContain('10:00 AM EST');
  });

  it('attaches one METHOD:CANCEL calendar per cancelled session of a series, each with its own UID and SEQUENCE', () => {
    const sessions = [
      { meetingId: 's_1', start: '2030-03-04T15:00:00.000Z', end: '2030-03-04T16:00:00.000Z', sequence: 1 },
      { meetingId: 's_2', start: '2030-03-11T14:00:00.000Z', end: '2030-03-11T15:00:00.000Z', sequence: 3 },
      { meetingId: 's_3', start: '2030-03-18T14:00:00.000Z', end: '2030-03-18T15:00:00.000Z', sequence: 2 },
    ];
    const facts = prepare({
      ...request,
      kind: 'series',
      snapshot: { ...snapshot, sessions, seriesCancellationId: 'c1' },
      current: sessions.map((s) => s.meetingId),
      personId: 'cora',
    });
    const attachments = facts.message?.attachments ?? [];
    expect(attachments).toHaveLength(3);
    expect(new Set(attachments.map((a) => a.filename)).size).toBe(3);
    attachments.forEach((attachment, i) => {
      expect(attachment.contentType).toBe('text/calendar; charset=utf-8; method=CANCEL');
      const calendar = parseCalendar(attachment.content);
      expect(calendar.getFirstPropertyValue('method')).toBe('CANCEL');
      const events = calendar.getAllSubcomponents('vevent');
      expect(events).toHaveLength(1);
      expect(events[0]!.getFirstPropertyValue('uid')).toBe(`${sessions[i]!.meetingId}@coaching.example.com`);
      expect(events[0]!.getFirstPropertyValue('sequence')).toBe(sessions[i]!.sequence);
      expect(events[0]!.getFirstPropertyValue('status')).toBe('CANCELLED');
    });
  });

  it('names the instructor as ORGANIZER, sent by the site, as the feed does', () => {
    const facts = prepare({ ...request, personId: 'cora' });
    const [event] = parseCalendar(facts.message!.attachments[0]!.content).getAllSubcomponents('vevent');
    expect(contactOf(event!.getFirstProperty('organizer'))).toEqual({
      address: 'mailto:ivan@example.com',
      params: { cn: 'Ivan', 'sent-by': 'mailto:no-reply@example.com' },
    });
    expect(contactOf(event!.getFirstProperty('attendee'))).toMatchObject({
      address: 'mailto:cora@example.com',
      params: { cn: 'Cora' },
    });
  });

  it("greets each recipient with their own role's template", () => {
    const toCora = prepare({ ...request, personId: 'cora' });
    const toIvan = prepare({ ...request, personId: 'ivan', role: 'instructor' });
    expect(toCora.message?.html).toContain('Hello Cora,');
    expect(toIvan.message?.html).toContain('Hello Ivan,');
    expect(toIvan.message?.html).not.toContain('Hello Cora');
    expect(toIvan.message?.html).toContain('with Cora');
    expect(toIvan.message?.subject).not.toBe(toCora.message?.subject);
  });

  it('renders nothing when nothing will be sent', () => {
    expect(prepare({ ...request, personId: 'nobody' }).message).toBeUndefined();
    expect(prepare({ ...request, personId: 'cora', at: '2030-03-03T00:00:00.000Z' }).message).toBeUndefined();
    settings = {
      ...defaultSettings,
      notifications: { cancellation: { ...defaultSettings.notifications.cancellation, enabled: false } },
    };
    const disabled = prepare({ ...request, personId: 'cora' });
    expect(disabled).toMatchObject({ enabled: false });
    expect(disabled.message).toBeUndefined();
    settings = defaultSettings;
  });
});
