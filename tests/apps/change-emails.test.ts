import { describe, expect, it } from 'vitest';
import { eventually, useFakeResend } from '../support/fake-resend.ts';
import type { ReceivedRequest } from '../support/fake-resend.ts';
import type { ICAL } from '../support/ical.ts';
import { contactOf, parseCalendar } from '../support/ical.ts';
import { aMeeting, aSeriesBody } from '../support/builders.ts';
import type { PersonEntry } from '../support/builders.ts';
import { startTestSystem, tempDir, useSystem } from '../support/system.ts';
import type { Client } from '../support/system.ts';

/**
 * Change emails end to end (issue 14 §1): bookings, moves, training type changes and reinstatements, each one email
 * per recipient with METHOD:REQUEST objects, coalesced within the window (2 s here, NOTIFY_COALESCE_SECONDS). The
 * real system on a real SQLite file, the real Resend SDK against the local resend.fake.
 */

const resend = useFakeResend();

const ENV = { RESEND_API_KEY: 're_test', NOTIFY_COALESCE_SECONDS: '2' };
const PEOPLE: PersonEntry[] = [
  { id: 'cora', name: 'Cora Customer', timezone: 'America/Chicago' },
  { id: 'ivan', name: 'Ivan Instructor', timezone: 'America/New_York' },
  { id: 'sofia', name: 'Sofía Socia', timezone: 'America/Mexico_City', language: 'es-MX' },
];

type Notice = {
  id: string;
  topic: string;
  kind: 'meeting' | 'series';
  status: string;
  meetingIds: string[];
  recipient: { personId: string; role: string; email?: string };
  reason?: string;
  lastError?: string;
};

const notices = async (admin: Client, query: string): Promise<Notice[]> => {
  const res = await admin.request('GET', `/notifications?${query}`);
  if (res.status !== 200) throw new Error(`GET /notifications answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.items as Notice[];
};

/** Waits until the meeting has `count` notices of the topic, all settled (or matching `ready`). */
const settled = (
  admin: Client,
  meetingId: string,
  topic: string,
  count: number,
  ready: (n: Notice) => boolean = (n) => n.status !== 'pending',
) =>
  eventually(
    async () => {
      const items = await notices(admin, `meetingId=${encodeURIComponent(meetingId)}&topic=${topic}`);
      return items.length === count && items.every(ready) ? items : undefined;
    },
    `${count} settled ${topic} notice(s) for ${meetingId}`,
    30_000,
  );

const emailOf = (notice: Notice | undefined): any => {
  if (notice === undefined) throw new Error('no notice');
  const requests = resend.fake.requestsFor(notice.id);
  expect(requests).toHaveLength(1);
  return (requests[0] as ReceivedRequest).body;
};

const calendarsOf = (body: any): Array<{ contentType: string; vevent: ICAL.Component; method: string }> =>
  (body.attachments as Array<{ content_type: string; content: string }>).map((a) => {
    const calendar = parseCalendar(Buffer.from(a.content, 'base64').toString('utf8'));
    const vevent = calendar.getFirstSubcomponent('vevent');
    if (vevent === null) throw new Error('no VEVENT');
    return { contentType: a.content_type, vevent, method: String(calendar.getFirstPropertyValue('method')) };
  });

const startOf = (vevent: ICAL.Component): Date => (vevent.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate();

let day = 0;
/** A fresh future hour per meeting (real clock: sessions that ended are never announced). */
const slot = (hourUtc = 15) => {
  day += 1;
  const start = new Date(Date.now() + (20 + day) * 86_400_000);
  start.setUTCHours(hourUtc, 0, 0, 0);
  return { start: start.toISOString(), end: new Date(start.getTime() + 3_600_000).toISOString() };
};

const book = async (admin: Client, overrides: Record<string, unknown> = {}): Promise<string> => {
  const res = await admin.request(
    'POST',
    '/meetings',
    aMeeting({ ...slot(), timezone: 'America/New_York', ...overrides }),
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
};

const putSettings = async (admin: Client, notifications: Record<string, unknown>) => {
  const current = (await admin.request('GET', '/settings')).body;
  const res = await admin.request('PUT', '/settings', {
    debugLevel: current.debugLevel,
    notifications: { cancellation: current.notifications.cancellation, ...notifications },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
};

describe('change emails through Resend', () => {
  const sys = useSystem({ env: ENV, people: PEOPLE });
  const admin = sys.client('ada', ['admin']);
  let feedToken: string | undefined;
  /** Cora's calendar feed as it is now (one subscription for the whole suite: a new one is rate-limited). */
  const feedText = async (): Promise<string> => {
    if (feedToken === undefined) {
      const feed = await (await sys.as('cora', ['customer'])).request('POST', '/calendar/feed');
      expect(feed.status).toBe(201);
      feedToken = feed.body.token as string;
    }
    return (await fetch(`${sys.url}/calendar.ics?token=${feedToken}`)).text();
  };

  it('a booking sends one email to the member and one to the instructor, each with a METHOD:REQUEST object', async () => {
    const meetingId = await book(admin, { title: 'Strength <b>&</b> co' });
    const sent = await settled(admin, meetingId, 'booked', 2);
    expect(sent.map((n) => [n.status, n.topic, n.kind, n.lastError, n.reason])).toEqual([
      ['sent', 'booked', 'meeting', undefined, undefined],
      ['sent', 'booked', 'meeting', undefined, undefined],
    ]);
    const member = sent.find((n) => n.recipient.role === 'customer');
    const body = emailOf(member);
    expect(body.to).toEqual(['cora@example.com']);
    expect(body.subject).toContain('you are booked for "Strength <b>&</b> co"');
    expect(body.html).toContain('Strength &lt;b&gt;&amp;&lt;/b&gt; co');
    expect(body.html).toMatch(/C[SD]T/); // her zone, named
    expect(body.text).toContain('You are booked for Strength <b>&</b> co with Ivan Instructor');
    const [calendar, ...more] = calendarsOf(body);
    expect(more).toHaveLength(0);
    expect(calendar!.contentType).toBe('text/calendar; charset=utf-8; method=REQUEST');
    expect(calendar!.method).toBe('REQUEST');
    const vevent = calendar!.vevent;
    expect(vevent.getFirstPropertyValue('uid')).toBe(`${meetingId}@localhost`);
    expect(vevent.getFirstPropertyValue('sequence')).toBe(0);
    // A new booking is planned until confirmed: TENTATIVE, as the member's calendar feed shows it at this SEQUENCE.
    expect(vevent.getFirstPropertyValue('status')).toBe('TENTATIVE');
    const inFeed = parseCalendar(await feedText())
      .getAllSubcomponents('vevent')
      .find((e) => e.getFirstPropertyValue('uid') === `${meetingId}@localhost`);
    expect(inFeed?.getFirstPropertyValue('status')).toBe('TENTATIVE');
    expect(inFeed?.getFirstPropertyValue('sequence')).toBe(0);
    expect(vevent.getFirstPropertyValue('dtstamp')).not.toBeNull();
    // The call page is the session's own page (URL), written once: no LOCATION repeats it.
    expect(String(vevent.getFirstPropertyValue('url'))).toContain(`/call?meeting=${meetingId}`);
    expect(vevent.getFirstProperty('location')).toBeNull();
    expect(contactOf(vevent.getFirstProperty('organizer'))).toMatchObject({
      address: 'mailto:ivan@example.com',
      params: { cn: 'Ivan Instructor' },
    });
    expect(contactOf(vevent.getFirstProperty('attendee'))).toMatchObject({
      address: 'mailto:cora@example.com',
      params: { partstat: 'NEEDS-ACTION', rsvp: 'FALSE', role: 'REQ-PARTICIPANT' },
    });
    // The instructor is the organizer: his own copy names him as accepted.
    const own = calendarsOf(emailOf(sent.find((n) => n.recipient.role === 'instructor')))[0]!.vevent;
    expect(contactOf(own.getFirstProperty('attendee'))?.params).toMatchObject({ partstat: 'ACCEPTED', rsvp: 'FALSE' });
  });

  it('a reschedule sends a REQUEST with a higher SEQUENCE than the calendar feed had, and says where it was', async () => {
    const meetingId = await book(admin);
    await settled(admin, meetingId, 'booked', 2);
    const before = parseCalendar(await feedText())
      .getAllSubcomponents('vevent')
      .find((e) => e.getFirstPropertyValue('uid') === `${meetingId}@localhost`);
    expect(before).toBeDefined();
    const feedSequence = Number(before!.getFirstPropertyValue('sequence'));
    const moved = slot(17);
    expect((await admin.request('PATCH', `/meetings/${meetingId}`, moved)).status).toBe(200);
    const [member] = await settled(admin, meetingId, 'rescheduled', 2).then((all) =>
      all.filter((n) => n.recipient.role === 'customer'),
    );
    const body = emailOf(member);
    expect(body.subject).toContain('moved to');
    expect(body.text).toMatch(/has moved from .+ to .+/);
    const vevent = calendarsOf(body)[0]!.vevent;
    expect(Number(vevent.getFirstPropertyValue('sequence'))).toBeGreaterThan(feedSequence);
    expect(startOf(vevent).toISOString()).toBe(moved.start);
  });

  it('a series booking sends one email per recipient listing its sessions, one REQUEST object per session', async () => {
    const start = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
    const created = await admin.request(
      'POST',
      '/series',
      aSeriesBody({ startDate: start, rrule: 'FREQ=WEEKLY;COUNT=3' }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const ids = (created.body.occurrences as Array<{ meetingId: string }>).map((o) => o.meetingId);
    expect(ids).toHaveLength(3);
    const sent = await settled(admin, ids[0]!, 'booked', 2);
    expect(sent.every((n) => n.kind === 'series' && n.meetingIds.length === 3)).toBe(true);
    expect(
      resend.fake.deliveredTo('cora@example.com').filter((d) => d.body.subject.includes('Spring strength')),
    ).toHaveLength(1);
    const body = emailOf(sent.find((n) => n.recipient.role === 'customer'));
    // The sessions listed (the join links the sender adds are a list of their own, of links).
    expect((body.html.match(/<li>(?!<a )/g) ?? []).length).toBe(3);
    const calendars = calendarsOf(body);
    expect(calendars.map((c) => c.vevent.getFirstPropertyValue('uid')).sort()).toEqual(
      ids.map((id) => `${id}@localhost`).sort(),
    );
    expect(
      calendars.every((c) => c.method === 'REQUEST' && Number(c.vevent.getFirstPropertyValue('sequence')) === 0),
    ).toBe(true);
  });

  it('a series moved to a new time sends exactly one email per recipient, with each session at SEQUENCE 1', async () => {
    const start = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
    const created = await admin.request(
      'POST',
      '/series',
      aSeriesBody({ title: 'Moving series', startDate: start, rrule: 'FREQ=WEEKLY;COUNT=3' }),
    );
    expect(created.status).toBe(201);
    const ids = (created.body.occurrences as Array<{ meetingId: string }>).map((o) => o.meetingId);
    await settled(admin, ids[0]!, 'booked', 2);
    const moved = await admin.request('PATCH', `/series/${created.body.id}`, { startTime: '12:00' });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    const sent = await settled(admin, ids[0]!, 'rescheduled', 2);
    expect(sent.map((n) => n.recipient.personId).sort()).toEqual(['cora', 'ivan']);
    // Give any stray per-session email time to show up, then count: one per recipient.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await notices(admin, `meetingId=${ids[1]}&topic=rescheduled`)).toHaveLength(2);
    const toCora = resend.fake.deliveredTo('cora@example.com').filter((d) => d.body.subject.includes('Moving series'));
    expect(toCora).toHaveLength(2); // the booking and the move
    const calendars = calendarsOf(emailOf(sent.find((n) => n.recipient.role === 'customer')));
    expect(calendars).toHaveLength(3);
    for (const c of calendars) {
      expect(c.method).toBe('REQUEST');
      expect(c.vevent.getFirstPropertyValue('sequence')).toBe(1);
      expect(startOf(c.vevent).getUTCHours()).toBe(12);
    }
  });

  it('a training type change tells the new link; a reinstatement says the session is back on', async () => {
    const meetingId = await book(admin);
    await settled(admin, meetingId, 'booked', 2);
    const changed = await admin.request('PATCH', `/meetings/${meetingId}`, {
      trainingType: 'link',
      remoteLink: 'https://meet.example/room-7',
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const [member] = (await settled(admin, meetingId, 'changed', 2)).filter((n) => n.recipient.role === 'customer');
    const body = emailOf(member);
    expect(body.text).toContain('it is now an outside link');
    expect(body.text).toContain('https://meet.example/room-7');
    const vevent = calendarsOf(body)[0]!.vevent;
    expect(vevent.getFirstPropertyValue('location')).toBe('https://meet.example/room-7');
    expect(vevent.getFirstProperty('url')).toBeNull();
    expect(vevent.getFirstPropertyValue('sequence')).toBe(1);

    expect((await admin.request('POST', `/meetings/${meetingId}/cancel`, {})).status).toBe(200);
    await settled(admin, meetingId, 'cancelled', 1);
    expect((await admin.request('POST', `/meetings/${meetingId}/reinstate`)).status).toBe(200);
    const back = (await settled(admin, meetingId, 'reinstated', 2)).find((n) => n.recipient.role === 'customer');
    const backBody = emailOf(back);
    expect(backBody.subject).toContain('is back on');
    expect(calendarsOf(backBody)[0]!.vevent.getFirstPropertyValue('sequence')).toBe(3);
  });

  it('changes within the window go out as one email with the final state', async () => {
    const meetingId = await book(admin);
    const final = slot(18);
    expect((await admin.request('PATCH', `/meetings/${meetingId}`, final)).status).toBe(200);
    const sent = await settled(admin, meetingId, 'booked', 2);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await notices(admin, `meetingId=${meetingId}`)).toHaveLength(2);
    const vevent = calendarsOf(emailOf(sent.find((n) => n.recipient.role === 'customer')))[0]!.vevent;
    expect(startOf(vevent).toISOString()).toBe(final.start);
    expect(vevent.getFirstPropertyValue('sequence')).toBe(1);
  });

  it('a booking cancelled within the window sends no booking email', async () => {
    const meetingId = await book(admin);
    expect((await admin.request('POST', `/meetings/${meetingId}/cancel`, {})).status).toBe(200);
    await settled(admin, meetingId, 'cancelled', 1);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(await notices(admin, `meetingId=${meetingId}&topic=booked`)).toHaveLength(0);
  });

  it('a kind turned off sends nothing and the log says so; the instructor switch is per kind', async () => {
    await putSettings(admin, { kinds: { booked: { enabled: false, notifyInstructor: false } } });
    try {
      const meetingId = await book(admin);
      const [notice] = await settled(admin, meetingId, 'booked', 1);
      expect(notice).toMatchObject({ status: 'skipped', reason: 'disabled', recipient: { personId: 'cora' } });
      expect(resend.fake.requestsFor(notice!.id)).toHaveLength(0);
    } finally {
      await putSettings(admin, { kinds: { booked: { enabled: true, notifyInstructor: true } } });
    }
  });

  it('a Spanish-speaking member gets the email in Spanish, times in her zone with the zone named', async () => {
    const meetingId = await book(admin, { customerId: 'sofia' });
    const [notice] = (await settled(admin, meetingId, 'booked', 2)).filter((n) => n.recipient.personId === 'sofia');
    const body = emailOf(notice);
    expect(body.to).toEqual(['sofia@example.com']);
    expect(body.subject).toContain('reserva confirmada');
    expect(body.text).toContain('Hola Sofía Socia:');
    expect(body.text).toContain('una videollamada en la aplicación');
    // The dates are Spanish (weekday and month names), and the zone is named, not only its offset.
    const spanishDate =
      /(lunes|martes|miércoles|jueves|viernes|sábado|domingo), \d{1,2} de (enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre) de \d{4}/;
    expect(body.subject).toMatch(spanishDate);
    expect(body.text).toMatch(spanishDate);
    expect(body.text).not.toMatch(/Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|March|December/);
    expect(body.text).toContain('GMT-6 (America/Mexico_City)');
    // Her own join link is added as the email is sent, under a Spanish heading too.
    expect(body.text).toMatch(/Tu enlace personal a la sesión \(no lo compartas\):\n- http:\/\/\S+#link=/);
    expect(body.text).not.toContain('Your own link');
  });

  it('a change email that failed is in the log with its topic and is sent by a retry', async () => {
    const meetingId = await book(admin);
    resend.fake.plan({ status: 422, message: 'rejected' }, { status: 422, message: 'rejected' });
    const failed = await settled(admin, meetingId, 'booked', 2);
    expect(failed.map((n) => n.status)).toEqual(['failed', 'failed']);
    for (const notice of failed) {
      const retried = await admin.request('POST', `/notifications/${notice.id}/retry`);
      expect(retried.status, JSON.stringify(retried.body)).toBe(202);
    }
    const sent = await settled(admin, meetingId, 'booked', 2, (n) => n.status === 'sent');
    expect(sent.every((n) => n.topic === 'booked')).toBe(true);
    const audit = await sys.client('audrey', ['auditor']).request('GET', '/audit?limit=200');
    expect(audit.status).toBe(200);
    const summaries = JSON.stringify(audit.body);
    expect(summaries).toContain('A booking email to');
  });
});

describe('the coalescing window across a restart', () => {
  it('a restart inside the window still sends once after it closes', async () => {
    const dataDir = tempDir();
    const env = { ...ENV, NOTIFY_COALESCE_SECONDS: '3' };
    const first = await startTestSystem({ dataDir, env });
    await first.people(...PEOPLE);
    const admin = await first.as('ada', ['admin']);
    const meetingId = await book(admin);
    // The change is recorded in its window before the stop.
    await eventually(
      async () =>
        (await first.system.store.readStream(`change-window-meeting-${meetingId}`)).length > 0 ? true : undefined,
      'the change recorded in its window',
    );
    await first.close();
    const second = await startTestSystem({ dataDir, env });
    try {
      const again = await second.as('ada', ['admin']);
      const sent = await settled(again, meetingId, 'booked', 2);
      expect(sent.every((n) => n.status === 'sent')).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(await notices(again, `meetingId=${meetingId}`)).toHaveLength(2);
      for (const notice of sent) expect(resend.fake.requestsFor(notice.id)).toHaveLength(1);
    } finally {
      await second.destroy();
    }
  });
});
