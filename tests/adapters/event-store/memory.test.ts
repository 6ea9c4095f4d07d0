import { createInMemoryEventStore } from '../../../adapters/event-store/memory.ts';
import { runEventStoreContract } from './contract.ts';
import { runEmbeddedStoreBehaviour } from './embedded-behaviour.ts';

runEventStoreContract('memory', async () => {
  const store = createInMemoryEventStore();
  return { store, cleanup: () => store.close() };
});

runEmbeddedStoreBehaviour('memory', async (options) => {
  const store = createInMemoryEventStore(options);
  return { store, cleanup: () => store.close() };
});
