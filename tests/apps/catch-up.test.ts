import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../adapters/http/auth.ts';
import { openSqliteEventStore } from '../../adapters/event-store/sqlite.ts';
import { aMeeting } from '../support/builders.ts';
import { TEST_SECRET, requestEventsSince, tempDir } from '../support/system.ts';
import { startServerProcess } from '../support/server-process.ts';

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const by = { id: 'ada', roles: ['admin'] };
const scheduled = (meetingId: string, customerId: string, instructorId: string, day: string) => ({
  id: randomUUID(),
  type: 'MeetingScheduled',
  data: {
    meetingId,
    title: 'Bulk',
    customerId,
    instructorId,
    start: `${day}T10:00:00.000Z`,
    end: `${day}T11:00:00.000Z`,
    timezone: 'UTC',
    trainingType: '1-1',
    description: '',
    customerMetadata: '',
    instructorMetadata: '',
    at: '2030-01-01T00:00:00.000Z',
    by,
  },
});

/** A log of `count` meetings of other people, then, as the very last event, Cora's session with Ivan on 2031-06-01. */
const writeBigLog = async (dataDir: string, count: number): Promise<number> => {
  const store = openSqliteEventStore({ path: join(dataDir, 'events.db') });
  for (let i = 0; i < count; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, count - i) }, (_, j) => {
        const n = i + j;
        const day = new Date(Date.UTC(2031, 0, 1) + (n % 700) * 86_400_000).toISOString().slice(0, 10);
        return store.appendToStream(`meeting-bulk-${n}`, [scheduled(`bulk-${n}`, `cust-${n}`, `inst-${n % 97}`, day)], {
          expectedRevision: 'no_stream',
        });
      }),
    );
  }
  for (const [personId, name] of [
    ['cora', 'Cora Customer'],
    ['ivan', 'Ivan Instructor'],
  ] as const) {
    await store.appendToStream(
      `person-${personId}`,
      [
        {
          id: randomUUID(),
          type: 'PersonRegistered',
          data: { personId, name, email: `${personId}@example.com`, at: '2030-01-01T00:00:00.000Z', by },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
  }
  await store.appendToStream('meeting-cora-first', [scheduled('cora-first', 'cora', 'ivan', '2031-06-01')], {
    expectedRevision: 'no_stream',
  });
  const head = await store.headPosition();
  await store.close();
  return head;
};

describe('a node whose read models are behind the log', () => {
  it('refuses writes with 503 until it has caught up (reads go on), so a colliding booking sent at start gets 409, never 201', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    // No read-models.db: the node starts from nothing and has the whole log to project.
    const head = await writeBigLog(dataDir, 30_000);
    const server = await startServerProcess(dataDir, children);
    const token = await mintToken(new TextEncoder().encode(TEST_SECRET), { sub: 'ada', roles: ['admin'] }, 3600);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const colliding = JSON.stringify(aMeeting({ start: '2031-06-01T10:30:00Z', end: '2031-06-01T11:30:00Z' }));
    // With an Idempotency-Key: claiming it is a write too, so while catching up not even the claim is appended.
    const post = () =>
      fetch(`${server.url}/meetings`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': 'at-start' },
        body: colliding,
      });
    // Without one: the people in the log come last, so a directory check made before the gate would answer a final
    // 400 "not a person in the directory" to a correct booking.
    const plain: number[] = [];
    const postPlain = async () => {
      const res = await fetch(`${server.url}/meetings`, { method: 'POST', headers, body: colliding });
      await res.body?.cancel();
      plain.push(res.status);
    };

    const first = await post();
    await postPlain();
    const answers = [first.status];
    // The colliding session is the last event of the log: a node that took writes before projecting it books twice.
    expect(first.status).not.toBe(201);
    if (first.status === 503) {
      expect(first.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(first.headers.get('content-type')).toContain('application/problem+json');
      expect(((await first.json()) as { detail: string }).detail).toContain('catching up');
      // Reads still answer meanwhile (from what has been projected so far).
      expect((await fetch(`${server.url}/meetings/bulk-0`, { headers })).status).not.toBe(503);
    } else {
      await first.body?.cancel();
    }
    const health = await fetch(`${server.url}/health`);
    const healthBody = (await health.json()) as { ready?: unknown; catchingUp?: unknown; projections?: unknown };
    expect(typeof healthBody.ready).toBe('boolean');
    expect(healthBody.projections).toBeDefined();
    if (healthBody.ready === false) {
      expect(health.status).toBe(503);
      expect(healthBody.catchingUp).toBe(true);
    }

    let last = first.status;
    const until = Date.now() + 120_000;
    while (last === 503 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      const res = await post();
      await res.body?.cancel();
      last = res.status;
      answers.push(last);
      await postPlain();
    }
    expect(answers.filter((s) => s !== 503)).toEqual([409]);
    expect(
      plain.filter((s) => s !== 503 && s !== 409),
      'booking answers without a key while catching up',
    ).toEqual([]);
    const ready = (await (await fetch(`${server.url}/health`)).json()) as {
      ready: boolean;
      catchingUp: boolean;
      status: string;
    };
    expect(ready).toMatchObject({ status: 'ok', ready: true, catchingUp: false });

    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    // Nothing was appended by the refused writes: after the log as it was, only the key's claim and its 409 answer
    // (besides what the reactions write as they follow the log: the sessions' reminder plans and change windows).
    const store = openSqliteEventStore({ path: join(dataDir, 'events.db') });
    expect((await requestEventsSince(store, head)).map((e) => e.type)).toEqual([
      'IdempotencyKeyClaimed',
      'IdempotentAnswerRecorded',
    ]);
    await store.close();
  }, 240_000);
});
