import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../apps/config.ts';
import { claimNodeDir, devSecret, nodeId } from '../../apps/node-files.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'node-files-'));

/** A process that lives until killed, standing for another server holding the directory. */
const otherProcess = async () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  return child;
};

describe('READ_MODELS_DIR', () => {
  it('defaults to DATA_DIR and can be set on its own', () => {
    expect(loadConfig({ DATA_DIR: '/srv/shared' }).readModelsDir).toBe('/srv/shared');
    expect(loadConfig({ DATA_DIR: '/srv/shared', READ_MODELS_DIR: '/srv/node-a' }).readModelsDir).toBe('/srv/node-a');
    expect(loadConfig({}).readModelsDir).toBe('./data');
  });

  it('is refused while another live process holds it, and taken over once that process is gone', async () => {
    const dir = tempDir();
    const other = await otherProcess();
    try {
      writeFileSync(join(dir, 'node.lock'), String(other.pid));
      expect(() => claimNodeDir(dir)).toThrow(/in use by process \d+; every node needs its own READ_MODELS_DIR/);
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    const release = claimNodeDir(dir);
    expect(readFileSync(join(dir, 'node.lock'), 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(join(dir, 'node.lock'))).toBe(false);
  });

  it('keeps the node id per directory and the dev secret shared by whoever uses the same DATA_DIR', () => {
    const shared = tempDir();
    const [a, b] = [tempDir(), tempDir()];
    expect(nodeId(a)).toBe(nodeId(a));
    expect(nodeId(a)).not.toBe(nodeId(b));
    expect(Buffer.from(devSecret(shared)).toString()).toBe(Buffer.from(devSecret(shared)).toString());
    expect(devSecret(shared).length).toBeGreaterThanOrEqual(32);
  });
});
