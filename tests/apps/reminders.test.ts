import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { eventually, useFakeResend } from '../support/fake-resend.ts';
import type { DeliveredEmail } from '../support/fake-resend.ts';
import { aMeeting } from '../support/builders.ts';
import { client, startTestSystem, tempDir, useSystem } from '../support/system.ts';
import type { Client, TestSystem } from '../support/system.ts';

/**
 * Reminders end to end on the real system: a real SQLite file, the real Resend SDK against the local resend.fake, and
 * reminders a few seconds before each session (the TEST-ONLY offsets in seconds, apps/reminders.ts) on the real
 * clock. Every wait is for a condition, with generous timeouts; nothing is timed.
 */

const resend = useFakeResend();

const RESEND_ENV = { RESEND_API_KEY: 're_test' };
const OFFSET_SECONDS = 15;
const WAIT_MS = 90_000;
const TEST_MS = 240_000;
const SYSTEM = { reminders: { offsetsSeconds: [OFFSET_SECONDS], recheckMs: 200 } };

type Notice = {
  id: string;
  topic: string;
  status: string;
  meetingIds: string[];
  recipient: { personId: string; role: string; email?: string };
  createdAt: string;
  sentAt?: string;
  reason?: string;
  subject?: string;
};

const noticesFor = async (admin: Client, meetingId: string): Promise<Notice[]> => {
  const res = await admin.request('GET', `/notifications?meetingId=${encodeURIComponent(meetingId)}`);
  if (res.status !== 200) throw new Error(`GET /notifications answered ${res.status}`);
  return res.body.items as Notice[];
};

/** A session of `minutes` starting `inSeconds` from now, between the given people. */
const sessionBody = (customerId: string, instructorId: string, inSeconds: number) => {
  const start = new Date(Math.ceil((Date.now() + inSeconds * 1000) / 1000) * 1000);
  return aMeeting({
    customerId,
    instructorId,
    start: start.toISOString(),
    end: new Date(start.getTime() + 30 * 60_000).toISOString(),
    timezone: 'America/Chicago',
  });
};

const book = async (admin: Client, body: ReturnType<typeof sessionBody>): Promise<string> => {
  const res = await admin.request('POST', '/meetings', body);
  expect(res.status).toBe(201);
  return res.body.id as string;
};

const remindersTo = (address: string, meetingId: string): DeliveredEmail[] =>
  resend.fake
    .deliveredTo(address)
    .filter(
      (e) =>
        String(e.body?.subject ?? '').includes('reminder') &&
        String(e.body?.text ?? '').includes(`/call?meeting=${encodeURIComponent(meetingId)}#link=`),
    );

/** Waits until the instant has passed on the real clock. */
const passed = (iso: string, what: string) => eventually(() => Date.now() > Date.parse(iso), what, WAIT_MS);

const planOf = (sys: TestSystem, meetingId: string) => sys.system.readModels.reminders.getPlan(meetingId);

describe('reminders before a session', () => {
  const sys = useSystem({
    env: RESEND_ENV,
    system: SYSTEM,
    people: [
      { id: 'cora', timezone: 'America/Chicago' },
      'ivan',
      'dana',
      'igor',
      'erin',
      'ines',
      'finn',
      'ivy',
      'rita',
      'ravi',
      'nora',
      'isak',
    ],
  });
  const admin = sys.client('admin-1', ['admin']);

  it(
    "sends the member's reminder, with their own join link, at the offset before the start, once",
    { timeout: TEST_MS },
    async () => {
      const body = sessionBody('cora', 'ivan', OFFSET_SECONDS + 10);
      const id = await book(admin, body);
      const due = new Date(Date.parse(body.start) - OFFSET_SECONDS * 1000).toISOString();
      await eventually(() => planOf(sys, id)?.reminders.length === 1, 'the reminder planned', WAIT_MS);
      expect(planOf(sys, id)?.reminders[0]).toMatchObject({ offsetSeconds: OFFSET_SECONDS, dueAt: due });

      const [notice] = await eventually(
        async () => {
          const items = await noticesFor(admin, id);
          return items.length === 1 && items[0]?.status === 'sent' ? items : undefined;
        },
        'the reminder sent',
        WAIT_MS,
      );
      expect(notice).toMatchObject({ topic: 'reminder', recipient: { personId: 'cora', role: 'customer' } });
      expect(Date.parse(notice!.createdAt)).toBeGreaterThanOrEqual(Date.parse(due));
      expect(notice!.subject).toContain('reminder');

      const emails = remindersTo('cora@example.com', id);
      expect(emails).toHaveLength(1);
      const email = emails[0]!;
      // The time in the reader's zone, with the zone named.
      expect(email.body.text).toMatch(/CST|CDT/);
      // The member's own link: it signs them in to this meeting, and to nothing else.
      const link = /(https?:\/\/\S+\/call\?meeting=\S+#link=\S+)/.exec(email.body.text as string)?.[1];
      expect(link).toBeDefined();
      const token = new URL(link!).hash.slice('#link='.length);
      expect((await client(sys.url, token).request('GET', `/meetings/${id}`)).status).toBe(200);
      expect(resend.fake.deliveredTo('ivan@example.com').filter((e) => String(e.body?.text).includes(id))).toHaveLength(
        0,
      );
      // Marked sent in the plan: nothing is left to go.
      expect(planOf(sys, id)?.reminders).toEqual([]);
    },
  );

  it(
    'with the instructor switch on, the instructor gets their own reminder with their own join link, once',
    { timeout: TEST_MS },
    async () => {
      const putKinds = async (notifyInstructor: boolean) => {
        const current = (await admin.request('GET', '/settings')).body;
        const res = await admin.request('PUT', '/settings', {
          debugLevel: current.debugLevel,
          notifications: {
            cancellation: current.notifications.cancellation,
            kinds: { reminder: { enabled: true, notifyInstructor } },
          },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      };
      await putKinds(true);
      try {
        const id = await book(admin, sessionBody('nora', 'isak', OFFSET_SECONDS + 10));
        const sent = await eventually(
          async () => {
            const items = await noticesFor(admin, id);
            return items.length === 2 && items.every((n) => n.status === 'sent') ? items : undefined;
          },
          'both reminders sent',
          WAIT_MS,
        );
        expect(sent.map((n) => `${n.topic}:${n.recipient.personId}:${n.recipient.role}`).sort()).toEqual([
          'reminder:isak:instructor',
          'reminder:nora:customer',
        ]);
        const [toInstructor] = remindersTo('isak@example.com', id);
        expect(remindersTo('isak@example.com', id)).toHaveLength(1);
        expect(remindersTo('nora@example.com', id)).toHaveLength(1);
        const link = /(https?:\/\/\S+\/call\?meeting=\S+#link=\S+)/.exec(toInstructor!.body.text as string)?.[1];
        const memberLink = /(https?:\/\/\S+\/call\?meeting=\S+#link=\S+)/.exec(
          remindersTo('nora@example.com', id)[0]!.body.text as string,
        )?.[1];
        expect(link).toBeDefined();
        expect(link).not.toBe(memberLink);
        // The instructor's link signs in the instructor: the session is theirs to see.
        const token = new URL(link!).hash.slice('#link='.length);
        const seen = await client(sys.url, token).request('GET', `/meetings/${id}`);
        expect(seen.status).toBe(200);
        expect(planOf(sys, id)?.reminders).toEqual([]);
      } finally {
        await putKinds(false);
      }
    },
  );

  it('sends no reminder for a session cancelled before its reminder', { timeout: TEST_MS }, async () => {
    const cancelled = await book(admin, sessionBody('dana', 'igor', OFFSET_SECONDS + 5));
    // A session whose reminder is due after the cancelled one's: once it went, the cancelled one's time had passed.
    const control = await book(admin, sessionBody('erin', 'ines', OFFSET_SECONDS + 10));
    await eventually(() => planOf(sys, cancelled)?.reminders.length === 1, 'the reminder planned', WAIT_MS);
    expect((await admin.request('POST', `/meetings/${cancelled}/cancel`, {})).status).toBe(200);
    await eventually(() => planOf(sys, cancelled)?.status === 'dropped', 'the reminder dropped', WAIT_MS);
    expect(planOf(sys, cancelled)?.reminders).toEqual([]);

    await eventually(
      async () => {
        const items = await noticesFor(admin, control);
        return items.some((n) => n.topic === 'reminder' && n.status === 'sent');
      },
      'the other session reminded',
      WAIT_MS,
    );
    const notices = await noticesFor(admin, cancelled);
    // The cancellation email only.
    expect(notices.map((n) => n.topic)).toEqual(['cancelled']);
    expect(remindersTo('dana@example.com', cancelled)).toHaveLength(0);
  });

  it(
    'plans the reminder of a cancelled session again when it is reinstated, and sends it',
    { timeout: TEST_MS },
    async () => {
      const id = await book(admin, sessionBody('rita', 'ravi', OFFSET_SECONDS + 10));
      await eventually(() => planOf(sys, id)?.reminders.length === 1, 'the reminder planned', WAIT_MS);
      expect((await admin.request('POST', `/meetings/${id}/cancel`, {})).status).toBe(200);
      await eventually(() => planOf(sys, id)?.status === 'dropped', 'the reminder dropped', WAIT_MS);
      expect((await admin.request('POST', `/meetings/${id}/reinstate`, {})).status).toBe(200);
      await eventually(
        () => planOf(sys, id)?.status === 'planned' && planOf(sys, id)?.reminders.length === 1,
        'the reminder planned again',
        WAIT_MS,
      );
      await eventually(
        async () => (await noticesFor(admin, id)).some((n) => n.topic === 'reminder' && n.status === 'sent'),
        'the reminder sent',
        WAIT_MS,
      );
      expect(remindersTo('rita@example.com', id)).toHaveLength(1);
    },
  );

  it("reminds a moved session at the new time's offset, not the old one's", { timeout: TEST_MS }, async () => {
    const body = sessionBody('finn', 'ivy', OFFSET_SECONDS + 5);
    const id = await book(admin, body);
    const newStart = new Date(Date.parse(body.start) + 20_000).toISOString();
    const moved = await admin.request('PATCH', `/meetings/${id}`, {
      start: newStart,
      end: new Date(Date.parse(newStart) + 30 * 60_000).toISOString(),
    });
    expect(moved.status).toBe(200);
    const newDue = new Date(Date.parse(newStart) - OFFSET_SECONDS * 1000).toISOString();
    await eventually(() => planOf(sys, id)?.start === newStart, 'the reminder re-planned', WAIT_MS);
    expect(planOf(sys, id)?.reminders).toEqual([expect.objectContaining({ dueAt: newDue, start: newStart })]);

    const notices = await eventually(
      async () => {
        const items = (await noticesFor(admin, id)).filter((n) => n.topic === 'reminder');
        return items.length === 1 && items[0]?.status === 'sent' ? items : undefined;
      },
      'the reminder sent',
      WAIT_MS,
    );
    expect(Date.parse(notices[0]!.createdAt)).toBeGreaterThanOrEqual(Date.parse(newDue));
    const emails = remindersTo('finn@example.com', id);
    expect(emails).toHaveLength(1);
  });
});

describe('reminders across an outage', () => {
  const dataDir = tempDir();
  let sys: TestSystem | undefined;
  const start = () => startTestSystem({ dataDir, env: RESEND_ENV, system: SYSTEM });

  afterAll(async () => {
    await sys?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'sends a reminder that fell due while the server was down once, late, and none for a session that started meanwhile',
    { timeout: TEST_MS },
    async () => {
      sys = await start();
      await sys.people('gina', 'ike', 'hana', 'iris');
      const admin = await sys.as('admin-1', ['admin']);
      // Due in 2 s, starting in 17 s: it will have started when the server is back.
      const started = await book(admin, sessionBody('gina', 'ike', OFFSET_SECONDS + 2));
      // Due in 30 s, starting in 45 s: its reminder falls due while the server is down, the session is still ahead.
      const ahead = await book(admin, sessionBody('hana', 'iris', OFFSET_SECONDS + 30));
      await eventually(
        () => planOf(sys!, started)?.reminders.length === 1 && planOf(sys!, ahead)?.reminders.length === 1,
        'both reminders planned',
        WAIT_MS,
      );
      const startedAt = planOf(sys, started)!.start;
      const aheadDue = planOf(sys, ahead)!.reminders[0]!.dueAt;
      await sys.close();
      sys = undefined;

      await passed(startedAt, 'the first session started');
      await passed(aheadDue, "the second session's reminder due");
      sys = await start();
      const again = await sys.as('admin-1', ['admin']);

      await eventually(
        async () => {
          const items = await noticesFor(again, ahead);
          return items.length === 1 && items[0]?.status === 'sent';
        },
        'the late reminder sent',
        WAIT_MS,
      );
      await eventually(() => planOf(sys!, started)?.reminders.length === 0, 'the missed reminder let go', WAIT_MS);
      expect(await noticesFor(again, started)).toEqual([]);
      expect(remindersTo('gina@example.com', started)).toHaveLength(0);
      expect(remindersTo('hana@example.com', ahead)).toHaveLength(1);
    },
  );
});
