import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { serveListening } from '../child.ts';

/** The baseline: a bare Hono hello-world on @hono/node-server, served the same way as the real app. */
const app = new Hono();
app.get('/', (c) => c.text('Hello Hono!'));

await serveListening(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server);
