import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../../adapters/http/auth/guards.ts';
import { useSystem } from '../../support/system.ts';

/** What clientAddress makes of a request with this X-Forwarded-For, behind `hops` trusted proxies. */
const addressOf = async (hops: number, forwarded?: string): Promise<string> => {
  const app = new Hono();
  app.get('/', (c) => c.text(clientAddress(c, hops)));
  const response = await app.request('/', { headers: forwarded !== undefined ? { 'x-forwarded-for': forwarded } : {} });
  return response.text();
};

describe('the client address', () => {
  it('is what the nearest trusted proxy saw, never what the client itself claims', async () => {
    // No socket under app.request: the peer reads as unknown.
    expect(await addressOf(0, '203.0.113.9')).toBe('unknown');
    expect(await addressOf(1, '203.0.113.9')).toBe('203.0.113.9');
    // The client put 198.51.100.1 there itself; the proxy appended what it saw.
    expect(await addressOf(1, '198.51.100.1, 203.0.113.9')).toBe('203.0.113.9');
    expect(await addressOf(2, '198.51.100.1, 203.0.113.9, 10.0.0.2')).toBe('203.0.113.9');
    expect(await addressOf(1, '2001:db8::7')).toBe('2001:db8::7');
    // Too few entries, not an address, or none: the peer.
    expect(await addressOf(3, '203.0.113.9, 10.0.0.2')).toBe('unknown');
    expect(await addressOf(1, 'evil<script>')).toBe('unknown');
    expect(await addressOf(1)).toBe('unknown');
  });
});

const limit = { SIGN_IN_LIMIT_PER_CLIENT: '2' };
const behindProxy = useSystem({ env: { ...limit, TRUSTED_PROXY_HOPS: '1' } });
const direct = useSystem({ env: limit });

const askFor = (url: string, forwardedFor: string) =>
  fetch(`${url}/auth/email-link`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ email: 'someone@example.com' }),
  }).then((r) => r.status);

describe('sign-in limits per client', () => {
  it('behind a trusted proxy, count each client on its own, not the proxy', async () => {
    const url = behindProxy.url;
    expect([await askFor(url, '203.0.113.1'), await askFor(url, '203.0.113.1')]).toEqual([202, 202]);
    expect(await askFor(url, '203.0.113.1')).toBe(429);
    expect(await askFor(url, '203.0.113.2')).toBe(202);
  });

  it('without one, ignore X-Forwarded-For, so a client cannot slip the limit by making one up', async () => {
    const url = direct.url;
    expect([await askFor(url, '203.0.113.1'), await askFor(url, '203.0.113.2')]).toEqual([202, 202]);
    expect(await askFor(url, '203.0.113.3')).toBe(429);
  });
});
