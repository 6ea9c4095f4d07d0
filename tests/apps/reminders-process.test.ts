import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../adapters/http/auth.ts';
import { aMeeting } from '../support/builders.ts';
import { eventually, startFakeResend } from '../support/fake-resend.ts';
import type { DeliveredEmail, FakeResend } from '../support/fake-resend.ts';
import { startServerProcess } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';
import { TEST_SECRET, client, putPeople, tempDir } from '../support/system.ts';
import type { Client } from '../support/system.ts';

/**
 * kill -9 of a real server process with a reminder planned and not yet due, and a restart on the same DATA_DIR after
 * its due time: the reminder goes once (counted at the local Resend fake, which the real SDK talks to), with the
 * member's join link, and a session cancelled before its reminder gets none. Reminders are a few seconds before each
 * session through the TEST-ONLY REMINDERS_TEST_OFFSETS_SECONDS (apps/reminders.ts).
 */

const OFFSET_SECONDS = 40;
const WAIT_MS = 120_000;

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];
let fake: FakeResend;

beforeAll(async () => {
  fake = await startFakeResend();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const startServer = (dataDir: string): Promise<ServerProcess> =>
  startServerProcess(dataDir, children, {
    env: {
      HOST: '127.0.0.1',
      SEED_DEMO: 'false',
      RESEND_API_KEY: 're_test',
      RESEND_BASE_URL: fake.url,
      REMINDERS_TEST_OFFSETS_SECONDS: String(OFFSET_SECONDS),
    },
  });

const kill = async (server: ServerProcess): Promise<void> => {
  server.child.kill('SIGKILL');
  expect((await server.ended).signal).toBe('SIGKILL');
};

const secret = new TextEncoder().encode(TEST_SECRET);
const as = async (url: string, sub: string, roles: string[]): Promise<Client> =>
  client(url, await mintToken(secret, { sub, roles }, 3600));

const sessionIn = (customerId: string, instructorId: string, seconds: number) => {
  const start = new Date(Math.ceil((Date.now() + seconds * 1000) / 1000) * 1000);
  return aMeeting({
    customerId,
    instructorId,
    start: start.toISOString(),
    end: new Date(start.getTime() + 30 * 60_000).toISOString(),
  });
};

const remindersTo = (address: string, meetingId: string): DeliveredEmail[] =>
  fake
    .deliveredTo(address)
    .filter(
      (e) =>
        String(e.body?.subject ?? '').includes('reminder') &&
        String(e.body?.text ?? '').includes(`/call?meeting=${encodeURIComponent(meetingId)}#link=`),
    );

type Notice = { topic: string; status: string; recipient: { personId: string } };
const noticesFor = async (admin: Client, meetingId: string): Promise<Notice[]> => {
  const res = await admin.request('GET', `/notifications?meetingId=${encodeURIComponent(meetingId)}`);
  if (res.status !== 200) throw new Error(`GET /notifications answered ${res.status}`);
  return res.body.items as Notice[];
};

/** The node has followed the whole log: its read models, the notices and the reminder planner. */
const caughtUp = (admin: Client) =>
  eventually(
    async () => {
      const health = (await admin.request('GET', '/health')).body;
      const p = health.projections ?? {};
      return (
        p['reminder-planner']?.lag === 0 &&
        p['cancellation-notices']?.lag === 0 &&
        p.notifications?.lag === 0 &&
        p.reminders?.lag === 0
      );
    },
    'the node caught up',
    WAIT_MS,
  );

describe('reminders across kill -9', () => {
  it(
    'a reminder planned, the process killed and restarted after its due time: sent once; a cancelled session: none',
    { timeout: 400_000 },
    async () => {
      const dataDir = tempDir();
      dirs.push(dataDir);
      const first = await startServer(dataDir);
      const admin = await as(first.url, 'admin-1', ['admin']);
      await putPeople(admin, 'cora', 'ivan', 'dana', 'igor');
      // Due 15 s from now, starting 55 s from now.
      const body = sessionIn('cora', 'ivan', OFFSET_SECONDS + 15);
      const due = Date.parse(body.start) - OFFSET_SECONDS * 1000;
      const created = await admin.request('POST', '/meetings', body);
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const cancelled = await admin.request('POST', '/meetings', sessionIn('dana', 'igor', OFFSET_SECONDS + 15));
      expect(cancelled.status).toBe(201);
      const cancelledId = cancelled.body.id as string;
      // Both planned (the planner logs each plan), then one of them cancelled and its plan dropped.
      await eventually(
        () =>
          first.output().includes(`"meetingId":"${id}","status":"planned"`) &&
          first.output().includes(`"meetingId":"${cancelledId}","status":"planned"`),
        'both reminders planned',
        WAIT_MS,
      );
      expect((await admin.request('POST', `/meetings/${cancelledId}/cancel`, {})).status).toBe(200);
      await eventually(
        () => first.output().includes(`"meetingId":"${cancelledId}","status":"dropped"`),
        'the cancelled session’s reminder dropped',
        WAIT_MS,
      );
      await kill(first);
      expect(remindersTo('cora@example.com', id)).toHaveLength(0);

      // Down across the due time.
      await eventually(() => Date.now() > due + 1_000, 'the reminder due', WAIT_MS);
      const second = await startServer(dataDir);
      const admin2 = await as(second.url, 'admin-1', ['admin']);
      await eventually(
        async () => (await noticesFor(admin2, id)).some((n) => n.topic === 'reminder' && n.status === 'sent'),
        'the reminder sent after the restart',
        WAIT_MS,
      );
      const emails = remindersTo('cora@example.com', id);
      expect(emails).toHaveLength(1);
      expect(emails[0]!.body.to).toEqual(['cora@example.com']);
      const link = /(https?:\/\/\S+\/call\?meeting=\S+#link=\S+)/.exec(emails[0]!.body.text as string)?.[1];
      expect(link).toBeDefined();
      const token = new URL(link!).hash.slice('#link='.length);
      expect((await client(second.url, token).request('GET', `/meetings/${id}`)).status).toBe(200);

      // Killed and started once more: every follower replays from its checkpoint, and nothing goes twice.
      await kill(second);
      const third = await startServer(dataDir);
      const admin3 = await as(third.url, 'admin-1', ['admin']);
      await caughtUp(admin3);
      const notices = await noticesFor(admin3, id);
      expect(notices.filter((n) => n.topic === 'reminder')).toEqual([
        expect.objectContaining({ status: 'sent', recipient: expect.objectContaining({ personId: 'cora' }) }),
      ]);
      expect(remindersTo('cora@example.com', id)).toHaveLength(1);
      expect((await noticesFor(admin3, cancelledId)).map((n) => n.topic)).toEqual(['cancelled']);
      expect(remindersTo('dana@example.com', cancelledId)).toHaveLength(0);
      await kill(third);
    },
  );
});
