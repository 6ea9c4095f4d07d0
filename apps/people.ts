/**
 * `npm run person -- --id ID --name NAME --email EMAIL [--roles admin,instructor] [--timezone Z] [--language L]
 * [--inactive | --active]`: records a person in the directory through the application's executor, as
 * `PUT /people/:id` does (the same rules; one address per person), against the embedded store in DATA_DIR (a
 * running server may keep running: the SQLite store takes several processes) or KurrentDB when
 * KURRENTDB_CONNECTION_STRING is set. This is how the first admin of a fresh site gets into the directory.
 * Left out, `--roles` and the active flag stay as they are (a new person: no roles, active).
 */
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { upsertPerson } from '../application/people.ts';
import type { FieldError } from '../domain/shared.ts';
import { PersonBody } from '../adapters/http/people/shapes.ts';
import type { PersonInput } from '../adapters/http/people/shapes.ts';
import { decodeBody } from '../adapters/http/validation.ts';
import { loadConfig } from './config.ts';
import { UsageError, runCli } from './cli.ts';
import { describeError, openDirectoryWriter } from './directory-writer.ts';

const USAGE =
  'usage: npm run person -- --id ID --name NAME --email EMAIL [--roles admin,instructor,customer,auditor] ' +
  '[--timezone ZONE] [--language TAG] [--inactive | --active]';

/** The person the arguments describe, as `PUT /people/:id` would take it, or the field errors. */
export const personFromArgs = (
  args: ReadonlyArray<string>,
): E.Either<FieldError[], { id: string; body: PersonInput }> => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        id: { type: 'string' },
        name: { type: 'string' },
        email: { type: 'string' },
        roles: { type: 'string' },
        timezone: { type: 'string' },
        language: { type: 'string' },
        inactive: { type: 'boolean' },
        active: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  const errors: FieldError[] = [];
  if (v.id === undefined) errors.push({ path: 'id', message: 'is required (--id)' });
  if (v.inactive === true && v.active === true)
    errors.push({ path: 'active', message: 'give --inactive or --active, not both' });
  const body: Record<string, unknown> = {
    ...(v.name !== undefined ? { name: v.name } : {}),
    ...(v.email !== undefined ? { email: v.email } : {}),
    ...(v.timezone !== undefined ? { timezone: v.timezone } : {}),
    ...(v.language !== undefined ? { language: v.language } : {}),
    // `--roles ''` takes every role away.
    ...(v.roles !== undefined
      ? {
          roles: v.roles
            .split(',')
            .map((r) => r.trim())
            .filter((r) => r.length > 0),
        }
      : {}),
    ...(v.inactive === true ? { active: false } : v.active === true ? { active: true } : {}),
  };
  const decoded = decodeBody(PersonBody, body);
  if (E.isLeft(decoded)) errors.push(...decoded.left);
  return errors.length > 0 || v.id === undefined || E.isLeft(decoded)
    ? E.left(errors)
    : E.right({ id: v.id, body: decoded.right });
};

const main = async (): Promise<number> => {
  const input = personFromArgs(process.argv.slice(2));
  if (E.isLeft(input)) {
    for (const e of input.left) process.stderr.write(`${e.path}: ${e.message}\n`);
    return 1;
  }
  const writer = await openDirectoryWriter(loadConfig(), 'people-cli');
  try {
    const result = await upsertPerson(writer.deps, writer.ctx, input.right.id, input.right.body);
    if (E.isLeft(result)) {
      for (const line of describeError(result.left)) process.stderr.write(`${line}\n`);
      return 1;
    }
    process.stdout.write(`${JSON.stringify(result.right)}\n`);
    return 0;
  } finally {
    await writer.close();
  }
};

runCli(main, USAGE, 1);
