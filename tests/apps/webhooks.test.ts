import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../apps/config.ts';
import { eventually, useFakeResend } from '../support/fake-resend.ts';
import { aMeeting, aSeriesBody } from '../support/builders.ts';
import type { PersonEntry } from '../support/builders.ts';
import { startTestSystem, tempDir, useSystem } from '../support/system.ts';
import type { Client } from '../support/system.ts';
import { startWebhookReceiver, verifies, verify } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Webhooks end to end: the real system on a real SQLite file delivering to a local HTTP receiver, which checks every
 * request with the `standardwebhooks` library as a real receiver would. Insecure targets are allowed (the receiver is
 * plain http on 127.0.0.1) except in the block that proves they are refused.
 */

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
});

const INSECURE = { WEBHOOKS_ALLOW_INSECURE_TARGETS: 'true' };
/** Retries a tenth of a second apart, a timeout of 1.5 s, a lease that ends soon after. */
const FAST = { retryDelaysMs: [100, 100, 100, 100, 100, 100], timeoutMs: 1_500, leaseMarginMs: 500 };

let day = 0;
/** A fresh slot per meeting, so the double-booking guard never interferes. */
const meetingBody = (overrides: Record<string, unknown> = {}) => {
  day += 1;
  const start = new Date(Date.UTC(2031, 0, 1, 15) + day * 86_400_000);
  return aMeeting({
    start: start.toISOString(),
    end: new Date(start.getTime() + 3_600_000).toISOString(),
    ...overrides,
  });
};

const schedule = async (admin: Client, overrides: Record<string, unknown> = {}): Promise<string> => {
  const res = await admin.request('POST', '/meetings', meetingBody(overrides));
  expect(res.status).toBe(201);
  return res.body.id as string;
};

interface Registered {
  readonly id: string;
  readonly secret: string;
}

const register = async (admin: Client, url: string, events: string[] = ['meeting.*']): Promise<Registered> => {
  const res = await admin.request('POST', '/webhooks', { url, events, description: 'The CRM' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.secret).toMatch(/^whsec_/);
  return { id: res.body.id as string, secret: res.body.secret as string };
};

type Delivery = {
  id: string;
  status: string;
  messageId: string;
  type: string;
  round: number;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  attempts: Array<{ ok: boolean; status?: number; error?: string }>;
};

const deliveriesOf = async (admin: Client, webhookId: string): Promise<Delivery[]> => {
  const res = await admin.request('GET', `/webhooks/${webhookId}/deliveries`);
  if (res.status !== 200) throw new Error(`GET deliveries answered ${res.status}`);
  return res.body.items as Delivery[];
};

const settled = (admin: Client, webhookId: string, count: number, status = 'delivered') =>
  eventually(
    async () => {
      const items = await deliveriesOf(admin, webhookId);
      return items.length === count && items.every((d) => d.status === status) ? items : undefined;
    },
    `${count} ${status} deliveries of ${webhookId}`,
    30_000,
  );

describe('webhooks delivered to a local receiver', () => {
  const sys = useSystem({
    env: INSECURE,
    system: { webhooks: { ...FAST, secretOverlapMs: 8_000 } },
    people: ['cora', 'ivan'],
  });
  const admin = sys.client('ada', ['admin']);

  it('signs each event per Standard Webhooks, sends it once, only to endpoints subscribed to its type, without private metadata', async () => {
    const only = await register(admin, `${receiver.url}/scheduled`, ['meeting.scheduled']);
    const all = await register(admin, `${receiver.url}/all`, ['meeting.*']);
    const meetingId = await schedule(admin, {
      customerMetadata: 'PRIVATE-CUSTOMER-NOTE',
      instructorMetadata: 'PRIVATE-INSTRUCTOR-NOTE',
      description: 'Bring water',
    });
    expect((await admin.request('POST', `/meetings/${meetingId}/cancel`, { reason: 'ill' })).status).toBe(200);
    // Both events reached the endpoint that takes every meeting event: the other one has had its chance too.
    await eventually(() => receiver.taken('/all').size === 2, 'two deliveries to /all');
    await settled(admin, all.id, 2);
    const [delivered] = await settled(admin, only.id, 1);
    expect(receiver.at('/scheduled')).toHaveLength(1);
    const request = receiver.at('/scheduled')[0]!;
    const payload = verify(only.secret, request) as Delivery['payload'];
    expect(verifies(all.secret, request)).toBe(false);
    expect(request.headers['webhook-id']).toBe(delivered!.messageId);
    expect(payload.type).toBe('meeting.scheduled');
    expect(payload.data).toMatchObject({
      meetingId,
      customerId: 'cora',
      instructorId: 'ivan',
      description: 'Bring water',
    });
    expect(Date.parse(payload.timestamp)).not.toBeNaN();
    for (const r of receiver.at('/all')) expect(verifies(all.secret, r)).toBe(true);
    const types = receiver.at('/all').map((r) => (JSON.parse(r.body) as { type: string }).type);
    expect(types.sort()).toEqual(['meeting.cancelled', 'meeting.scheduled']);
    const cancelled = receiver.at('/all').find((r) => r.body.includes('meeting.cancelled'))!;
    expect(JSON.parse(cancelled.body).data).toMatchObject({ meetingId, customerId: 'cora', reason: 'ill' });
    for (const r of receiver.received) expect(r.body).not.toMatch(/PRIVATE-/);
  });

  it('never shows a secret again: not in GET /webhooks, GET /webhooks/:id or the audit log', async () => {
    const made = await register(admin, `${receiver.url}/quiet`);
    const list = await admin.request('GET', '/webhooks');
    expect(list.status).toBe(200);
    expect(list.body.items.map((w: { id: string }) => w.id)).toContain(made.id);
    const one = await admin.request('GET', `/webhooks/${made.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: made.id,
      url: `${receiver.url}/quiet`,
      events: ['meeting.*'],
      status: 'enabled',
    });
    const audit = await admin.request('GET', '/audit?type=WebhookRegistered');
    expect(audit.status).toBe(200);
    expect(audit.body.items.length).toBeGreaterThan(0);
    for (const text of [JSON.stringify(list.body), JSON.stringify(one.body), JSON.stringify(audit.body)]) {
      expect(text).not.toContain(made.secret);
      expect(text).not.toContain('whsec_');
    }
    expect((await admin.request('DELETE', `/webhooks/${made.id}`)).status).toBe(204);
    expect((await admin.request('GET', `/webhooks/${made.id}`)).status).toBe(404);
  });

  it('retries through a 500 and a receiver that hangs past the timeout, and the event arrives exactly once', async () => {
    const hook = await register(admin, `${receiver.url}/flaky`);
    receiver.answer('/flaky', (_request, count) => (count === 0 ? 500 : count === 1 ? 'hang' : 200));
    await schedule(admin);
    const [delivery] = await settled(admin, hook.id, 1);
    const requests = receiver.at('/flaky');
    expect(requests.map((r) => r.answer)).toEqual([500, 'hang', 200]);
    // The same webhook-id and body every time, each attempt signed afresh.
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([delivery!.messageId]));
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    for (const r of requests) expect(verifies(hook.secret, r)).toBe(true);
    expect([...receiver.taken('/flaky').values()]).toEqual([1]);
    expect(delivery!.attempts.map((a) => a.ok)).toEqual([false, false, true]);
    expect(delivery!.attempts[0]).toMatchObject({ status: 500, error: 'answered 500' });
    expect(delivery!.attempts[1]!.error).toMatch(/no answer within 1500 ms/);
  });

  it('sends a delivery again on request, with the same webhook-id, and refuses one still pending', async () => {
    const hook = await register(admin, `${receiver.url}/again`);
    await schedule(admin);
    const [delivery] = await settled(admin, hook.id, 1);
    const again = await admin.request('POST', `/webhooks/${hook.id}/deliveries/${delivery!.id}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id: delivery!.id, messageId: delivery!.messageId, round: 1 });
    await eventually(() => receiver.at('/again').length === 2, 'the redelivery');
    const [first, second] = receiver.at('/again');
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(second!.body).toBe(first!.body);
    expect(verifies(hook.secret, second!)).toBe(true);
    await settled(admin, hook.id, 1);
    const unknown = await admin.request('POST', `/webhooks/${hook.id}/deliveries/${'0'.repeat(32)}/redeliver`);
    expect(unknown.status).toBe(404);
    // One still pending (the receiver keeps failing) is refused.
    receiver.answer('/again', () => 503);
    await schedule(admin);
    const pending = await eventually(async () => {
      const items = await deliveriesOf(admin, hook.id);
      return items.find((d) => d.status === 'pending' && d.attempts.length > 0);
    }, 'a pending delivery');
    const refused = await admin.request('POST', `/webhooks/${hook.id}/deliveries/${pending.id}/redeliver`);
    expect(refused.status).toBe(409);
    receiver.answer('/again', () => 200);
  });

  it('rotates the secret: during the overlap both secrets verify, after it only the new one', async () => {
    const hook = await register(admin, `${receiver.url}/rotate`);
    const rotated = await admin.request('POST', `/webhooks/${hook.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(hook.secret);
    const until = Date.parse(rotated.body.previousSecretValidUntil as string);
    await schedule(admin);
    await eventually(() => receiver.at('/rotate').length === 1, 'a delivery during the overlap');
    const during = receiver.at('/rotate')[0]!;
    // Signed at a time inside the overlap: both signatures are in the header.
    expect(Number(during.headers['webhook-timestamp']) * 1000).toBeLessThan(until);
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifies(fresh, during)).toBe(true);
    expect(verifies(hook.secret, during)).toBe(true);
    await eventually(() => Date.now() > until + 1_000, 'the end of the overlap', 30_000);
    await schedule(admin);
    await eventually(() => receiver.at('/rotate').length === 2, 'a delivery after the overlap');
    const after = receiver.at('/rotate')[1]!;
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(verifies(fresh, after)).toBe(true);
    expect(verifies(hook.secret, after)).toBe(false);
  });

  it('changes an endpoint with PATCH: its events, its address, and disabled by an admin it gets nothing', async () => {
    const hook = await register(admin, `${receiver.url}/patch-a`, ['person.*']);
    const patched = await admin.request('PATCH', `/webhooks/${hook.id}`, {
      url: `${receiver.url}/patch-b`,
      events: ['meeting.scheduled'],
      description: '',
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ url: `${receiver.url}/patch-b`, events: ['meeting.scheduled'] });
    expect(patched.body.description).toBeUndefined();
    await schedule(admin);
    await eventually(() => receiver.at('/patch-b').length === 1, 'the delivery to the new address');
    const disabled = await admin.request('PATCH', `/webhooks/${hook.id}`, { enabled: false });
    expect(disabled.body).toMatchObject({ status: 'disabled', disabledReason: 'admin' });
    const watcher = await register(admin, `${receiver.url}/patch-watch`, ['meeting.scheduled']);
    await schedule(admin);
    await settled(admin, watcher.id, 1);
    expect(receiver.at('/patch-b')).toHaveLength(1);
    const enabled = await admin.request('PATCH', `/webhooks/${hook.id}`, { enabled: true });
    expect(enabled.body.status).toBe('enabled');
  });

  it('treats a redirect as a failure (never followed) and keeps at most 2 KB of an answer', async () => {
    const hook = await register(admin, `${receiver.url}/odd`);
    receiver.answer('/odd', (_request, count) =>
      count === 0
        ? { status: 302, headers: { location: `${receiver.url}/elsewhere` } }
        : { status: 200, body: 'y'.repeat(50_000) },
    );
    await schedule(admin);
    const [delivery] = await settled(admin, hook.id, 1);
    expect(delivery!.attempts[0]).toMatchObject({
      ok: false,
      status: 302,
      error: 'answered 302: redirects are not followed',
    });
    const answer = (delivery!.attempts[1] as { response?: string }).response!;
    expect(answer.length).toBe(2048);
    expect(receiver.at('/elsewhere')).toEqual([]);
  });

  it('tells about series and people with their public fields only', async () => {
    const hook = await register(admin, `${receiver.url}/crm`, ['series.scheduled', 'person.*']);
    const series = await admin.request(
      'POST',
      '/series',
      aSeriesBody({
        startDate: '2032-01-05',
        customerMetadata: 'PRIVATE-SERIES-NOTE',
        instructorMetadata: 'PRIVATE-X',
      }),
    );
    expect(series.status).toBe(201);
    const put = await admin.request('PUT', '/people/pat', {
      name: 'Pat Person',
      email: 'pat@example.com',
      timezone: 'Europe/Madrid',
    });
    expect(put.status).toBe(200);
    await settled(admin, hook.id, 2);
    const bodies = receiver.at('/crm').map((r) => verify(hook.secret, r) as Delivery['payload']);
    const scheduled = bodies.find((b) => b.type === 'series.scheduled')!;
    expect(scheduled.data).toMatchObject({ seriesId: series.body.id, customerId: 'cora', instructorId: 'ivan' });
    expect((scheduled.data.occurrences as unknown[]).length).toBe(4);
    expect(JSON.stringify(scheduled)).not.toMatch(/PRIVATE-|Metadata/);
    expect(bodies.find((b) => b.type === 'person.registered')!.data).toEqual({
      personId: 'pat',
      name: 'Pat Person',
      email: 'pat@example.com',
      timezone: 'Europe/Madrid',
    });
  });

  it('sends no person.updated for a change only to the CRM record, which no webhook shows', async () => {
    const hook = await register(admin, `${receiver.url}/crm-only`, ['person.*']);
    const person = { name: 'Pia Person', email: 'pia@example.com', timezone: 'Europe/Madrid' };
    expect((await admin.request('PUT', '/people/pia', person)).status).toBe(200);
    const crmOnly = await admin.request('PUT', '/people/pia', { ...person, crm: { externalId: 'CRM-1' } });
    expect(crmOnly.status).toBe(200);
    expect((await admin.request('PUT', '/people/pia', { ...person, name: 'Pia P.' })).status).toBe(200);
    // The reaction goes in log order: once the rename is delivered, the CRM-only change has had its turn.
    await settled(admin, hook.id, 2);
    const bodies = receiver.at('/crm-only').map((r) => verify(hook.secret, r) as Delivery['payload']);
    expect(bodies.map((b) => b.type).sort()).toEqual(['person.registered', 'person.updated']);
    expect(bodies.find((b) => b.type === 'person.updated')!.data).toMatchObject({ name: 'Pia P.' });
    expect(JSON.stringify(bodies)).not.toContain('CRM-1');
  });

  it('takes Idempotency-Key on POST /webhooks: a repeat registers nothing and says the secret is not shown again', async () => {
    const key = `webhook-${Date.now()}`;
    const body = { url: `${receiver.url}/once`, events: ['person.*'] };
    const first = await admin.request('POST', '/webhooks', body, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const repeat = await admin.request('POST', '/webhooks', body, { 'idempotency-key': key });
    expect(repeat.status).toBe(409);
    expect(JSON.stringify(repeat.body)).not.toContain('whsec_');
    // A new key would register a second endpoint, not revoke anything: the answer says so, and where this one is.
    expect(repeat.body.detail).toMatch(/new Idempotency-Key would register a second endpoint/);
    expect(repeat.body.detail).toMatch(/rotate-secret/);
    expect(repeat.body.detail).not.toMatch(/revoked/);
    expect(repeat.headers.get('location')).toBe(`/webhooks/${first.body.id}`);
    const rotateKey = `${key}-rotate`;
    const rotated = await admin.request('POST', `/webhooks/${first.body.id}/rotate-secret`, undefined, {
      'idempotency-key': rotateKey,
    });
    expect(rotated.status).toBe(200);
    const again = await admin.request('POST', `/webhooks/${first.body.id}/rotate-secret`, undefined, {
      'idempotency-key': rotateKey,
    });
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/rotate once more; the lost secret then goes on signing/);
    const list = (await admin.request('GET', '/webhooks')).body.items as Array<{ url: string }>;
    expect(list.filter((w) => w.url === body.url)).toHaveLength(1);
  });

  it('refuses bad bodies with 400 naming the field, and an unknown event type by its name', async () => {
    const url = `${receiver.url}/bad`;
    const cases: Array<[Record<string, unknown>, string, RegExp?]> = [
      [{ url, events: ['meeting.exploded'] }, 'events.0', /'meeting\.exploded' is not a known event type/],
      [{ url, events: [] }, 'events'],
      [{ url: `https://example.com/${'a'.repeat(2100)}`, events: ['meeting.*'] }, 'url'],
      [{ url: 'not a url', events: ['meeting.*'] }, 'url'],
      [{ url: 'ftp://example.com/x', events: ['meeting.*'] }, 'url'],
      [{ url: 'https://user:pw@example.com/x', events: ['meeting.*'] }, 'url'],
      [{ url, events: ['meeting.*'], description: 'x'.repeat(501) }, 'description'],
      [{ url, events: ['meeting.*'], secret: 'whsec_mine' }, 'secret'],
    ];
    for (const [body, path, message] of cases) {
      const res = await admin.request('POST', '/webhooks', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const error = (res.body.errors as Array<{ path: string; message: string }>).find((e) => e.path === path);
      expect(error, `${path} in ${JSON.stringify(res.body.errors)}`).toBeDefined();
      if (message !== undefined) expect(error!.message).toMatch(message);
    }
  });

  it('is for admins, read by auditors: 401 without a token, 403 for members and instructors, and for auditors’ writes', async () => {
    const hook = await register(admin, `${receiver.url}/authz`);
    const noToken = await fetch(`${sys.url}/webhooks`);
    expect(noToken.status).toBe(401);
    const reads = (other: Client) => [
      other.request('GET', '/webhooks'),
      other.request('GET', `/webhooks/${hook.id}`),
      other.request('GET', `/webhooks/${hook.id}/deliveries`),
    ];
    const writes = (other: Client) => [
      other.request('POST', '/webhooks', { url: `${receiver.url}/x`, events: ['meeting.*'] }),
      other.request('PATCH', `/webhooks/${hook.id}`, { enabled: false }),
      other.request('DELETE', `/webhooks/${hook.id}`),
      other.request('POST', `/webhooks/${hook.id}/rotate-secret`),
      other.request('POST', `/webhooks/${hook.id}/deliveries/${'0'.repeat(32)}/redeliver`),
    ];
    for (const role of ['customer', 'instructor']) {
      const other = await sys.as(`someone-${role}`, [role]);
      const answers = await Promise.all([...reads(other), ...writes(other)]);
      expect(
        answers.map((a) => a.status),
        role,
      ).toEqual(Array(8).fill(403));
    }
    const auditor = await sys.as('someone-auditor', ['auditor']);
    const [list, one, log] = await Promise.all(reads(auditor));
    expect([list!.status, one!.status, log!.status]).toEqual([200, 200, 200]);
    expect(list!.body.items.map((w: { id: string }) => w.id)).toContain(hook.id);
    expect(one!.body).toMatchObject({ id: hook.id, url: `${receiver.url}/authz`, status: 'enabled' });
    expect(JSON.stringify([list!.body, one!.body, log!.body])).not.toContain('whsec_');
    expect((await Promise.all(writes(auditor))).map((a) => a.status)).toEqual(Array(5).fill(403));
    expect((await admin.request('GET', `/webhooks/${hook.id}`)).body.status).toBe('enabled');
  });
});

describe('a hung receiver beside a healthy one', () => {
  // A timeout far beyond the test: the hung receiver's requests stay in flight throughout.
  const sys = useSystem({
    env: INSECURE,
    system: { webhooks: { ...FAST, timeoutMs: 300_000, concurrency: 8, perEndpoint: 2 } },
    people: ['cora', 'ivan'],
  });
  const admin = sys.client('ada', ['admin']);

  it('holds at most two slots: every delivery to the healthy endpoint arrives while the hung one’s are pending', async () => {
    const hung = await register(admin, `${receiver.url}/hung`);
    const fast = await register(admin, `${receiver.url}/fast`);
    receiver.answer('/hung', () => 'hang');
    const meetings = 12;
    for (let i = 0; i < meetings; i++) await schedule(admin);
    await settled(admin, fast.id, meetings);
    expect(receiver.taken('/fast').size).toBe(meetings);
    const stalled = await deliveriesOf(admin, hung.id);
    expect(stalled).toHaveLength(meetings);
    expect(stalled.every((d) => d.status === 'pending')).toBe(true);
    // Two requests in flight to it, the other ten waiting their turn.
    await eventually(() => receiver.at('/hung').length === 2, 'two requests to the hung endpoint');
    expect(sys.system.webhooks.sender.load(hung.id)).toEqual({ waiting: meetings - 2, inFlight: 2 });
  });
});

describe('a replay of the log on a fresh node', () => {
  it('delivers by what each endpoint took at the event’s place in the log: nothing new after a rebuild', async () => {
    const dataDir = tempDir();
    const node = (name: string) =>
      startTestSystem({
        dataDir,
        env: { ...INSECURE, READ_MODELS_DIR: join(dataDir, name) },
        system: { webhooks: FAST },
      });
    try {
      const first = await node('node-a');
      await first.people(...['cora', 'ivan'].map((id) => ({ id }) as PersonEntry));
      const admin = first.client('ada', ['admin']);
      const before = await schedule(admin);
      const hook = await register(admin, `${receiver.url}/replay`, ['meeting.scheduled']);
      await schedule(admin);
      await settled(admin, hook.id, 1);
      expect((await admin.request('PATCH', `/webhooks/${hook.id}`, { enabled: false })).status).toBe(200);
      await schedule(admin);
      expect((await admin.request('PATCH', `/webhooks/${hook.id}`, { enabled: true })).status).toBe(200);
      expect((await admin.request('POST', `/meetings/${before}/cancel`, { reason: 'ill' })).status).toBe(200);
      const patched = await admin.request('PATCH', `/webhooks/${hook.id}`, {
        events: ['meeting.scheduled', 'meeting.cancelled'],
      });
      expect(patched.status).toBe(200);
      await schedule(admin);
      await settled(admin, hook.id, 2);
      expect(receiver.taken('/replay').size).toBe(2);
      await first.close();

      // A second node on the same event store with read models (and the reaction's checkpoint) of its own, from
      // nothing: it reads the whole log again.
      const second = await node('node-b');
      const again = second.client('ada', ['admin']);
      await schedule(again);
      // The reaction takes events in log order: once this one is delivered, it has been through all before it.
      await settled(again, hook.id, 3);
      const types = receiver.at('/replay').map((r) => (JSON.parse(r.body) as { type: string }).type);
      expect(types).toEqual(['meeting.scheduled', 'meeting.scheduled', 'meeting.scheduled']);
      expect([...receiver.taken('/replay').values()]).toEqual([1, 1, 1]);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('the replay horizon', () => {
  // The webhook reaction's clock runs ten minutes ahead of the event store's: every event is ten minutes old when it
  // comes to it, past a one-minute horizon (as months-old events are past the 2-day one on a replay).
  const sys = useSystem({
    env: INSECURE,
    system: { clock: () => new Date(Date.now() + 600_000), webhooks: { ...FAST, replayHorizonMs: 60_000 } },
    people: ['cora', 'ivan'],
  });
  const admin = sys.client('ada', ['admin']);

  it('delivers no event recorded longer ago than the horizon', async () => {
    const hook = await register(admin, `${receiver.url}/horizon`);
    await schedule(admin);
    await eventually(async () => (await sys.system.webhooks.status()).lag === 0, 'the reaction past the event');
    expect(await deliveriesOf(admin, hook.id)).toEqual([]);
    expect(receiver.at('/horizon')).toEqual([]);
  });
});

describe('WEBHOOKS_ALLOW_INSECURE_TARGETS', () => {
  it('is off unless set to true, and refuses anything but true or false', () => {
    expect(loadConfig({}).webhooksAllowInsecureTargets).toBe(false);
    expect(loadConfig({ WEBHOOKS_ALLOW_INSECURE_TARGETS: 'true' }).webhooksAllowInsecureTargets).toBe(true);
    expect(loadConfig({ WEBHOOKS_ALLOW_INSECURE_TARGETS: 'false' }).webhooksAllowInsecureTargets).toBe(false);
    expect(() => loadConfig({ WEBHOOKS_ALLOW_INSECURE_TARGETS: 'yes' })).toThrow(
      /WEBHOOKS_ALLOW_INSECURE_TARGETS must be true or false/,
    );
  });
});

describe('webhook targets without WEBHOOKS_ALLOW_INSECURE_TARGETS', () => {
  /** The site's DNS, as the test says: this name points at the local receiver's address. */
  const resolver = async (host: string) =>
    host === 'hooks.example.test' ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '93.184.216.34', family: 4 }];
  const sys = useSystem({ system: { webhooks: { ...FAST, resolver } }, people: ['cora', 'ivan'] });
  const admin = sys.client('ada', ['admin']);

  it('refuses http:, localhost and literal private, loopback, link-local and other non-public addresses at registration', async () => {
    const refused = [
      'http://example.com/hook',
      'https://127.0.0.1/hook',
      'https://10.1.2.3/hook',
      'https://192.168.0.10/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/hook',
      'https://[fd00::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://0.0.0.0/hook',
      'https://localhost/hook',
      'https://api.localhost/hook',
      'https://localhost./hook',
      'https://foo.localhost./hook',
      'https://[::127.0.0.1]/hook',
    ];
    for (const url of refused) {
      const res = await admin.request('POST', '/webhooks', { url, events: ['meeting.*'] });
      expect(res.status, url).toBe(400);
      expect(res.body.errors[0].path, url).toBe('url');
    }
    expect((await admin.request('GET', '/webhooks')).body.items).toEqual([]);
  });

  it('refuses at delivery time a host that resolves to 127.0.0.1: the delivery fails saying why, nothing reaches the receiver', async () => {
    const port = new URL(receiver.url).port;
    const hook = await register(admin, `https://hooks.example.test:${port}/ssrf`);
    await schedule(admin);
    const [delivery] = await settled(admin, hook.id, 1, 'failed');
    expect(delivery!.attempts.length).toBeGreaterThan(1);
    for (const attempt of delivery!.attempts) {
      expect(attempt.ok).toBe(false);
      expect(attempt.error).toMatch(
        /hooks\.example\.test resolves to 127\.0\.0\.1, which is not a public address; nothing was sent/,
      );
    }
    expect(receiver.at('/ssrf')).toEqual([]);
  });
});

/** An admin in the people directory (roles and active go through PUT /people like the other fields). */
const anAdmin = (id: string, email: string, active = true): PersonEntry =>
  ({ id, email, roles: ['admin'], active }) as PersonEntry;

describe('an endpoint that keeps failing', () => {
  const resend = useFakeResend();
  const sys = useSystem({
    env: { ...INSECURE, RESEND_API_KEY: 're_test' },
    system: { webhooks: { ...FAST, retryDelaysMs: Array(40).fill(150), disableAfterMs: 1_500 } },
    people: [
      'cora',
      'ivan',
      anAdmin('ada', 'ada@example.com'),
      anAdmin('abe', 'abe@example.com'),
      anAdmin('old-admin', 'old@example.com', false),
    ],
  });
  const admin = sys.client('ada', ['admin']);

  it('is disabled after failing without a break for the allowed time, and every active admin gets one email', async () => {
    const hook = await register(admin, `${receiver.url}/down`);
    receiver.answer('/down', () => 500);
    await schedule(admin);
    const disabled = await eventually(
      async () => {
        const res = await admin.request('GET', `/webhooks/${hook.id}`);
        return res.body.status === 'disabled' ? res.body : undefined;
      },
      'the endpoint disabled',
      30_000,
    );
    expect(disabled).toMatchObject({ disabledReason: 'failing' });
    expect(disabled.disabledDetail).toMatch(/every delivery failed since/);
    // The pending delivery ends failed, saying why.
    const [delivery] = await settled(admin, hook.id, 1, 'failed');
    expect(delivery!.attempts.length).toBeGreaterThan(2);
    await eventually(() => resend.fake.deliveredTo('ada@example.com').length === 1, 'ada’s email');
    await eventually(() => resend.fake.deliveredTo('abe@example.com').length === 1, 'abe’s email');
    const mail = resend.fake.deliveredTo('ada@example.com')[0]!.body as { subject: string; text: string };
    expect(mail.subject).toMatch(/webhook endpoint was disabled/);
    expect(mail.text).toContain(`${receiver.url}/down`);
    expect(resend.fake.deliveredTo('old@example.com')).toEqual([]);
    // Nothing more is sent to it; a new event is not delivered.
    const before = receiver.at('/down').length;
    const watcher = await register(admin, `${receiver.url}/down-watch`);
    await schedule(admin);
    await settled(admin, watcher.id, 1);
    expect(receiver.at('/down')).toHaveLength(before);
    expect(resend.fake.delivered.filter((m) => /webhook/.test(String(m.body?.subject)))).toHaveLength(2);
    // Enabled again by an admin: no longer failing, and events flow again.
    receiver.answer('/down', () => 200);
    const enabled = await admin.request('PATCH', `/webhooks/${hook.id}`, { enabled: true });
    expect(enabled.body.status).toBe('enabled');
    expect(enabled.body.failingSince).toBeUndefined();
    await schedule(admin);
    await eventually(() => receiver.taken('/down').size === 1, 'a delivery after enabling');
  });
});

describe('an endpoint disabled while the mail provider is down', () => {
  const resend = useFakeResend();
  const sys = useSystem({
    env: { ...INSECURE, RESEND_API_KEY: 're_test' },
    system: {
      webhooks: { ...FAST, retryDelaysMs: Array(40).fill(150), disableAfterMs: 1_500, alertRetryDelaysMs: [100, 200] },
    },
    people: ['cora', 'ivan', anAdmin('ada', 'ada@example.com'), anAdmin('abe', 'abe@example.com')],
  });
  const admin = sys.client('ada', ['admin']);

  it('emails each admin exactly once when the provider recovers, however many tries it took', async () => {
    // More failures than a handful of tries per admin: the alerts outlast them.
    const outage = 16;
    resend.fake.plan(...Array<{ status: number }>(outage).fill({ status: 500 }));
    const hook = await register(admin, `${receiver.url}/down-mail`);
    receiver.answer('/down-mail', () => 500);
    await schedule(admin);
    await eventually(
      async () => (await admin.request('GET', `/webhooks/${hook.id}`)).body.status === 'disabled',
      'the endpoint disabled',
      30_000,
    );
    await eventually(() => resend.fake.deliveredTo('ada@example.com').length === 1, 'ada’s email', 30_000);
    await eventually(() => resend.fake.deliveredTo('abe@example.com').length === 1, 'abe’s email', 30_000);
    const alertRequests = resend.fake.requests.filter((r) => r.idempotencyKey?.startsWith('webhook-disabled.'));
    expect(alertRequests.filter((r) => r.answered === 500)).toHaveLength(outage);
    // Every attempt for one admin carried the one key of that admin's alert.
    const keys = new Map<string, Set<string>>();
    for (const r of alertRequests) {
      const to = String(r.body.to);
      keys.set(to, (keys.get(to) ?? new Set<string>()).add(r.idempotencyKey!));
    }
    expect([...keys.values()].map((k) => k.size)).toEqual([1, 1]);
    // Nothing more is sent: a new event and the sender's quiet period bring no second email.
    const watcher = await register(admin, `${receiver.url}/down-mail-watch`);
    await schedule(admin);
    await settled(admin, watcher.id, 1);
    expect(resend.fake.delivered.filter((m) => /webhook/.test(String(m.body?.subject)))).toHaveLength(2);
  }, 90_000);
});
