import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
/**
 * Request bodies with sensible defaults, for tests that care about a few fields only: a test names what it asserts
 * and leaves the rest to the builder. The defaults are the HTTP API's wire shape (and the service's input, which is
 * the same), between the people most tests register: instructor `ivan` and customer `cora`.
 *
 * Overrides replace fields one by one and may add any field, a wrong one included (input-rule tests send those), so
 * the result's type is the defaults with the overridden fields' own types.
 */

type Built<D, O> = Omit<D, keyof O> & O;

/** What PUT /people/{id} takes. */
export interface PersonBody {
  readonly name: string;
  readonly email: string;
  readonly timezone?: string;
  readonly language?: string;
}

/** One entry of the people directory: an id, with a name, address or zone other than the derived ones. */
export type PersonEntry = string | ({ readonly id: string } & Partial<PersonBody>);

/** The id with a capital first letter as the name, and `<id>@example.com` (the id made address-safe). */
export const aPerson = (id: string, overrides: Partial<PersonBody> = {}): PersonBody => ({
  name: id.replace(/^./, (c) => c.toUpperCase()),
  email: `${id.replace(/[^A-Za-z0-9.-]/g, '-')}@example.com`,
  ...overrides,
});

/** A directory entry's id and PUT /people body. */
export const personOf = (entry: PersonEntry): { readonly id: string; readonly body: PersonBody } => {
  if (typeof entry === 'string') return { id: entry, body: aPerson(entry) };
  const { id, ...overrides } = entry;
  return { id, body: aPerson(id, overrides) };
};

const meetingDefaults = {
  title: 'Strength basics',
  customerId: 'cora',
  instructorId: 'ivan',
  start: '2030-03-02T15:00:00Z',
  end: '2030-03-02T16:00:00Z',
  trainingType: '1-1' as const,
};

/** A POST /meetings body: an hour of Strength basics between ivan and cora on 2030-03-02 at 15:00 UTC. */
export const aMeeting = <O extends Record<string, unknown> = Record<never, never>>(
  overrides: O = {} as O,
): Built<typeof meetingDefaults, O> => ({ ...meetingDefaults, ...overrides });

const seriesDefaults = {
  title: 'Spring strength',
  customerId: 'cora',
  instructorId: 'ivan',
  trainingType: '1-1' as const,
  timezone: 'UTC',
  startDate: '2030-03-04',
  startTime: '10:00',
  durationMinutes: 60,
  rrule: 'FREQ=WEEKLY;COUNT=4',
};

/** A POST /series body: four weekly hours of Spring strength between ivan and cora from Monday 2030-03-04, 10:00 UTC. */
export const aSeriesBody = <O extends Record<string, unknown> = Record<never, never>>(
  overrides: O = {} as O,
): Built<typeof seriesDefaults, O> => ({ ...seriesDefaults, ...overrides });

/**
 * The data of a `MeetingScheduled` event, for tests that write events straight to a store: an hour between ivan and
 * cora in New York's zone from `start`, with empty details; `at`/`by` and any other field come from `overrides`.
 */
export const aMeetingScheduled = (
  meetingId: string,
  start: string,
  overrides: Record<string, unknown> & { at: string; by: unknown },
): Record<string, unknown> => ({
  meetingId,
  title: 'Strength',
  customerId: 'cora',
  instructorId: 'ivan',
  start,
  end: new Date(Date.parse(start) + 3_600_000).toISOString(),
  timezone: 'America/New_York',
  trainingType: '1-1',
  description: '',
  customerMetadata: '',
  instructorMetadata: '',
  ...overrides,
});

/**
 * `PersonRegistered` events as the log hands them to a projection, at the log's next position (`log.position` counts
 * up, shared with whatever else the test records there), for tests that feed read-model sinks directly.
 */
export const recordedPeople =
  (log: { position: number } = { position: 0 }): ((id: string, name?: string) => RecordedEvent) =>
  (id, name = id) => ({
    id: randomUUID(),
    streamName: `person-${id}`,
    revision: 0,
    position: ++log.position,
    type: 'PersonRegistered',
    recordedAt: new Date().toISOString(),
    metadata: {},
    data: {
      personId: id,
      name,
      email: `${id}@example.com`,
      at: new Date().toISOString(),
      by: { id: 'ada', roles: ['admin'] },
    },
  });
