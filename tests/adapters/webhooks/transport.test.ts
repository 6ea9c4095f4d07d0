import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createTargetPolicy, isPublicAddress, signatureHeader } from '../../../adapters/webhooks/transport.ts';

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
