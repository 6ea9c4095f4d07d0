import * as E from 'fp-ts/lib/Either.js';
import { PersonEvent } from '../domain/person.ts';
import { personStreamPrefix } from '../domain/person.ts';
import { scheduleStreamPrefix } from '../domain/schedule.ts';
import type { RevocationReason } from '../domain/session.ts';
import { decodeRecorded } from './decode.ts';
import { LogFollower } from './log-follower.ts';
import type { LogFollowerDeps } from './log-follower.ts';
import type { RecordedEvent } from './ports/event-store.ts';
import type { Sessions } from './sessions.ts';

export interface SessionRevocationDeps extends LogFollowerDeps {
  readonly sessions: Pick<Sessions, 'revokeAllOf'>;
}

const reasons: Partial<Record<string, RevocationReason>> = {
  PersonDeactivated: 'deactivated',
  PersonRolesChanged: 'roles-changed',
};

/**
 * Ends every session of a person who is deactivated or whose roles change: their access tokens carry the roles of
 * the sign-in, so from then on they are refused (by `sid`) and the person signs in again with the new roles. It
 * follows the log from its own checkpoint, so a restart or a second node revokes again, which changes nothing.
 */
export class SessionRevocationReaction extends LogFollower {
  constructor(private readonly deps: SessionRevocationDeps) {
    super(deps, 'session-revocation', 'session revocation paused; resuming from the checkpoint');
  }

  // Only people's events matter; the two schedule events of every booking need not even be read.
  protected override ignoredStreamPrefixes(): ReadonlyArray<string> {
    return [scheduleStreamPrefix];
  }

  protected async handle(recorded: RecordedEvent): Promise<void> {
    const reason = recorded.streamName.startsWith(personStreamPrefix) ? reasons[recorded.type] : undefined;
    if (reason === undefined) {
      this.advance(recorded.position, false);
      return;
    }
    const decoded = decodeRecorded(PersonEvent, recorded);
    if (E.isLeft(decoded)) throw new Error(decoded.left.message);
    const event = decoded.right;
    if (event.type !== 'PersonDeactivated' && event.type !== 'PersonRolesChanged') return;
    const revoked = await this.deps.sessions.revokeAllOf(event.data.personId, reason);
    if (E.isLeft(revoked))
      throw new Error(`cannot revoke the sessions of ${event.data.personId}: ${revoked.left._tag}`);
    if (revoked.right > 0)
      this.deps.log.info({ personId: event.data.personId, reason, sessions: revoked.right }, 'sessions revoked');
    this.recovered();
    this.advance(recorded.position, true);
  }
}
