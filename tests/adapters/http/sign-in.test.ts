import { describe, expect, it } from 'vitest';
import type { MailMessage } from '../../../application/ports/mailer.ts';
import { recordPerson } from '../../support/directory.ts';
import { eventually } from '../../support/fake-resend.ts';
import { capturingLogger } from '../../support/logs.ts';
import { recordingMailer } from '../../support/mail.ts';
import { client, useSystem } from '../../support/system.ts';

const mail = recordingMailer();
const logs = capturingLogger('debug');
let offset = 0;
const clock = () => new Date(Date.now() + offset);
const sys = useSystem({
  env: { PUBLIC_BASE_URL: 'https://coaching.example.com', SIGN_IN_LIMIT_PER_CLIENT: '1000', LOG_LEVEL: 'debug' },
  system: { notifications: { mailer: mail.mailer }, clock, logger: logs.logger },
});
const ORIGIN = 'https://coaching.example.com';

type Answer = { status: number; body: any; headers: Headers };
const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
  client(sys.url, undefined).request('POST', path, body, { origin: ORIGIN, ...headers });

const codeIn = (message: MailMessage): string => {
  const match = /\/sign-in#code=([^"\s<]+)/.exec(message.text);
  if (match?.[1] === undefined) throw new Error(`no link in ${message.text}`);
  return decodeURIComponent(match[1]);
};
const linkFor = async (email: string, before = mail.sent.length): Promise<string> => {
  expect((await post('/auth/email-link', { email })).status).toBe(202);
  await sys.system.signIn?.idle();
  const message = await eventually(() => mail.sent.slice(before).find((m) => m.to === email), `a link to ${email}`);
  return codeIn(message);
};
const cookieOf = (res: Answer): string => {
  const header = res.headers.get('set-cookie') ?? '';
  const match = /session_refresh=([^;]*)/.exec(header);
  return match?.[1] ?? '';
};
const signInEvents = async () =>
  (await sys.system.store.readAll()).filter((e) => e.streamName.startsWith('signin-')).map((e) => e.type);

describe('email sign-in', () => {
  it('answers the same 202 for a known, an unknown and a deactivated address, and emails only the known one', async () => {
    await recordPerson(sys.system, { id: 'kim', roles: ['customer'], email: 'kim@example.com', name: 'Kim <b>K</b>' });
    await recordPerson(sys.system, { id: 'dee', roles: ['customer'], email: 'dee@example.com', active: false });
    const before = mail.sent.length;
    const answers = [];
    for (const email of ['kim@example.com', 'nobody@example.com', 'dee@example.com'])
      answers.push(await post('/auth/email-link', { email }));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    await sys.system.signIn?.idle();
    expect(mail.sent.slice(before).map((m) => m.to)).toEqual(['kim@example.com']);
    const message = mail.sent[before]!;
    expect(message.text).toContain('https://coaching.example.com/sign-in#code=');
    // The name from the directory is escaped in the HTML body.
    expect(message.html).toContain('Kim &lt;b&gt;K&lt;/b&gt;');
    expect(message.html).not.toContain('<b>K</b>');
    const types = await signInEvents();
    expect(types).toContain('SignInLinkSent');
    expect(types.filter((t) => t === 'SignInFailed').length).toBeGreaterThanOrEqual(2);
  });

  it('answers before the mail goes out: a slow mailer does not hold up the answer', async () => {
    mail.hold();
    const before = mail.sent.length;
    const answered = await post('/auth/email-link', { email: 'kim@example.com' });
    expect(answered.status).toBe(202);
    // Answered while the email is still waiting on the mailer.
    expect(mail.sent.length).toBe(before);
    mail.release();
    await sys.system.signIn?.idle();
    expect(mail.sent.length).toBe(before + 1);
  });

  it('exchanges a code once for a session and a refresh cookie; a second use answers the generic 400', async () => {
    const code = await linkFor('kim@example.com');
    const first = await post('/auth/session', { code });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ expiresIn: 300, person: { id: 'kim', roles: ['customer'] } });
    const setCookie = first.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/auth/);
    const me = await client(sys.url, first.body.accessToken).request('GET', '/people/kim');
    expect(me.status).toBe(200);
    const again = await post('/auth/session', { code });
    const unknown = await post('/auth/session', { code: `${code.split('.')[0]}.${'x'.repeat(43)}` });
    const garbage = await post('/auth/session', { code: 'nonsense' });
    expect([again.status, unknown.status, garbage.status]).toEqual([400, 400, 400]);
    expect(new Set([again, unknown, garbage].map((a) => a.body.detail)).size).toBe(1);
    const types = await signInEvents();
    expect(types).toContain('SignInCodeRedeemed');
    expect(types).toContain('SignedIn');
  });

  it('refuses an expired code (the injected clock)', async () => {
    const code = await linkFor('kim@example.com');
    offset = 16 * 60_000;
    const late = await post('/auth/session', { code });
    offset = 0;
    expect(late.status).toBe(400);
  });

  it('refreshes with rotation; a replayed cookie ends the family, and sign-out clears the cookie', async () => {
    await recordPerson(sys.system, { id: 'rob', roles: ['customer'], email: 'rob@example.com' });
    const code = await linkFor('rob@example.com');
    const signedIn = await post('/auth/session', { code });
    const first = cookieOf(signedIn);
    const refreshed = await post('/auth/refresh', {}, { cookie: `session_refresh=${first}` });
    expect(refreshed.status).toBe(200);
    const second = cookieOf(refreshed);
    expect(second).not.toBe(first);
    const replay = await post('/auth/refresh', {}, { cookie: `session_refresh=${first}` });
    expect(replay.status).toBe(401);
    expect((await post('/auth/refresh', {}, { cookie: `session_refresh=${second}` })).status).toBe(401);
    const token = refreshed.body.accessToken as string;
    expect((await client(sys.url, token).request('GET', '/people/rob')).status).toBe(401);

    const other = await post('/auth/session', { code: await linkFor('rob@example.com') });
    const out = await post('/auth/sign-out', {}, { cookie: `session_refresh=${cookieOf(other)}` });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/session_refresh=;.*Max-Age=0/);
    expect((await client(sys.url, other.body.accessToken).request('GET', '/people/rob')).status).toBe(401);
  });

  it('refuses cookie endpoints without the site Origin or as a form (CSRF)', async () => {
    await recordPerson(sys.system, { id: 'cas', roles: ['customer'], email: 'cas@example.com' });
    const code = await linkFor('cas@example.com');
    const paths = ['/auth/session', '/auth/refresh', '/auth/sign-out'];
    for (const path of paths) {
      const noOrigin = await client(sys.url, undefined).request('POST', path, { code });
      const foreign = await post(path, { code }, { origin: 'https://evil.example.net' });
      const form = await post(path, `code=${code}`, { 'content-type': 'application/x-www-form-urlencoded' });
      const plain = await post(path, JSON.stringify({ code }), { 'content-type': 'text/plain' });
      expect([noOrigin.status, foreign.status, form.status, plain.status]).toEqual([403, 403, 403, 403]);
    }
    // The code was never used by the refused requests.
    expect((await post('/auth/session', { code })).status).toBe(200);
  });

  it('ends sessions at once when the person is deactivated or their roles change', async () => {
    await recordPerson(sys.system, { id: 'lou', roles: ['customer'], email: 'lou@example.com' });
    const session = await post('/auth/session', { code: await linkFor('lou@example.com') });
    const lou = client(sys.url, session.body.accessToken);
    expect((await lou.request('GET', '/people/lou')).status).toBe(200);
    await recordPerson(sys.system, { id: 'lou', roles: ['customer', 'instructor'], email: 'lou@example.com' });
    await eventually(async () => (await lou.request('GET', '/people/lou')).status === 401, 'the old token refused');
    expect((await post('/auth/refresh', {}, { cookie: `session_refresh=${cookieOf(session)}` })).status).toBe(401);
    const again = await post('/auth/session', { code: await linkFor('lou@example.com') });
    expect(again.body.person.roles).toEqual(['instructor', 'customer']);
    await recordPerson(sys.system, {
      id: 'lou',
      roles: ['customer', 'instructor'],
      email: 'lou@example.com',
      active: false,
    });
    const lou2 = client(sys.url, again.body.accessToken);
    await eventually(async () => (await lou2.request('GET', '/people/lou')).status === 401, 'refused when deactivated');
    // A code sent before the deactivation signs nobody in afterwards.
    await recordPerson(sys.system, { id: 'lou', roles: ['customer'], email: 'lou@example.com', active: true });
    const pending = await linkFor('lou@example.com');
    await recordPerson(sys.system, { id: 'lou', roles: ['customer'], email: 'lou@example.com', active: false });
    expect((await post('/auth/session', { code: pending })).status).toBe(400);
  });

  it('sends at most five links an address per 15 minutes, answering 202 all the same', async () => {
    await recordPerson(sys.system, { id: 'max', roles: ['customer'], email: 'max@example.com' });
    const before = mail.sent.length;
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push((await post('/auth/email-link', { email: 'max@example.com' })).status);
    await sys.system.signIn?.idle();
    expect(answers).toEqual([202, 202, 202, 202, 202, 202, 202]);
    expect(mail.sent.slice(before).filter((m) => m.to === 'max@example.com').length).toBe(5);
    offset = 16 * 60_000;
    await linkFor('max@example.com');
    offset = 0;
  });

  it('invites a person by email (admins only)', async () => {
    await recordPerson(sys.system, { id: 'ned', roles: ['instructor'], email: 'ned@example.com' });
    const admin = await sys.as('boss', ['admin']);
    const customer = await sys.as('kim', ['customer']);
    expect((await customer.request('POST', '/people/ned/invite')).status).toBe(403);
    expect((await admin.request('POST', '/people/nobody-here/invite')).status).toBe(404);
    const before = mail.sent.length;
    const invited = await admin.request('POST', '/people/ned/invite');
    expect(invited.status).toBe(202);
    const message = mail.sent.slice(before).find((m) => m.to === 'ned@example.com');
    expect(message?.subject).toMatch(/invited/);
    offset = 3 * 86_400_000;
    const session = await post('/auth/session', { code: codeIn(message!) });
    offset = 0;
    expect(session.status).toBe(200);

    // A retried invitation (same Idempotency-Key) is answered again, not emailed again.
    const sentBefore = mail.sent.length;
    const key = { 'idempotency-key': 'invite-ned-1' };
    const first = await admin.request('POST', '/people/ned/invite', undefined, key);
    const again = await admin.request('POST', '/people/ned/invite', undefined, key);
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await sys.system.signIn?.idle();
    expect(mail.sent.slice(sentBefore).filter((m) => m.to === 'ned@example.com').length).toBe(1);
  });

  it('writes no code, cookie or token into the log', async () => {
    await recordPerson(sys.system, { id: 'lea', roles: ['customer'], email: 'lea@example.com' });
    const code = await linkFor('lea@example.com');
    const session = await post('/auth/session', { code });
    const cookie = cookieOf(session);
    await post('/auth/refresh', {}, { cookie: `session_refresh=${cookie}` });
    const text = JSON.stringify(logs.lines);
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const secret of [code, code.split('.')[1]!, cookie, cookie.split('.')[1]!, session.body.accessToken])
      expect(text).not.toContain(secret);
  });

  it('refuses the dev session outside dev mode', async () => {
    expect((await post('/auth/dev-session', { personId: 'kim' })).status).toBe(404);
    expect((await client(sys.url, undefined).request('GET', '/auth/dev-people')).status).toBe(404);
  });
});

describe('per-client rate limit', () => {
  const limited = useSystem({ env: { SIGN_IN_LIMIT_PER_CLIENT: '3' } });
  it('answers 429 once a client has asked too often', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await client(limited.url, undefined).request('POST', '/auth/email-link', { email: `a${i}@example.com` }))
          .status,
      );
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
  });
});
