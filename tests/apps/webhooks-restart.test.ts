import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../adapters/http/auth.ts';
import { aMeeting } from '../support/builders.ts';
import { eventually } from '../support/fake-resend.ts';
import { startServerProcess } from '../support/server-process.ts';
import { TEST_SECRET, client, putPeople, tempDir } from '../support/system.ts';
import type { Client } from '../support/system.ts';
import { startWebhookReceiver, verifies } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * The server as a real process, killed with SIGKILL while deliveries are failing and one is in flight, then started
 * again on the same data directory: every event reaches the receiver exactly once (counted by `webhook-id` among the
 * requests it took).
 */

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const ENV = {
  WEBHOOKS_ALLOW_INSECURE_TARGETS: 'true',
  WEBHOOKS_TEST_RETRY_DELAYS_MS: Array(30).fill(200).join(','),
  WEBHOOKS_TEST_TIMEOUT_MS: '1000',
};

const EVENTS = 3;

describe('webhooks across a killed server', () => {
  it('delivers every event exactly once after a SIGKILL mid-retry, with a request in flight', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const token = await mintToken(new TextEncoder().encode(TEST_SECRET), { sub: 'ada', roles: ['admin'] }, 3600);
    let failing = true;
    // Three refusals, then it hangs (the request in flight when the server dies), until the test lets it through.
    receiver.answer('/restart', (_request, count) => (!failing ? 200 : count < EVENTS ? 500 : 'hang'));

    const first = await startServerProcess(dataDir, children, { env: ENV });
    expect(first.output()).toMatch(/WEBHOOKS_ALLOW_INSECURE_TARGETS.*development and tests only/);
    const admin: Client = client(first.url, token);
    await putPeople(admin, 'cora', 'ivan');
    const made = await admin.request('POST', '/webhooks', { url: `${receiver.url}/restart`, events: ['meeting.*'] });
    expect(made.status).toBe(201);
    const secret = made.body.secret as string;
    for (let i = 0; i < EVENTS; i++) {
      const start = new Date(Date.UTC(2031, 5, 1 + i, 10)).toISOString();
      const end = new Date(Date.UTC(2031, 5, 1 + i, 11)).toISOString();
      expect((await admin.request('POST', '/meetings', aMeeting({ start, end }))).status).toBe(201);
    }
    await eventually(
      () => receiver.at('/restart').some((r) => r.answer === 'hang') && receiver.at('/restart').length > EVENTS,
      'failed attempts and one in flight',
      30_000,
    );
    first.child.kill('SIGKILL');
    await first.ended;
    failing = false;

    const second = await startServerProcess(dataDir, children, { env: ENV });
    const again = client(second.url, token);
    await eventually(
      async () => {
        const res = await again.request('GET', `/webhooks/${made.body.id}/deliveries`);
        const items = res.body.items as Array<{ status: string }>;
        return items.length === EVENTS && items.every((d) => d.status === 'delivered');
      },
      'every delivery delivered after the restart',
      60_000,
    );
    const taken = receiver.taken('/restart');
    expect(taken.size).toBe(EVENTS);
    expect([...taken.values()]).toEqual(Array(EVENTS).fill(1));
    for (const r of receiver.at('/restart')) expect(verifies(secret, r)).toBe(true);
    second.child.kill('SIGTERM');
    await second.ended;
  });
});
