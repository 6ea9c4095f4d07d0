import { createServer } from 'node:http';
import { serveListening } from '../child.ts';

/**
 * The floor under the Hono anchor: a bare `node:http` hello-world answering what Hono's does (same body, same
 * content type), so the two side by side say what Hono and @hono/node-server cost over Node itself.
 */
const BODY = Buffer.from('Hello Hono!');
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8', 'content-length': BODY.length });
  res.end(BODY);
});

server.listen(0, '127.0.0.1');
await serveListening(server);
