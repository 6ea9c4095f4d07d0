import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { failChild, serveChild } from '../child.ts';

/** The baseline: a bare Hono hello-world on @hono/node-server, served the same way as the real app. */
const app = new Hono();
app.get('/', (c) => c.text('Hello Hono!'));

const server = await new Promise<Server>((resolve, reject) => {
  const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  s.once('listening', () => resolve(s));
  s.once('error', reject);
}).catch(failChild);

const port = (server.address() as AddressInfo).port;
serveChild(
  { url: `http://127.0.0.1:${port}`, port },
  {},
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);
