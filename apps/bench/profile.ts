import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: ReadonlyArray<number>;
}

interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>;
  readonly samples: ReadonlyArray<number>;
  readonly timeDeltas: ReadonlyArray<number>;
}

export interface ProfileSummary {
  readonly file: string;
  readonly busyMs: number;
  readonly idleMs: number;
  readonly byArea: ReadonlyArray<{ area: string; ms: number; share: number }>;
  readonly topFunctions: ReadonlyArray<{ fn: string; ms: number; share: number }>;
}

const PROJECT = /\/(domain|application|adapters|apps)\//;

const isNative = (url: string, functionName: string): boolean => url === '' && !functionName.startsWith('(');

/** Where a frame's code lives: a package, a project folder, Node internals, or V8's own buckets. */
const areaOf = (url: string, functionName: string): string => {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1] ?? url;
  if (url.startsWith('node:')) return 'node:' + (url.slice(5).split('/')[1] ?? url.slice(5));
  const project = /\/(domain|application|adapters|apps)\/([^/]+(?:\/[^/]+)?)/.exec(url);
  if (project !== null) return `${project[1]}/${project[2]}`;
  return url;
};

/**
 * Self time per function and per area from the .cpuprofile files in `dir` (node --cpu-prof writes one per thread;
 * tsx's loader thread has its own): the busiest one, which is the main thread serving requests.
 */
export const summarizeProfile = (dir: string, top = 20): ProfileSummary | undefined => {
  const summaries = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => summarizeProfileFile(join(dir, f), top));
  return summaries.sort((a, b) => b.busyMs - a.busyMs)[0];
};

/** Self time per function and per area in one .cpuprofile file. */
export const summarizeProfileFile = (file: string, top = 20): ProfileSummary => {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  // A native function (a SQLite statement's run, a socket's writev) counts toward the code that called it: the
  // nearest project frame (past a package's wrapper such as better-sqlite3's transaction), else the nearest frame.
  const callerOf = (id: number): ProfileNode['callFrame'] | undefined => {
    let nearest: ProfileNode['callFrame'] | undefined;
    for (let at = parents.get(id), hops = 0; at !== undefined && hops < 1000; at = parents.get(at), hops++) {
      const frame = byId.get(at)?.callFrame;
      if (frame === undefined || frame.url === '') continue;
      if (PROJECT.test(frame.url) && !frame.url.includes('/node_modules/')) return frame;
      nearest ??= frame;
    }
    return nearest;
  };
  let idleMs = 0;
  let busyMs = 0;
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const caller = isNative(url, functionName) ? callerOf(id) : undefined;
    const area =
      caller !== undefined ? `${areaOf(caller.url, caller.functionName)} (native)` : areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const short =
      url !== ''
        ? ` ${url.replace(/^.*\/(node_modules\/)?/, '')}:${lineNumber + 1}`
        : caller !== undefined
          ? ` (native, from ${areaOf(caller.url, caller.functionName)})`
          : '';
    const key = `${functionName || '(anonymous)'}${short}`;
    fns.set(key, (fns.get(key) ?? 0) + ms);
  }
  const sorted = <K>(m: Map<K, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    file,
    busyMs,
    idleMs,
    byArea: sorted(areas)
      .slice(0, top)
      .map(([area, ms]) => ({ area, ms, share: ms / busyMs })),
    topFunctions: sorted(fns)
      .slice(0, top)
      .map(([fn, ms]) => ({ fn, ms, share: ms / busyMs })),
  };
};

export const renderProfile = (summary: ProfileSummary): string => {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  return [
    `profile ${summary.file}: busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms (self time)`,
    '  by area:',
    ...summary.byArea.map((a) => `    ${pct(a.share)}  ${a.ms.toFixed(0).padStart(6)} ms  ${a.area}`),
    '  top functions:',
    ...summary.topFunctions.map((f) => `    ${pct(f.share)}  ${f.ms.toFixed(0).padStart(6)} ms  ${f.fn}`),
  ].join('\n');
};
