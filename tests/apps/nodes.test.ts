import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../adapters/http/auth.ts';
import { TestClient } from '../adapters/signaling/harness.ts';
import { aMeeting } from '../support/builders.ts';
import { eventually, startFakeResend } from '../support/fake-resend.ts';
import type { FakeResend } from '../support/fake-resend.ts';
import { startServerProcess } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';
import { TEST_SECRET, client, putPeople, startTestSystem, tempDir } from '../support/system.ts';
import type { Client } from '../support/system.ts';

/**
 * Two real server processes on one host: one DATA_DIR (so one embedded event store, events.db), each with its own
 * READ_MODELS_DIR. Whatever one node keeps for itself (tickets, the calendar answer cache, the notification sender,
 * health) must hold up when a request reaches the other.
 */

const children: ChildProcessWithoutNullStreams[] = [];
let dataDir: string;
let fake: FakeResend;
let a: ServerProcess;
let b: ServerProcess;
const savedBaseUrl = process.env.RESEND_BASE_URL;

beforeAll(async () => {
  fake = await startFakeResend();
  dataDir = tempDir();
  const node = (name: string) => ({
    READ_MODELS_DIR: join(dataDir, name),
    RESEND_API_KEY: 're_test',
    RESEND_BASE_URL: fake.url,
  });
  // Started at the same instant on a fresh DATA_DIR, as a process manager would.
  [a, b] = await Promise.all([
    startServerProcess(dataDir, children, { env: node('node-a') }),
    startServerProcess(dataDir, children, { env: node('node-b') }),
  ]);
  // A node listens before its read models have caught up, and takes writes only after: the tests begin there.
  await eventually(async () => {
    const answers = await Promise.all([a, b].map((n) => fetch(`${n.url}/health`).then((res) => res.json())));
    return answers.every((health: { ready?: boolean }) => health.ready === true);
  }, 'both nodes ready');
}, 180_000);

afterAll(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await fake.close();
  if (savedBaseUrl !== undefined) process.env.RESEND_BASE_URL = savedBaseUrl;
  rmSync(dataDir, { recursive: true, force: true });
});

const secret = new TextEncoder().encode(TEST_SECRET);
const as = async (node: ServerProcess, sub: string, roles: string[]): Promise<Client> =>
  client(node.url, await mintToken(secret, { sub, roles }, 3600));
const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

/** A meeting booked through node A, once node B shows it too. */
const bookOnA = async (customerId: string, instructorId: string, overrides: Record<string, unknown>) => {
  const adminA = await as(a, 'ada', ['admin']);
  await putPeople(adminA, customerId, instructorId);
  const created = await adminA.request('POST', '/meetings', aMeeting({ customerId, instructorId, ...overrides }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id as string;
};

const shownOn = (node: ServerProcess, meetingId: string) =>
  eventually(async () => {
    const res = await (await as(node, 'ada', ['admin'])).request('GET', `/meetings/${meetingId}`);
    return res.status === 200 ? res.body : undefined;
  }, `meeting ${meetingId} on ${node.url}`);

const signaling = (node: ServerProcess, ticket: string) =>
  new TestClient(`${node.url.replace(/^http/, 'ws')}/signaling?ticket=${encodeURIComponent(ticket)}`);

describe('two nodes on one embedded event store', () => {
  it('a join ticket issued by node A is redeemed by node B, once: then A and B both refuse it (401)', async () => {
    const meetingId = await bookOnA('cora-t', 'ivan-t', { start: minutes(-5), end: minutes(55) });
    // B admits only participants of meetings it knows of: it must have projected this one.
    await shownOn(b, meetingId);
    const joined = await (await as(a, 'cora-t', ['customer'])).request('POST', `/meetings/${meetingId}/join`);
    expect(joined.status, JSON.stringify(joined.body)).toBe(200);
    expect(joined.body.mode).toBe('native');
    const ticket = joined.body.ticket as string;

    const onB = signaling(b, ticket);
    try {
      expect(await onB.waitType('welcome')).toMatchObject({ type: 'welcome', meetingId, role: 'customer' });
      for (const node of [a, b]) {
        const again = signaling(node, ticket);
        expect(await again.refused).toBe(401);
      }
    } finally {
      onB.ws.terminate();
    }
    await eventually(
      () => [a, b].every((node) => node.output().includes('"reason":"used"')),
      'both nodes log the refusal of a used ticket',
    );
    // Never a ticket, nor its MAC, in any log line.
    for (const node of [a, b]) {
      expect(node.output()).not.toContain(ticket);
      expect(node.output()).not.toContain(ticket.split('.')[1]);
    }
  });

  it("node B's calendar answer changes once B has projected a change made through node A", async () => {
    const adminB = await as(b, 'ada', ['admin']);
    const range = '/calendar?from=2031-02-01T00:00:00Z&to=2031-02-08T00:00:00Z&userId=cora-c';
    await putPeople(await as(a, 'ada', ['admin']), 'cora-c');
    await eventually(async () => (await adminB.request('GET', '/people/cora-c')).status === 200, 'cora-c on B');
    const before = await adminB.request('GET', range);
    expect(before.status).toBe(200);
    expect(before.body.items).toEqual([]);
    // Asked again, B answers from its cache (same version, same tag).
    const cached = await adminB.request('GET', range);
    expect(cached.body).toEqual(before.body);
    expect(cached.headers.get('etag')).toBe(before.headers.get('etag'));

    const meetingId = await bookOnA('cora-c', 'ivan-c', { start: '2031-02-03T10:00:00Z', end: '2031-02-03T11:00:00Z' });
    const after = await eventually(async () => {
      const res = await adminB.request('GET', range);
      return JSON.stringify(res.body).includes(meetingId) ? res : undefined;
    }, 'the new meeting in B’s calendar answer');
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
    // The old tag no longer earns a 304 on B.
    const revalidated = await adminB.request('GET', range, undefined, {
      'if-none-match': before.headers.get('etag') ?? '',
    });
    expect(revalidated.status).toBe(200);

    const cancelled = await (await as(a, 'ada', ['admin'])).request('POST', `/meetings/${meetingId}/cancel`, {});
    expect(cancelled.status).toBe(200);
    await eventually(async () => {
      const res = await adminB.request('GET', range);
      return res.body.items.some((m: { state?: string }) => m.state === 'cancelled') ? res : undefined;
    }, 'the cancellation in B’s calendar answer');
  });

  it('a cancellation made on node A with two nodes running sends exactly one email', async () => {
    const meetingId = await bookOnA('cora-n', 'ivan-n', { start: '2031-03-03T10:00:00Z', end: '2031-03-03T11:00:00Z' });
    const cancelled = await (await as(a, 'ada', ['admin'])).request('POST', `/meetings/${meetingId}/cancel`, {});
    expect(cancelled.status).toBe(200);
    // Both nodes follow the log for cancellations: wait until both have passed it and B shows the notice as sent.
    await eventually(async () => {
      for (const node of [a, b]) {
        const health = (await (await fetch(`${node.url}/health`)).json()) as {
          node: { caughtUp: boolean };
          projections: Record<string, { lag: number }>;
        };
        if (!health.node.caughtUp || health.projections['cancellation-notices']?.lag !== 0) return false;
      }
      const notices = await (await as(b, 'ada', ['admin'])).request('GET', `/notifications?meetingId=${meetingId}`);
      return notices.body.items?.length === 1 && notices.body.items[0].status === 'sent';
    }, 'both nodes past the cancellation, its notice sent');
    const toCora = fake.requests.filter((r) => JSON.stringify(r.body?.to ?? []).includes('cora-n@example.com'));
    expect(toCora).toHaveLength(1);
    expect(fake.deliveredTo('cora-n@example.com')).toHaveLength(1);
  });

  it('each node answers /health for itself: its own node id, the shared store, its read models caught up', async () => {
    const [healthA, healthB] = await Promise.all(
      [a, b].map(async (node) => {
        const res = await fetch(`${node.url}/health`);
        expect(res.status).toBe(200);
        return (await res.json()) as { node: { id: string; caughtUp: boolean }; store: { name: string } };
      }),
    );
    expect(healthA!.node.id).toBe(readFileSync(join(dataDir, 'node-a', 'node-id'), 'utf8').trim());
    expect(healthB!.node.id).toBe(readFileSync(join(dataDir, 'node-b', 'node-id'), 'utf8').trim());
    expect(healthA!.node.id).not.toBe(healthB!.node.id);
    expect([healthA!.store.name, healthB!.store.name]).toEqual(['sqlite', 'sqlite']);
    await eventually(async () => {
      const res = await fetch(`${b.url}/health`);
      return ((await res.json()) as { node: { caughtUp: boolean } }).node.caughtUp;
    }, 'node B caught up');
  });
});

describe('rate limits with two nodes', () => {
  it("are per node, by design: a user who spent node A's budget is still served by node B", async () => {
    const shared = tempDir();
    const env = (name: string) => ({
      READ_MODELS_DIR: join(shared, name),
      RATE_LIMIT_PER_SECOND: '1',
      RATE_LIMIT_BURST: '3',
    });
    const nodeA = await startTestSystem({ dataDir: shared, env: env('node-a') });
    const nodeB = await startTestSystem({ dataDir: shared, env: env('node-b') });
    try {
      const [onA, onB] = await Promise.all([nodeA.as('cora', ['customer']), nodeB.as('cora', ['customer'])]);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await onA.request('GET', '/meetings/none')).status);
      // The burst of 3 is spent on A (refill is 1 a second, so at most one more may have come back meanwhile)…
      expect(statuses.slice(0, 3)).toEqual([404, 404, 404]);
      const refused = await eventually(async () => {
        const res = await onA.request('GET', '/meetings/none');
        return res.status === 429 ? res : undefined;
      }, 'a 429 from node A');
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      // …and B, with its own bucket, still answers her: N nodes give a user up to N times RATE_LIMIT_*.
      expect((await onB.request('GET', '/meetings/none')).status).toBe(404);
    } finally {
      await nodeA.close();
      await nodeB.close();
      rmSync(shared, { recursive: true, force: true });
    }
  });
});
