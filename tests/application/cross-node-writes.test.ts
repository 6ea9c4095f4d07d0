import { afterEach, describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';
import type { EventStore } from '../../application/ports/event-store.ts';
import { startTestSystem } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';

/**
 * Two nodes on one store, the second one's read models held back: a write on it that changes nothing (the state is
 * already what it asks, written through the other node) still answers with what it read, once its read models show it.
 */

const running: TestSystem[] = [];
afterEach(async () => {
  for (const node of running.splice(0).reverse()) await node.destroy();
});

/** The store as a node sees it, with its subscription's deliveries held while `hold` is set. */
const heldBack = (inner: EventStore) => {
  let gate: Promise<void> | undefined;
  let open = (): void => {};
  const store: EventStore = {
    ...inner,
    close: async () => {},
    subscribeToAll: (options, handler, onError) =>
      inner.subscribeToAll(
        options,
        async (event) => {
          await gate;
          return handler(event);
        },
        onError,
      ),
  };
  return {
    store,
    hold: () => {
      gate = new Promise((resolve) => (open = resolve));
    },
    release: () => open(),
  };
};

describe('a write that changes nothing, on a node whose read models are behind the other node', () => {
  it('answers with the state it read (200), not a 404 from the read model that has not seen it yet', async () => {
    const inner = createInMemoryEventStore();
    const a = await startTestSystem({ system: { store: { ...inner, close: async () => {} } } });
    running.push(a);
    const b = heldBack(inner);
    const nodeB = await startTestSystem({ system: { store: b.store } });
    running.push(nodeB);
    const person = { name: 'Casey Coach', email: 'casey@example.com', timezone: 'Europe/Madrid' };
    b.hold();
    const adminA = await a.as('ada', ['admin']);
    expect((await adminA.request('PUT', '/people/coach-7', person)).status).toBe(200);
    const adminB = await nodeB.as('ada', ['admin']);
    const onB = adminB.request('PUT', '/people/coach-7', person);
    const early = await Promise.race([onB.then(() => 'answered'), new Promise((r) => setTimeout(r, 200, 'waiting'))]);
    expect(early).toBe('waiting');
    b.release();
    const answer = await onB;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: 'coach-7', name: 'Casey Coach' });
  });
});
