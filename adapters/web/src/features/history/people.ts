import { reactive } from 'vue';
import { api } from '../../api/client';
import { session } from '../../session';
import type { Role } from '../../session';

/**
 * Names of the people who did things, looked up in the directory where the viewer may read it (admins and auditors
 * read `GET /people/:id`; everyone reads themselves) and kept for the page's life. Others are named by their role.
 */
const names = reactive(new Map<string, string | null>());
const pending = new Map<string, Promise<void>>();
let owner: string | undefined;

const mayReadDirectory = (): boolean => session.hasRole('admin', 'auditor');

/** Starts looking these ids up (once each); `nameOf` answers once they are known. */
export const resolveNames = (ids: Iterable<string>): Promise<void> => {
  const waits: Array<Promise<void>> = [];
  // Names one person could read are not kept for whoever signs in next in this tab.
  if (owner !== session.state.person?.id) {
    names.clear();
    owner = session.state.person?.id;
  }
  for (const id of ids) {
    if (names.has(id)) continue;
    const me = session.state.person;
    if (me !== undefined && me.id === id) {
      names.set(id, me.name);
      continue;
    }
    if (!mayReadDirectory()) {
      names.set(id, null);
      continue;
    }
    let wait = pending.get(id);
    if (wait === undefined) {
      wait = api
        .GET('/people/{id}', { params: { path: { id } } })
        .then(({ data }) => {
          names.set(id, data?.name ?? null);
        })
        .catch(() => {
          names.set(id, null);
        })
        .finally(() => pending.delete(id));
      pending.set(id, wait);
    }
    waits.push(wait);
  }
  return Promise.all(waits).then(() => undefined);
};

/** The person's name when the directory gave it, else undefined (the caller names them by role). */
export const nameOf = (id: string): string | undefined => names.get(id) ?? undefined;

/** The most telling role of an actor, for naming someone whose name the viewer may not read. */
export const leadRole = (roles: ReadonlyArray<Role>): Role | undefined =>
  (['admin', 'instructor', 'customer', 'auditor'] as const).find((r) => roles.includes(r));
