import * as E from 'fp-ts/lib/Either.js';
import type { Context } from 'hono';
import type { FieldError } from '../../../domain/shared.ts';
import type { HistoryEntry, HistoryPage } from '../../../application/ports/read-models.ts';
import type { AppError, ParticipantHistory } from '../../../application/service.ts';
import { HISTORY_PAGE, HistoryQuery, presentHistory } from '../history/shapes.ts';
import { decodeBody } from '../validation.ts';
import type { Env } from './context.ts';
import { appErrorResponse, validationProblem } from './problem.ts';

/** History comes in pages of at most HISTORY_PAGE events; `next` is the `after` that fetches the following page. */
const historyPage = (c: Context<Env>): E.Either<FieldError[], HistoryPage> => {
  const decoded = decodeBody(HistoryQuery, c.req.query(), ['after', 'limit']);
  if (E.isLeft(decoded)) return decoded;
  const after = decoded.right.after === undefined ? -1 : Number(decoded.right.after);
  const limit = decoded.right.limit === undefined ? HISTORY_PAGE : Number(decoded.right.limit);
  const errors: FieldError[] = [];
  if (!Number.isInteger(after) || after < -1)
    errors.push({ path: 'after', message: 'must be a revision (a whole number, -1 for the start)' });
  if (!Number.isInteger(limit) || limit < 1 || limit > HISTORY_PAGE)
    errors.push({ path: 'limit', message: `must be a whole number from 1 to ${HISTORY_PAGE}` });
  return errors.length > 0 ? E.left(errors) : E.right({ after, limit });
};

/**
 * `GET …/history`: the page asked for, read by `read`. `next` is the last entry's revision; `merged` histories (a
 * meeting with its attendance) count places in their order instead.
 */
export const historyAnswer = async (
  c: Context<Env>,
  read: (page: HistoryPage) => Promise<E.Either<AppError, ReadonlyArray<HistoryEntry>>>,
  merged = false,
) => {
  const page = historyPage(c);
  if (E.isLeft(page)) return validationProblem(c, page.left);
  const result = await read(page.right);
  if (E.isLeft(result)) return appErrorResponse(c, result.left);
  const last = result.right[result.right.length - 1];
  const cursor = merged ? page.right.after + result.right.length : last?.revision;
  return c.json({ events: result.right, next: result.right.length === page.right.limit ? cursor : undefined });
};

/** A meeting's or a series' history, showing only what the caller may read of it. */
export const presentedHistory = (
  c: Context<Env>,
  result: E.Either<AppError, ParticipantHistory>,
): E.Either<AppError, ReadonlyArray<HistoryEntry>> =>
  E.isLeft(result) ? result : E.right(presentHistory(c.get('user'), result.right, result.right.entries));
