import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every messages.ts of the web app: English and Spanish have the same keys, no empty text, and the same {placeholders}.
const SRC = fileURLToPath(new URL('../../../adapters/web/src', import.meta.url));

const messageFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return messageFiles(path);
    return name === 'messages.ts' ? [path] : [];
  });

type Tree = { readonly [key: string]: unknown };

/** Every leaf of a message tree by its dotted path. */
const leaves = (tree: Tree, prefix = ''): Map<string, unknown> => {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof value === 'object' && value !== null) for (const [p, v] of leaves(value as Tree, path)) out.set(p, v);
    else out.set(path, value);
  }
  return out;
};

const placeholders = (text: string): string[] =>
  [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();

const files = messageFiles(SRC);

describe('the web app messages', () => {
  it('are found', () => {
    expect(files.length).toBeGreaterThan(3);
    expect(files.map((f) => relative(SRC, f))).toContain(join('i18n', 'messages.ts'));
  });

  for (const file of files) {
    describe(relative(SRC, file), () => {
      it('has English and Spanish with the same keys, no empty text, and the same placeholders', async () => {
        const { messages } = (await import(pathToFileURL(file).href)) as { messages: { en: Tree; es: Tree } };
        const en = leaves(messages.en);
        const es = leaves(messages.es);
        expect([...es.keys()].sort()).toEqual([...en.keys()].sort());
        for (const [key, value] of [...en, ...es]) {
          expect(typeof value, key).toBe('string');
          expect((value as string).trim().length, key).toBeGreaterThan(0);
        }
        for (const [key, value] of en) {
          expect(placeholders(String(es.get(key) ?? '')), key).toEqual(placeholders(String(value)));
        }
      });
    });
  }

  it('has no key that two files both define (one would silently replace the other)', async () => {
    const owner = new Map<string, string>();
    for (const file of files) {
      const { messages } = (await import(pathToFileURL(file).href)) as { messages: { en: Tree } };
      for (const top of Object.keys(messages.en)) {
        const where = relative(SRC, file);
        expect(
          owner.get(top) === undefined || owner.get(top) === where,
          `${top} in ${owner.get(top)} and ${where}`,
        ).toBe(true);
        owner.set(top, where);
      }
    }
  });
});
