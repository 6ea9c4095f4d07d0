import * as E from 'fp-ts/lib/Either.js';
import type { Context } from 'hono';
import { assertNever } from '../../../domain/shared.ts';
import type { FieldError } from '../../../domain/shared.ts';
import type { AppError } from '../../../application/service.ts';

export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 426 | 429 | 500 | 503;

/** An RFC 9457 problem answer. */
export const problem = (
  c: Context,
  status: ProblemStatus,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
) => {
  c.header('Content-Type', 'application/problem+json');
  return c.body(JSON.stringify({ type: `about:blank`, title, status, detail, ...extra }), status);
};

/** The one 400 for input that breaks the rules: each broken rule by path in `errors`, all of them in `detail`. */
export const validationProblem = (
  c: Context,
  errors: ReadonlyArray<FieldError>,
  detail = errors.map((e) => `${e.path} ${e.message}`).join('; '),
) => problem(c, 400, 'Validation failed', detail, { errors });

export const appErrorResponse = (c: Context, error: AppError) => {
  switch (error._tag) {
    case 'ValidationFailed':
      return validationProblem(c, error.errors);
    case 'NotFound':
      return problem(c, 404, 'Not found', error.message);
    case 'Forbidden':
      return problem(c, 403, 'Forbidden', error.message);
    case 'Conflict':
      return problem(c, 409, 'Conflict', error.message, { conflicts: error.conflicts, opensAt: error.opensAt });
    case 'StaleRevision':
      return problem(
        c,
        412,
        'Precondition failed',
        `the resource is at revision ${error.actual}, not ${error.expected}`,
        {
          currentRevision: error.actual,
        },
      );
    case 'TooMuchContention':
      return problem(c, 409, 'Conflict', `too many concurrent changes to ${error.streamName}; try again`);
    case 'CorruptEvent':
      // The details (stream, position, stored values) go to the log, not to the client.
      c.set('errorDetail', error.message);
      return problem(
        c,
        500,
        'Stored event cannot be read',
        'a stored event could not be read; the operators have the details in the log',
      );
    case 'Unavailable':
      c.header('Retry-After', '5');
      return problem(c, 503, 'Service unavailable', error.message);
    default:
      return assertNever(error);
  }
};

/** JSON answer of a query or a write without a version. */
export const answer = <A>(c: Context, result: E.Either<AppError, A>, status: 200 | 201 | 202 = 200) =>
  E.isLeft(result) ? appErrorResponse(c, result.left) : c.json(result.right as object, status);

/** The 404 of a file route (docs assets, static files) asked for a file it does not serve. */
export const noFile = (c: Context, file: string) =>
  problem(c, 404, 'Not found', `there is no file ${JSON.stringify(file.slice(0, 64))} here`);
