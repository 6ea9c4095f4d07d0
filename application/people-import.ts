import * as E from 'fp-ts/lib/Either.js';
import { decide } from '../domain/person.ts';
import type { PersonCrm } from '../domain/person.ts';
import type { FieldError } from '../domain/shared.ts';
import type { AppError, RequestContext } from './execute.ts';
import { addressTaken, personStateOf, recordPersonCommand, selfChange, upsertPerson } from './people.ts';
import type { PeopleDeps, PersonInput } from './people.ts';
import type { Executor } from './execute.ts';
import type { PersonView } from './ports/read-models.ts';
import { isAdmin } from './ports/access.ts';

/**
 * One line of a site's export as the file adapter read it: the person it gives (already decoded with the rules of
 * `PUT /people/:id`), or why it could not be read. `line` is the physical line of a CSV file, the item's place
 * (from 1) in a JSON array.
 */
export type ImportRow =
  | { readonly line: number; readonly id: string; readonly input: PersonInput }
  | { readonly line: number; readonly id?: string; readonly errors: ReadonlyArray<FieldError> };

export interface BadLine {
  readonly line: number;
  readonly id?: string;
  readonly errors: ReadonlyArray<FieldError>;
}

export interface ImportReport {
  readonly dryRun: boolean;
  /** Lines read (good and bad). */
  readonly lines: number;
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
  /** Every line not imported, in file order, with its reasons. */
  readonly bad: ReadonlyArray<BadLine>;
}

export interface ImportOptions {
  /** Decide every line against the directory as it is, and write nothing. */
  readonly dryRun: boolean;
  /** Called after each line with how many are done (a progress bar). */
  readonly onProgress?: (done: number, total: number) => void;
}

type Outcome = 'created' | 'updated' | 'unchanged' | { readonly errors: ReadonlyArray<FieldError> };

const errorsOf = (error: AppError): ReadonlyArray<FieldError> => {
  switch (error._tag) {
    case 'ValidationFailed':
      return error.errors;
    case 'Conflict':
      return [{ path: /^`email`/.test(error.message) ? 'email' : '(line)', message: error.message }];
    default:
      return [{ path: '(line)', message: 'message' in error ? String(error.message) : error._tag }];
  }
};

const given = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/** The CRM record a line gives merged into the kept one, field by field: a field given with a value sets it. */
const mergeCrm = (kept: PersonCrm | undefined, line: PersonCrm): PersonCrm => {
  const externalId = given(line.externalId) ? line.externalId : kept?.externalId;
  const fields = { ...(kept?.fields ?? {}) };
  for (const [key, value] of Object.entries(line.fields ?? {})) if (given(value)) fields[key] = value;
  return { ...(externalId !== undefined ? { externalId } : {}), fields };
};

/**
 * A line as the whole entry `PUT /people/:id` takes, for a person the directory already has: what the line leaves
 * out or gives empty (a missing column, an empty cell, a field a JSON item omits) is what the directory keeps, and
 * the CRM record is merged per field, never replaced (clearing a value is `PUT /people/:id`'s, not the import's).
 * A new person's line is taken as it is.
 */
export const mergeLine = (kept: PersonView | undefined, line: PersonInput): PersonInput => {
  if (kept === undefined) return line;
  const timezone = given(line.timezone) ? line.timezone : kept.timezone;
  const language = given(line.language) ? line.language : kept.language;
  return {
    name: given(line.name) ? line.name : kept.name,
    email: given(line.email) ? line.email : kept.email,
    ...(timezone !== undefined ? { timezone } : {}),
    ...(language !== undefined ? { language } : {}),
    ...(line.roles !== undefined ? { roles: line.roles } : {}),
    ...(line.active !== undefined ? { active: line.active } : {}),
    ...(line.crm !== undefined ? { crm: mergeCrm(kept.crm, line.crm) } : {}),
  };
};

/** What this line would do to the directory as it is now, decided as `PUT /people/:id` decides it. */
const preview = (deps: PeopleDeps, ctx: RequestContext, id: string, input: PersonInput): Outcome => {
  const state = personStateOf(deps.readModels.getPerson(id));
  const decided = decide(recordPersonCommand(id, input, deps.executor.stamp(ctx)), state);
  if (E.isLeft(decided)) return { errors: decided.left.errors };
  if (decided.right.length === 0) return 'unchanged';
  const refusal =
    selfChange(ctx, id, decided.right) ??
    (decided.right.some((e) => e.type === 'PersonRegistered' || e.type === 'PersonUpdated')
      ? addressTaken(deps, id, input.email)
      : undefined);
  if (refusal !== undefined) return { errors: errorsOf(refusal) };
  return state.status === 'none' ? 'created' : 'updated';
};

const importLine = async (
  deps: PeopleDeps,
  ctx: RequestContext,
  row: { id: string; input: PersonInput },
  dryRun: boolean,
): Promise<Outcome> => {
  const kept = deps.readModels.getPerson(row.id);
  const input = mergeLine(kept, row.input);
  const planned = preview(deps, ctx, row.id, input);
  if (dryRun || typeof planned !== 'string' || planned === 'unchanged') return planned;
  // Written as `PUT /people/:id` writes it (its address lock and checks); the directory may have moved meanwhile.
  const result = await upsertPerson(deps, ctx, row.id, input);
  if (E.isLeft(result)) return { errors: errorsOf(result.left) };
  return kept !== undefined ? 'updated' : 'created';
};

/** Lines repeating an id or an address (case folded) an earlier line of the file gives: the first one counts. */
const duplicateOf = (
  seen: { ids: Map<string, number>; emails: Map<string, number> },
  line: number,
  row: { id: string; input: PersonInput },
): FieldError[] => {
  const errors: FieldError[] = [];
  const firstId = seen.ids.get(row.id);
  if (firstId !== undefined) errors.push({ path: 'id', message: `repeats the id of line ${firstId}` });
  const email = row.input.email.trim().toLowerCase();
  const firstEmail = email === '' ? undefined : seen.emails.get(email);
  if (firstEmail !== undefined && firstEmail !== firstId)
    errors.push({ path: 'email', message: `repeats the address of line ${firstEmail}` });
  if (firstId === undefined) seen.ids.set(row.id, line);
  if (firstEmail === undefined && email !== '') seen.emails.set(email, line);
  return errors;
};

/** The import's own deps: the directory's, and whether a write may run now (one answer for the whole file). */
export type ImportDeps = PeopleDeps & { readonly executor: PeopleDeps['executor'] & Pick<Executor, 'writeRefusal'> };

/**
 * Why this caller may not import now, before any of the file is read: not an admin (403), or the read models the
 * import's checks read are not ready (503, as every write answers then, rather than one bad line a person).
 */
export const importRefusal = (deps: ImportDeps, ctx: RequestContext): AppError | undefined =>
  !isAdmin(ctx.user) ? { _tag: 'Forbidden', message: 'only admins may import people' } : deps.executor.writeRefusal();

/**
 * Imports people from a site's export: each line, merged into the entry the directory keeps (mergeLine: what a line
 * leaves out or empty stays as it is), upserted as `PUT /people/:id` would (the same rules, one address per person),
 * in file order. A line that changes nothing writes nothing, so the same file twice changes nothing the
 * second time. Bad lines are reported with their reasons and the good ones still imported. Admins only.
 */
export const importPeople = async (
  deps: ImportDeps,
  ctx: RequestContext,
  rows: ReadonlyArray<ImportRow>,
  options: ImportOptions,
): Promise<E.Either<AppError, ImportReport>> => {
  const refusal = importRefusal(deps, ctx);
  if (refusal !== undefined) return E.left(refusal);
  const counts = { created: 0, updated: 0, unchanged: 0 };
  const bad: BadLine[] = [];
  const seen = { ids: new Map<string, number>(), emails: new Map<string, number>() };
  let done = 0;
  for (const row of rows) {
    const badLine = (errors: ReadonlyArray<FieldError>) =>
      bad.push({ line: row.line, ...(row.id !== undefined ? { id: row.id } : {}), errors });
    if ('errors' in row) badLine(row.errors);
    else {
      const duplicates = duplicateOf(seen, row.line, row);
      const outcome = duplicates.length > 0 ? { errors: duplicates } : await importLine(deps, ctx, row, options.dryRun);
      if (typeof outcome === 'string') counts[outcome] += 1;
      else badLine(outcome.errors);
    }
    done += 1;
    options.onProgress?.(done, rows.length);
  }
  return E.right({ dryRun: options.dryRun, lines: rows.length, ...counts, bad });
};
