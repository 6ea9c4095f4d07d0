import { api } from '../../api/client';
import { asProblem } from '../../api/problems';
import type { components } from '../../api/schema';
import { learnName } from '../people/names';

export type CalendarItem = components['schemas']['CalendarItem'];
export interface Trainer {
  readonly id: string;
  readonly name: string;
  readonly active: boolean;
}

/** The most trainers a branch schedule asks about (four pages of the directory). */
const MAX_TRAINERS = 800;

/** Every trainer of the directory, by name (the directory's order), deactivated ones included. */
export const loadTrainers = async (): Promise<Trainer[]> => {
  const trainers: Trainer[] = [];
  let cursor: string | undefined;
  do {
    const { data, error, response } = await api.GET('/people', {
      params: { query: { role: 'instructor', limit: 200, ...(cursor !== undefined ? { cursor } : {}) } },
    });
    if (data === undefined) throw asProblem(error, response.status);
    for (const person of data.items) {
      learnName(person.id, person.name);
      trainers.push({ id: person.id, name: person.name, active: person.active });
    }
    cursor = data.next;
  } while (cursor !== undefined && trainers.length < MAX_TRAINERS);
  return trainers;
};

/** One trainer's sessions in [from, to), as that trainer (the admin and auditors read every calendar). */
export const trainerSessions = async (trainerId: string, from: string, to: string): Promise<CalendarItem[]> => {
  const { data, error, response } = await api.GET('/calendar', {
    params: { query: { from, to, userId: trainerId } },
  });
  if (data === undefined) throw asProblem(error, response.status);
  // A trainer who is also someone's member shows sessions they attend too: the branch schedule shows those they lead.
  return data.items.filter((item) => item.instructorId === trainerId);
};

/** The sessions of these trainers in [from, to), asked for in parallel, earliest first. */
export const branchSessions = async (
  trainerIds: ReadonlyArray<string>,
  from: string,
  to: string,
): Promise<CalendarItem[]> => {
  const all = await Promise.all(trainerIds.map((id) => trainerSessions(id, from, to)));
  const seen = new Set<string>();
  return all
    .flat()
    .filter((item) => (seen.has(item.meetingId) ? false : (seen.add(item.meetingId), true)))
    .sort((a, b) => a.start.localeCompare(b.start) || a.meetingId.localeCompare(b.meetingId));
};
