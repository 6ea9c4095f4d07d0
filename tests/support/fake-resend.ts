import { afterAll, beforeAll } from 'vitest';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the next `POST /emails` gets: `ok` (accepted, or the stored answer for a known idempotency key, as Resend
 * does), an error status with Resend's error body, `hang` (never answers, sends nothing) or `accept-then-hang`
 * (the email goes out but the answer never comes: a crash between send and record, seen from the client).
 */
export type Plan =
  'ok' | 'hang' | 'accept-then-hang' | { readonly status: number; readonly name?: string; readonly message?: string };

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly idempotencyKey: string | undefined;
  readonly body: any;
  readonly answered: number | 'hang';
}

export interface DeliveredEmail {
  readonly id: string;
  readonly idempotencyKey: string | undefined;
  readonly body: any;
}

export interface FakeResend {
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Emails that went out: one per accepted request, repeats of a key not counted. */
  readonly delivered: DeliveredEmail[];
  /** Queues answers for the next requests (for any key, or only for requests with `key`). */
  plan(...plans: Plan[]): void;
  planFor(key: string, ...plans: Plan[]): void;
  requestsFor(key: string): ReceivedRequest[];
  deliveredTo(address: string): DeliveredEmail[];
  close(): Promise<void>;
}

const NAMES: Record<number, string> = {
  400: 'validation_error',
  401: 'missing_api_key',
  403: 'invalid_api_key',
  409: 'invalid_idempotent_request',
  422: 'validation_error',
  429: 'rate_limit_exceeded',
  500: 'internal_server_error',
  503: 'application_error',
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/** A local stand-in for Resend's `POST /emails`, answering as the real API does (including idempotency keys). */
export const startFakeResend = async (): Promise<FakeResend> => {
  const requests: ReceivedRequest[] = [];
  const delivered: DeliveredEmail[] = [];
  const queue: Plan[] = [];
  const keyed = new Map<string, Plan[]>();
  const byKey = new Map<string, { id: string; body: string }>();
  const hanging = new Set<ServerResponse>();
  let counter = 0;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
    const record = (answered: number | 'hang') =>
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        idempotencyKey: key,
        body,
        answered,
      });
    if (req.method !== 'POST' || req.url !== '/emails') {
      record(404);
      send(res, 404, { statusCode: 404, name: 'not_found', message: 'not found' });
      return;
    }
    if (req.headers.authorization !== 'Bearer re_test') {
      record(401);
      send(res, 401, {
        statusCode: 401,
        name: 'missing_api_key',
        message: 'Missing API key in the authorization header.',
      });
      return;
    }
    const plan = (key !== undefined ? keyed.get(key)?.shift() : undefined) ?? queue.shift() ?? 'ok';
    if (typeof plan === 'object') {
      record(plan.status);
      send(res, plan.status, {
        statusCode: plan.status,
        name: plan.name ?? NAMES[plan.status] ?? 'application_error',
        message: plan.message ?? `planned ${plan.status}`,
      });
      return;
    }
    if (plan === 'hang') {
      record('hang');
      hanging.add(res);
      return;
    }
    const known = key !== undefined ? byKey.get(key) : undefined;
    if (known !== undefined) {
      if (known.body !== raw) {
        record(409);
        send(res, 409, {
          statusCode: 409,
          name: 'invalid_idempotent_request',
          message: 'Same idempotency key used with a different request payload.',
        });
        return;
      }
      record(plan === 'ok' ? 200 : 'hang');
      if (plan === 'ok') send(res, 200, { id: known.id });
      else hanging.add(res);
      return;
    }
    counter += 1;
    const id = `email-${String(counter).padStart(4, '0')}`;
    delivered.push({ id, idempotencyKey: key, body });
    if (key !== undefined) byKey.set(key, { id, body: raw });
    if (plan === 'accept-then-hang') {
      record('hang');
      hanging.add(res);
      return;
    }
    record(200);
    send(res, 200, { id });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    delivered,
    plan: (...plans) => queue.push(...plans),
    planFor: (key, ...plans) => keyed.set(key, [...(keyed.get(key) ?? []), ...plans]),
    requestsFor: (key) => requests.filter((r) => r.idempotencyKey === key),
    deliveredTo: (address) =>
      delivered.filter((d) => (Array.isArray(d.body?.to) ? d.body.to.includes(address) : d.body?.to === address)),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export const eventually = async <A>(
  check: () => A | undefined | false | Promise<A | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<A> => {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last !== undefined ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

/**
 * A fake Resend for one suite (or describe block): started before its tests with the SDK pointed at it through
 * RESEND_BASE_URL (which the SDK reads when a client is made), and both undone after. Read `.fake` inside tests.
 */
export const useFakeResend = (): { readonly fake: FakeResend } => {
  let started: FakeResend | undefined;
  const saved = process.env.RESEND_BASE_URL;
  beforeAll(async () => {
    started = await startFakeResend();
    process.env.RESEND_BASE_URL = started.url;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.RESEND_BASE_URL;
    else process.env.RESEND_BASE_URL = saved;
    await started?.close();
  });
  return {
    get fake(): FakeResend {
      if (started === undefined) throw new Error('the fake Resend is started before the tests (beforeAll)');
      return started;
    },
  };
};
