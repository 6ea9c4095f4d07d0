import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../apps/config.ts';
import { claimNodeDir, devSecret, nodeId } from '../../apps/node-files.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'node-files-'));

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** A process that lives until killed, standing for another server holding the directory. */
const otherProcess = async () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  return child;
};

/**
 * A process that loads node-files.ts, says `ready`, and on a line on its stdin runs `call` and prints what it gave
 * (or `refused: <message>`), then lives on until killed: so that several can be let go at the same instant.
 */
const starter = (call: string) => {
  const script = `
    const files = await import(${JSON.stringify(resolve('apps/node-files.ts'))});
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => {
      try { process.stdout.write('gave: ' + String(${call}) + '\\n'); }
      catch (error) { process.stdout.write('refused: ' + error.message + '\\n'); }
    });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
  children.push(child);
  let out = '';
  const waiting: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const wake of waiting.splice(0)) wake();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const line = (pattern: RegExp) =>
    new Promise<string>((done, fail) => {
      const check = () => {
        const found = out.split('\n').find((l) => pattern.test(l));
        if (found !== undefined) return done(found);
        if (child.exitCode !== null) return fail(new Error(`exited: ${out}`));
        waiting.push(check);
      };
      check();
    });
  return { child, line, go: () => child.stdin.write('go\n') };
};

/** Starters let go together once all are ready; their answers in order. */
const allAtOnce = async (starters: ReadonlyArray<ReturnType<typeof starter>>) => {
  await Promise.all(starters.map((s) => s.line(/^ready$/)));
  for (const s of starters) s.go();
  return Promise.all(starters.map((s) => s.line(/^(gave|refused): /)));
};

const killed = async (child: ChildProcessWithoutNullStreams) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
};

describe('READ_MODELS_DIR', () => {
  it('defaults to DATA_DIR and can be set on its own', () => {
    expect(loadConfig({ DATA_DIR: '/srv/shared' }).readModelsDir).toBe('/srv/shared');
    expect(loadConfig({ DATA_DIR: '/srv/shared', READ_MODELS_DIR: '/srv/node-a' }).readModelsDir).toBe('/srv/node-a');
    expect(loadConfig({}).readModelsDir).toBe('./data');
  });

  it('is refused while another live process holds it, and taken over once that process is killed', async () => {
    const dir = tempDir();
    const holder = starter(`(files.claimNodeDir(${JSON.stringify(dir)}), 'claimed')`);
    holder.go();
    expect(await holder.line(/^(gave|refused): /)).toBe('gave: claimed');
    expect(() => claimNodeDir(dir)).toThrow(
      new RegExp(`in use by process ${holder.child.pid}; every node needs its own READ_MODELS_DIR`),
    );
    await killed(holder.child);
    const release = claimNodeDir(dir);
    expect(readFileSync(join(dir, 'node.pid'), 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(join(dir, 'node.pid'))).toBe(false);
    // Released, it is free for the next one at once.
    claimNodeDir(dir)();
  }, 60_000);

  it("an earlier version's lock (a file with a pid) refuses while that process lives, and is taken over after", async () => {
    const dir = tempDir();
    const other = await otherProcess();
    try {
      writeFileSync(join(dir, 'node.lock'), String(other.pid));
      expect(() => claimNodeDir(dir)).toThrow(/in use by process \d+; every node needs its own READ_MODELS_DIR/);
    } finally {
      await killed(other as ChildProcessWithoutNullStreams);
    }
    const release = claimNodeDir(dir);
    expect(readFileSync(join(dir, 'node.pid'), 'utf8')).toBe(String(process.pid));
    release();
  });

  it('goes to exactly one of several processes starting at the same instant, after its holder was killed', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = tempDir();
      const claim = `(files.claimNodeDir(${JSON.stringify(dir)}), 'claimed')`;
      const [holder] = [starter(claim)];
      expect(await allAtOnce([holder!])).toEqual(['gave: claimed']);
      await killed(holder!.child);
      const answers = await allAtOnce(Array.from({ length: 5 }, () => starter(claim)));
      expect(
        answers.filter((a) => a === 'gave: claimed'),
        answers.join('\n'),
      ).toHaveLength(1);
      expect(answers.filter((a) => /^refused: .*in use by/.test(a))).toHaveLength(4);
      for (const child of children.splice(0)) await killed(child);
    }
  }, 120_000);

  it('taken again by the process that holds it (a system it never closed), it changes hands within the process', () => {
    const dir = tempDir();
    const first = claimNodeDir(dir);
    const second = claimNodeDir(dir);
    // The first release is spent: it must not free the directory the second claim holds now.
    first();
    expect(readFileSync(join(dir, 'node.pid'), 'utf8')).toBe(String(process.pid));
    second();
    expect(existsSync(join(dir, 'node.pid'))).toBe(false);
  });

  it('keeps the node id per directory and the dev secret shared by whoever uses the same DATA_DIR', () => {
    const shared = tempDir();
    const [a, b] = [tempDir(), tempDir()];
    expect(nodeId(a)).toBe(nodeId(a));
    expect(nodeId(a)).not.toBe(nodeId(b));
    expect(Buffer.from(devSecret(shared)).toString()).toBe(Buffer.from(devSecret(shared)).toString());
    expect(devSecret(shared).length).toBeGreaterThanOrEqual(32);
  });

  it('creates one dev secret for processes starting at the same instant: all read it whole, none finds it empty', async () => {
    const shared = tempDir();
    const answers = await allAtOnce(
      Array.from({ length: 5 }, () =>
        starter(`Buffer.from(files.devSecret(${JSON.stringify(shared)})).toString('base64url')`),
      ),
    );
    expect(new Set(answers).size, answers.join('\n')).toBe(1);
    expect(answers[0]).toMatch(/^gave: [A-Za-z0-9_-]{40,}$/);
    // Only the secret is left: each process wrote its own copy beside it and linked one into place.
    expect(readdirSync(shared)).toEqual(['dev-jwt-secret']);
  }, 60_000);
});
