import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pluginQueries } from '../../apps/access-provider.ts';
import { TestClient } from '../adapters/signaling/harness.ts';
import { pairBooker } from '../support/booked.ts';
import { tempDir, useSystem } from '../support/system.ts';

/** A plugin that hides every meeting from the ids in `globalThis.blockedByTestPlugin` (the server runs in-process). */
const blocked = new Set<string>();
(globalThis as { blockedByTestPlugin?: Set<string> }).blockedByTestPlugin = blocked;
const dir = tempDir('access-join-');
const pluginPath = join(dir, 'blocking.mjs');
writeFileSync(
  pluginPath,
  `export default ({ defaultProvider: base, queries }) => {
  globalThis.pluginGivenQueries = Object.keys(queries).sort();
  return {
    ...base,
    name: 'blocking',
    deterministic: false,
    canView: async (user, m) => !globalThis.blockedByTestPlugin.has(user.id) && base.canView(user, m),
  };
};`,
);

const now = new Date('2030-05-01T10:05:00Z');
const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000).toISOString();
const ts = useSystem({ env: { ACCESS_PROVIDER: pluginPath }, system: { clock: () => now } });
const admin = ts.client('ada', ['admin']);
const book = pairBooker(ts, admin, 'acc-');
const open: TestClient[] = [];
afterAll(() => {
  for (const c of open) c.ws.terminate();
  rmSync(dir, { recursive: true, force: true });
});

describe('joining a call asks the access provider', { timeout: 120_000 }, () => {
  it('gave the plugin only the reads pluginQueries gives (those the contract suite gives it too)', () => {
    const given = (globalThis as { pluginGivenQueries?: string[] }).pluginGivenQueries;
    expect(given).toEqual(['calendar', 'getMeeting', 'getPerson', 'personActive']);
    expect(Object.keys(pluginQueries(ts.system.readModels)).sort()).toEqual(given);
  });

  it('refuses a member the plugin hides the meeting from, as GET /meetings/:id does (404)', async () => {
    const { id, customerId, customer } = await book({ start: at(-5), end: at(55) });
    expect((await customer.request('POST', `/meetings/${id}/join`)).status).toBe(200);
    blocked.add(customerId);
    try {
      expect((await customer.request('GET', `/meetings/${id}`)).status).toBe(404);
      const refused = await customer.request('POST', `/meetings/${id}/join`);
      expect(refused.status).toBe(404);
      expect(refused.body.detail).toBe('meeting not found');
      expect(JSON.stringify(refused.body)).not.toContain('ticket');
      // A link meeting: no remote link for them either.
      const link = await book({ start: at(-5), end: at(55) }, { trainingType: 'link', remoteLink: 'https://x.test/r' });
      blocked.add(link.customerId);
      const linkRefused = await link.customer.request('POST', `/meetings/${link.id}/join`);
      expect(linkRefused.status).toBe(404);
      expect(JSON.stringify(linkRefused.body)).not.toContain('x.test');
    } finally {
      blocked.delete(customerId);
    }
  });

  it('refuses the signaling socket of a ticket taken before the member was blocked', async () => {
    const { id, customerId, customer } = await book({ start: at(-5), end: at(55) });
    const joined = await customer.request('POST', `/meetings/${id}/join`);
    expect(joined.status).toBe(200);
    blocked.add(customerId);
    try {
      const socket = new TestClient(
        `${ts.url.replace(/^http/, 'ws')}/signaling?ticket=${encodeURIComponent(joined.body.ticket as string)}`,
      );
      open.push(socket);
      expect((await socket.closed).code).toBe(4003);
      expect(socket.messages.find((m) => m.type === 'error')).toMatchObject({ code: 'not_found' });
      expect(socket.messages.some((m) => m.type === 'welcome')).toBe(false);
    } finally {
      blocked.delete(customerId);
    }
  });
});
