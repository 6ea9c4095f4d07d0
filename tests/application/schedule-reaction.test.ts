import { describe, expect, it } from 'vitest';
import { ScheduleReaction } from '../../application/schedule-reaction.ts';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describe('the schedule reaction', () => {
  it('keeps its checkpoint when stopped without having started or seen an event', async () => {
    const saved = new Map<string, number>([['schedule-reaction', 42]]);
    const checkpoints = {
      get: (name: string) => saved.get(name) ?? 0,
      set: (name: string, p: number) => saved.set(name, p),
    };
    const deps = {
      store: createInMemoryEventStore(),
      checkpoints,
      log: quiet,
      newId: () => 'x',
      clock: () => new Date(),
    };
    // Stores that append atomically never start it, but every node stops it.
    await new ScheduleReaction(deps).stop();
    expect(saved.get('schedule-reaction')).toBe(42);
    // Started over a log with nothing new, and stopped again.
    const again = new ScheduleReaction(deps);
    again.start();
    await again.stop();
    expect(saved.get('schedule-reaction')).toBe(42);
  });
});
