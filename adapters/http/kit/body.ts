import * as E from 'fp-ts/lib/Either.js';
import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import type * as t from 'io-ts';
import { assertNever } from '../../../domain/shared.ts';
import { decodeBody } from '../validation.ts';
import type { Env } from './context.ts';
import { problem, validationProblem } from './problem.ts';

export const MAX_BODY_BYTES = 64 * 1024;

type BodyText = { ok: true; text: string } | { ok: false; response: Response };
type JsonResult<A> = { ok: true; value: A } | { ok: false; response: Response };

/** Reads and validates a JSON body; an absent body counts as `{}` when `optional`. */
export const readJson = async <A>(
  c: Context,
  codec: t.Decoder<unknown, A>,
  options: { allowed?: ReadonlyArray<string>; optional?: boolean } = {},
): Promise<JsonResult<A>> => {
  const body = await readBodyText(c);
  if (!body.ok) return body;
  const text = body.text;
  let raw: unknown = {};
  if (text.trim().length > 0) {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
      return { ok: false, response: problem(c, 415, 'Unsupported media type', 'send the body as application/json') };
    }
    try {
      raw = JSON.parse(text);
    } catch {
      return { ok: false, response: problem(c, 400, 'Malformed JSON', 'the request body is not valid JSON') };
    }
  } else if (!options.optional) {
    return {
      ok: false,
      response: validationProblem(c, [{ path: '(body)', message: 'is required' }], 'a JSON body is required'),
    };
  }
  const decoded = decodeBody(codec, raw, options.allowed);
  if (E.isLeft(decoded)) return { ok: false, response: validationProblem(c, decoded.left) };
  return { ok: true, value: decoded.right };
};

const tooLarge = (c: Context, limit: number) =>
  problem(c, 413, 'Payload too large', `request bodies are limited to ${limit} bytes`);

/**
 * The client went away before its body had arrived (a dropped upload): nobody is left to answer, so this is no
 * server error. 499 is nginx's "client closed request"; the access log counts it and notes it at debug.
 */
const clientAborted = (c: Context): Response => {
  c.set('clientAborted', true);
  return new Response(null, { status: CLIENT_CLOSED_REQUEST });
};
const CLIENT_CLOSED_REQUEST = 499;

type Read = { kind: 'text'; text: string } | { kind: 'tooLarge' } | { kind: 'aborted' };

/** Node's request to its end, unless it grows past the limit or its connection goes away first. */
const readIncoming = (incoming: IncomingMessage, limit: number): Promise<Read> =>
  new Promise<Read>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (value: Read) => {
      incoming
        .off('data', onData)
        .off('end', onEnd)
        .off('error', onAbort)
        .off('aborted', onAbort)
        .off('close', onClose);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done({ kind: 'tooLarge' });
        // Drained, not kept: the connection stays usable and memory stays bounded (requestTimeout ends a flood).
        incoming.resume();
      } else chunks.push(chunk);
    };
    const onEnd = () => done({ kind: 'text', text: Buffer.concat(chunks, size).toString('utf8') });
    // Errors on a request being read come from its connection (reset, closed mid-body): the client is gone.
    const onAbort = () => done({ kind: 'aborted' });
    const onClose = () => {
      if (!incoming.readableEnded) done({ kind: 'aborted' });
    };
    incoming.on('data', onData).on('end', onEnd).on('error', onAbort).on('aborted', onAbort).on('close', onClose);
  });

/**
 * Reads the body straight from Node's request (much cheaper than a web stream), at most MAX_BODY_BYTES: a larger
 * declared or actual body answers 413 without being buffered (a route taking files, `POST /people/import`, gives a
 * larger `limit`). A connection that closes or breaks before the body's
 * end, even before reading began, is a client abort, never a hang or a 500.
 */
export const readBodyText = async (c: Context, limit: number = MAX_BODY_BYTES): Promise<BodyText> => {
  const readAhead = (c as Context<Env>).get('bodyText');
  if (readAhead !== undefined) return { ok: true, text: readAhead };
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > limit) return { ok: false, response: tooLarge(c, limit) };
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming === undefined) {
    const text = await c.req.text();
    return Buffer.byteLength(text) > limit ? { ok: false, response: tooLarge(c, limit) } : { ok: true, text };
  }
  if (incoming.destroyed && !incoming.readableEnded) return { ok: false, response: clientAborted(c) };
  const read = await readIncoming(incoming, limit);
  switch (read.kind) {
    case 'text':
      return { ok: true, text: read.text };
    case 'tooLarge':
      return { ok: false, response: tooLarge(c, limit) };
    case 'aborted':
      return { ok: false, response: clientAborted(c) };
    default:
      return assertNever(read);
  }
};
