/**
 * A site's export of its people, CSV or JSON, read into the import's rows (application/people-import.ts). Generous
 * with the file (a byte order mark, CRLF or CR line ends, quoted values, `;` or tab as the separator, column names
 * in any case with spaces, `_` or `-`), strict with the values: each person is decoded with `PUT /people/:id`'s
 * codec, so the same rules hold, and each line that breaks one is a bad line with its reasons, never the whole file.
 */
import { parse } from 'csv-parse/sync';
import * as E from 'fp-ts/lib/Either.js';
import type { ImportRow } from '../../application/people-import.ts';
import { CRM_KEY_PATTERN, MAX_CRM_KEY_LENGTH } from '../../domain/person.ts';
import type { FieldError } from '../../domain/shared.ts';
import { PeopleImportItem, PersonBody } from '../http/people/shapes.ts';
import { decodeBody } from '../http/validation.ts';

export type ImportFormat = 'csv' | 'json';

/** A file that cannot be read at all (no header, a required column missing, not JSON): why, in one sentence. */
export interface FileProblem {
  readonly message: string;
}

/** The columns the directory knows, by their folded names (`Time Zone`, `time_zone` and `TIMEZONE` are one). */
const KNOWN_COLUMNS: Readonly<Record<string, string>> = {
  id: 'id',
  personid: 'id',
  name: 'name',
  fullname: 'name',
  displayname: 'name',
  email: 'email',
  emailaddress: 'email',
  mail: 'email',
  timezone: 'timezone',
  tz: 'timezone',
  zone: 'timezone',
  language: 'language',
  lang: 'language',
  locale: 'language',
  roles: 'roles',
  role: 'roles',
  active: 'active',
  externalid: 'externalId',
  crmid: 'externalId',
};
const REQUIRED_COLUMNS = ['id', 'name', 'email'] as const;

const fold = (header: string): string =>
  header
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '');

const crmKey = new RegExp(CRM_KEY_PATTERN);
/** Any other column is a CRM field, named by its header with what a field name may not hold made `_`. */
const crmFieldName = (header: string): string =>
  header
    .trim()
    .replace(/[^A-Za-z0-9 _.-]+/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, MAX_CRM_KEY_LENGTH);

type Column = { readonly kind: 'known'; readonly field: string } | { readonly kind: 'crm'; readonly key: string };

const TRUE = new Set(['true', 'yes', 'y', '1', 'active']);
const FALSE = new Set(['false', 'no', 'n', '0', 'inactive']);

/** The separator the header line uses: `,` unless it has more `;` or tabs (a spreadsheet in another locale). */
const delimiterOf = (header: string): string => {
  const count = (ch: string) => header.split(ch).length - 1;
  const [best] = [',', ';', '\t'].sort((a, b) => count(b) - count(a));
  return best !== undefined && count(best) > 0 ? best : ',';
};

const csvReason = (error: unknown): string => {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted value is not closed (a value may not span lines)';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'a quote in the middle of a value (quote the whole value and double the quotes in it)';
    default:
      return 'is not a CSV line';
  }
};

const cells = (line: string, delimiter: string): E.Either<string, string[]> => {
  try {
    const records = parse(line, { delimiter, relax_column_count: true, trim: true }) as string[][];
    return E.right(records[0] ?? []);
  } catch (error) {
    return E.left(csvReason(error));
  }
};

const columnsOf = (headers: ReadonlyArray<string>): E.Either<FileProblem, Column[]> => {
  const columns: Column[] = [];
  const taken = new Set<string>();
  for (const header of headers) {
    const known = KNOWN_COLUMNS[fold(header)];
    const column: Column | undefined =
      known !== undefined ? { kind: 'known', field: known } : { kind: 'crm', key: crmFieldName(header) };
    const name = column.kind === 'known' ? column.field : `crm:${column.key}`;
    if (column.kind === 'crm' && !crmKey.test(column.key))
      return E.left({ message: `the column '${header.slice(0, 80)}' has no name a CRM field can take` });
    if (taken.has(name)) return E.left({ message: `the column '${header.slice(0, 80)}' appears twice in the header` });
    taken.add(name);
    columns.push(column);
  }
  const missing = REQUIRED_COLUMNS.filter((field) => !taken.has(field));
  if (missing.length > 0) return E.left({ message: `the header has no ${missing.join(', ')} column` });
  return E.right(columns);
};

/**
 * One line's values as `PUT /people/:id`'s body (an empty cell: not given, so the import keeps what the directory has;
 * see mergeLine in application/people-import.ts), and the errors of those that are not.
 */
const bodyOf = (columns: ReadonlyArray<Column>, values: ReadonlyArray<string>) => {
  const body: Record<string, unknown> = {};
  const fields: Record<string, string> = {};
  const errors: FieldError[] = [];
  let id: string | undefined;
  let crm = false;
  columns.forEach((column, i) => {
    const value = values[i] ?? '';
    if (column.kind === 'crm') {
      crm = true;
      if (value !== '') fields[column.key] = value;
      return;
    }
    if (column.field === 'externalId') crm = true;
    if (column.field === 'id') id = value === '' ? undefined : value;
    else if (column.field === 'name' || column.field === 'email') body[column.field] = value;
    else if (value === '') return;
    else if (column.field === 'roles')
      body.roles = value
        .split(/[;|,]/)
        .map((r) => r.trim().toLowerCase())
        .filter((r) => r.length > 0);
    else if (column.field === 'active') {
      const folded = value.toLowerCase();
      if (TRUE.has(folded) || FALSE.has(folded)) body.active = TRUE.has(folded);
      else errors.push({ path: 'active', message: 'must be true or false (yes/no, 1/0)' });
    } else if (column.field !== 'externalId') body[column.field] = value;
  });
  const externalIndex = columns.findIndex((c) => c.kind === 'known' && c.field === 'externalId');
  const externalId = externalIndex >= 0 ? (values[externalIndex] ?? '') : '';
  if (crm) body.crm = { ...(externalId !== '' ? { externalId } : {}), fields };
  if (id === undefined) errors.push({ path: 'id', message: 'is required' });
  return { id, body, errors };
};

const rowOf = (line: number, id: string | undefined, body: unknown, before: FieldError[]): ImportRow => {
  const decoded = decodeBody(PersonBody, body);
  const errors = [...before, ...(E.isLeft(decoded) ? decoded.left : [])];
  if (errors.length > 0 || id === undefined || E.isLeft(decoded))
    return { line, ...(id !== undefined ? { id } : {}), errors };
  return { line, id, input: decoded.right };
};

/** CSV: a header line, then one person a line (blank lines skipped); `line` is the physical line, from 1. */
export const readCsv = (text: string, maxRows: number): E.Either<FileProblem, ImportRow[]> => {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const headerIndex = lines.findIndex((l) => l.trim().length > 0);
  const headerLine = headerIndex < 0 ? undefined : lines[headerIndex];
  if (headerLine === undefined) return E.left({ message: 'the file is empty: a header line comes first' });
  const delimiter = delimiterOf(headerLine);
  const headers = cells(headerLine, delimiter);
  if (E.isLeft(headers)) return E.left({ message: `the header line: ${headers.left}` });
  const columns = columnsOf(headers.right);
  if (E.isLeft(columns)) return columns;
  const rows: ImportRow[] = [];
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const text = lines[i] ?? '';
    if (text.trim().length === 0) continue;
    if (rows.length >= maxRows) return E.left({ message: `more than ${maxRows} people in one file` });
    const line = i + 1;
    const values = cells(text, delimiter);
    if (E.isLeft(values)) {
      rows.push({ line, errors: [{ path: '(line)', message: values.left }] });
      continue;
    }
    if (values.right.length !== columns.right.length) {
      const message = `has ${values.right.length} values where the header has ${columns.right.length} columns`;
      rows.push({ line, errors: [{ path: '(line)', message }] });
      continue;
    }
    const { id, body, errors } = bodyOf(columns.right, values.right);
    rows.push(rowOf(line, id, body, errors));
  }
  return E.right(rows);
};

/** JSON: an array of people, or `{ "people": [...] }`; each `PUT /people/:id`'s body with its `id`. */
export const readJsonPeople = (text: string, maxRows: number): E.Either<FileProblem, ImportRow[]> => {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return E.left({ message: 'the file is not JSON' });
  }
  const items = Array.isArray(value)
    ? value
    : typeof value === 'object' && value !== null && Array.isArray((value as { people?: unknown }).people)
      ? (value as { people: unknown[] }).people
      : undefined;
  if (items === undefined) return E.left({ message: 'the JSON is neither an array of people nor {"people": [...]}' });
  if (items.length > maxRows) return E.left({ message: `more than ${maxRows} people in one file` });
  return E.right(
    items.map((item, i): ImportRow => {
      const line = i + 1;
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        return { line, errors: [{ path: '(item)', message: 'must be a JSON object' }] };
      const decoded = decodeBody(PeopleImportItem, item);
      const id = (item as { id?: unknown }).id;
      const given = typeof id === 'string' && id.length > 0 ? { id } : {};
      if (E.isLeft(decoded)) return { line, ...given, errors: decoded.left };
      const { id: personId, ...input } = decoded.right;
      return personId.length > 0
        ? { line, id: personId, input }
        : { line, errors: [{ path: 'id', message: 'must not be empty' }] };
    }),
  );
};

/** The format a file name or a first character suggests: `.json`, or text starting with `[` or `{`, is JSON. */
export const guessFormat = (name: string | undefined, text: string): ImportFormat => {
  if (name !== undefined && /\.json$/i.test(name)) return 'json';
  if (name !== undefined && /\.(csv|txt|tsv)$/i.test(name)) return 'csv';
  return /^\uFEFF?\s*[[{]/.test(text) ? 'json' : 'csv';
};

export const readPeopleFile = (
  text: string,
  format: ImportFormat,
  maxRows: number,
): E.Either<FileProblem, ImportRow[]> => (format === 'json' ? readJsonPeople(text, maxRows) : readCsv(text, maxRows));
