import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { aMeeting } from '../support/builders.ts';
import { useSystem } from '../support/system.ts';

// A Redis that is not there: the signaling bus cannot say who is in a call.
const deadPort = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as AddressInfo;
    probe.close(() => resolve(port));
  });
});

const now = new Date('2030-05-01T10:05:00Z');
const ts = useSystem({ env: { REDIS_URL: `redis://127.0.0.1:${deadPort}` }, system: { clock: () => now } });

describe('GET /meetings/:id/room while the signaling bus is down', () => {
  it('answers 503 with a sentence for people, and the bus error stays in the log', async () => {
    await ts.people('cora-r', 'ivan-r');
    const admin = ts.client('ada', ['admin']);
    const booked = await admin.request(
      'POST',
      '/meetings',
      aMeeting({
        customerId: 'cora-r',
        instructorId: 'ivan-r',
        start: new Date(now.getTime() - 5 * 60_000).toISOString(),
        end: new Date(now.getTime() + 55 * 60_000).toISOString(),
      }),
    );
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    const cora = await ts.as('cora-r', ['customer']);
    const res = await cora.request('GET', `/meetings/${booked.body.id}/room`);
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.detail).toBe('who is in the call cannot be told right now; try again in a moment');
    expect(JSON.stringify(res.body)).not.toMatch(/redis|127\.0\.0\.1|\d{4,5}/i);
  });
});
