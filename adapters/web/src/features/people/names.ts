import { reactive } from 'vue';
import { api } from '../../api/client';

/**
 * Names of people by id, for the staff pages (who changed a setting, whom an email went to): each id is looked up in
 * the directory once (`GET /people/{id}`), and shown as its id until then or when the directory has no entry.
 */
const known = reactive(new Map<string, string>());
const asked = new Set<string>();

export const nameOf = (id: string): string => known.get(id) ?? id;

export const learnName = (id: string, name: string): void => {
  known.set(id, name);
  asked.add(id);
};

export const lookUpNames = async (ids: Iterable<string>): Promise<void> => {
  const wanted = [...new Set(ids)].filter((id) => !asked.has(id) && id !== '' && id !== 'unknown');
  for (const id of wanted) asked.add(id);
  await Promise.all(
    wanted.map(async (id) => {
      const { data } = await api.GET('/people/{id}', { params: { path: { id } } });
      if (data !== undefined) known.set(id, data.name);
    }),
  );
};

/** A fresh key for a POST that may be retried (the server answers a repeat with the first answer). */
export const idempotencyKey = (): string => crypto.randomUUID();
