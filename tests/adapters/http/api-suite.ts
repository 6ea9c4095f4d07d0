import http from 'node:http';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aMeeting } from '../../support/builders.ts';
import { TEST_SECRET, client } from '../../support/system.ts';
import type { Client, TestSystem } from '../../support/system.ts';

/**
 * The HTTP integration suite, written once and run against every event store: the embedded one (api.test.ts) and
 * KurrentDB through the fake server or a real one (tests/apps/kurrentdb-http.test.ts).
 */
export interface HttpApiTarget {
  /** What GET /health names as the store. */
  readonly storeName: string;
  /** Starts one system for the whole suite; teardown stops it and whatever was started for it. */
  readonly setup: () => Promise<{ sys: TestSystem; teardown: () => Promise<void> }>;
  /**
   * Appended to every person id, so that runs against a store that outlives them (a real server) never see each
   * other's meetings in a calendar.
   */
  readonly idSuffix?: string;
}

export const personIds = (suffix = '') => ({
  ada: `ada${suffix}`,
  ivan: `ivan${suffix}`,
  olga: `olga${suffix}`,
  cora: `cora${suffix}`,
  cam: `cam${suffix}`,
});

export const describeHttpApi = (label: string, target: HttpApiTarget) =>
  describe(label, () => {
    const id = personIds(target.idSuffix);
    let started: { sys: TestSystem; teardown: () => Promise<void> } | undefined;
    let sys: TestSystem;
    let admin: Client;
    let ivan: Client;
    let olga: Client;
    let cora: Client;
    let cam: Client;

    const meetingBody = (overrides: Record<string, unknown> = {}) =>
      aMeeting({
        customerId: id.cora,
        instructorId: id.ivan,
        timezone: 'America/New_York',
        customerMetadata: 'crm:cora-42',
        instructorMetadata: 'crm:ivan-7',
        ...overrides,
      });

    beforeAll(async () => {
      started = await target.setup();
      sys = started.sys;
      admin = await sys.as(id.ada, ['admin']);
      ivan = await sys.as(id.ivan, ['instructor']);
      olga = await sys.as(id.olga, ['instructor']);
      cora = await sys.as(id.cora, ['customer']);
      cam = await sys.as(id.cam, ['customer']);
      await sys.people(
        { id: id.ivan, name: 'Ivan Instructor', email: 'ivan@example.com', timezone: 'America/New_York' },
        { id: id.cora, name: 'Cora Customer', email: 'cora@example.com', timezone: 'America/Chicago' },
        id.olga,
        id.cam,
      );
    });

    afterAll(async () => {
      await started?.teardown();
    });

    describe('authentication', () => {
      it('answers 401 without a token', async () => {
        const res = await client(sys.url, undefined).request(
          'GET',
          '/calendar?from=2030-01-01T00:00:00Z&to=2030-02-01T00:00:00Z',
        );
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body).toMatchObject({ status: 401, title: 'Unauthorized' });
        expect(res.headers.get('www-authenticate')).toContain('Bearer');
      });

      it('answers 401 for a token signed with another secret', async () => {
        const forged = await new SignJWT({ roles: ['admin'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('mallory')
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
        const res = await client(sys.url, forged).request('GET', '/settings');
        expect(res.status).toBe(401);
      });

      it('answers 401 for an expired token', async () => {
        const expired = await new SignJWT({ roles: ['admin'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(id.ada)
          .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
          .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
          .sign(new TextEncoder().encode(TEST_SECRET));
        const res = await client(sys.url, expired).request('GET', '/settings');
        expect(res.status).toBe(401);
        expect(res.body.detail).toMatch(/expired/);
      });

      it('answers 401 for a token without an expiry, and for one without the Bearer prefix', async () => {
        const forever = await new SignJWT({ roles: ['admin'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(id.ada)
          .sign(new TextEncoder().encode(TEST_SECRET));
        expect((await client(sys.url, forever).request('GET', '/settings')).status).toBe(401);
        const good = await sys.token(id.ada, ['admin']);
        expect((await client(sys.url, good).request('GET', '/settings')).status).toBe(200);
        const bare = await fetch(`${sys.url}/settings`, { headers: { authorization: good } });
        expect(bare.status).toBe(401);
      });

      it('answers 401 for an unsigned (alg none) token and for garbage', async () => {
        const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
        const payload = Buffer.from(JSON.stringify({ sub: id.ada, roles: ['admin'] })).toString('base64url');
        expect((await client(sys.url, `${header}.${payload}.`).request('GET', '/settings')).status).toBe(401);
        expect((await client(sys.url, 'not-a-jwt').request('GET', '/settings')).status).toBe(401);
      });

      it('answers 401 for a token with an unknown role', async () => {
        const token = await new SignJWT({ roles: ['superuser'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('x')
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(TEST_SECRET));
        expect((await client(sys.url, token).request('GET', '/settings')).status).toBe(401);
      });

      it('health, openapi and docs need no token', async () => {
        const anon = client(sys.url, undefined);
        const health = await anon.request('GET', '/health');
        expect(health.status).toBe(200);
        expect(health.body).toMatchObject({ status: 'ok', store: { name: target.storeName, status: 'ok' } });
        expect(health.body.projections.meetings).toMatchObject({
          position: expect.any(Number),
          lag: expect.any(Number),
        });
        expect((await anon.request('GET', '/openapi.json')).body.openapi).toBe('3.1.0');
        const docs = await fetch(`${sys.url}/docs`);
        expect(docs.status).toBe(200);
        expect(await docs.text()).toContain('swagger-ui');
        expect((await fetch(`${sys.url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
        expect((await fetch(`${sys.url}/docs/assets/constructor`)).status).toBe(404);
      });
    });

    describe('authorization', () => {
      it('a customer may not create a meeting (403)', async () => {
        const res = await cora.request('POST', '/meetings', meetingBody());
        expect(res.status).toBe(403);
      });

      it('an instructor may not create a meeting for another instructor (403)', async () => {
        const res = await olga.request('POST', '/meetings', meetingBody());
        expect(res.status).toBe(403);
      });

      it('an instructor creates their own meeting; admin creates any', async () => {
        expect(
          (
            await ivan.request(
              'POST',
              '/meetings',
              meetingBody({ start: '2030-04-01T10:00:00Z', end: '2030-04-01T11:00:00Z' }),
            )
          ).status,
        ).toBe(201);
        expect(
          (
            await admin.request(
              'POST',
              '/meetings',
              meetingBody({ instructorId: id.olga, start: '2030-04-02T10:00:00Z', end: '2030-04-02T11:00:00Z' }),
            )
          ).status,
        ).toBe(201);
      });

      it("a customer cannot see another customer's meeting, calendar or history", async () => {
        const created = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ start: '2030-05-01T10:00:00Z', end: '2030-05-01T11:00:00Z' }),
        );
        const id = created.body.id;
        expect((await cam.request('GET', `/meetings/${id}`)).status).toBe(404);
        expect((await cam.request('GET', `/meetings/${id}/history`)).status).toBe(404);
        expect(
          (await cam.request('GET', `/calendar?from=2030-01-01T00:00:00Z&to=2030-12-01T00:00:00Z&userId=${id.cora}`))
            .status,
        ).toBe(403);
        const own = await cam.request('GET', `/calendar?from=2030-01-01T00:00:00Z&to=2030-12-01T00:00:00Z`);
        expect(own.status).toBe(200);
        expect(own.body.items.map((i: { meetingId: string }) => i.meetingId)).not.toContain(id);
        // An instructor who is not on the meeting sees nothing either.
        expect((await olga.request('GET', `/meetings/${id}`)).status).toBe(404);
        expect((await olga.request('POST', `/meetings/${id}/cancel`, {})).status).toBe(404);
      });

      it('the customer sees own meeting but may not change it', async () => {
        const created = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ start: '2030-05-02T10:00:00Z', end: '2030-05-02T11:00:00Z' }),
        );
        const id = created.body.id;
        const seen = await cora.request('GET', `/meetings/${id}`);
        expect(seen.status).toBe(200);
        expect((await cora.request('PATCH', `/meetings/${id}`, { title: 'mine now' })).status).toBe(403);
        expect((await cora.request('POST', `/meetings/${id}/cancel`, {})).status).toBe(403);
        expect((await cora.request('POST', `/meetings/${id}/confirm`)).status).toBe(403);
      });

      it('hides customer metadata from the customer and instructor metadata from non-admins', async () => {
        const created = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ start: '2030-05-03T10:00:00Z', end: '2030-05-03T11:00:00Z' }),
        );
        const id = created.body.id;
        const asCustomer = (await cora.request('GET', `/meetings/${id}`)).body;
        expect(asCustomer).not.toHaveProperty('customerMetadata');
        expect(asCustomer).not.toHaveProperty('instructorMetadata');
        const asInstructor = (await ivan.request('GET', `/meetings/${id}`)).body;
        expect(asInstructor.customerMetadata).toBe('crm:cora-42');
        expect(asInstructor).not.toHaveProperty('instructorMetadata');
        const asAdmin = (await admin.request('GET', `/meetings/${id}`)).body;
        expect(asAdmin).toMatchObject({ customerMetadata: 'crm:cora-42', instructorMetadata: 'crm:ivan-7' });
      });

      it('history never shows metadata the caller may not read on the meeting', async () => {
        const created = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ start: '2030-05-04T10:00:00Z', end: '2030-05-04T11:00:00Z' }),
        );
        const id = created.body.id;
        await admin.request('PATCH', `/meetings/${id}`, {
          customerMetadata: 'crm:cora-43',
          instructorMetadata: 'crm:ivan-8',
          title: 'Renamed',
        });
        const asCustomer = JSON.stringify((await cora.request('GET', `/meetings/${id}/history`)).body);
        expect(asCustomer).not.toContain('crm:');
        expect(asCustomer).toContain('Renamed');
        const asInstructor = JSON.stringify((await ivan.request('GET', `/meetings/${id}/history`)).body);
        expect(asInstructor).toContain('crm:cora-43');
        expect(asInstructor).not.toContain('crm:ivan');
        const asAdmin = JSON.stringify((await admin.request('GET', `/meetings/${id}/history`)).body);
        expect(asAdmin).toContain('crm:ivan-7');
        expect(asAdmin).toContain('crm:ivan-8');
      });

      it('admin reads anyone; a person reads self only; settings are admin only', async () => {
        expect((await admin.request('GET', `/people/${id.cora}`)).status).toBe(200);
        expect((await cora.request('GET', `/people/${id.cora}`)).body).toMatchObject({
          name: 'Cora Customer',
          timezone: 'America/Chicago',
        });
        expect((await cora.request('GET', `/people/${id.ivan}`)).status).toBe(403);
        expect((await ivan.request('PUT', `/people/${id.ivan}`, { name: 'x', email: 'x@example.com' })).status).toBe(
          403,
        );
        expect((await ivan.request('GET', '/settings')).status).toBe(403);
        expect((await admin.request('GET', '/settings')).status).toBe(200);
        expect(
          (await admin.request('GET', `/calendar?from=2030-01-01T00:00:00Z&to=2030-12-01T00:00:00Z&userId=${id.cora}`))
            .status,
        ).toBe(200);
      });
    });

    describe('validation', () => {
      it('names every bad field', async () => {
        const res = await admin.request('POST', '/meetings', {
          title: 5,
          customerId: id.cora,
          start: 'tomorrow',
          end: '2030-03-02T16:00:00Z',
          trainingType: 'video',
          extra: 1,
        });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        const paths = res.body.errors.map((e: { path: string }) => e.path).sort();
        expect(paths).toEqual(['extra', 'instructorId', 'start', 'title', 'trainingType']);
      });

      it('applies the domain rules: end after start, https links, distinct people, known zone', async () => {
        const res = await admin.request(
          'POST',
          '/meetings',
          meetingBody({
            end: '2030-03-02T14:00:00Z',
            trainingType: 'link',
            remoteLink: 'http://zoom.example/1',
            timezone: 'Mars/Base',
            instructorId: id.cora,
          }),
        );
        expect(res.status).toBe(400);
        expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
          'end',
          'instructorId',
          'remoteLink',
          'timezone',
        ]);
      });

      it('refuses local times without an offset', async () => {
        const res = await admin.request('POST', '/meetings', meetingBody({ start: '2030-03-02T15:00:00' }));
        expect(res.status).toBe(400);
        expect(res.body.errors[0].path).toBe('start');
        // A date that does not exist is refused, not rolled over into March.
        const impossible = await admin.request(
          'POST',
          '/meetings',
          meetingBody({ start: '2030-02-30T15:00:00Z', end: '2030-02-30T16:00:00Z' }),
        );
        expect(impossible.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['end', 'start']);
      });

      it('refuses malformed JSON, wrong content type and bodies over 64 KiB', async () => {
        expect((await admin.request('POST', '/meetings', '{"title":')).status).toBe(400);
        expect(
          (await admin.request('POST', '/meetings', JSON.stringify(meetingBody()), { 'content-type': 'text/plain' }))
            .status,
        ).toBe(415);
        const big = await admin.request('POST', '/meetings', meetingBody({ description: 'x'.repeat(70 * 1024) }));
        expect(big.status).toBe(413);
      });

      it('refuses a chunked body over 64 KiB without a length, and keeps serving the connection', async () => {
        const token = await sys.token(id.ada, ['admin']);
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const send = (body: string | undefined, path: string, method: string) =>
          new Promise<number>((resolve, reject) => {
            const req = http.request(
              `${sys.url}${path}`,
              {
                method,
                agent,
                headers: {
                  authorization: `Bearer ${token}`,
                  'content-type': 'application/json',
                  ...(body === undefined ? {} : { 'transfer-encoding': 'chunked' }),
                },
              },
              (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
              },
            );
            req.on('error', reject);
            if (body !== undefined) for (let i = 0; i < body.length; i += 8192) req.write(body.slice(i, i + 8192));
            req.end();
          });
        expect(
          await send(JSON.stringify(meetingBody({ description: 'y'.repeat(80 * 1024) })), '/meetings', 'POST'),
        ).toBe(413);
        expect(await send(undefined, '/settings', 'GET')).toBe(200);
        agent.destroy();
      });

      it('refuses a calendar query without a range or with a bad one', async () => {
        expect((await cora.request('GET', '/calendar')).status).toBe(400);
        expect((await cora.request('GET', '/calendar?from=2030-02-01T00:00:00Z&to=2030-01-01T00:00:00Z')).status).toBe(
          400,
        );
      });

      it('refuses an invalid person', async () => {
        const res = await admin.request('PUT', '/people/zed', {
          name: '',
          email: 'not-an-email',
          timezone: 'Nope/Nope',
        });
        expect(res.status).toBe(400);
        expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['email', 'name', 'timezone']);
      });
    });

    describe('meetings', () => {
      it('creates with 201, Location and ETag, and reads its own write', async () => {
        const res = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ start: '2030-06-01T10:00:00Z', end: '2030-06-01T11:00:00Z' }),
        );
        expect(res.status).toBe(201);
        expect(res.headers.get('location')).toBe(`/meetings/${res.body.id}`);
        expect(res.headers.get('etag')).toBe('"0"');
        expect(res.body).toMatchObject({
          state: 'planned',
          revision: 0,
          title: 'Strength basics',
          timezone: 'America/New_York',
        });
        const read = await cora.request('GET', `/meetings/${res.body.id}`);
        expect(read.status).toBe(200);
        expect(read.headers.get('etag')).toBe('"0"');
        expect(read.headers.get('cache-control')).toBe('no-store');
        expect(read.headers.get('x-content-type-options')).toBe('nosniff');
        const calendar = await cora.request('GET', '/calendar?from=2030-06-01T00:00:00Z&to=2030-06-02T00:00:00Z');
        expect(calendar.body.items).toEqual([
          expect.objectContaining({
            meetingId: res.body.id,
            role: 'customer',
            state: 'planned',
            counterpartName: 'Ivan Instructor',
            customerId: id.cora,
            instructorId: id.ivan,
          }),
        ]);
        const instructorCalendar = await ivan.request(
          'GET',
          '/calendar?from=2030-06-01T00:00:00Z&to=2030-06-02T00:00:00Z',
        );
        expect(instructorCalendar.body.items).toEqual([
          expect.objectContaining({ meetingId: res.body.id, role: 'instructor', counterpartName: 'Cora Customer' }),
        ]);
      });

      it('walks the workflow and keeps a complete audit history', async () => {
        const { body: m } = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ start: '2030-06-02T10:00:00Z', end: '2030-06-02T11:00:00Z' }),
        );
        expect((await ivan.request('POST', `/meetings/${m.id}/confirm`)).body.state).toBe('scheduled');
        expect((await ivan.request('POST', `/meetings/${m.id}/confirm`)).status).toBe(409);
        const patched = await ivan.request('PATCH', `/meetings/${m.id}`, {
          title: 'Strength II',
          start: '2030-06-02T11:00:00Z',
          end: '2030-06-02T12:00:00Z',
        });
        expect(patched.status).toBe(200);
        expect(patched.body).toMatchObject({ title: 'Strength II', start: '2030-06-02T11:00:00.000Z', revision: 3 });
        expect((await ivan.request('POST', `/meetings/${m.id}/reinstate`)).status).toBe(409);
        const cancelled = await ivan.request('POST', `/meetings/${m.id}/cancel`, { reason: 'Trainer ill' });
        expect(cancelled.body).toMatchObject({ state: 'cancelled', cancellationReason: 'Trainer ill' });
        expect((await ivan.request('POST', `/meetings/${m.id}/cancel`, {})).status).toBe(409);
        expect((await ivan.request('PATCH', `/meetings/${m.id}`, { title: 'nope' })).status).toBe(409);
        expect((await admin.request('POST', `/meetings/${m.id}/reinstate`)).body.state).toBe('planned');
        const calendar = await cora.request('GET', '/calendar?from=2030-06-02T00:00:00Z&to=2030-06-03T00:00:00Z');
        expect(calendar.body.items[0]).toMatchObject({ meetingId: m.id, state: 'planned', title: 'Strength II' });

        const history = await cora.request('GET', `/meetings/${m.id}/history`);
        expect(history.status).toBe(200);
        expect(history.body.events.map((e: { type: string }) => e.type)).toEqual([
          'MeetingScheduled',
          'MeetingConfirmed',
          'MeetingDetailsChanged',
          'MeetingRescheduled',
          'SessionCancelled',
          'MeetingReinstated',
        ]);
        expect(history.body.events.map((e: { revision: number }) => e.revision)).toEqual([0, 1, 2, 3, 4, 5]);
        expect(history.body.events[4]).toMatchObject({
          actor: { id: id.ivan, roles: ['instructor'] },
          data: { reason: 'Trainer ill' },
        });
        expect(history.body.events[5]).toMatchObject({ actor: { id: id.ada, roles: ['admin'] } });
        expect(history.body.events[3].data.previous).toMatchObject({ start: '2030-06-02T10:00:00.000Z' });
        expect(typeof history.body.events[0].at).toBe('string');
        expect(history.body).not.toHaveProperty('next');
        // Long histories come in pages: `next` fetches the rest.
        const first = await cora.request('GET', `/meetings/${m.id}/history?limit=4`);
        expect(first.body.events.map((e: { revision: number }) => e.revision)).toEqual([0, 1, 2, 3]);
        expect(first.body.next).toBe(3);
        const rest = await cora.request('GET', `/meetings/${m.id}/history?limit=4&after=${first.body.next}`);
        expect(rest.body.events.map((e: { revision: number }) => e.revision)).toEqual([4, 5]);
        expect(rest.body).not.toHaveProperty('next');
        const bad = await cora.request('GET', `/meetings/${m.id}/history?limit=0&after=x`);
        expect(bad.status).toBe(400);
        expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['after', 'limit']);
      });

      it('answers 412 to a stale If-Match and applies a fresh one', async () => {
        const { body: m, headers } = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ start: '2030-06-03T10:00:00Z', end: '2030-06-03T11:00:00Z' }),
        );
        const etag = headers.get('etag')!;
        const first = await ivan.request('PATCH', `/meetings/${m.id}`, { title: 'First' }, { 'if-match': etag });
        expect(first.status).toBe(200);
        expect(first.headers.get('etag')).toBe('"1"');
        const stale = await admin.request('PATCH', `/meetings/${m.id}`, { title: 'Second' }, { 'if-match': etag });
        expect(stale.status).toBe(412);
        expect((await cora.request('GET', `/meetings/${m.id}`)).body.title).toBe('First');
        expect((await ivan.request('POST', `/meetings/${m.id}/cancel`, {}, { 'if-match': '"0"' })).status).toBe(412);
        expect(
          (await ivan.request('PATCH', `/meetings/${m.id}`, { title: 'x' }, { 'if-match': 'garbage' })).status,
        ).toBe(400);
        // If-Match compares strongly: a weak tag never matches.
        expect((await ivan.request('PATCH', `/meetings/${m.id}`, { title: 'x' }, { 'if-match': 'W/"1"' })).status).toBe(
          412,
        );
      });

      it('two partial reschedules at once both take effect', async () => {
        const { body: m } = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ start: '2030-06-06T10:00:00Z', end: '2030-06-06T11:00:00Z' }),
        );
        const [a, b] = await Promise.all([
          ivan.request('PATCH', `/meetings/${m.id}`, { end: '2030-06-06T12:00:00Z' }),
          admin.request('PATCH', `/meetings/${m.id}`, { start: '2030-06-06T09:00:00Z' }),
        ]);
        expect([a.status, b.status]).toEqual([200, 200]);
        expect((await cora.request('GET', `/meetings/${m.id}`)).body).toMatchObject({
          start: '2030-06-06T09:00:00.000Z',
          end: '2030-06-06T12:00:00.000Z',
        });
      });

      it('refuses to change participants through PATCH', async () => {
        const { body: m } = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ start: '2030-06-04T10:00:00Z', end: '2030-06-04T11:00:00Z' }),
        );
        const res = await admin.request('PATCH', `/meetings/${m.id}`, { customerId: id.cam });
        expect(res.status).toBe(400);
        expect(res.body.errors[0].path).toBe('customerId');
      });

      it('switches training type to a link and back', async () => {
        const { body: m } = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ start: '2030-06-05T10:00:00Z', end: '2030-06-05T11:00:00Z' }),
        );
        const link = await ivan.request('PATCH', `/meetings/${m.id}`, {
          trainingType: 'link',
          remoteLink: 'https://zoom.example/j/1',
        });
        expect(link.body).toMatchObject({ trainingType: 'link', remoteLink: 'https://zoom.example/j/1' });
        const back = await ivan.request('PATCH', `/meetings/${m.id}`, { trainingType: '1-1' });
        expect(back.body.trainingType).toBe('1-1');
        expect(back.body).not.toHaveProperty('remoteLink');
      });

      it('answers an unchanged calendar with 304 and shows a change at once', async () => {
        const path = '/calendar?from=2030-08-01T00:00:00Z&to=2030-08-02T00:00:00Z';
        const first = await cora.request('GET', path);
        const tag = first.headers.get('etag');
        expect(tag).toMatch(/^W\/"[\w-]+"$/);
        expect((await cora.request('GET', path, undefined, { 'if-none-match': tag! })).status).toBe(304);
        const created = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ start: '2030-08-01T10:00:00Z', end: '2030-08-01T11:00:00Z' }),
        );
        const after = await cora.request('GET', path, undefined, { 'if-none-match': tag! });
        expect(after.status).toBe(200);
        expect(after.body.items.map((i: { meetingId: string }) => i.meetingId)).toEqual([created.body.id]);
        // Another caller asking the same question gets their own answer, not a cached one, and no 304 either.
        expect((await cam.request('GET', `${path}&userId=${id.cora}`)).status).toBe(403);
        expect(
          (
            await cam.request('GET', `${path}&userId=${id.cora}`, undefined, {
              'if-none-match': after.headers.get('etag')!,
            })
          ).status,
        ).toBe(403);
        // Spelling the same instants differently reaches the same answer.
        const respelled = await cora.request(
          'GET',
          '/calendar?from=2030-08-01T00:00:00.000Z&to=2030-08-02T02:00:00%2B02:00',
        );
        expect(respelled.body.items).toHaveLength(1);
        expect((await admin.request('GET', `${path}&userId=${id.cora}`)).body.items).toHaveLength(1);
      });

      it('lists only meetings overlapping [from, to), sorted by start, cancelled ones included', async () => {
        const a = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ title: 'B', start: '2030-07-01T12:00:00Z', end: '2030-07-01T13:00:00Z' }),
        );
        const b = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ title: 'A', start: '2030-07-01T09:00:00Z', end: '2030-07-01T10:00:00Z' }),
        );
        await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ title: 'C', start: '2030-07-01T13:00:00Z', end: '2030-07-01T14:00:00Z' }),
        );
        const overnight = await ivan.request(
          'POST',
          '/meetings',
          meetingBody({ title: 'N', start: '2030-06-30T23:30:00Z', end: '2030-07-01T00:30:00Z' }),
        );
        await ivan.request('POST', `/meetings/${a.body.id}/cancel`, {});
        const res = await cora.request('GET', '/calendar?from=2030-07-01T00:00:00Z&to=2030-07-01T13:00:00Z');
        expect(res.body.items.map((i: { meetingId: string }) => i.meetingId)).toEqual([
          overnight.body.id,
          b.body.id,
          a.body.id,
        ]);
        expect(res.body.items[2].state).toBe('cancelled');
      });
    });

    describe('settings', () => {
      it('stores settings as audited events and validates templates', async () => {
        const current = (await admin.request('GET', '/settings')).body;
        // Relative to what is there already: a store that outlives the run (a real server) keeps earlier settings.
        const before = (await admin.request('GET', '/settings/history')).body.events.length;
        expect(current.notifications.cancellation.enabled).toBe(true);
        const next = {
          ...current,
          notifications: {
            cancellation: { ...current.notifications.cancellation, subject: 'Cancelled: {{meetingTitle}}' },
          },
        };
        const saved = await admin.request('PUT', '/settings', next);
        expect(saved.status).toBe(200);
        expect(saved.body.notifications.cancellation.subject).toBe('Cancelled: {{meetingTitle}}');
        const bad = await admin.request('PUT', '/settings', {
          ...current,
          notifications: {
            cancellation: {
              ...current.notifications.cancellation,
              bodyTemplate: 'Hi {{nme}}',
              subject: 'x {{meetingTitle}',
            },
          },
        });
        expect(bad.status).toBe(400);
        expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
          'notifications.cancellation.bodyTemplate',
          'notifications.cancellation.subject',
        ]);
        const nested = await admin.request('PUT', '/settings', {
          ...current,
          notifications: {
            ...current.notifications,
            sms: true,
            cancellation: { ...current.notifications.cancellation, colour: 'red' },
          },
        });
        expect(nested.status).toBe(400);
        expect(nested.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
          'notifications.cancellation.colour',
          'notifications.sms',
        ]);
        expect((await admin.request('GET', '/settings')).body.notifications).not.toHaveProperty('sms');
        const history = await admin.request('GET', '/settings/history');
        expect(history.body.events).toHaveLength(before + 1);
        expect(history.body.events.at(-1)).toMatchObject({ type: 'SettingsChanged', actor: { id: id.ada } });
      });
    });
  });
