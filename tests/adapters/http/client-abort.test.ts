import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { aMeeting } from '../../support/builders.ts';
import { capturingLogger } from '../../support/logs.ts';
import type { LogLine } from '../../support/logs.ts';
import { client, useSystem } from '../../support/system.ts';

// A client that drops the connection halfway through its upload, on the real server over a real socket.
const { lines, logger } = capturingLogger<LogLine & { status?: number; err?: unknown }>('debug');
const sys = useSystem({ system: { logger }, people: ['cora', 'ivan'] });

const poll = async <A>(
  what: string,
  probe: () => Promise<A | undefined> | A | undefined,
  timeoutMs = 20_000,
): Promise<A> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > until)
      throw new Error(
        `timed out waiting for ${what}; the log said:\n${lines.map((l) => JSON.stringify(l).slice(0, 300)).join('\n')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

const aborts = async (): Promise<number> => {
  const health = await client(sys.url, undefined).request('GET', '/health');
  return health.body.http.clientAborts as number;
};

/** Headers and half of a declared body; once the server is reading (it said 100 Continue), the socket is destroyed. */
const dropMidUpload = async (
  method: string,
  path: string,
  token: string,
  afterContinue: (socket: Socket) => Promise<void>,
): Promise<void> => {
  const { port } = new URL(sys.url);
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const body = JSON.stringify(aMeeting());
  let received = '';
  const continued = new Promise<void>((resolve) =>
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('100 Continue')) resolve();
    }),
  );
  socket.write(
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
  );
  await continued;
  socket.write(body.slice(0, Math.floor(body.length / 2)));
  await afterContinue(socket);
  socket.destroy();
};

describe('a client that drops mid-upload', () => {
  it(
    'is logged at debug as a client abort and counted, with no error line and no 500',
    { timeout: 60_000 },
    async () => {
      const token = await sys.token('ada', ['admin']);
      const head = await sys.system.store.headPosition();
      const before = await aborts();
      const firstLine = lines.length;
      // Once right after half the body, once after the server has had time to read it.
      await dropMidUpload('POST', '/meetings', token, async () => {});
      await poll('the first abort to be counted', async () => ((await aborts()) >= before + 1 ? true : undefined));
      await dropMidUpload(
        'PUT',
        '/people/cora',
        token,
        (socket) => new Promise((resolve) => socket.write('', () => setTimeout(resolve, 300))),
      );
      await poll('the second abort to be counted', async () => ((await aborts()) >= before + 2 ? true : undefined));
      expect(await aborts()).toBe(before + 2);

      const logged = lines.slice(firstLine);
      expect(logged.filter((l) => l.level >= 50)).toEqual([]);
      expect(logged.filter((l) => l.status !== undefined && l.status >= 500)).toEqual([]);
      expect(logged.some((l) => l.msg === 'unhandled error')).toBe(false);
      const abortLines = logged.filter((l) => l.msg === 'request aborted by the client');
      expect(abortLines).toHaveLength(2);
      for (const line of abortLines) expect(line).toMatchObject({ level: 20, status: 499 });
      // Nothing half-read was stored, and the server goes on answering.
      expect(await sys.system.store.headPosition()).toBe(head);
      const admin = client(sys.url, token);
      expect((await admin.request('GET', '/people/cora')).status).toBe(200);
    },
  );
});
