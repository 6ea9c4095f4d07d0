import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { isRight } from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openSqliteEventStore } from '../../../adapters/event-store/sqlite.ts';
import type { SqliteEventStore } from '../../../adapters/event-store/sqlite.ts';
import { CommitWorkerStoppedError, createWorkerCommit } from '../../../adapters/event-store/sqlite-worker-commit.ts';

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

const dirs: string[] = [];
const stores: SqliteEventStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'commit-worker-'));
  dirs.push(dir);
  return dir;
};

const open = (file: string, commitOn: 'worker' | 'main-thread' = 'worker'): SqliteEventStore => {
  const store = openSqliteEventStore({ path: file, commitOn });
  stores.push(store);
  return store;
};

const event = (data: unknown = {}) => ({ id: randomUUID(), type: 'Tested', data });

/** An append for the write path itself, settled into what the caller saw. */
const appendThrough = (commit: ReturnType<typeof createWorkerCommit>, streamName: string) =>
  new Promise<unknown>((resolve, reject) => {
    const encoded = { id: randomUUID(), type: 'Tested', data: '{}', metadata: '{}' };
    commit.enqueue({ kind: 'one', streamName, events: [encoded], expected: 'any', resolve, reject });
  });

describe('SQLite store with the commit on a worker thread', () => {
  it('says its connection is up, and commits at close the appends requested just before it', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.db');
    const store = open(file);
    expect(store.connectionStatus?.()).toBe('connected');
    expect(isRight(await store.appendToStream('first', [event()]))).toBe(true);

    const requested = Array.from({ length: 30 }, (_, i) => store.appendToStream(`late-${i}`, [event({ i })]));
    await store.close();
    const answers = await Promise.all(requested);
    expect(answers.every(isRight)).toBe(true);

    const reopened = open(file, 'main-thread');
    const all = await reopened.readAll();
    expect(all.map((e) => e.streamName)).toEqual(['first', ...Array.from({ length: 30 }, (_, i) => `late-${i}`)]);
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
  });

  it('fails the appends waiting on a worker that exits, refuses the next ones, and still closes', async () => {
    const dir = tempDir();
    const entry = path.join(dir, 'exits.cjs');
    fs.writeFileSync(entry, `require('node:worker_threads').parentPort.on('message', () => process.exit(3));\n`);
    const commit = createWorkerCommit({
      path: path.join(dir, 'events.db'),
      now: () => new Date(),
      onWritten: () => {
        throw new Error('nothing was written');
      },
      entry: pathToFileURL(entry),
    });
    const waiting = [appendThrough(commit, 'a'), appendThrough(commit, 'b')];
    for (const answer of waiting) {
      await expect(answer).rejects.toThrow(CommitWorkerStoppedError);
      await expect(answer).rejects.toThrow(/exited with code 3/);
    }
    expect(commit.failure()).toBeInstanceOf(CommitWorkerStoppedError);
    await expect(appendThrough(commit, 'c')).rejects.toThrow(/exited with code 3/);
    await commit.close();
  });

  it('fails the appends waiting on a worker that throws, with its error as the cause', async () => {
    const dir = tempDir();
    const entry = path.join(dir, 'throws.cjs');
    fs.writeFileSync(
      entry,
      `require('node:worker_threads').parentPort.on('message', () => { throw new Error('disk on fire'); });\n`,
    );
    const commit = createWorkerCommit({
      path: path.join(dir, 'events.db'),
      now: () => new Date(),
      onWritten: () => undefined,
      entry: pathToFileURL(entry),
    });
    const answer = appendThrough(commit, 'a');
    await expect(answer).rejects.toThrow(/disk on fire/);
    await expect(answer).rejects.toBeInstanceOf(CommitWorkerStoppedError);
    expect(commit.failure()?.message).toMatch(/disk on fire/);
    await commit.close();
  });

  it('reports a worker that cannot open the file as a failure of the appends, not a hang', async () => {
    const dir = tempDir();
    const commit = createWorkerCommit({
      path: path.join(dir, 'no-such-directory', 'events.db'),
      now: () => new Date(),
      onWritten: () => undefined,
    });
    await expect(appendThrough(commit, 'a')).rejects.toBeInstanceOf(CommitWorkerStoppedError);
    await commit.close();
  });
});

/**
 * A thread that takes the file's write lock, writes a row into it, and ends without committing, on the first message:
 * a crash in the middle of a commit.
 */
const crashingMidCommit = (dir: string): URL => {
  const entry = path.join(dir, 'crashes-mid-commit.cjs');
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  fs.writeFileSync(
    entry,
    [
      `const { parentPort, workerData } = require('node:worker_threads');`,
      `const db = new (require(${JSON.stringify(sqlite)}))(workerData.path);`,
      `parentPort.on('message', () => {`,
      `  db.exec("BEGIN IMMEDIATE; INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES ('ghost', 0, 'ghost', 'Ghost', '{}', '{}', '')");`,
      `  process.exit(3);`,
      `});`,
      '',
    ].join('\n'),
  );
  return pathToFileURL(entry);
};

describe('SQLite store whose commit worker stops while it is open', () => {
  it('fails what the thread held, then commits on the main thread: the store stays up and says why once', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.db');
    const reasons: Error[] = [];
    const store = openSqliteEventStore({
      path: file,
      commitOn: 'worker',
      commitWorkerEntry: crashingMidCommit(dir),
      onCommitWorkerStopped: (reason) => reasons.push(reason),
    });
    stores.push(store);
    const held = store.appendToStream('held', [event()]);
    await expect(held).rejects.toThrow(CommitWorkerStoppedError);
    await expect(held).rejects.toThrow(/exited with code 3/);
    await vi.waitFor(() => expect(reasons).toHaveLength(1));
    expect(reasons[0]).toBeInstanceOf(CommitWorkerStoppedError);
    expect(store.connectionStatus?.()).toBe('connected');

    // The thread's uncommitted row went with it, and its write lock: the main thread commits at once (a lock still
    // held would keep it waiting out the busy timeout, then fail).
    const one = store.appendToStream('after', [event({ n: 1 })], { expectedRevision: 'no_stream' });
    const many = store.appendToStreams([
      { streamName: 'other', events: [event({ n: 2 })], expectedRevision: 'no_stream' },
      { streamName: 'after-too', events: [event({ n: 3 })], expectedRevision: 'no_stream' },
    ]);
    expect(isRight(await one)).toBe(true);
    expect(isRight(await many)).toBe(true);
    expect((await store.readAll()).map((e) => e.streamName)).toEqual(['after', 'other', 'after-too']);
    expect(await store.readStream('ghost')).toEqual([]);
    expect(reasons).toHaveLength(1);

    await store.close();
    const reopened = open(file, 'main-thread');
    expect((await reopened.readAll()).map((e) => e.position)).toEqual([1, 2, 3]);
  });

  it('says nothing when it is closed: the thread ending then is no failure', async () => {
    const reasons: Error[] = [];
    const store = openSqliteEventStore({
      path: path.join(tempDir(), 'events.db'),
      commitOn: 'worker',
      onCommitWorkerStopped: (reason) => reasons.push(reason),
    });
    expect(isRight(await store.appendToStream('s', [event()]))).toBe(true);
    await store.close();
    expect(reasons).toEqual([]);
  });
});

const WRITERS = 20;
const KILL_AFTER_ACKS = 400;

describe('SQLite store with the commit on a worker thread, killed with -9', () => {
  it('keeps every append it acknowledged, where it said it put it', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.db');
    const script = path.join(dir, 'writer.mts');
    fs.writeFileSync(
      script,
      [
        `import { randomUUID } from 'node:crypto';`,
        `import { openSqliteEventStore } from ${JSON.stringify(path.join(projectRoot, 'adapters/event-store/sqlite.ts'))};`,
        `const store = openSqliteEventStore({ path: process.argv[2], commitOn: 'worker' });`,
        `await Promise.all(Array.from({ length: ${WRITERS} }, async (_, w) => {`,
        `  for (let revision = 0; ; revision++) {`,
        `    const id = randomUUID();`,
        `    const expectedRevision = revision === 0 ? 'no_stream' : revision - 1;`,
        `    const result = await store.appendToStream('writer-' + w, [{ id, type: 'Acked', data: { w, revision } }], { expectedRevision });`,
        `    if (result._tag !== 'Right') throw new Error('append refused: ' + JSON.stringify(result.left));`,
        // A pipe is written synchronously on Linux: a line read by the parent is an append already acknowledged.
        `    process.stdout.write(JSON.stringify({ id, stream: 'writer-' + w, revision, position: result.right.position }) + '\\n');`,
        `  }`,
        `}));`,
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, file], { cwd: projectRoot });
    const acked: Array<{ id: string; stream: string; revision: number; position: number }> = [];
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) acked.push(JSON.parse(line) as (typeof acked)[number]);
      // Killed hard while appends are being committed: some written and not acknowledged, some not yet written.
      if (acked.length >= KILL_AFTER_ACKS) child.kill('SIGKILL');
    });
    const signal = await exited;
    expect(stderr).toBe('');
    expect(signal).toBe('SIGKILL');
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

    const store = open(file, 'main-thread');
    const all = await store.readAll();
    const byId = new Map(all.map((e) => [e.id, e]));
    const missing = acked.filter((a) => {
      const stored = byId.get(a.id);
      return stored?.streamName !== a.stream || stored.revision !== a.revision || stored.position !== a.position;
    });
    expect(missing).toEqual([]);
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    // Each writer's stream is whole up to where it got: no acknowledged revision has a hole before it.
    for (let w = 0; w < WRITERS; w++) {
      const revisions = all.filter((e) => e.streamName === `writer-${w}`).map((e) => e.revision);
      expect(revisions).toEqual(Array.from({ length: revisions.length }, (_, i) => i));
    }
  }, 60_000);
});
