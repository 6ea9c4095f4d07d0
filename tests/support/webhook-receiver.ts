import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** What the receiver answers a request: a status, or nothing at all (the sender's timeout ends it). */
export type Answer =
  number | 'hang' | { readonly status: number; readonly body?: string; readonly headers?: Record<string, string> };

const statusOf = (answer: Answer): number | undefined =>
  answer === 'hang' ? undefined : typeof answer === 'number' ? answer : answer.status;

export interface ReceivedWebhook {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly answer: Answer;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** How the receiver answers the next requests to `path` (default 200). */
  answer(path: string, decide: (request: ReceivedWebhook, count: number) => Answer): void;
  /** Requests to `path`. */
  at(path: string): ReceivedWebhook[];
  /** Requests to `path` the receiver took (2xx), by `webhook-id`: one entry per delivery taken, with how many times. */
  taken(path: string): Map<string, number>;
  close(): Promise<void>;
}

/** Verifies a request as a receiver would, with the `standardwebhooks` library: the parsed payload, or it throws. */
export const verify = (secret: string, request: Pick<ReceivedWebhook, 'headers' | 'body'>): unknown =>
  new Webhook(secret).verify(request.body, request.headers);

export const verifies = (secret: string, request: Pick<ReceivedWebhook, 'headers' | 'body'>): boolean => {
  try {
    verify(secret, request);
    return true;
  } catch {
    return false;
  }
};

/** A local HTTP receiver on 127.0.0.1 that records every request and answers as each test tells it. */
export const startWebhookReceiver = async (): Promise<WebhookReceiver> => {
  const received: ReceivedWebhook[] = [];
  const rules = new Map<string, (request: ReceivedWebhook, count: number) => Answer>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
      );
      const request = { path, headers, body: Buffer.concat(chunks).toString('utf8'), answer: 200 as Answer };
      const count = received.filter((r) => r.path === path).length;
      const answer = rules.get(path)?.(request, count) ?? 200;
      received.push({ ...request, answer });
      if (answer === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      const status = statusOf(answer)!;
      const custom = typeof answer === 'object' ? answer : undefined;
      res.writeHead(status, { 'content-type': 'text/plain', ...custom?.headers });
      res.end(custom?.body ?? (status < 300 ? 'thanks' : `refused with ${status}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const at = (path: string) => received.filter((r) => r.path === path);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answer: (path, decide) => rules.set(path, decide),
    at,
    taken: (path) => {
      const counts = new Map<string, number>();
      for (const r of at(path)) {
        const status = statusOf(r.answer);
        if (status === undefined || status < 200 || status >= 300) continue;
        const id = r.headers['webhook-id'] ?? '';
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
