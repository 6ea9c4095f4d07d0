import { describe, expect, it } from 'vitest';
import { FLOW_TTL_SECONDS, flowKey, openFlow, safeNext, sealFlow } from '../../../../adapters/http/oidc/flow-cookie.ts';

const key = flowKey(new TextEncoder().encode('test-secret-that-is-long-enough-for-hs256!!'));
const flow = { state: 'st', nonce: 'no', verifier: 'the-pkce-verifier-in-clear', next: '/calendar' };
const t0 = new Date('2030-03-01T12:00:00.000Z');

describe('the OIDC flow cookie', () => {
  it('opens what it sealed, within its ten minutes by the clock it is given', async () => {
    const sealed = await sealFlow(key, flow, t0);
    expect(sealed).not.toContain('the-pkce-verifier');
    expect(await openFlow(key, sealed, new Date(t0.getTime() + 60_000))).toEqual(flow);
    expect(await openFlow(key, sealed, new Date(t0.getTime() + (FLOW_TTL_SECONDS + 60) * 1000))).toBeUndefined();
  });

  it('refuses a cookie of another key or altered', async () => {
    const sealed = await sealFlow(key, flow, t0);
    const other = flowKey(new TextEncoder().encode('another-secret-that-is-long-enough-for-hs256'));
    expect(await openFlow(other, sealed, t0)).toBeUndefined();
    const altered = `${sealed.slice(0, -4)}AAAA`;
    expect(await openFlow(key, altered, t0)).toBeUndefined();
    expect(await openFlow(key, undefined, t0)).toBeUndefined();
  });
});

describe('where to go after signing in', () => {
  it('keeps a same-origin path', () => {
    expect(safeNext('/meetings/m-1?tab=notes#top')).toBe('/meetings/m-1?tab=notes#top');
    expect(safeNext(undefined)).toBe('/');
  });

  it.each([
    'https://evil.example',
    '//evil.example/x',
    '/\\evil.example',
    'evil',
    '/ok\r\nSet-Cookie: x',
    'javascript:alert(1)',
  ])('refuses %j', (next) => {
    expect(safeNext(next)).toBe('/');
  });
});
