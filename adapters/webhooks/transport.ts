import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import ipaddr from 'ipaddr.js';
import { Webhook } from 'standardwebhooks';
import { MAX_RESPONSE_EXCERPT } from '../../domain/webhook-delivery.ts';
import type {
  TargetPolicy,
  WebhookFailure,
  WebhookRequest,
  WebhookResponse,
  WebhookTransport,
} from '../../application/ports/webhooks.ts';

/**
 * Webhook requests over node's http(s), guarded against server-side request forgery: `https:` only, and every address
 * the host resolves to must be a public unicast one; the connection goes to the address that was checked (the
 * request's `lookup` answers with it), so DNS cannot point it elsewhere between the check and the connect. Redirects
 * are not followed; at most MAX_RESPONSE_EXCERPT bytes of an answer are read. WEBHOOKS_ALLOW_INSECURE_TARGETS lifts
 * the scheme and address rules, for development and tests only.
 */

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Every address of a host name. `signal`: the caller stopped waiting (a lookup under way may still finish). */
export type Resolver = (hostname: string, signal?: AbortSignal) => Promise<ReadonlyArray<ResolvedAddress>>;

/** Lookups of the system resolver in flight at once: libuv runs each on one of its (4 by default) threads. */
export const MAX_SYSTEM_LOOKUPS = 2;

/**
 * At most `max` lookups of `resolver` under way at once; the others wait their turn. A lookup holds its turn until it
 * really ends, not when its caller gives up on it: `dns.lookup` (getaddrinfo) cannot be cancelled and keeps a libuv
 * thread the while, so a hung DNS server can hold at most `max` of those threads, and file system work, crypto and
 * the other lookups go on. A caller that gives up while waiting leaves the queue.
 */
export const limitLookups = (resolver: Resolver, max: number): Resolver => {
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    active -= 1;
    const next = waiting.shift();
    if (next !== undefined) next();
  };
  const turn = (signal: AbortSignal | undefined) =>
    new Promise<void>((resolve, reject) => {
      if (active < max) {
        active += 1;
        resolve();
        return;
      }
      const go = () => {
        signal?.removeEventListener('abort', leave);
        active += 1;
        resolve();
      };
      const leave = () => {
        const at = waiting.indexOf(go);
        if (at >= 0) waiting.splice(at, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('lookup abandoned'));
      };
      if (signal?.aborted === true) return leave();
      signal?.addEventListener('abort', leave, { once: true });
      waiting.push(go);
    });
  return async (hostname, signal) => {
    await turn(signal);
    try {
      return await resolver(hostname, signal);
    } finally {
      release();
    }
  };
};

/**
 * The operating system's resolver (getaddrinfo: /etc/hosts, nsswitch, the search domains, as every other program on
 * the host sees names), bounded to MAX_SYSTEM_LOOKUPS at once. Chosen over c-ares' `dns.Resolver` (which has its own
 * timeouts but ignores /etc/hosts and nsswitch) so that a deployment's DNS configuration applies to webhooks too.
 */
export const systemResolver: Resolver = limitLookups(
  (hostname) => dnsLookup(hostname, { all: true, verbatim: true }),
  MAX_SYSTEM_LOOKUPS,
);

const IPV4_COMPATIBLE = ipaddr.IPv6.parse('::');

const canonicalIpv6 = (address: string): string | undefined => {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
};

/**
 * Public unicast only: not private, loopback, link-local, unique-local, unspecified, multicast, reserved, … An
 * IPv4-mapped address (`::ffff:a.b.c.d`) is judged by its IPv4 address; IPv4-compatible ones (`::a.b.c.d`, `::/96`,
 * deprecated, which some stacks still route to the IPv4 address) are refused outright.
 */
export const isPublicAddress = (raw: string): boolean => {
  // Written as WHATWG URLs write IPv6 (hex, `::808:808`): ipaddr.js reads `::8.8.8.8` as if it were `::ffff:8.8.8.8`.
  const address = raw.includes(':') ? canonicalIpv6(raw) : raw;
  if (address === undefined || !ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.match(IPV4_COMPATIBLE, 96)) return false;
    if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().range() === 'unicast';
  }
  return ipaddr.process(address).range() === 'unicast';
};

/** The host of a URL as an address would be written (IPv6 without brackets), lower case. */
const hostOf = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '').toLowerCase();

/** `localhost` and its subdomains, also written fully qualified (`localhost.`, `api.localhost.`). */
const isLocalName = (host: string): boolean => {
  const name = host.replace(/\.+$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
};

/** What the URL alone says: the scheme, a literal address, `localhost`. */
export const createTargetPolicy = (options: { readonly allowInsecure: boolean }): TargetPolicy => ({
  refuse: (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'must be an absolute URL';
    }
    if (options.allowInsecure)
      return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'must be an https: URL';
    if (url.protocol !== 'https:') return 'must be an https: URL';
    const host = hostOf(url);
    if (isLocalName(host)) return 'must not name localhost';
    if (ipaddr.isValid(host) && !isPublicAddress(host))
      return `must not be a private, loopback, link-local or other non-public address (${host})`;
    return undefined;
  },
});

export interface TransportOptions {
  readonly allowInsecure: boolean;
  readonly resolver?: Resolver;
  readonly userAgent?: string;
}

/** The `webhook-signature` header: one `v1,…` signature per secret, space-separated (Standard Webhooks). */
export const signatureHeader = (secrets: ReadonlyArray<string>, messageId: string, at: Date, body: string): string =>
  secrets.map((secret) => new Webhook(secret).sign(messageId, at, body)).join(' ');

/** The addresses to connect to, all checked; a Left says why nothing may be sent. */
const resolveTarget = async (
  url: URL,
  options: TransportOptions,
  timeoutMs: number,
): Promise<E.Either<string, ResolvedAddress>> => {
  if (!options.allowInsecure && url.protocol !== 'https:')
    return E.left('the endpoint is not an https: URL; nothing was sent');
  const host = hostOf(url);
  if (!options.allowInsecure && isLocalName(host)) return E.left('the endpoint names localhost; nothing was sent');
  let addresses: ReadonlyArray<ResolvedAddress>;
  if (ipaddr.isValid(host)) addresses = [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }];
  else {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new AbortController();
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`no answer within ${timeoutMs} ms`);
        gaveUp.abort(error);
        reject(error);
      }, timeoutMs);
    });
    try {
      addresses = await Promise.race([(options.resolver ?? systemResolver)(host, gaveUp.signal), late]);
    } catch (error) {
      return E.left(`cannot resolve ${host}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(timer);
    }
  }
  const first = addresses[0];
  if (first === undefined) return E.left(`${host} has no address`);
  if (!options.allowInsecure) {
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused !== undefined)
      return E.left(`${host} resolves to ${refused.address}, which is not a public address; nothing was sent`);
  }
  return E.right(first);
};

/** At most `max` bytes of the body, then the connection is let go. */
const readBounded = (response: IncomingMessage, max: number): Promise<string> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => resolve(Buffer.concat(chunks).toString('utf8').slice(0, max));
    response.on('data', (chunk: Buffer) => {
      if (size >= max) return;
      chunks.push(chunk.subarray(0, max - size));
      size += chunk.length;
      if (size >= max) {
        response.destroy();
        done();
      }
    });
    response.on('end', done);
    response.on('error', done);
    response.on('close', done);
  });

const post = (
  url: URL,
  target: ResolvedAddress,
  headers: Record<string, string>,
  request: WebhookRequest,
): Promise<E.Either<WebhookFailure, WebhookResponse>> =>
  new Promise((resolve) => {
    const lookup: LookupFunction = (_hostname, opts, callback) => {
      if ((opts as { all?: boolean }).all === true)
        callback(null, [{ address: target.address, family: target.family }]);
      else callback(null, target.address, target.family);
    };
    const options: RequestOptions = {
      method: 'POST',
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers,
      lookup,
      signal: request.signal,
    };
    let settled = false;
    const finish = (result: E.Either<WebhookFailure, WebhookResponse>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(options, (response) => {
      const status = response.statusCode ?? 0;
      void readBounded(response, MAX_RESPONSE_EXCERPT).then((text) => {
        if (status >= 200 && status < 300) finish(E.right({ status, response: text }));
        else if (status >= 300 && status < 400)
          finish(E.left({ status, response: text, error: `answered ${status}: redirects are not followed` }));
        else finish(E.left({ status, response: text, error: `answered ${status}` }));
      });
    });
    const timer = setTimeout(() => {
      finish(E.left({ error: `no answer within ${request.timeoutMs} ms` }));
      req.destroy(new Error('timed out'));
    }, request.timeoutMs);
    req.on('error', (error) => finish(E.left({ error: `request failed: ${error.message}` })));
    req.end(request.body);
  });

export const createWebhookTransport = (options: TransportOptions): WebhookTransport => ({
  deliver: async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return E.left({ error: 'the endpoint URL cannot be read; nothing was sent' });
    }
    const target = await resolveTarget(url, options, request.timeoutMs);
    if (E.isLeft(target)) return E.left({ error: target.left });
    const timestamp = Math.floor(request.timestamp.getTime() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': options.userAgent ?? '1on1-webhooks',
      'webhook-id': request.messageId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(request.secrets, request.messageId, request.timestamp, request.body),
    };
    return post(url, target.right, headers, request);
  },
});
