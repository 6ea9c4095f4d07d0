import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import {
  createTargetPolicy,
  isPublicAddress,
  limitLookups,
  signatureHeader,
} from '../../../adapters/webhooks/transport.ts';
import type { ResolvedAddress } from '../../../adapters/webhooks/transport.ts';

describe('webhook targets', () => {
  it('counts only public unicast addresses as public, IPv4-mapped IPv6 by its IPv4 address', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])
      expect(isPublicAddress(address), address).toBe(true);
    for (const address of [
      '127.0.0.1',
      '127.8.9.10',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd12:3456::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
      // IPv4-compatible (::/96), whatever the IPv4 address.
      '::127.0.0.1',
      '::7f00:1',
      '::a00:1',
      '::8.8.8.8',
      'not an address',
    ])
      expect(isPublicAddress(address), address).toBe(false);
  });

  it('refuses at registration what the URL alone shows to be unsafe, unless insecure targets are allowed', () => {
    const strict = createTargetPolicy({ allowInsecure: false });
    expect(strict.refuse('https://crm.example.com/hook')).toBeUndefined();
    expect(strict.refuse('https://93.184.216.34/hook')).toBeUndefined();
    expect(strict.refuse('http://crm.example.com/hook')).toMatch(/https/);
    expect(strict.refuse('https://LOCALHOST/hook')).toMatch(/localhost/);
    for (const url of ['https://localhost./hook', 'https://foo.localhost./hook', 'https://api.localhost../hook'])
      expect(strict.refuse(url), url).toMatch(/localhost/);
    expect(strict.refuse('https://[::127.0.0.1]/hook')).toMatch(/non-public/);
    expect(strict.refuse('https://[::ffff:127.0.0.1]/hook')).toMatch(/non-public/);
    expect(strict.refuse('https://[::ffff:8.8.8.8]/hook')).toBeUndefined();
    expect(strict.refuse('https://127.0.0.1:8443/hook')).toMatch(/non-public address \(127\.0\.0\.1\)/);
    expect(strict.refuse('https://[fe80::1]/hook')).toMatch(/non-public/);
    // Numeric spellings are normalised by the URL parser first.
    expect(strict.refuse('https://2130706433/hook')).toMatch(/127\.0\.0\.1/);
    const loose = createTargetPolicy({ allowInsecure: true });
    expect(loose.refuse('http://127.0.0.1:9000/hook')).toBeUndefined();
    expect(loose.refuse('ftp://127.0.0.1/hook')).toMatch(/https/);
  });

  it('signs once per secret, each signature verifiable on its own by standardwebhooks', () => {
    const a = `whsec_${Buffer.from('a'.repeat(24)).toString('base64')}`;
    const b = `whsec_${Buffer.from('b'.repeat(24)).toString('base64')}`;
    const at = new Date();
    const body = '{"type":"meeting.cancelled","timestamp":"2030-01-01T00:00:00.000Z","data":{}}';
    const signature = signatureHeader([a, b], 'msg_1', at, body);
    expect(signature.split(' ')).toHaveLength(2);
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    };
    expect(new Webhook(a).verify(body, headers)).toMatchObject({ type: 'meeting.cancelled' });
    expect(new Webhook(b).verify(body, headers)).toMatchObject({ type: 'meeting.cancelled' });
    expect(() => new Webhook(a).verify(body.replace('cancelled', 'scheduled'), headers)).toThrow();
  });
});

describe('DNS lookups', () => {
  /** A resolver whose lookups end only when the test says so. */
  const controlled = () => {
    const pending: Array<{ host: string; end: () => void }> = [];
    const resolver = (host: string) =>
      new Promise<ReadonlyArray<ResolvedAddress>>((resolve) =>
        pending.push({ host, end: () => resolve([{ address: '93.184.216.34', family: 4 }]) }),
      );
    return { pending, resolver };
  };
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('runs at most two at once; one whose caller gave up holds its turn until it really ends', async () => {
    const { pending, resolver } = controlled();
    const limited = limitLookups(resolver, 2);
    const hung = new AbortController();
    const first = limited('hung.example', hung.signal).catch(() => 'gave up');
    const others = ['b.example', 'c.example', 'd.example'].map((host) => limited(host));
    await tick();
    expect(pending.map((p) => p.host)).toEqual(['hung.example', 'b.example']);
    // The caller of the hung lookup gives up: the lookup itself goes on, and so does its hold on a turn.
    hung.abort(new Error('no answer within 10 ms'));
    await tick();
    expect(pending).toHaveLength(2);
    pending[1]!.end();
    await tick();
    expect(pending.map((p) => p.host)).toEqual(['hung.example', 'b.example', 'c.example']);
    pending[0]!.end();
    await tick();
    expect(pending.map((p) => p.host)).toEqual(['hung.example', 'b.example', 'c.example', 'd.example']);
    pending[2]!.end();
    pending[3]!.end();
    expect((await Promise.all(others)).map((a) => a[0]!.address)).toEqual(Array(3).fill('93.184.216.34'));
    await first;
  });

  it('lets a caller that gives up while waiting leave the queue without a lookup', async () => {
    const { pending, resolver } = controlled();
    const limited = limitLookups(resolver, 1);
    const running = limited('a.example');
    const impatient = new AbortController();
    const waiting = limited('b.example', impatient.signal);
    impatient.abort(new Error('no answer within 10 ms'));
    await expect(waiting).rejects.toThrow(/no answer within 10 ms/);
    const next = limited('c.example');
    pending[0]!.end();
    await running;
    await tick();
    expect(pending.map((p) => p.host)).toEqual(['a.example', 'c.example']);
    pending[1]!.end();
    await next;
  });
});
