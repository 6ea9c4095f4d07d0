import { startTestSystem } from '../../support/system.ts';
import { describeHttpApi } from './api-suite.ts';

// The same suite runs against KurrentDB in tests/apps/kurrentdb-http.test.ts.
describeHttpApi('HTTP API on the embedded SQLite store', {
  storeName: 'sqlite',
  setup: async () => {
    const sys = await startTestSystem();
    return { sys, teardown: () => sys.destroy() };
  },
});
