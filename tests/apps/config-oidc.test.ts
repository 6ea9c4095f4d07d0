import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../apps/config.ts';

const secret = { AUTH_JWT_SECRET: 'x'.repeat(32) };

describe('OIDC configuration', () => {
  it('is off unless both the issuer and the client id are set', () => {
    expect(loadConfig(secret).oidc).toBeUndefined();
    expect(() => loadConfig({ ...secret, AUTH_OIDC_ISSUER: 'https://id.example.com' })).toThrow(/go together/);
    expect(() => loadConfig({ ...secret, AUTH_OIDC_CLIENT_ID: 'coaching' })).toThrow(/go together/);
  });

  it('has the documented defaults, and reads the secret, scopes and roles claim', () => {
    const base = { ...secret, AUTH_OIDC_ISSUER: 'https://id.example.com/realms/y', AUTH_OIDC_CLIENT_ID: 'coaching' };
    expect(loadConfig(base).oidc).toEqual({
      issuer: 'https://id.example.com/realms/y',
      clientId: 'coaching',
      scopes: 'openid email profile',
      insecureLoopback: false,
    });
    const full = loadConfig({
      ...base,
      AUTH_OIDC_CLIENT_SECRET: 's3cret',
      AUTH_OIDC_SCOPES: 'openid email',
      AUTH_OIDC_ROLES_CLAIM: 'realm_access.roles',
    }).oidc;
    expect(full).toMatchObject({ clientSecret: 's3cret', scopes: 'openid email', rolesClaim: 'realm_access.roles' });
  });

  it('takes plain http only for a provider on a loopback address', () => {
    const local = loadConfig({ ...secret, AUTH_OIDC_ISSUER: 'http://127.0.0.1:9000', AUTH_OIDC_CLIENT_ID: 'c' });
    expect(local.oidc?.insecureLoopback).toBe(true);
    expect(() =>
      loadConfig({ ...secret, AUTH_OIDC_ISSUER: 'http://id.example.com', AUTH_OIDC_CLIENT_ID: 'c' }),
    ).toThrow(ConfigError);
    expect(() => loadConfig({ ...secret, AUTH_OIDC_ISSUER: 'not a url', AUTH_OIDC_CLIENT_ID: 'c' })).toThrow(
      /AUTH_OIDC_ISSUER must be an https/,
    );
  });

  it('refuses scopes without openid, and a JWKS-only server (nothing to sign the flow and sessions with)', () => {
    const base = { ...secret, AUTH_OIDC_ISSUER: 'https://id.example.com', AUTH_OIDC_CLIENT_ID: 'c' };
    expect(() => loadConfig({ ...base, AUTH_OIDC_SCOPES: 'email profile' })).toThrow(/must include 'openid'/);
    expect(() =>
      loadConfig({
        AUTH_OIDC_ISSUER: 'https://id.example.com',
        AUTH_OIDC_CLIENT_ID: 'c',
        AUTH_JWKS_URL: 'https://id.example.com/jwks',
        AUTH_JWT_AUDIENCE: 'api',
        CALL_TICKET_SECRET: 'y'.repeat(32),
      }),
    ).toThrow(/needs AUTH_JWT_SECRET/);
  });
});
