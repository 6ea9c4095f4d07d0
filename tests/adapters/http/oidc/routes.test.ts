import * as E from 'fp-ts/lib/Either.js';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { flowKey } from '../../../../adapters/http/oidc/flow-cookie.ts';
import { oidcRoutes } from '../../../../adapters/http/oidc/routes.ts';
import type { OidcRouteDeps } from '../../../../adapters/http/oidc/routes.ts';

const deps = (overrides: Partial<OidcRouteDeps> = {}): OidcRouteDeps => ({
  client: {
    authorizationUrl: async () => {
      throw new Error('discovery failed');
    },
    exchange: async () => {
      throw new Error('not reached');
    },
  },
  identities: { identify: async () => E.left({ reason: 'no-matching-person', message: 'nobody' }) },
  flowKey: flowKey(new TextEncoder().encode('test-secret-that-is-long-enough-for-hs256!!')),
  clock: () => new Date('2030-03-01T12:00:00.000Z'),
  logger: pino({ level: 'silent' }),
  siteName: 'Virtual <Y>',
  startSession: async () => E.right(undefined),
  ...overrides,
});

describe('the OIDC routes', () => {
  it('answer a page saying the provider cannot be reached when its discovery fails, escaping the site name', async () => {
    const response = await oidcRoutes(deps()).request('/auth/oidc/start?next=/calendar');
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(text).toContain('cannot be reached');
    expect(text).toContain('Virtual &lt;Y&gt;');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('limit the callbacks a client may send a minute', async () => {
    const routes = oidcRoutes(deps({ perClientPerMinute: 2 }));
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await routes.request('/auth/oidc/callback?code=x&state=y')).status);
    expect(statuses).toEqual([400, 400, 429]);
  });

  it('show the provider’s refusal escaped, without going on to the exchange', async () => {
    const routes = oidcRoutes(deps());
    // A flow cookie is needed to get that far: take one from a start whose discovery works.
    const started = await oidcRoutes(
      deps({ client: { ...deps().client, authorizationUrl: async () => new URL('https://id.example.com/auth') } }),
    ).request('/auth/oidc/start');
    const cookie = (started.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const response = await routes.request('/auth/oidc/callback?error=%3Cscript%3E', { headers: { cookie } });
    expect(response.status).toBe(403);
    const text = await response.text();
    expect(text).toContain('&lt;script&gt;');
    expect(text).not.toContain('<script>');
  });
});
