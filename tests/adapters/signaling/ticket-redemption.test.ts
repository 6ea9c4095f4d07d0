import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { JoinTickets } from '../../../application/calls.ts';
import type { EventStore } from '../../../application/ports/event-store.ts';
import { createInMemoryEventStore } from '../../../adapters/event-store/memory.ts';
import { attachSignaling } from '../../../adapters/signaling/server.ts';
import type { SignalingHandle } from '../../../adapters/signaling/server.ts';
import { TestClient } from './harness.ts';

/** The upgrade's side of redemption: refusals before the upgrade, and what the log says of them. */

const opened: Array<{ server: http.Server; handle: SignalingHandle; clients: TestClient[] }> = [];
afterEach(async () => {
  for (const { server, handle, clients } of opened.splice(0)) {
    for (const c of clients) c.ws.terminate();
    await handle.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

const secret = randomBytes(32);
const claims = { userId: 'cora', meetingId: 'm1', role: 'customer' as const };

const serve = async (store: Pick<EventStore, 'appendToStream'>) => {
  const lines: Array<{ level: string; fields: unknown; msg: string }> = [];
  const log = (level: string) => (fields: unknown, msg: string) => lines.push({ level, fields, msg });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const handle = attachSignaling(server, {
    tickets: new JoinTickets({ secret, store }),
    allowedOrigins: '*',
    checkAccess: async () => E.right({}),
    iceServersFor: () => [],
    logger: { info: log('info'), warn: log('warn'), debug: log('debug') },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/signaling`;
  const clients: TestClient[] = [];
  opened.push({ server, handle, clients });
  const connect = (ticket: string) => {
    const c = new TestClient(`${url}?ticket=${encodeURIComponent(ticket)}`);
    clients.push(c);
    return c;
  };
  return { lines, connect };
};

describe('redeeming a join ticket at the upgrade', () => {
  it('admits a ticket once; a reused, foreign or tampered one is refused with 401 and logged without the ticket', async () => {
    const { lines, connect } = await serve(createInMemoryEventStore());
    const tickets = new JoinTickets({ secret, store: createInMemoryEventStore() });
    const ticket = tickets.issue({ ...claims, now: new Date() });
    expect(await connect(ticket).waitType('welcome')).toMatchObject({ meetingId: 'm1', role: 'customer' });
    const foreign = new JoinTickets({ secret: randomBytes(32), store: createInMemoryEventStore() }).issue({
      ...claims,
      now: new Date(),
    });
    const refused = await Promise.all([ticket, foreign, `${ticket}x`].map((t) => connect(t).refused));
    expect(refused).toEqual([401, 401, 401]);
    const reasons = lines
      .filter((l) => l.msg === 'signaling: ticket refused')
      .map((l) => (l.fields as { reason: string }).reason);
    expect(reasons.sort()).toEqual(['unknown', 'unknown', 'used']);
    expect(JSON.stringify(lines)).not.toContain(ticket.split('.')[1]);
  });

  it('refuses with 503 (and spends nothing) when the redemption cannot be recorded', async () => {
    const store = createInMemoryEventStore();
    let down = true;
    const flaky: Pick<EventStore, 'appendToStream'> = {
      appendToStream: (...args) =>
        down ? Promise.reject(new Error('store unreachable')) : store.appendToStream(...args),
    };
    const { lines, connect } = await serve(flaky);
    const ticket = new JoinTickets({ secret, store }).issue({ ...claims, now: new Date() });
    expect(await connect(ticket).refused).toBe(503);
    expect(lines).toContainEqual({
      level: 'warn',
      fields: { err: 'store unreachable' },
      msg: 'signaling: ticket redemption failed',
    });
    down = false;
    expect(await connect(ticket).waitType('welcome')).toMatchObject({ meetingId: 'm1' });
  });
});
