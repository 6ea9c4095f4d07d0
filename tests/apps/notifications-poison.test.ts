import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKurrentDb } from '../support/fake-kurrentdb.ts';
import type { FakeKurrentDb } from '../support/fake-kurrentdb.ts';
import { eventually, startFakeResend } from '../support/fake-resend.ts';
import type { FakeResend } from '../support/fake-resend.ts';
import { aMeeting } from '../support/builders.ts';
import { capturingLogger } from '../support/logs.ts';
import { startTestSystem } from '../support/system.ts';
import type { Client, TestSystem } from '../support/system.ts';

/*
 * One cancellation whose notice the event store refuses must not stop the ones after it. The whole system on the
 * fake KurrentDB (tests/support/fake-kurrentdb.ts) with a max append size of 16 KiB, so that a long title and reason
 * make one notice record too large for the server while an ordinary one still fits; the real Resend SDK talks to
 * a local stand-in. Before the fix, the reaction retried the refused append forever and no later email went out.
 */

const SLOW_MS = 120_000;

describe('a notice the event store refuses', () => {
  let kurrent: FakeKurrentDb;
  let resend: FakeResend;
  let sys: TestSystem;
  let admin: Client;
  const savedBaseUrl = process.env.RESEND_BASE_URL;
  const { lines, logger } = capturingLogger();

  beforeAll(async () => {
    kurrent = await startFakeKurrentDb({ maxAppendSize: 16 * 1024 });
    resend = await startFakeResend();
    process.env.RESEND_BASE_URL = resend.url;
    sys = await startTestSystem({
      env: {
        KURRENTDB_CONNECTION_STRING: `${kurrent.connectionString}&discoveryInterval=10`,
        RESEND_API_KEY: 're_test',
      },
      system: {
        logger,
        notifications: { baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 3, sendTimeoutMs: 15_000 },
      },
    });
    admin = await sys.as('ada', ['admin']);
    await sys.people(
      { id: 'cora', name: 'Cora Customer', timezone: 'America/Chicago' },
      { id: 'ivan', name: 'Ivan Instructor' },
    );
  }, SLOW_MS);

  afterAll(async () => {
    await sys?.destroy();
    if (savedBaseUrl === undefined) delete process.env.RESEND_BASE_URL;
    else process.env.RESEND_BASE_URL = savedBaseUrl;
    await resend?.close();
    await kurrent?.close();
  });

  const createAndCancel = async (day: number, title: string, reason: string): Promise<string> => {
    const start = new Date(Date.UTC(2030, 5, 1, 15) + day * 86_400_000);
    const created = await admin.request(
      'POST',
      '/meetings',
      aMeeting({
        title,
        start: start.toISOString(),
        end: new Date(start.getTime() + 3_600_000).toISOString(),
        timezone: 'America/New_York',
      }),
    );
    expect(created.status).toBe(201);
    expect((await admin.request('POST', `/meetings/${created.body.id}/cancel`, { reason })).status).toBe(200);
    return created.body.id as string;
  };

  it(
    'is parked with a visible error, and the email for the next cancellation is still sent',
    async () => {
      const heavy = await createAndCancel(1, '€'.repeat(200), '€'.repeat(1000));
      const light = await createAndCancel(2, 'Strength basics', 'ill');

      // The email after the poison one goes out.
      await eventually(
        () => resend.deliveredTo('cora@example.com').find((d) => String(d.body?.subject).includes('Strength basics')),
        'the second email',
        60_000,
      );

      // The refused one is in the notification log as failed, saying why; it never reached the mail provider.
      const notices = await eventually(
        async () => {
          const res = await admin.request('GET', `/notifications?meetingId=${encodeURIComponent(heavy)}`);
          const items = res.body.items as Array<{
            status: string;
            recipient: { personId: string };
            lastError?: string;
          }>;
          const cora = items.find((n) => n.recipient.personId === 'cora');
          return cora !== undefined && cora.status !== 'pending' ? cora : undefined;
        },
        'the refused notice to settle',
        60_000,
      );
      expect(notices.status).toBe('failed');
      expect(notices.lastError).toMatch(/over the event store's limit of 16384 bytes per append/);
      expect(resend.deliveredTo('cora@example.com').some((d) => String(d.body?.subject).includes('€'))).toBe(false);
      expect(
        kurrent.requests.some((r) => r.kind === 'batchAppend' && r.outcome === 'maximum-append-size-exceeded'),
      ).toBe(true);
      expect(lines.some((l) => l.level >= 50 && /too large/.test(l.msg))).toBe(true);

      // The reaction goes on and says it is healthy, with nothing left behind.
      const health = await sys.as('ada', ['admin']).then((c) => c.request('GET', '/health'));
      expect(health.body.projections['cancellation-notices']).not.toHaveProperty('error');
      const lightNotices = await admin.request('GET', `/notifications?meetingId=${encodeURIComponent(light)}`);
      expect(
        lightNotices.body.items.find((n: { recipient: { personId: string } }) => n.recipient.personId === 'cora'),
      ).toMatchObject({ status: 'sent' });
    },
    SLOW_MS,
  );
});
