import { describe, expect, it } from 'vitest';
import {
  AccessProviderFailure,
  DEFAULT_ACCESS_PROVIDER_TIMEOUT_MS,
  guardedAccessProvider,
} from '../../application/access-plugin.ts';
import { defaultAccessProvider } from '../../application/default-access.ts';
import type { AccessProvider, AuthUser } from '../../application/ports/access.ts';
import type { CalendarEntry } from '../../application/ports/read-models.ts';

const entry = (meetingId: string): CalendarEntry => ({
  meetingId,
  title: 'Strength',
  start: '2031-01-01T10:00:00.000Z',
  end: '2031-01-01T11:00:00.000Z',
  timezone: 'UTC',
  state: 'scheduled',
  trainingType: '1-1',
  role: 'customer',
  customerId: 'cora',
  instructorId: 'ivan',
});
const cora: AuthUser = { id: 'cora', roles: ['customer'] };
const base = defaultAccessProvider({ calendar: () => [], getPerson: () => undefined });
const logged = () => {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  return {
    lines,
    log: { error: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }) },
  };
};
const never = () => new Promise<never>(() => undefined);

describe('the access provider guard', () => {
  it('waits a few seconds by default', () => {
    expect(DEFAULT_ACCESS_PROVIDER_TIMEOUT_MS).toBeGreaterThanOrEqual(1_000);
    expect(DEFAULT_ACCESS_PROVIDER_TIMEOUT_MS).toBeLessThanOrEqual(10_000);
  });

  it('fails a call the plugin does not answer in time, logged, and ignores its late answer or throw', async () => {
    let late: (() => void) | undefined;
    const hanging: AccessProvider = {
      ...base,
      name: 'hanging',
      canView: never,
      canModify: () =>
        new Promise((_, reject) => {
          late = () => reject(new Error('too late'));
        }),
      filterVisible: never,
    };
    const { lines, log } = logged();
    const guarded = guardedAccessProvider(hanging, log as never, { timeoutMs: 20 });
    const failure = await guarded.canView(cora, entry('m1')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AccessProviderFailure);
    expect((failure as Error).message).toBe("access provider 'hanging': canView took longer than 20 ms");
    await expect(guarded.filterVisible(cora, [entry('m1')])).rejects.toBeInstanceOf(AccessProviderFailure);
    await expect(guarded.canModify(cora, entry('m1'))).rejects.toBeInstanceOf(AccessProviderFailure);
    late?.(); // its rejection after the timeout is no unhandled rejection
    expect(lines.map((l) => [l.message, l.fields.method])).toEqual([
      ['access provider timed out', 'canView'],
      ['access provider timed out', 'filterVisible'],
      ['access provider timed out', 'canModify'],
    ]);
    // Answers in time pass as before.
    expect(await guarded.canCreate(cora, { customerId: 'cora', instructorId: 'ivan' })).toBe(false);
  });

  it("answers filterVisible with the items it was given, in their order, never the plugin's objects", async () => {
    const given = [entry('m1'), entry('m2'), entry('m3')];
    const rewriting: AccessProvider = {
      ...base,
      name: 'rewriting',
      filterVisible: async (_user, items) =>
        [items[2]!, items[0]!].map((item) => ({ ...item, title: 'forged', customerId: 'someone-else', extra: 1 })),
    };
    const visible = await guardedAccessProvider(rewriting, logged().log as never).filterVisible(cora, given);
    expect(visible).toHaveLength(2);
    expect(visible[0]).toBe(given[0]);
    expect(visible[1]).toBe(given[2]);
    expect(JSON.stringify(visible)).not.toContain('forged');
  });
});
