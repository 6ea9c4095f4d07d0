import * as E from 'fp-ts/lib/Either.js';
import { v7 as uuidv7 } from 'uuid';
import { people } from '../../application/aggregates.ts';
import { createRecorder } from '../../application/execute.ts';
import type { System } from '../../apps/compose.ts';
import type { Role } from '../../domain/shared.ts';

/**
 * Records a person with roles and an active flag straight into the directory (as an admin's PUT /people would), and
 * waits until the read models show it.
 */
export const recordPerson = async (
  system: Pick<System, 'store' | 'projections'>,
  person: { id: string; roles?: Role[]; active?: boolean; email?: string; name?: string },
): Promise<void> => {
  const recorder = createRecorder({ store: system.store, newId: uuidv7 });
  const result = await recorder.record(people, person.id, {
    type: 'RecordPerson',
    data: {
      personId: person.id,
      name: person.name ?? person.id.replace(/^./, (c) => c.toUpperCase()),
      email: person.email ?? `${person.id}@example.com`,
      at: new Date().toISOString(),
      by: { id: 'test-admin', roles: ['admin'] },
      ...(person.roles !== undefined ? { roles: person.roles } : {}),
      ...(person.active !== undefined ? { active: person.active } : {}),
    },
  });
  if (E.isLeft(result)) throw new Error(`cannot record ${person.id}: ${JSON.stringify(result.left)}`);
  await system.projections.waitFor(result.right.position ?? result.right.seenPosition);
};
