import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../application/ports/event-store.ts';
import { openSqliteReadModels } from '../../../adapters/read-models/index.ts';

const event = (position: number, streamName: string, data: Record<string, unknown>): RecordedEvent => ({
  id: randomUUID(),
  streamName,
  revision: 0,
  position,
  type: 'Something',
  recordedAt: '2026-05-05T05:05:05.000Z',
  metadata: {},
  data,
});

describe('the audit read model', () => {
  it('is rebuilt from the log as it was, bookkeeping left out, and counts no further than asked', () => {
    const models = openSqliteReadModels(':memory:');
    const sink = models.sinks.find((s) => s.name === 'audit')!;
    const events = [
      event(1, 'sign-in-a', { personId: 'p', at: '2026-05-01T00:00:00Z' }),
      event(2, 'schedule-p-2026-05', { at: '2026-05-01T00:00:00Z' }),
      event(3, 'call-ticket-x', { userId: 'p' }),
      event(4, 'session-b', { userId: 'p', refreshTokenHash: 'h' }),
      event(5, 'idempotency-k', { answer: { personId: 'p' } }),
    ];
    sink.apply(events);
    const before = models.audit.auditPage({}, undefined, 100);
    expect(before.map((e) => e.stream)).toEqual(['sign-in-a', 'session-b']);
    expect(models.audit.auditPage({ personId: 'p' }, undefined, 100)).toEqual(before);
    expect(models.audit.auditCount({}, 1)).toBe(1);
    expect(models.audit.auditCount({ personId: 'p' }, 10)).toBe(2);
    // A replay after a crash applies nothing twice.
    sink.apply(events);
    expect(models.audit.auditCount({}, 10)).toBe(2);
    sink.reset();
    expect(models.audit.auditPage({}, undefined, 100)).toEqual([]);
    expect(models.audit.auditCount({ personId: 'p' }, 10)).toBe(0);
    sink.apply(events);
    expect(models.audit.auditPage({}, undefined, 100)).toEqual(before);
    models.close();
  });
});
