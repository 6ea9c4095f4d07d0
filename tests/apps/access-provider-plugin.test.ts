import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defaultAccessProvider } from '../../application/default-access.ts';
import { loadAccessProvider } from '../../apps/access-provider.ts';
import { ConfigError } from '../../apps/config.ts';
import { openSqliteReadModels } from '../../adapters/read-models/index.ts';
import { aMeeting } from '../support/builders.ts';
import { eventually } from '../support/fake-resend.ts';
import { startServerProcess } from '../support/server-process.ts';
import { startTestSystem, tempDir } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';

const dir = tempDir('access-plugins-');
const plugin = (name: string, source: string): string => {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
};

const children: ChildProcessWithoutNullStreams[] = [];
const systems: TestSystem[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const s of systems.splice(0)) await s.destroy();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const loadError = async (specifier: string): Promise<string> => {
  const readModels = openSqliteReadModels(':memory:');
  try {
    const context = {
      queries: readModels,
      defaultProvider: defaultAccessProvider(readModels),
      log: pino({ level: 'silent' }),
    };
    const error = await loadAccessProvider(specifier, context).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  } finally {
    readModels.close();
  }
};

describe('ACCESS_PROVIDER', { timeout: 120_000 }, () => {
  it('refuses a module that does not fit the port, saying what is wrong', async () => {
    expect(await loadError(join(dir, 'nowhere.mjs'))).toMatch(
      /^ACCESS_PROVIDER=.*nowhere\.mjs: the module cannot be loaded/,
    );
    expect(await loadError('no-such-access-package-anywhere')).toContain('the module cannot be loaded');
    expect(await loadError(plugin('named.mjs', 'export const provider = {};'))).toContain(
      'the module has no default export that is a function',
    );
    expect(await loadError(plugin('object.mjs', 'export default { name: "x" };'))).toContain(
      'no default export that is a function',
    );
    expect(await loadError(plugin('throws.mjs', 'export default () => { throw new Error("CRM down"); };'))).toContain(
      'its factory failed (CRM down)',
    );
    const partial = await loadError(
      plugin(
        'partial.mjs',
        'export default async ({ defaultProvider }) => ({ name: 42, canView: defaultProvider.canView, canModify: "yes", ' +
          'canCreate: () => true, canReadCalendarOf: () => true, filterVisible: (u, i) => i, userMeetings: () => [] });',
      ),
    );
    expect(partial).toContain('does not fit the AccessProvider port');
    expect(partial).toContain('`name` is not a non-empty string');
    expect(partial).toContain('`canModify` is not a function');
    expect(partial).toContain('`personExists` is missing');
    expect(partial).not.toContain('`canView`');
  });

  it('stops the server from starting when the module does not fit, with the message', async () => {
    const data = tempDir('access-refused-');
    try {
      const misfit = plugin('misfit.mjs', 'export default () => ({ name: "half" });');
      const start = startServerProcess(data, children, { env: { ACCESS_PROVIDER: misfit } });
      const error = await start.then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toContain('server exited with 2 before it started');
      expect(error?.message).toContain('Configuration error');
      expect(error?.message).toContain('does not fit the AccessProvider port');
      expect(error?.message).toContain('`canView` is missing');
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('fails the request, not the server, when the plugin throws or answers garbage', async () => {
    const path = plugin(
      'moody.mjs',
      `export default ({ defaultProvider: base }) => ({
        ...base,
        name: 'moody',
        canView: async (user, m) => {
          if (user.id === 'boom') throw new Error('CRM timed out');
          if (user.id === 'garbage') return 'yes';
          return base.canView(user, m);
        },
        filterVisible: async (user, items) =>
          user.id === 'leaky' ? [...items, { ...items[0], meetingId: 'someone-elses' }] : base.filterVisible(user, items),
      });`,
    );
    const sys = await startTestSystem({ env: { ACCESS_PROVIDER: path } });
    systems.push(sys);
    expect(sys.system.access.name).toBe('moody');
    await sys.people('ivan', 'cora');
    const admin = await sys.as('ada', ['admin']);
    const booked = await admin.request(
      'POST',
      '/meetings',
      aMeeting({
        customerId: 'cora',
        instructorId: 'ivan',
        start: '2031-05-01T10:00:00Z',
        end: '2031-05-01T11:00:00Z',
      }),
    );
    expect(booked.status).toBe(201);
    const id = booked.body.id as string;
    for (const user of ['boom', 'garbage']) {
      const res = await (await sys.as(user, ['auditor'])).request('GET', `/meetings/${id}`);
      expect(res.status, user).toBe(500);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const leak = await (
      await sys.as('leaky', ['auditor'])
    ).request('GET', '/calendar?userId=ivan&from=2031-05-01T00:00:00Z&to=2031-05-02T00:00:00Z');
    expect(leak.status).toBe(500);
    expect(JSON.stringify(leak.body)).not.toContain('someone-elses');
    // The server goes on answering everyone else.
    expect((await admin.request('GET', `/meetings/${id}`)).status).toBe(200);
  });

  it('runs the example front-desk plugin: the front desk sees every session, blocked members none', async () => {
    const blockedFile = join(dir, 'blocked.txt');
    writeFileSync(blockedFile, '# suspended in the CRM\ncam\n');
    mkdirSync(dir, { recursive: true });
    process.env.FRONT_DESK_BLOCKED_FILE = blockedFile;
    let sys: TestSystem;
    try {
      sys = await startTestSystem({ env: { ACCESS_PROVIDER: './adapters/access/front-desk.ts' } });
    } finally {
      delete process.env.FRONT_DESK_BLOCKED_FILE;
    }
    systems.push(sys);
    expect(sys.system.access.name).toBe('front-desk');
    await sys.people('ivan', 'cora', 'cam', 'finn');
    const admin = await sys.as('ada', ['admin']);
    const desk = { name: 'Fran Desk', email: 'fran@example.com', crm: { fields: { 'staff role': 'front-desk' } } };
    expect((await admin.request('PUT', '/people/fran', desk)).status).toBe(200);
    const book = (customerId: string, day: string) =>
      admin.request(
        'POST',
        '/meetings',
        aMeeting({
          customerId,
          instructorId: 'ivan',
          start: `2031-06-${day}T10:00:00Z`,
          end: `2031-06-${day}T11:00:00Z`,
        }),
      );
    const coras = await book('cora', '01');
    expect(coras.status).toBe(201);
    // A blocked member cannot be booked.
    expect((await book('cam', '02')).status).toBe(403);

    const calendar = '/calendar?userId=ivan&from=2031-06-01T00:00:00Z&to=2031-06-30T00:00:00Z';
    const fran = await sys.as('fran', ['customer']);
    expect((await fran.request('GET', `/meetings/${coras.body.id}`)).status).toBe(200);
    expect((await fran.request('GET', calendar)).body.items).toHaveLength(1);
    expect((await fran.request('PATCH', `/meetings/${coras.body.id}`, { title: 'x' })).status).toBe(403);
    const finn = await sys.as('finn', ['customer']);
    expect((await finn.request('GET', `/meetings/${coras.body.id}`)).status).toBe(404);
    expect((await finn.request('GET', calendar)).status).toBe(403);

    // Cora is suspended in the CRM: from then on she sees nothing, not even her own session.
    const cora = await sys.as('cora', ['customer']);
    expect((await cora.request('GET', `/meetings/${coras.body.id}`)).status).toBe(200);
    writeFileSync(blockedFile, 'cam\ncora # unpaid\n');
    await eventually(
      async () => ((await cora.request('GET', `/meetings/${coras.body.id}`)).status === 404 ? true : undefined),
      'the new list to count',
    );
    expect((await cora.request('GET', '/calendar?from=2031-06-01T00:00:00Z&to=2031-06-30T00:00:00Z')).status).toBe(403);
    // Admins are never blocked.
    writeFileSync(blockedFile, 'cam\ncora\nada\n');
    expect((await admin.request('GET', `/meetings/${coras.body.id}`)).status).toBe(200);
  });
});
