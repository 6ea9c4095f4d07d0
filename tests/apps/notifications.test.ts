import * as E from 'fp-ts/lib/Either.js';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SystemOptions } from '../../apps/compose.ts';
import { eventually, useFakeResend } from '../support/fake-resend.ts';
import type { ReceivedRequest } from '../support/fake-resend.ts';
import { parseCalendar } from '../support/ical.ts';
import { defaultAccessProvider } from '../../application/default-access.ts';
import { aMeeting, aSeriesBody } from '../support/builders.ts';
import type { PersonEntry } from '../support/builders.ts';
import { startTestSystem, tempDir, useSystem } from '../support/system.ts';
import type { Client, TestSystem, TestSystemOptions } from '../support/system.ts';

/**
 * Cancellation emails end to end: the real system on a real SQLite file, the real Resend SDK pointed (through
 * RESEND_BASE_URL, which the SDK reads when the client is made) at a local server that answers like Resend.
 */

const resend = useFakeResend();

const RESEND_ENV = { RESEND_API_KEY: 're_test' };

/** The customer and the instructor with their own zones: each email shows the session in its recipient's zone. */
const PEOPLE: PersonEntry[] = [
  { id: 'cora', name: 'Cora Customer', timezone: 'America/Chicago' },
  { id: 'ivan', name: 'Ivan Instructor', timezone: 'America/New_York' },
];

/** A describe block's system that sends through the resend.fake Resend, with PEOPLE in its directory. */
const useResendSystem = (system: TestSystemOptions['system'] = {}) =>
  useSystem({ env: RESEND_ENV, system, people: PEOPLE });

type Notice = {
  id: string;
  kind: 'meeting' | 'series';
  status: string;
  meetingIds: string[];
  announcedMeetingIds: string[];
  recipient: { personId: string; role: string; email?: string };
  attempts: number;
  reason?: string;
  lastError?: string;
  providerMessageId?: string;
  nextAttemptAt?: string;
  subject?: string;
};

const noticesFor = async (admin: Client, meetingId: string): Promise<Notice[]> => {
  const res = await admin.request('GET', `/notifications?meetingId=${encodeURIComponent(meetingId)}`);
  if (res.status !== 200) throw new Error(`GET /notifications answered ${res.status}`);
  return res.body.items as Notice[];
};

/** Waits until the meeting has `count` notifications and every one is in a final state (or matches `ready`). */
const settled = (
  admin: Client,
  meetingId: string,
  count = 1,
  ready: (n: Notice) => boolean = (n) => n.status !== 'pending',
) =>
  eventually(async () => {
    const items = await noticesFor(admin, meetingId);
    return items.length === count && items.every(ready) ? items : undefined;
  }, `${count} settled notification(s) for meeting ${meetingId}`);

const icsOf = (request: ReceivedRequest | undefined): string => {
  const attachment = request?.body?.attachments?.[0];
  if (attachment === undefined) throw new Error('no attachment');
  return Buffer.from(attachment.content as string, 'base64')
    .toString('utf8')
    .replace(/\r\n[ \t]/g, '');
};

/** Every attachment of the email, as sent: filename, content type and the calendar text. */
const attachmentsOf = (
  request: ReceivedRequest | undefined,
): Array<{ filename: string; contentType: string; ics: string }> =>
  ((request?.body?.attachments ?? []) as Array<{ filename: string; content_type: string; content: string }>).map(
    (a) => ({
      filename: a.filename,
      contentType: a.content_type,
      ics: Buffer.from(a.content, 'base64').toString('utf8'),
    }),
  );

let day = 0;
/** A fresh slot per meeting, so the double-booking guard never interferes. */
const meetingBody = (overrides: Record<string, unknown> = {}) => {
  day += 1;
  const start = new Date(Date.UTC(2030, 3, 1, 15) + day * 86_400_000);
  return aMeeting({
    start: start.toISOString(),
    end: new Date(start.getTime() + 3_600_000).toISOString(),
    timezone: 'America/New_York',
    ...overrides,
  });
};

const createAndCancel = async (admin: Client, body: Record<string, unknown>, reason?: string): Promise<string> => {
  const created = await admin.request('POST', '/meetings', body);
  expect(created.status).toBe(201);
  const cancelled = await admin.request(
    'POST',
    `/meetings/${created.body.id}/cancel`,
    reason !== undefined ? { reason } : {},
  );
  expect(cancelled.status).toBe(200);
  return created.body.id as string;
};

const updateSettings = async (admin: Client, change: Record<string, unknown>) => {
  const current = (await admin.request('GET', '/settings')).body;
  const next = {
    ...current,
    notifications: { ...current.notifications, cancellation: { ...current.notifications.cancellation, ...change } },
  };
  const res = await admin.request('PUT', '/settings', next);
  expect(res.status).toBe(200);
};

/** For the block that restarts its system on one data directory. */
const startWithResend = (dataDir: string, system: SystemOptions) =>
  startTestSystem({ dataDir, env: RESEND_ENV, system });

describe('cancellation emails through Resend', () => {
  const sys = useResendSystem({
    notifications: { baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 3, sendTimeoutMs: 15_000 },
    // A site's provider that knows a member the people directory does not (so has no address for): 'nomad'.
    access: (queries) => {
      const base = defaultAccessProvider(queries);
      return { ...base, personExists: async (id) => id === 'nomad' || base.personExists(id) };
    },
  });
  const admin = sys.client('ada', ['admin']);

  it('sends one email to the customer: subject, escaped body, date in her zone, text part and a METHOD:CANCEL .ics', async () => {
    const title = 'Strength <script>alert(1)</script> & co';
    const meetingId = await createAndCancel(
      admin,
      meetingBody({ title, start: '2030-03-02T15:00:00Z', end: '2030-03-02T16:00:00Z' }),
      'Ivan is <b>ill</b>',
    );
    const [notice] = await settled(admin, meetingId);
    expect(notice).toMatchObject({
      kind: 'meeting',
      status: 'sent',
      attempts: 1,
      recipient: { personId: 'cora', role: 'customer', email: 'cora@example.com' },
    });
    const requests = resend.fake.requestsFor(notice!.id);
    expect(requests).toHaveLength(1);
    const request = requests[0];
    expect(request?.headers['idempotency-key']).toBe(notice!.id);
    expect(notice!.providerMessageId).toBe(resend.fake.delivered.find((d) => d.idempotencyKey === notice!.id)?.id);
    const body = request?.body;
    expect(body.to).toEqual(['cora@example.com']);
    expect(body.from).toBe('Virtual Y <no-reply@localhost>');
    expect(body.subject).toBe(`Virtual Y: your session "${title}" was cancelled`);
    expect(body.html).toContain('Strength &lt;script&gt;alert(1)&lt;/script&gt; &amp; co');
    expect(body.html).not.toContain('<script>');
    expect(body.html).toContain('Ivan is &lt;b&gt;ill&lt;/b&gt;');
    expect(body.html).toContain('Hello Cora Customer,');
    expect(body.html).toContain('with Ivan Instructor on Saturday, March 2, 2030, 9:00 AM CST');
    expect(body.text).toContain(
      `Your 1on1 session ${title} with Ivan Instructor on Saturday, March 2, 2030, 9:00 AM CST has been cancelled.`,
    );
    expect(body.text).not.toContain('<p>');
    expect(body.attachments[0]).toMatchObject({
      filename: 'cancellation.ics',
      content_type: 'text/calendar; charset=utf-8; method=CANCEL',
    });
    const ics = icsOf(request);
    expect(ics).toContain('METHOD:CANCEL');
    expect(ics).toContain(`UID:${meetingId}@localhost`);
    expect(ics).toContain('SEQUENCE:1');
    expect(ics).toContain('STATUS:CANCELLED');
    expect(ics).toContain('DTSTART:20300302T150000Z');
    // Only the customer: notifyInstructor is off by default.
    expect(resend.fake.deliveredTo('ivan@example.com')).toHaveLength(0);
  });

  it('also tells the instructor when notifyInstructor is on, in his own zone', async () => {
    await updateSettings(admin, { notifyInstructor: true });
    try {
      const meetingId = await createAndCancel(admin, meetingBody());
      const notices = await settled(admin, meetingId, 2);
      expect(notices.map((n) => [n.recipient.personId, n.recipient.role, n.status]).sort()).toEqual([
        ['cora', 'customer', 'sent'],
        ['ivan', 'instructor', 'sent'],
      ]);
      const toIvan = resend.fake.requestsFor(notices.find((n) => n.recipient.personId === 'ivan')!.id);
      expect(toIvan).toHaveLength(1);
      expect(toIvan[0]?.body.to).toEqual(['ivan@example.com']);
      expect(toIvan[0]?.body.html).toMatch(/11:00 AM EDT/);
      // Each one addressed to its reader, with the template of their role.
      expect(toIvan[0]?.body.html).toContain('Hello Ivan Instructor,');
      expect(toIvan[0]?.body.html).toContain('with Cora Customer on');
      expect(toIvan[0]?.body.html).not.toContain('Cora Customer,');
      expect(toIvan[0]?.body.subject).toBe(
        'Virtual Y: your session "Strength basics" with Cora Customer was cancelled',
      );
      const toCora = resend.fake.requestsFor(notices.find((n) => n.recipient.personId === 'cora')!.id);
      expect(toCora).toHaveLength(1);
      expect(toCora[0]?.body.html).toContain('Hello Cora Customer,');
      expect(toCora[0]?.body.html).not.toContain('Hello Ivan');
      // The log shows each recipient's own subject; one notification, one key and one email per recipient.
      expect(notices.find((n) => n.recipient.personId === 'ivan')?.subject).toBe(toIvan[0]?.body.subject);
      expect(notices.find((n) => n.recipient.personId === 'cora')?.subject).toBe(toCora[0]?.body.subject);
      expect(new Set(notices.map((n) => n.id)).size).toBe(2);
      for (const n of notices) expect(resend.fake.delivered.filter((d) => d.idempotencyKey === n.id)).toHaveLength(1);
    } finally {
      await updateSettings(admin, { notifyInstructor: false });
    }
  });

  it("keeps today's settings bodies valid and meaning what they meant; the instructor's templates are new fields", async () => {
    const before = (await admin.request('GET', '/settings')).body;
    expect(before.notifications.cancellation).toMatchObject({
      instructorSubject: expect.stringContaining('{{customerName}}'),
      instructorBodyTemplate: expect.stringContaining('Hello {{instructorName}}'),
    });
    const today = {
      notifications: {
        cancellation: {
          enabled: true,
          subject: 'Member: {{meetingTitle}}',
          bodyTemplate: '<p>Dear {{customerName}}</p>',
          notifyInstructor: true,
        },
      },
      debugLevel: 0,
    };
    try {
      // A client that knows only today's fields: accepted, and it sets the member's template only.
      const put = await admin.request('PUT', '/settings', today);
      expect(put.status).toBe(200);
      expect(put.body.notifications.cancellation).toEqual({
        ...today.notifications.cancellation,
        instructorSubject: before.notifications.cancellation.instructorSubject,
        instructorBodyTemplate: before.notifications.cancellation.instructorBodyTemplate,
      });
      // A newer client sets the instructor's; a later PUT from the older client leaves it alone.
      const custom = {
        instructorSubject: 'Coach: {{meetingTitle}} with {{counterpartName}}',
        instructorBodyTemplate: '<p>Hi {{recipientName}}, {{counterpartName}} will not come.</p>',
      };
      expect(
        (
          await admin.request('PUT', '/settings', {
            ...today,
            notifications: { cancellation: { ...today.notifications.cancellation, ...custom } },
          })
        ).status,
      ).toBe(200);
      expect((await admin.request('PUT', '/settings', today)).status).toBe(200);
      expect((await admin.request('GET', '/settings')).body.notifications.cancellation).toEqual({
        ...today.notifications.cancellation,
        ...custom,
      });
      const bad = await admin.request('PUT', '/settings', {
        ...today,
        notifications: { cancellation: { ...today.notifications.cancellation, instructorSubject: '{{nope}}' } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([
        expect.objectContaining({ path: 'notifications.cancellation.instructorSubject' }),
      ]);

      const meetingId = await createAndCancel(admin, meetingBody({ title: 'Mobility' }));
      const notices = await settled(admin, meetingId, 2);
      const mail = (personId: string) =>
        resend.fake.requestsFor(notices.find((n) => n.recipient.personId === personId)!.id)[0]?.body;
      // Each template as written, and no join link: the cancelled session is not held any more.
      const thenLink = (html: string) => expect.stringMatching(`^${html}(?![\\s\\S]*Your own link)`);
      expect(mail('cora')).toMatchObject({ subject: 'Member: Mobility', html: thenLink('<p>Dear Cora Customer</p>') });
      expect(mail('ivan')).toMatchObject({
        subject: 'Coach: Mobility with Cora Customer',
        html: thenLink('<p>Hi Ivan Instructor, Cora Customer will not come.</p>'),
      });
    } finally {
      expect((await admin.request('PUT', '/settings', before)).status).toBe(200);
    }
  });

  it('retries a 500 and then sends, once', async () => {
    resend.fake.plan({ status: 500 });
    const meetingId = await createAndCancel(admin, meetingBody());
    const [notice] = await settled(admin, meetingId);
    expect(notice).toMatchObject({ status: 'sent', attempts: 2 });
    expect(resend.fake.requestsFor(notice!.id).map((r) => r.answered)).toEqual([500, 200]);
    expect(resend.fake.delivered.filter((d) => d.idempotencyKey === notice!.id)).toHaveLength(1);
  });

  it('gives up after the last retry of a 429, then an admin retry sends it', async () => {
    resend.fake.plan({ status: 429 }, { status: 429 }, { status: 429 });
    const meetingId = await createAndCancel(admin, meetingBody());
    const [failed] = await settled(admin, meetingId);
    expect(failed).toMatchObject({ status: 'failed', attempts: 3 });
    expect(failed!.lastError).toMatch(/gave up after 3 attempts: 429 rate_limit_exceeded/);
    expect(resend.fake.requestsFor(failed!.id)).toHaveLength(3);
    expect(resend.fake.delivered.filter((d) => d.idempotencyKey === failed!.id)).toHaveLength(0);
    expect((await admin.request('GET', '/notifications?status=failed')).body.items.map((n: Notice) => n.id)).toContain(
      failed!.id,
    );

    const retried = await admin.request('POST', `/notifications/${failed!.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: failed!.id, status: 'pending', round: 1 });
    const [sent] = await settled(admin, meetingId);
    expect(sent).toMatchObject({ status: 'sent', attempts: 4 });
    // The admin's round has its own key: its email was rendered again and may differ from the first round's.
    expect(resend.fake.delivered.filter((d) => d.idempotencyKey === `${failed!.id}.r1`)).toHaveLength(1);
    expect(resend.fake.delivered.filter((d) => d.idempotencyKey === failed!.id)).toHaveLength(0);
    // A sent notification cannot be retried.
    expect((await admin.request('POST', `/notifications/${failed!.id}/retry`)).status).toBe(409);
  });

  it('an admin retry with an Idempotency-Key is done once: repeated, it answers as the first; re-run after a lost answer, it finds its round', async () => {
    resend.fake.plan({ status: 429 }, { status: 429 }, { status: 429 });
    const meetingId = await createAndCancel(admin, meetingBody());
    const [failed] = await settled(admin, meetingId);
    expect(failed).toMatchObject({ status: 'failed' });
    const key = `retry-${failed!.id}`;
    const first = await admin.request('POST', `/notifications/${failed!.id}/retry`, undefined, {
      'idempotency-key': key,
    });
    expect(first).toMatchObject({ status: 202, body: { round: 1 } });
    const again = await admin.request('POST', `/notifications/${failed!.id}/retry`, undefined, {
      'idempotency-key': key,
    });
    expect(again).toMatchObject({ status: 202, body: first.body });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await settled(admin, meetingId);
    expect(resend.fake.delivered.filter((d) => d.idempotencyKey === `${failed!.id}.r1`)).toHaveLength(1);

    // The service itself, as a re-run of a claimed request whose answer was lost: it finds the round it started.
    resend.fake.plan({ status: 429 }, { status: 429 }, { status: 429 });
    const otherMeeting = await createAndCancel(admin, meetingBody());
    const [other] = await settled(admin, otherMeeting);
    const ctx = {
      user: { id: 'ada', roles: ['admin' as const] },
      idempotency: { causation: `idempotency-claim:${other!.id}`, newId: () => 'unused' },
    };
    const started = await sys.system.notifications.service.retry(ctx, other!.id);
    const rerun = await sys.system.notifications.service.retry(ctx, other!.id);
    expect(E.isRight(started) && E.isRight(rerun)).toBe(true);
    if (E.isRight(started) && E.isRight(rerun)) expect(rerun.right.round).toBe(started.right.round);
    const history = (await sys.system.store.readStream(`notification-${other!.id}`)).filter(
      (e) => e.type === 'NotificationRetryRequested',
    );
    expect(history).toHaveLength(1);
    // Its round sends in the background: let it finish here, not in the next test.
    const [sent] = await settled(admin, otherMeeting);
    expect(sent).toMatchObject({ status: 'sent' });
  });

  it('fails at once on a 422, without retrying', async () => {
    resend.fake.plan({ status: 422, message: 'Invalid `to` field.' });
    const meetingId = await createAndCancel(admin, meetingBody());
    const [notice] = await settled(admin, meetingId);
    expect(notice).toMatchObject({ status: 'failed', attempts: 1 });
    expect(notice!.lastError).toContain('422');
    expect(resend.fake.requestsFor(notice!.id)).toHaveLength(1);
  });

  it('sends nothing when the notification is disabled, and records why', async () => {
    await updateSettings(admin, { enabled: false });
    try {
      const meetingId = await createAndCancel(admin, meetingBody());
      const [notice] = await settled(admin, meetingId);
      expect(notice).toMatchObject({ status: 'skipped', reason: 'disabled' });
      expect(resend.fake.requestsFor(notice!.id)).toHaveLength(0);
    } finally {
      await updateSettings(admin, { enabled: true });
    }
  });

  it('records a member without an address (known to the access provider, not to the directory) as undeliverable; once the address is known an admin retry sends it', async () => {
    const meetingId = await createAndCancel(admin, meetingBody({ customerId: 'nomad' }));
    const [notice] = await settled(admin, meetingId);
    expect(notice).toMatchObject({ status: 'undeliverable', recipient: { personId: 'nomad', role: 'customer' } });
    expect(notice!.reason).toContain('no email address');
    expect(
      (await admin.request('GET', '/notifications?status=undeliverable')).body.items.map((n: Notice) => n.id),
    ).toContain(notice!.id);
    expect(resend.fake.requestsFor(notice!.id)).toHaveLength(0);

    await admin.request('PUT', '/people/nomad', {
      name: 'Nomad',
      email: 'nomad@example.com',
      timezone: 'Europe/Berlin',
    });
    expect((await admin.request('POST', `/notifications/${notice!.id}/retry`)).status).toBe(202);
    const [sent] = await settled(admin, meetingId);
    expect(sent).toMatchObject({ status: 'sent', recipient: { email: 'nomad@example.com' } });
    const request = resend.fake.requestsFor(`${notice!.id}.r1`)[0];
    expect(request?.body.to).toEqual(['nomad@example.com']);
    expect(request?.body.html).toMatch(/(CEST|GMT\+2)/);
  });

  it('never announces a session that has already ended', async () => {
    const meetingId = await createAndCancel(
      admin,
      meetingBody({ start: '2020-01-06T15:00:00Z', end: '2020-01-06T16:00:00Z' }),
    );
    const [notice] = await settled(admin, meetingId);
    expect(notice).toMatchObject({ status: 'skipped', reason: 'ended' });
    expect(resend.fake.requestsFor(notice!.id)).toHaveLength(0);
  });

  it('shows the log to admins only, validates its filters and answers 404 for unknown ids', async () => {
    const cora = await sys.as('cora', ['customer']);
    const ivan = await sys.as('ivan', ['instructor']);
    expect((await cora.request('GET', '/notifications')).status).toBe(403);
    expect((await ivan.request('GET', '/notifications')).status).toBe(403);
    const some = (await admin.request('GET', '/notifications')).body.items as Notice[];
    expect(some.length).toBeGreaterThan(0);
    expect((await ivan.request('POST', `/notifications/${some[0]!.id}/retry`)).status).toBe(403);
    const bad = await admin.request('GET', '/notifications?status=lost&limit=0');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['limit', 'status']);
    expect((await admin.request('GET', '/notifications?limit=1')).body.items).toHaveLength(1);
    expect((await admin.request('POST', `/notifications/${'0'.repeat(32)}/retry`)).status).toBe(404);
    expect((await admin.request('GET', `/notifications/${'0'.repeat(32)}`)).status).toBe(404);
  });

  it('lists newest first and reports its place in the log in /health', async () => {
    const items = (await admin.request('GET', '/notifications')).body.items as Array<{ createdAt: string }>;
    const created = items.map((n) => n.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    const health = await eventually(async () => {
      const res = await admin.request('GET', '/health');
      return res.body.projections['cancellation-notices']?.lag === 0 ? res.body : undefined;
    }, 'the reaction to catch up');
    expect(health.projections['cancellation-notices'].position).toBeGreaterThan(0);
    expect(health.projections.notifications).toMatchObject({ lag: expect.any(Number) });
  });

  it('refuses templates with unknown tokens or unbalanced braces', async () => {
    const current = (await admin.request('GET', '/settings')).body;
    const put = (cancellation: Record<string, unknown>) =>
      admin.request('PUT', '/settings', {
        ...current,
        notifications: { cancellation: { ...current.notifications.cancellation, ...cancellation } },
      });
    const unknown = await put({ bodyTemplate: '<p>{{meetingTitel}}</p>' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([
      {
        path: 'notifications.cancellation.bodyTemplate',
        message: expect.stringContaining("unknown token '{{meetingTitel}}'"),
      },
    ]);
    const unbalanced = await put({ subject: 'Cancelled {{meetingTitle}' });
    expect(unbalanced.status).toBe(400);
    expect(unbalanced.body.errors[0].path).toBe('notifications.cancellation.subject');
    expect((await put({ subject: 'Cancelled: {{meetingTitle}} ({{sessionCount}})' })).status).toBe(200);
    expect((await admin.request('PUT', '/settings', current)).status).toBe(200);
  });
});

describe('timeouts, restarts and rebuilds', () => {
  const dataDir = tempDir();
  // Jitter pinned to its maximum, so a retry is due exactly 1.5 s after a failure: time enough to stop the server.
  const system: SystemOptions = {
    notifications: { baseDelayMs: 1_500, maxDelayMs: 1_500, maxAttempts: 6, sendTimeoutMs: 1_000, random: () => 1 },
  };
  let sys: TestSystem;
  let admin: Client;

  beforeAll(async () => {
    sys = await startWithResend(dataDir, system);
    admin = await sys.as('ada', ['admin']);
    await sys.people(...PEOPLE);
  });

  afterAll(async () => {
    await sys.destroy();
  });

  const restart = async () => {
    await sys.close();
    sys = await startWithResend(dataDir, system);
    admin = await sys.as('ada', ['admin']);
  };

  it('a provider that hangs times out and the email is retried', async () => {
    resend.fake.plan('hang');
    const meetingId = await createAndCancel(admin, meetingBody());
    const [notice] = await settled(admin, meetingId);
    expect(notice!.status).toBe('sent');
    const requests = resend.fake.requestsFor(notice!.id);
    expect(requests[0]?.answered).toBe('hang');
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(resend.fake.delivered.filter((d) => d.idempotencyKey === notice!.id)).toHaveLength(1);
    expect(notice!.lastError).toContain('no answer from the mail provider');
  });

  it('sends exactly once across a restart in the middle of a retry, even if the first send went out unrecorded', async () => {
    // The provider takes the email but the answer never arrives: a crash between send and record, seen from here.
    resend.fake.plan('accept-then-hang');
    const meetingId = await createAndCancel(admin, meetingBody());
    const [waiting] = await settled(admin, meetingId, 1, (n) => n.attempts >= 1);
    expect(waiting).toMatchObject({ status: 'pending', attempts: 1 });
    expect(waiting!.nextAttemptAt).toBeDefined();
    await restart();
    const [sent] = await settled(admin, meetingId);
    expect(sent!.status).toBe('sent');
    const delivered = resend.fake.delivered.filter((d) => d.idempotencyKey === sent!.id);
    expect(delivered).toHaveLength(1);
    expect(sent!.providerMessageId).toBe(delivered[0]?.id);
    expect(resend.fake.requestsFor(sent!.id).length).toBeGreaterThanOrEqual(2);
  });

  it('a retry scheduled before a restart is sent after it, once', async () => {
    resend.fake.plan({ status: 503 });
    const meetingId = await createAndCancel(admin, meetingBody());
    const [waiting] = await settled(admin, meetingId, 1, (n) => n.attempts >= 1);
    expect(waiting!.status).toBe('pending');
    await restart();
    const [sent] = await settled(admin, meetingId);
    expect(sent).toMatchObject({ status: 'sent', attempts: 2 });
    expect(resend.fake.requestsFor(sent!.id).map((r) => r.answered)).toEqual([503, 200]);
  });

  it('rebuilding the read models (deleted while stopped) sends nothing again', async () => {
    const meetingId = await createAndCancel(admin, meetingBody());
    const [before] = await settled(admin, meetingId);
    expect(before!.status).toBe('sent');
    const all = ((await admin.request('GET', '/notifications')).body.items as Notice[]).map((n) => [n.id, n.status]);
    const requestCount = resend.fake.requests.length;
    await sys.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, `read-models.db${suffix}`), { force: true });
    sys = await startWithResend(dataDir, system);
    admin = await sys.as('ada', ['admin']);
    await eventually(async () => {
      const res = await admin.request('GET', '/health');
      return res.body.projections['cancellation-notices']?.lag === 0 && res.body.projections.notifications?.lag === 0;
    }, 'the reaction to replay the whole log');
    const after = ((await admin.request('GET', '/notifications')).body.items as Notice[]).map((n) => [n.id, n.status]);
    expect(after).toEqual(all);
    expect(resend.fake.requests.length).toBe(requestCount);
  });
});

describe('a series cancellation', () => {
  let now = new Date('2030-03-01T00:00:00Z');
  const sys = useResendSystem({ clock: () => now, notifications: { baseDelayMs: 20, maxDelayMs: 100 } });
  const admin = sys.client('ada', ['admin']);

  it('sends one email per recipient listing the cancelled sessions that have not ended', async () => {
    const created = await admin.request(
      'POST',
      '/series',
      aSeriesBody({
        title: 'Spring <strength>',
        timezone: 'America/New_York',
        startDate: '2030-03-04',
        startTime: '10:00',
        rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=4',
      }),
    );
    expect(created.status).toBe(201);
    const occurrences = created.body.occurrences as Array<{ meetingId: string }>;
    expect(occurrences).toHaveLength(4);
    // A week later the first session has taken place; cancelling from before it includes it, but it is never announced.
    now = new Date('2030-03-10T00:00:00Z');
    const cancelled = await admin.request('POST', `/series/${created.body.id}/cancel`, {
      from: '2030-03-01T00:00:00Z',
      reason: 'Gym closed',
    });
    expect(cancelled.status).toBe(200);

    const [notice] = await settled(admin, occurrences[1]!.meetingId);
    expect(notice).toMatchObject({ kind: 'series', status: 'sent', recipient: { personId: 'cora' } });
    expect(notice!.meetingIds).toEqual(occurrences.map((o) => o.meetingId));
    expect(notice!.announcedMeetingIds).toEqual(occurrences.slice(1).map((o) => o.meetingId));
    // No per-occurrence notices: every occurrence points at the one series notice.
    for (const o of occurrences) expect((await noticesFor(admin, o.meetingId)).map((n) => n.id)).toEqual([notice!.id]);
    expect(resend.fake.deliveredTo('cora@example.com').filter((d) => d.idempotencyKey === notice!.id)).toHaveLength(1);
    const request = resend.fake.requestsFor(notice!.id)[0];
    expect(request?.body.html).toContain('Spring &lt;strength&gt;');
    expect(request?.body.html).toContain(
      '<ul><li>Monday, March 11, 2030, 9:00 AM CDT</li><li>Monday, March 18, 2030, 9:00 AM CDT</li><li>Monday, March 25, 2030, 9:00 AM CDT</li></ul>',
    );
    expect(request?.body.html).not.toContain('March 4');
    expect(request?.body.text).toContain(
      '- Monday, March 11, 2030, 9:00 AM CDT\n- Monday, March 18, 2030, 9:00 AM CDT',
    );
    // One METHOD:CANCEL object per cancelled session (RFC 5546: one UID per iTIP object), each its own attachment,
    // with the UID and SEQUENCE the member's calendar feed shows for that session.
    const cora = await sys.as('cora', ['customer']);
    const subscription = await cora.request('POST', '/calendar/feed');
    expect(subscription.status).toBe(201);
    const feedRes = await fetch(
      `${sys.url}/calendar.ics?token=${encodeURIComponent(subscription.body.token as string)}`,
    );
    expect(feedRes.status).toBe(200);
    const inFeed = new Map(
      parseCalendar(await feedRes.text())
        .getAllSubcomponents('vevent')
        .map((e) => [
          String(e.getFirstPropertyValue('uid')),
          { sequence: e.getFirstPropertyValue('sequence'), status: e.getFirstPropertyValue('status') },
        ]),
    );
    const attachments = attachmentsOf(request);
    expect(attachments).toHaveLength(3);
    expect(new Set(attachments.map((a) => a.filename)).size).toBe(3);
    attachments.forEach((attachment, i) => {
      expect(attachment.contentType).toBe('text/calendar; charset=utf-8; method=CANCEL');
      const calendar = parseCalendar(attachment.ics);
      expect(calendar.getFirstPropertyValue('method')).toBe('CANCEL');
      const events = calendar.getAllSubcomponents('vevent');
      expect(events).toHaveLength(1);
      const uid = String(events[0]!.getFirstPropertyValue('uid'));
      expect(uid).toBe(`${occurrences[i + 1]!.meetingId}@localhost`);
      expect(events[0]!.getFirstPropertyValue('status')).toBe('CANCELLED');
      expect(inFeed.get(uid)).toEqual({ sequence: events[0]!.getFirstPropertyValue('sequence'), status: 'CANCELLED' });
    });
    expect(attachments.some((a) => a.ics.includes(`UID:${occurrences[0]!.meetingId}@`))).toBe(false);
  });
});

describe('a series edit that drops sessions', () => {
  const now = new Date('2030-03-01T00:00:00Z');
  const sys = useResendSystem({ clock: () => now, notifications: { baseDelayMs: 20, maxDelayMs: 100 } });
  const admin = sys.client('ada', ['admin']);

  it('sends one email listing the dropped sessions, not one per session, and none for a session cancelled before', async () => {
    const created = await admin.request(
      'POST',
      '/series',
      aSeriesBody({ startDate: '2030-03-04', rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6' }),
    );
    expect(created.status).toBe(201);
    const occurrences = created.body.occurrences as Array<{ meetingId: string; localDate: string }>;
    const wednesdays = occurrences.filter((o) => ['2030-03-06', '2030-03-13', '2030-03-20'].includes(o.localDate));
    // One Wednesday was already cancelled on its own: it gets its own (single) notice, and is not announced again.
    await admin.request('POST', `/meetings/${wednesdays[0]!.meetingId}/cancel`, { reason: 'sick' });
    const [own] = await settled(admin, wednesdays[0]!.meetingId);
    expect(own).toMatchObject({ kind: 'meeting', status: 'sent' });

    const changed = await admin.request('PATCH', `/series/${created.body.id}`, {
      rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=3',
    });
    expect(changed.status).toBe(200);
    const [notice] = await settled(admin, wednesdays[1]!.meetingId);
    expect(notice).toMatchObject({ kind: 'series', status: 'sent', recipient: { personId: 'cora' } });
    expect(notice!.meetingIds).toEqual(wednesdays.slice(1).map((o) => o.meetingId));
    expect((await noticesFor(admin, wednesdays[2]!.meetingId)).map((n) => n.id)).toEqual([notice!.id]);
    expect((await noticesFor(admin, wednesdays[0]!.meetingId)).map((n) => n.id)).toEqual([own!.id]);
    const request = resend.fake.requestsFor(notice!.id)[0];
    expect(request?.body.html).toContain('The series schedule changed');
    expect(resend.fake.requestsFor(notice!.id)).toHaveLength(1);
  });
});

describe('a retry after the session was reinstated', () => {
  const sys = useResendSystem({ notifications: { baseDelayMs: 1_500, maxDelayMs: 1_500, random: () => 1 } });
  const admin = sys.client('ada', ['admin']);

  it('does not send the cancellation any more', async () => {
    resend.fake.plan({ status: 500 });
    const meetingId = await createAndCancel(admin, meetingBody({ customerId: 'cora', title: 'Comes back' }));
    const [waiting] = await settled(admin, meetingId, 1, (n) => n.status === 'pending' && n.attempts === 1);
    expect((await admin.request('POST', `/meetings/${meetingId}/reinstate`)).status).toBe(200);
    const [notice] = await settled(admin, meetingId);
    expect(notice).toMatchObject({ id: waiting!.id, status: 'skipped', reason: 'reinstated', attempts: 1 });
    expect(resend.fake.delivered.filter((d) => d.idempotencyKey === notice!.id)).toEqual([]);
  });
});

describe('without RESEND_API_KEY', () => {
  it('writes the email to the dev outbox in DATA_DIR', async () => {
    const sys = await startTestSystem({});
    try {
      const admin = await sys.as('ada', ['admin']);
      await sys.people(...PEOPLE);
      const meetingId = await createAndCancel(admin, meetingBody());
      const [notice] = await settled(admin, meetingId);
      expect(notice).toMatchObject({ status: 'sent', providerMessageId: `outbox:${notice!.id}` });
      const base = join(sys.dataDir, 'outbox', notice!.id);
      expect(readFileSync(`${base}.html`, 'utf8')).toContain('Hello Cora Customer,');
      expect(readFileSync(`${base}.txt`, 'utf8')).toContain('has been cancelled.');
      expect(readFileSync(`${base}.ics`, 'utf8')).toContain('METHOD:CANCEL');
      expect(JSON.parse(readFileSync(`${base}.json`, 'utf8'))).toMatchObject({ to: 'cora@example.com' });
      expect(existsSync(join(sys.dataDir, 'outbox'))).toBe(true);
    } finally {
      await sys.destroy();
    }
  });
});
