import { describe, expect, it } from 'vitest';
import { createIcsCancellationBuilder } from '../../../adapters/mail/ics.ts';
import { createRoundPreparer } from '../../../application/notifications/prepare.ts';
import type { PersonView } from '../../../application/ports/read-models.ts';
import { LIMITS } from '../../../domain/meeting.ts';
import { MAX_NOTIFICATION_APPEND_BYTES, notificationDecider } from '../../../domain/notification.ts';
import type { CancellationSnapshot, NotificationEvent } from '../../../domain/notification.ts';
import { MAX_OCCURRENCES } from '../../../domain/recurrence.ts';
import { defaultSettings } from '../../../domain/settings.ts';
import type { Settings } from '../../../domain/settings.ts';

/*
 * The worst notification record the service can make, measured as KurrentDB measures an append (the JSON of each
 * event's data and metadata, plus two bytes per character of its type): it must stay within
 * MAX_NOTIFICATION_APPEND_BYTES, well under KurrentDB's 1 MiB per append. Before the bound, this case measured
 * 2,477,947 bytes with the default template and 148 MB with a template repeating {{sessionList}}.
 */

const at = '2030-03-01T12:00:00.000Z';
const SLOW_MS = 120_000;
/** Characters that grow the most once escaped for HTML, ICS and JSON, and take 3 bytes in UTF-8. */
const nasty = (length: number) => '€";\\<'.repeat(Math.ceil(length / 5)).slice(0, length);
const longest = (length: number, c: string) => c.repeat(length);

const seriesId = longest(LIMITS.id - 11, 's');
const sessions = Array.from({ length: MAX_OCCURRENCES }, (_, i) => {
  const start = new Date(Date.parse('2030-03-02T15:00:00.000Z') + i * 86_400_000).toISOString();
  return {
    meetingId: `${seriesId}_${start.slice(0, 10)}`,
    start,
    end: new Date(Date.parse(start) + 3_600_000).toISOString(),
    sequence: 99_999,
  };
});
const snapshot = (overrides: Partial<CancellationSnapshot> = {}): CancellationSnapshot => ({
  title: nasty(LIMITS.title),
  timezone: 'America/Argentina/ComodRivadavia',
  customerId: longest(LIMITS.id, 'c'),
  instructorId: longest(LIMITS.id, 'i'),
  cancelledAt: at,
  reason: nasty(LIMITS.reason),
  seriesCancellationId: longest(LIMITS.id, 'x'),
  sessions,
  ...overrides,
});

const plainPerson = (id: string): PersonView => ({
  id,
  name: 'Cora Customer',
  email: 'cora@example.com',
  timezone: 'America/Chicago',
  roles: ['customer'],
  active: true,
  updatedAt: at,
});
const person = (id: string): PersonView => ({
  id,
  name: nasty(200),
  // The longest address the email rule takes: 254 octets.
  email: `${longest(64, 'e')}@${longest(63, 'd')}.${longest(63, 'd')}.${longest(57, 'd')}.com`,
  timezone: 'America/Argentina/ComodRivadavia',
  language: 'zh-Hant-TW',
  roles: ['admin', 'instructor', 'customer', 'auditor'],
  active: true,
  updatedAt: at,
});

const preparerWith = (settings: Settings, people: (id: string) => PersonView) =>
  createRoundPreparer({
    queries: { getSettings: () => settings, getPerson: people },
    buildCalendar: createIcsCancellationBuilder({
      publicBaseUrl: 'https://coaching.example.com',
      sender: 'Virtual Y <no-reply@example.com>',
    }),
    config: { siteName: nasty(100), mailFrom: 'Virtual Y <no-reply@example.com>' },
  });

const withTemplate = (subject: string, bodyTemplate: string): Settings => ({
  ...defaultSettings,
  notifications: { cancellation: { ...defaultSettings.notifications.cancellation, subject, bodyTemplate } },
});

/** The append the reaction makes for this recipient, and its size as the event store counts it. */
const claimAppend = (
  settings: Settings,
  snap: CancellationSnapshot,
  people: (id: string) => PersonView = person,
  topic: 'cancelled' | 'booked' = 'cancelled',
) => {
  const meetingIds = snap.sessions.map((s) => s.meetingId);
  const facts = preparerWith(
    settings,
    people,
  )({
    topic,
    kind: 'series',
    snapshot: snap,
    current: meetingIds,
    personId: snap.customerId,
    role: 'customer',
    at,
  });
  const decided = notificationDecider.decide(
    {
      type: 'RequestNotification',
      data: {
        ...facts,
        notificationId: longest(32, 'f'),
        key: `${longest(36, 'k')}:${snap.customerId}`,
        topic,
        kind: 'series',
        meetingIds,
        seriesId,
        cancellationEventId: longest(36, 'k'),
        cancellation: snap,
      },
    },
    notificationDecider.initialState(),
  );
  if (decided._tag === 'Left') throw new Error(JSON.stringify(decided.left));
  const metadata = JSON.stringify({
    actor: { id: longest(LIMITS.id, 'a'), roles: ['admin', 'coach', 'member'] },
    correlationId: longest(128, 'r'),
    causationId: longest(128, 'q'),
  });
  const bytes = decided.right.reduce(
    (n: number, e: NotificationEvent) =>
      n + Buffer.byteLength(JSON.stringify(e.data), 'utf8') + Buffer.byteLength(metadata, 'utf8') + 2 * e.type.length,
    0,
  );
  return { events: decided.right, bytes };
};

describe('the largest notification record', () => {
  it(
    'a template repeating {{sessionList}} to its 50,000 characters, 500 sessions, every text at its longest: bounded, and says why',
    () => {
      const subject = '{{meetingTitle}}{{reason}}'
        .repeat(300)
        .slice(0, 300)
        .replace(/\{+[^}]*$/, '');
      const body = '{{sessionList}}'.repeat(Math.floor(50_000 / 15));
      const { events, bytes } = claimAppend(withTemplate(subject, body), snapshot());
      expect(bytes).toBeLessThanOrEqual(MAX_NOTIFICATION_APPEND_BYTES);
      expect(events.map((e) => e.type)).toEqual(['NotificationRequested', 'NotificationFailed']);
      const failed = events[1];
      expect(failed?.type === 'NotificationFailed' && failed.data.error).toMatch(
        /^the email body would be \d+ characters, more than the \d+ allowed/,
      );
    },
    SLOW_MS,
  );

  it(
    'the default template with 500 sessions and every text at its longest: bounded, and says why',
    () => {
      const { events, bytes } = claimAppend(defaultSettings, snapshot());
      expect(bytes).toBeLessThanOrEqual(MAX_NOTIFICATION_APPEND_BYTES);
      expect(events.map((e) => e.type)).toEqual(['NotificationRequested', 'NotificationFailed']);
      const failed = events[1];
      expect(failed?.type === 'NotificationFailed' && failed.data.error).toMatch(
        /would make the notification record \d+ bytes, more than the 655360 allowed/,
      );
    },
    SLOW_MS,
  );

  it(
    'a 500-session series with an ordinary title and reason is still mailed, within the bound',
    () => {
      // Ids as the server makes them: a UUID series id, so every meeting id is `<uuid>_<local date>`.
      const uuidSeries = '3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c';
      const plainSessions = sessions.map((s, i) => ({
        ...s,
        meetingId: `${uuidSeries}_${s.start.slice(0, 10)}`,
        sequence: i % 3,
      }));
      const ordinary = snapshot({
        title: 'Strength and mobility basics with Ivan, Tuesdays and Thursdays at the main branch',
        reason: 'The gym closes for renovation over the summer; we will write to you about the new schedule in August.',
        timezone: 'America/New_York',
        customerId: 'customer-1',
        instructorId: 'instructor-1',
        seriesCancellationId: 'b7e1c9a2-4d3f-4a8b-9c1e-2f3a4b5c6d7e',
        sessions: plainSessions,
      });
      const { events, bytes } = claimAppend(defaultSettings, ordinary, plainPerson);
      expect(events.map((e) => (e.type === 'NotificationFailed' ? e.data.error : e.type))).toEqual([
        'NotificationRequested',
        'NotificationPrepared',
      ]);
      expect(bytes).toBeLessThanOrEqual(MAX_NOTIFICATION_APPEND_BYTES);
    },
    SLOW_MS,
  );

  it(
    'a 500-session series booking with a 200-character outside link is mailed within the bound (the link once per object)',
    () => {
      const uuidSeries = '3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c';
      // Written twice (LOCATION and URL) it took this record over the bound; a 300-character one still does (about
      // 64 bytes a session too many: the calendar objects would have to be built as the email is sent).
      const link = `https://meet.example.com/j/${'a1B2c3D4'.repeat(34)}`.slice(0, 200);
      const booked = snapshot({
        title: 'Strength and mobility with Ivan',
        timezone: 'America/New_York',
        customerId: 'customer-1',
        instructorId: 'instructor-1',
        trainingType: 'link',
        remoteLink: link,
        sessions: sessions.map((s) => ({ ...s, meetingId: `${uuidSeries}_${s.start.slice(0, 10)}`, sequence: 0 })),
      });
      const { reason: _reason, seriesCancellationId: _cancellation, ...withoutCancellation } = booked;
      const { events, bytes } = claimAppend(defaultSettings, withoutCancellation, plainPerson, 'booked');
      expect(events.map((e) => (e.type === 'NotificationFailed' ? e.data.error : e.type))).toEqual([
        'NotificationRequested',
        'NotificationPrepared',
      ]);
      expect(bytes).toBeLessThanOrEqual(MAX_NOTIFICATION_APPEND_BYTES);
      const prepared = events[1];
      const calendar = prepared?.type === 'NotificationPrepared' ? prepared.data.message.attachments[0]?.content : '';
      // Unfolded, the link is written once: as LOCATION (where an outside meeting takes place).
      expect((calendar ?? '').replace(/\r\n[ \t]/g, '').split(link).length - 1).toBe(1);
    },
    SLOW_MS,
  );
});
