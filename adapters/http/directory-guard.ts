import type { MeetingQueries } from '../../application/ports/read-models.ts';
import type { GateStep } from './kit/pipeline.ts';
import { problem } from './kit/problem.ts';

const READS = new Set(['GET', 'HEAD']);

/** How many callers' flags are remembered at one directory version (the oldest is forgotten first). */
const REMEMBERED_CALLERS = 10_000;

/**
 * Whether the directory knows a person as active, remembered per directory version when there is one: the version
 * moves with every person event the read models show (and nothing else changes the flag), so a deactivation holds
 * from the first request after it is projected, as it did when the flag was read on every request.
 */
const activeFlags = (
  directory: Pick<MeetingQueries, 'personActive'>,
  version: (() => number) | undefined,
): ((personId: string) => boolean | undefined) => {
  if (version === undefined) return (personId) => directory.personActive(personId);
  let at = -1;
  const flags = new Map<string, boolean | undefined>();
  return (personId) => {
    const current = version();
    if (current !== at) {
      flags.clear();
      at = current;
    }
    if (flags.has(personId)) return flags.get(personId);
    const active = directory.personActive(personId);
    if (flags.size >= REMEMBERED_CALLERS) flags.delete(flags.keys().next().value as string);
    flags.set(personId, active);
    return active;
  };
};

/**
 * After bearer auth: a caller the directory knows as deactivated is refused everywhere (401, as a token that no
 * longer counts; a machine token whose `sub` the directory does not know is not concerned), and a caller whose roles
 * are only `auditor` reads but never writes (403 on every other method). One indexed lookup of a flag per caller and
 * directory version (`version`: the position of the last projected person event; without it, one per request).
 */
export const directoryGuard = (directory: Pick<MeetingQueries, 'personActive'>, version?: () => number): GateStep => {
  const active = activeFlags(directory, version);
  return (c) => {
    const user = c.get('user');
    if (active(user.id) === false) {
      c.header('WWW-Authenticate', 'Bearer error="invalid_token", error_description="the account is deactivated"');
      return problem(c, 401, 'Unauthorized', 'the account is deactivated');
    }
    if (!READS.has(c.req.method) && user.roles.length > 0 && user.roles.every((role) => role === 'auditor'))
      return problem(c, 403, 'Forbidden', 'an auditor reads and changes nothing');
    return undefined;
  };
};
