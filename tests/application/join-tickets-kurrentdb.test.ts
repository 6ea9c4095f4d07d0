import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JoinTickets } from '../../application/calls.ts';
import { projectedStreamPrefixes } from '../../application/aggregates.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import { openKurrentDbEventStore } from '../../adapters/event-store/kurrentdb.ts';
import type { KurrentDbEventStore } from '../../adapters/event-store/kurrentdb.ts';
import { startFakeKurrentDb } from '../support/fake-kurrentdb.ts';
import type { FakeKurrentDb } from '../support/fake-kurrentdb.ts';
import { eventually } from '../support/fake-resend.ts';

/** Two nodes, each with its own connection to one KurrentDB (the fake server), as a cluster's nodes have. */
describe('join tickets on KurrentDB', () => {
  let fake: FakeKurrentDb;
  let stores: KurrentDbEventStore[];
  const secret = new TextEncoder().encode('a-shared-secret-of-every-node-of-this-site');
  const claims = { userId: 'cora', meetingId: 'm1', role: 'customer' as const };

  beforeAll(async () => {
    fake = await startFakeKurrentDb();
    const open = () =>
      openKurrentDbEventStore({
        connectionString: `${fake.connectionString}&discoveryInterval=10`,
        streamPrefixes: projectedStreamPrefixes,
      });
    stores = [await open(), await open()];
  });

  afterAll(async () => {
    for (const store of stores) await store.close();
    await fake.close();
  });

  it('redeem once across nodes, and their redemptions stay out of what the nodes project', async () => {
    const [a, b] = stores.map((store) => new JoinTickets({ secret, store }));
    const seen: RecordedEvent[] = [];
    const subscription = stores[1]!.subscribeToAll({}, (event) => {
      seen.push(event);
    });
    try {
      const now = new Date();
      const ticket = a!.issue({ ...claims, now });
      expect(await b!.redeem(ticket, now)).toEqual(E.right(claims));
      expect(await a!.redeem(ticket, now)).toEqual(E.left('used'));
      const racing = b!.issue({ ...claims, now });
      const answers = await Promise.all([a!.redeem(racing, now), b!.redeem(racing, now), a!.redeem(racing, now)]);
      expect(answers.filter(E.isRight)).toHaveLength(1);
      // Recorded in the server's log…
      expect(fake.events.filter((e) => e.streamName.startsWith('call-ticket-'))).toHaveLength(2);
      // …but never read or delivered to the projections: the adapter asks for their prefixes only. A meeting event
      // written after them marks how far the subscription has got.
      await stores[0]!.appendToStream('meeting-probe', [{ id: randomUUID(), type: 'Probe', data: {} }]);
      await eventually(() => seen.length > 0, 'the probe delivered');
      expect(seen.map((e) => e.streamName)).toEqual(['meeting-probe']);
      expect((await stores[0]!.readAll()).map((e) => e.streamName)).toEqual(['meeting-probe']);
    } finally {
      await subscription.stop();
    }
  });
});
