import { describe, expect, it } from 'vitest';
import { isLoopback, safeNext } from '../../../adapters/http/auth/guards.ts';
import { client, useSystem } from '../../support/system.ts';

// Dev mode: no AUTH_JWT_SECRET (a secret is generated in DATA_DIR) and the demo people seeded.
const sys = useSystem({ env: { AUTH_JWT_SECRET: '' } });

describe('dev sign-in', () => {
  it('lists the demo people of the directory and starts a session for one of them from this machine', async () => {
    const origin = new URL(sys.system.publicBaseUrl).origin;
    const anon = client(sys.url, undefined);
    const people = await anon.request('GET', '/auth/dev-people');
    expect(people.status).toBe(200);
    expect(people.body.items.map((p: { id: string }) => p.id)).toEqual([
      'admin-1',
      'instructor-1',
      'customer-1',
      'customer-2',
      'auditor-1',
    ]);
    const session = await anon.request('POST', '/auth/dev-session', { personId: 'customer-1' }, { origin });
    expect(session.status).toBe(200);
    expect(session.body.person).toMatchObject({ id: 'customer-1', roles: ['customer'] });
    const cora = client(sys.url, session.body.accessToken);
    expect((await cora.request('GET', '/people/customer-1')).status).toBe(200);
    // The loopback spellings of this server count as its own origin in dev mode; others do not.
    const other = await anon.request(
      'POST',
      '/auth/dev-session',
      { personId: 'admin-1' },
      {
        origin: `http://127.0.0.1:${sys.system.port}`,
      },
    );
    expect(other.status).toBe(200);
    const foreign = await anon.request(
      'POST',
      '/auth/dev-session',
      { personId: 'admin-1' },
      { origin: 'http://evil.test' },
    );
    expect(foreign.status).toBe(403);
    expect((await anon.request('POST', '/auth/dev-session', { personId: 'nobody' }, { origin })).status).toBe(403);
  });

  it('still prints tokens for the demo people', () => {
    expect(sys.system.demoTokens.map((t) => t.sub)).toContain('admin-1');
  });

  it('sends /sign-in to the sign-in page of the web app, keeping the query (the browser keeps the fragment)', async () => {
    const page = await fetch(`${sys.url}/sign-in?next=${encodeURIComponent('/app/sessions')}&x=1`, {
      redirect: 'manual',
    });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/app/sign-in?next=%2Fapp%2Fsessions&x=1');
    const bare = await fetch(`${sys.url}/sign-in`, { redirect: 'manual' });
    expect(bare.headers.get('location')).toBe('/app/sign-in');
    // The old page's files are gone.
    expect((await fetch(`${sys.url}/static/sign-in.js`)).status).toBe(404);
    expect((await fetch(`${sys.url}/static/sign-in.html`)).status).toBe(404);
  });
});

describe('where sign-in may lead', () => {
  it('keeps a path of this site and turns anything else into /', () => {
    expect(safeNext('/calendar?x=1')).toBe('/calendar?x=1');
    for (const bad of [
      '//evil.example',
      'https://evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
      '',
      '/a\nb',
    ])
      expect(safeNext(bad)).toBe('/');
    expect(safeNext(undefined)).toBe('/');
  });

  it('takes dev sessions only from loopback addresses', () => {
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.1'].every(isLoopback)).toBe(true);
    expect(['10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', 'unknown'].some(isLoopback)).toBe(false);
  });
});
