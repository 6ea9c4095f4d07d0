import { createServer } from 'node:http';
import { serveListening } from '../child.ts';

/**
 * The floor under the Hono anchor: a bare `node:http` hello-world answering what Hono's does (same body, same
 * content type), so the two side by side say what Hono and @hono/node-server cost over Node itself. With
 * BENCH_BODY_BYTES (2 bytes to 8 MiB), it answers that many bytes of JSON (one string) instead: the floor under a
 * large answer.
 */
const sized = Number(process.env.BENCH_BODY_BYTES ?? '');
const large = Number.isInteger(sized) && sized >= 2 && sized <= 8 * 1024 * 1024;
const BODY = large ? Buffer.from(`"${'x'.repeat(sized - 2)}"`) : Buffer.from('Hello Hono!');
const TYPE = large ? 'application/json' : 'text/plain; charset=UTF-8';
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': TYPE, 'content-length': BODY.length });
  res.end(BODY);
});

server.listen(0, '127.0.0.1');
await serveListening(server);
