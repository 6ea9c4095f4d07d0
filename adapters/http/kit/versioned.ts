import * as E from 'fp-ts/lib/Either.js';
import type { Context } from 'hono';
import type * as t from 'io-ts';
import type { AuthUser } from '../../../application/ports/access.ts';
import type { AppError } from '../../../application/service.ts';
import { readJson } from './body.ts';
import type { Env } from './context.ts';
import { appErrorResponse, problem } from './problem.ts';

/**
 * The strong ETag of a resource at a revision; `part` is the revision of a stream shown with it (a meeting's
 * attendance), after a dot, so that the tag changes with either while `If-Match` pins the resource's own.
 */
export const etag = (revision: number, part?: number) =>
  part === undefined || part < 0 ? `"${revision}"` : `"${revision}.${part}"`;

/** `If-Match: "3"` pins the revision the client saw; `*` or no header means "whatever is current". */
export const ifMatch = (c: Context): { ok: true; revision: number | undefined } | { ok: false; response: Response } => {
  const header = c.req.header('if-match');
  if (header === undefined || header.trim() === '*') return { ok: true, revision: undefined };
  // If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches, so it is stale by definition.
  if (/^\s*W\//.test(header)) return { ok: true, revision: -2 };
  const match = /^\s*"(-?\d{1,15})(?:\.\d{1,15})?"\s*$/.exec(header);
  if (match === null) {
    return {
      ok: false,
      response: problem(c, 400, 'Bad If-Match', 'If-Match must be an ETag this server sent, like "3"'),
    };
  }
  return { ok: true, revision: Number(match[1]) };
};

/** A versioned resource: its ETag, its Location when just created, and only the fields the caller may read. */
export const sendVersioned =
  <V extends { id: string; revision: number }>(collection: string, present: (user: AuthUser, view: V) => object) =>
  (c: Context<Env>, result: E.Either<AppError, V>, status: 200 | 201 = 200) => {
    if (E.isLeft(result)) return appErrorResponse(c, result.left);
    c.header('ETag', etag(result.right.revision));
    if (status === 201) c.header('Location', `/${collection}/${encodeURIComponent(result.right.id)}`);
    return c.json(present(c.get('user'), result.right), status);
  };

/** A write: the `If-Match` revision if any, then the body checked against its codec (unknown fields refused). */
export const write =
  <A>(
    codec: t.Decoder<unknown, A>,
    optional: boolean,
    run: (c: Context<Env>, body: A, revision: number | undefined) => Promise<Response>,
  ) =>
  async (c: Context<Env>) => {
    const match = ifMatch(c);
    if (!match.ok) return match.response;
    const body = await readJson(c, codec, { optional });
    if (!body.ok) return body.response;
    return run(c, body.value, match.revision);
  };
