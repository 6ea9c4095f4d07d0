import { writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One printed figure. A target is either absolute (`value` compared with `limit`) or relative (`value` divided by a
 * reference figure, compared with `limit` as a fraction). `ratio` is what is compared: value/limit for absolute
 * targets, value/reference for relative ones.
 */
export interface Target {
  readonly op: '>=' | '<' | '<=';
  readonly limit: number;
  /** For relative targets: the metric id and value this one is divided by. */
  readonly reference?: { readonly id: string; readonly value: number };
  readonly text: string;
}

export interface Metric {
  readonly id: string;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  readonly target?: Target;
  /** Extra figures kept in the JSON only (sample counts, p90, ...). */
  readonly details?: Record<string, unknown>;
}

export interface Judged extends Metric {
  readonly ratio?: number;
  readonly pass?: boolean;
}

export const judge = (metric: Metric): Judged => {
  const target = metric.target;
  if (target === undefined) return metric;
  if (!Number.isFinite(metric.value)) return { ...metric, pass: false };
  const compared = target.reference !== undefined ? metric.value / target.reference.value : metric.value;
  const pass =
    target.op === '>='
      ? compared >= target.limit
      : target.op === '<'
        ? compared < target.limit
        : compared <= target.limit;
  const ratio = target.reference !== undefined ? compared : metric.value / target.limit;
  return { ...metric, ratio, pass };
};

const fmt = (value: number): string => {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
};

export const formatValue = (value: number, unit: string): string => `${fmt(value)} ${unit}`.trim();

export const renderTable = (rows: ReadonlyArray<Judged>): string => {
  const header = ['metric', 'value', 'target', 'ratio', 'result'];
  const lines = rows.map((row) => [
    row.label,
    formatValue(row.value, row.unit),
    row.target?.text ?? '-',
    row.ratio === undefined
      ? '-'
      : row.target?.reference !== undefined && row.target.limit < 1
        ? `${(row.ratio * 100).toFixed(1)}%`
        : `${row.ratio.toFixed(2)}x`,
    row.pass === undefined ? 'info' : row.pass ? 'PASS' : 'MISS',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const render = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  return [render(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(render)].join('\n');
};

export const writeResults = (payload: {
  readonly options: Record<string, unknown>;
  readonly metrics: ReadonlyArray<Judged>;
  readonly notes: ReadonlyArray<string>;
  readonly failures: ReadonlyArray<string>;
  readonly startedAt: string;
  readonly durationSeconds: number;
}): string => {
  const path = join(tmpdir(), `oneonone-bench-${payload.startedAt.replace(/[:.]/g, '-')}.json`);
  const machine = {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
  };
  writeFileSync(path, `${JSON.stringify({ ...payload, machine }, null, 2)}\n`);
  return path;
};
