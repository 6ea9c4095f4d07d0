import * as E from 'fp-ts/lib/Either.js';
import { Hono } from 'hono';
import type { Service } from '../../../application/service.ts';
import type { PeopleCursor, PeopleQuery } from '../../../application/ports/read-models.ts';
import type { FieldError, Role } from '../../../domain/shared.ts';
import { Role as RoleCodec } from '../../../domain/shared.ts';
import { pathId, requestContext as ctx } from '../kit/context.ts';
import type { Env } from '../kit/context.ts';
import type { GateStep } from '../kit/pipeline.ts';
import { answer, appErrorResponse, problem, validationProblem } from '../kit/problem.ts';
import { write } from '../kit/versioned.ts';
import {
  DEFAULT_NAME_LOOKUP,
  DEFAULT_PEOPLE_PAGE,
  MAX_NAME_LOOKUP,
  MAX_PEOPLE_PAGE,
  MAX_PEOPLE_QUERY_LENGTH,
  PersonBody,
} from './shapes.ts';
import type { NameLookup } from '../../../application/people.ts';
import { readPeopleFile } from '../../import/people-file.ts';
import type { ImportFormat } from '../../import/people-file.ts';
import { readBodyText } from '../kit/body.ts';
import type { Context } from 'hono';
import { MAX_IMPORT_BODY_BYTES, MAX_IMPORT_LINES } from './shapes.ts';

/** The body limit of the import's files (the idempotency layer reads them too). */
export const importBodyLimit = (path: string): number | undefined =>
  path === '/people/import' ? MAX_IMPORT_BODY_BYTES : undefined;

/** `POST /people/import`'s query: `dryRun` (true or false) at most once, nothing else. */
const parseImportQuery = (params: Record<string, string[]>): E.Either<FieldError[], { dryRun: boolean }> => {
  const errors: FieldError[] = Object.keys(params)
    .filter((name) => name !== 'dryRun')
    .map((path) => ({ path, message: 'is not a parameter of the import' }));
  const values = params.dryRun ?? [];
  if (values.length > 1 || (values[0] !== undefined && values[0] !== 'true' && values[0] !== 'false'))
    errors.push({ path: 'dryRun', message: 'may be given once, true or false' });
  return errors.length > 0 ? E.left(errors) : E.right({ dryRun: values[0] === 'true' });
};

const formatOf = (contentType: string): ImportFormat | undefined =>
  /^text\/csv\b/i.test(contentType)
    ? 'csv'
    : /^application\/([a-z.+-]*\+)?json\b/i.test(contentType)
      ? 'json'
      : undefined;

/**
 * Before the import's body is read (by the idempotency layer or the route): a caller who may not import now is told
 * so (403 for a non-admin, 503 while the read models are not ready) without the server reading up to 1 MiB.
 */
export const importGate =
  (service: Pick<Service, 'importRefusal'>): GateStep =>
  (c) => {
    if (c.req.method !== 'POST' || c.req.path !== '/people/import') return undefined;
    const refusal = service.importRefusal(ctx(c));
    return refusal === undefined ? undefined : appErrorResponse(c, refusal);
  };

/** `POST /people/import`: a CSV or JSON export in the body, imported (or tried, `dryRun=true`) line by line. */
const importRoute = (service: Service) => async (c: Context<Env>) => {
  const refusal = service.importRefusal(ctx(c));
  if (refusal !== undefined) return appErrorResponse(c, refusal);
  const query = parseImportQuery(c.req.queries());
  if (E.isLeft(query)) return validationProblem(c, query.left);
  const format = formatOf(c.req.header('content-type') ?? '');
  if (format === undefined)
    return problem(c, 415, 'Unsupported media type', 'send the people as text/csv or application/json');
  const body = await readBodyText(c, MAX_IMPORT_BODY_BYTES);
  if (!body.ok) return body.response;
  const rows = readPeopleFile(body.text, format, MAX_IMPORT_LINES);
  if (E.isLeft(rows)) return validationProblem(c, [{ path: '(body)', message: rows.left.message }]);
  return answer(c, await service.importPeople(ctx(c), rows.right, query.right));
};

const LIST_PARAMETERS = new Set(['query', 'role', 'active', 'cursor', 'limit']);
const MAX_CURSOR_LENGTH = 1024;

/** The cursor is the last item's (folded name, id), as base64url JSON: opaque to clients, checked on the way in. */
export const encodeCursor = (cursor: PeopleCursor): string =>
  Buffer.from(JSON.stringify([cursor.nameKey, cursor.id]), 'utf8').toString('base64url');

const decodeCursor = (text: string): PeopleCursor | undefined => {
  if (text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    return Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')
      ? { nameKey: value[0] as string, id: value[1] as string }
      : undefined;
  } catch {
    return undefined;
  }
};

/** `GET /people`'s query string: every parameter at most once, bounded; each bad one a field error naming it. */
export const parseListQuery = (params: Record<string, string[]>): E.Either<FieldError[], PeopleQuery> => {
  const errors: FieldError[] = [];
  const one = (name: string): string | undefined => {
    const values = params[name];
    if (values === undefined) return undefined;
    if (values.length > 1) errors.push({ path: name, message: 'may be given once' });
    return values[0];
  };
  for (const name of Object.keys(params))
    if (!LIST_PARAMETERS.has(name)) errors.push({ path: name, message: 'is not a parameter of this list' });
  const text = one('query');
  if (text !== undefined && (text.length > MAX_PEOPLE_QUERY_LENGTH || /[\u0000-\u001F\u007F]/.test(text)))
    errors.push({ path: 'query', message: `must be at most ${MAX_PEOPLE_QUERY_LENGTH} characters on one line` });
  const role = one('role');
  if (role !== undefined && !RoleCodec.is(role))
    errors.push({ path: 'role', message: 'must be one of admin, instructor, customer, auditor' });
  const active = one('active');
  if (active !== undefined && active !== 'true' && active !== 'false')
    errors.push({ path: 'active', message: 'must be true or false' });
  const cursorText = one('cursor');
  const cursor = cursorText === undefined ? undefined : decodeCursor(cursorText);
  if (cursorText !== undefined && cursor === undefined)
    errors.push({ path: 'cursor', message: 'is not a cursor this list gave' });
  const limitText = one('limit');
  const limit = limitText === undefined ? DEFAULT_PEOPLE_PAGE : /^\d{1,3}$/.test(limitText) ? Number(limitText) : 0;
  if (limit < 1 || limit > MAX_PEOPLE_PAGE)
    errors.push({ path: 'limit', message: `must be an integer from 1 to ${MAX_PEOPLE_PAGE}` });
  if (errors.length > 0) return E.left(errors);
  return E.right({
    ...(text !== undefined && text.length > 0 ? { query: text } : {}),
    ...(role !== undefined ? { role: role as Role } : {}),
    ...(active !== undefined ? { active: active === 'true' } : {}),
    ...(cursor !== undefined ? { after: cursor } : {}),
    limit,
  });
};

const LOOKUP_PARAMETERS = new Set(['query', 'role', 'limit']);

/** `GET /directory/names`' query string: `query`, `role` and `limit`, each at most once and bounded. */
export const parseNameLookup = (params: Record<string, string[]>): E.Either<FieldError[], NameLookup> => {
  const errors: FieldError[] = [];
  const one = (name: string): string | undefined => {
    const values = params[name];
    if (values !== undefined && values.length > 1) errors.push({ path: name, message: 'may be given once' });
    return values?.[0];
  };
  for (const name of Object.keys(params))
    if (!LOOKUP_PARAMETERS.has(name)) errors.push({ path: name, message: 'is not a parameter of this list' });
  const text = one('query');
  if (text !== undefined && (text.length > MAX_PEOPLE_QUERY_LENGTH || /[\u0000-\u001F\u007F]/.test(text)))
    errors.push({ path: 'query', message: `must be at most ${MAX_PEOPLE_QUERY_LENGTH} characters on one line` });
  const role = one('role');
  if (role !== undefined && !RoleCodec.is(role))
    errors.push({ path: 'role', message: 'must be one of admin, instructor, customer, auditor' });
  const limitText = one('limit');
  const limit = limitText === undefined ? DEFAULT_NAME_LOOKUP : /^\d{1,3}$/.test(limitText) ? Number(limitText) : 0;
  if (limit < 1 || limit > MAX_NAME_LOOKUP)
    errors.push({ path: 'limit', message: `must be an integer from 1 to ${MAX_NAME_LOOKUP}` });
  if (errors.length > 0) return E.left(errors);
  return E.right({
    ...(text !== undefined && text.length > 0 ? { query: text } : {}),
    ...(role !== undefined ? { role: role as Role } : {}),
    limit,
  });
};

/** `/people`: the people directory (who can be booked, and where their mail goes), and `/me`. */
export const peopleRoutes = (service: Service): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.get('/people', async (c) => {
    const query = parseListQuery(c.req.queries());
    if (E.isLeft(query)) return validationProblem(c, query.left);
    const result = await service.listPeople(ctx(c), query.right);
    if (E.isLeft(result)) return appErrorResponse(c, result.left);
    const { items, next } = result.right;
    return c.json({ items, ...(next !== undefined ? { next: encodeCursor(next) } : {}) });
  });
  routes.get('/directory/names', async (c) => {
    const lookup = parseNameLookup(c.req.queries());
    if (E.isLeft(lookup)) return validationProblem(c, lookup.left);
    return answer(c, await service.lookupNames(ctx(c), lookup.right));
  });
  routes.post('/people/import', importRoute(service));
  routes.put(
    '/people/:id',
    write(PersonBody, false, async (c, body) => answer(c, await service.upsertPerson(ctx(c), pathId(c), body))),
  );
  routes.get('/people/:id', async (c) => answer(c, await service.getPerson(ctx(c), pathId(c))));
  routes.get('/me', (c) => c.json(service.me(ctx(c))));
  return routes;
};
