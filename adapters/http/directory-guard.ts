import type { MeetingQueries } from '../../application/ports/read-models.ts';
import type { GateStep } from './kit/pipeline.ts';
import { problem } from './kit/problem.ts';

const READS = new Set(['GET', 'HEAD']);

/**
 * After bearer auth: a caller the directory knows as deactivated is refused everywhere (401, as a token that no
 * longer counts; a machine token whose `sub` the directory does not know is not concerned), and a caller whose roles
 * are only `auditor` reads but never writes (403 on every other method). The people read model remembers each
 * person until their next event, so a deactivation holds from the first request after it is projected.
 */
export const directoryGuard = (directory: Pick<MeetingQueries, 'personActive'>): GateStep => {
  return (c) => {
    const user = c.get('user');
    if (directory.personActive(user.id) === false) {
      c.header('WWW-Authenticate', 'Bearer error="invalid_token", error_description="the account is deactivated"');
      return problem(c, 401, 'Unauthorized', 'the account is deactivated');
    }
    if (!READS.has(c.req.method) && user.roles.length > 0 && user.roles.every((role) => role === 'auditor'))
      return problem(c, 403, 'Forbidden', 'an auditor reads and changes nothing');
    return undefined;
  };
};
