import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { Sessions, SessionGrant } from '../../application/sessions.ts';
import { recordPerson } from '../support/directory.ts';
import { eventually } from '../support/fake-resend.ts';
import { client, useSystem } from '../support/system.ts';

const DAY = 86_400_000;
let offset = 0;
const clock = () => new Date(Date.now() + offset);
const sys = useSystem({ system: { clock } });
const sessions = (): Sessions => {
  const s = sys.system.sessions;
  if (s === undefined) throw new Error('the system has no sessions');
  return s;
};

const startFor = async (personId: string): Promise<SessionGrant> => {
  const started = await sessions().start({ personId, method: 'email', client: { ip: '127.0.0.1' } });
  if (E.isLeft(started)) throw new Error(`no session: ${JSON.stringify(started.left)}`);
  return started.right;
};
/** What the access token may read: the person's own directory entry. */
const ownEntry = (grant: SessionGrant) =>
  client(sys.url, grant.accessToken).request('GET', `/people/${grant.person.id}`);
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

describe('sign-in sessions', () => {
  it('issue a five-minute access token with the directory roles and the family id, that the API accepts', async () => {
    await recordPerson(sys.system, { id: 'cora', roles: ['customer'] });
    const grant = await startFor('cora');
    const claims = claimsOf(grant.accessToken);
    expect(claims).toMatchObject({ sub: 'cora', roles: ['customer'] });
    expect(typeof claims.sid).toBe('string');
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
    expect(grant.expiresIn).toBe(300);
    expect(grant.person).toMatchObject({ id: 'cora', email: 'cora@example.com', roles: ['customer'] });
    expect(grant.refreshCookie.value).toMatch(new RegExp(`^${String(claims.sid)}\\.[A-Za-z0-9_-]{43}$`));
    expect((await ownEntry(grant)).status).toBe(200);
  });

  it('are refused to people outside the directory, deactivated or without a role', async () => {
    await recordPerson(sys.system, { id: 'gone', roles: ['customer'], active: false });
    await recordPerson(sys.system, { id: 'roleless' });
    for (const personId of ['nobody', 'gone', 'roleless']) {
      const started = await sessions().start({ personId, method: 'email', client: {} });
      expect(E.isLeft(started) && started.left._tag).toBe('Forbidden');
    }
  });

  it('rotate the refresh credential on every use; the old one replayed ends the family and its access tokens', async () => {
    await recordPerson(sys.system, { id: 'rita', roles: ['instructor'] });
    const first = await startFor('rita');
    const refreshed = await sessions().refresh(first.refreshCookie.value, {});
    if (E.isLeft(refreshed)) throw new Error(JSON.stringify(refreshed.left));
    const second = refreshed.right;
    expect(second.refreshCookie.value).not.toBe(first.refreshCookie.value);
    expect(claimsOf(second.accessToken).sid).toBe(claimsOf(first.accessToken).sid);
    expect((await ownEntry(second)).status).toBe(200);

    const replayed = await sessions().refresh(first.refreshCookie.value, {});
    expect(E.isLeft(replayed) && replayed.left._tag).toBe('SessionRefused');
    // The family is over: the credential that was current is refused too, and so is every access token of it.
    const after = await sessions().refresh(second.refreshCookie.value, {});
    expect(E.isLeft(after) && after.left._tag).toBe('SessionRefused');
    expect((await ownEntry(second)).status).toBe(401);
    expect((await ownEntry(first)).status).toBe(401);
  });

  it('accept each credential once even when two uses race', async () => {
    await recordPerson(sys.system, { id: 'rex', roles: ['customer'] });
    const grant = await startFor('rex');
    const both = await Promise.all([
      sessions().refresh(grant.refreshCookie.value, {}),
      sessions().refresh(grant.refreshCookie.value, {}),
    ]);
    expect(both.filter(E.isRight).length).toBeLessThanOrEqual(1);
    expect(sys.system.readModels.sessionRevoked(String(claimsOf(grant.accessToken).sid))).toBe(true);
  });

  it('refuse a forged credential for a known family without ending it', async () => {
    await recordPerson(sys.system, { id: 'fay', roles: ['customer'] });
    const grant = await startFor('fay');
    const sid = grant.refreshCookie.value.split('.')[0];
    const forged = await sessions().refresh(`${sid}.${'A'.repeat(43)}`, {});
    expect(E.isLeft(forged) && forged.left._tag).toBe('SessionRefused');
    expect(E.isRight(await sessions().signOut(`${sid}.${'A'.repeat(43)}`))).toBe(true);
    expect((await ownEntry(grant)).status).toBe(200);
    expect(E.isRight(await sessions().refresh(grant.refreshCookie.value, {}))).toBe(true);
  });

  it('end on sign-out', async () => {
    await recordPerson(sys.system, { id: 'sam', roles: ['customer'] });
    const grant = await startFor('sam');
    expect(E.isRight(await sessions().signOut(grant.refreshCookie.value))).toBe(true);
    expect((await ownEntry(grant)).status).toBe(401);
    const refreshed = await sessions().refresh(grant.refreshCookie.value, {});
    expect(E.isLeft(refreshed) && refreshed.left._tag).toBe('SessionRefused');
  });

  it('end when the person is deactivated or their roles change, at once for their access tokens', async () => {
    await recordPerson(sys.system, { id: 'dora', roles: ['customer'] });
    await recordPerson(sys.system, { id: 'ron', roles: ['customer'] });
    const dora = await startFor('dora');
    const ron = await startFor('ron');
    await recordPerson(sys.system, { id: 'dora', roles: ['customer'], active: false });
    await recordPerson(sys.system, { id: 'ron', roles: ['customer', 'instructor'] });
    await eventually(async () => (await ownEntry(dora)).status === 401, 'dora refused');
    await eventually(async () => (await ownEntry(ron)).status === 401, 'ron refused');
    const again = await sessions().refresh(ron.refreshCookie.value, {});
    expect(E.isLeft(again)).toBe(true);
    // A new sign-in carries the new roles.
    expect(claimsOf((await startFor('ron')).accessToken).roles).toEqual(['instructor', 'customer']);
  });

  it('expire after the refresh lifetime without use, by the injected clock; each use slides it', async () => {
    await recordPerson(sys.system, { id: 'eve', roles: ['customer'] });
    const grant = await startFor('eve');
    offset = 20 * DAY;
    const slid = await sessions().refresh(grant.refreshCookie.value, {});
    if (E.isLeft(slid)) throw new Error(JSON.stringify(slid.left));
    offset = 45 * DAY;
    const stillGood = await sessions().refresh(slid.right.refreshCookie.value, {});
    if (E.isLeft(stillGood)) throw new Error(JSON.stringify(stillGood.left));
    offset = 80 * DAY;
    const late = await sessions().refresh(stillGood.right.refreshCookie.value, {});
    offset = 0;
    expect(E.isLeft(late) && late.left._tag).toBe('SessionRefused');
    expect(sys.system.readModels.sessionRevoked(String(claimsOf(grant.accessToken).sid))).toBe(true);
  });

  it('leave machine tokens without a sid alone', async () => {
    const machine = await sys.as('cron', ['admin']);
    expect((await machine.request('GET', '/people/cora')).status).toBe(200);
  });
});
