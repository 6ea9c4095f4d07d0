/**
 * Builds the web app (adapters/web) when it is missing or stale: the API client's types are generated from the
 * OpenAPI document the server derives (so a contract change breaks this build, not the user), then Vite bundles the
 * app into adapters/web/dist. A stamp (a SHA-256 over the app's sources, the OpenAPI document and the lockfile) says
 * whether the bundle on disk is current; a directory lock keeps concurrent starts from building twice at once.
 *
 * `npm run web:build` builds unconditionally; `npm start` and the test setup call `ensureWebApp`.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openApiDocument } from '../adapters/http/openapi.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const webRoot = join(root, 'adapters/web');
export const webDist = join(webRoot, 'dist');
const schemaFile = join(webRoot, 'src/api/schema.d.ts');
const stampFile = join(webDist, '.build-stamp');
const lockDir = join(webRoot, '.build-lock');

/** The OpenAPI document as the client's types are generated from it (the server URL does not shape any type). */
export const openApiText = (): string => JSON.stringify(openApiDocument('http://localhost'), null, 2);

const sourceFiles = async (dir: string): Promise<string[]> => {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (path !== schemaFile) out.push(path);
  }
  return out.sort();
};

/** What the bundle is built from: the app's files, the API document, the lockfile (library versions). */
const currentStamp = async (): Promise<string> => {
  const hash = createHash('sha256');
  for (const file of await sourceFiles(webRoot)) {
    hash
      .update(relative(webRoot, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  }
  hash.update(openApiText());
  hash.update(await readFile(join(root, 'package-lock.json')));
  return hash.digest('hex');
};

/** Writes the API client's types (adapters/web/src/api/schema.d.ts) from the derived OpenAPI document. */
export const generateApiTypes = async (): Promise<void> => {
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const ast = await openapiTS(JSON.parse(openApiText()) as never);
  const text = `// Generated from the server's OpenAPI document by apps/web-build.ts. Do not edit.\n${astToString(ast)}`;
  const previous = existsSync(schemaFile) ? await readFile(schemaFile, 'utf8') : '';
  if (previous !== text) await writeFile(schemaFile, text);
};

/** Generates the types and bundles the app, whatever is on disk. */
export const buildWebApp = async (): Promise<void> => {
  await generateApiTypes();
  const { build } = await import('vite');
  await build({ configFile: join(webRoot, 'vite.config.ts'), logLevel: 'warn' });
  await writeFile(stampFile, await currentStamp());
};

const isCurrent = async (): Promise<boolean> => {
  if (!existsSync(stampFile) || !existsSync(join(webDist, 'index.html'))) return false;
  return (await readFile(stampFile, 'utf8')) === (await currentStamp());
};

/** Takes the build lock (a directory: `mkdir` is atomic); a lock older than ten minutes is a crashed build's. */
const withLock = async <T>(work: () => Promise<T>): Promise<T> => {
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch {
      const age = await stat(lockDir).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 600_000) await rm(lockDir, { recursive: true, force: true });
      else await sleep(250);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
};

/** Builds the app unless the bundle on disk is current. Answers whether it built. */
export const ensureWebApp = async (): Promise<boolean> => {
  if (await isCurrent()) return false;
  return withLock(async () => {
    if (await isCurrent()) return false;
    await buildWebApp();
    return true;
  });
};

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const mode = process.argv[2];
  const run = mode === '--types' ? generateApiTypes : mode === '--if-stale' ? ensureWebApp : buildWebApp;
  run().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `web build failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
