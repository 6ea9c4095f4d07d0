import * as E from 'fp-ts/lib/Either.js';
import type { Logger } from 'pino';
import type { EventStore } from '../application/ports/event-store.ts';
import type { RequestContext, Service } from '../application/service.ts';
import { DEFAULT_MAX_TOKEN_TTL_SECONDS, mintToken } from '../adapters/http/auth.ts';

export const demoPeople = [
  { sub: 'admin-1', name: 'Ada Admin', email: 'ada.admin@example.com', roles: ['admin'], timezone: 'America/New_York' },
  {
    sub: 'instructor-1',
    name: 'Ivan Instructor',
    email: 'ivan.instructor@example.com',
    roles: ['instructor'],
    timezone: 'America/New_York',
  },
  {
    sub: 'customer-1',
    name: 'Cora Customer',
    email: 'cora.customer@example.com',
    roles: ['customer'],
    timezone: 'America/Chicago',
  },
  {
    sub: 'customer-2',
    name: 'Cam Customer',
    email: 'cam.customer@example.com',
    roles: ['customer'],
    timezone: 'Europe/London',
  },
  {
    sub: 'auditor-1',
    name: 'Audra Auditor',
    email: 'audra.auditor@example.com',
    roles: ['auditor'],
    timezone: 'Europe/Madrid',
  },
] as const;

export const DEMO_TOKEN_TTL_SECONDS = 24 * 3600;

const at = (base: Date, hours: number): string =>
  new Date(Math.ceil(base.getTime() / 3_600_000) * 3_600_000 + hours * 3_600_000).toISOString();

/** First start in dev mode: demo people and a few meetings, so the API has something to show. */
export const seedDemo = async (
  service: Service,
  store: EventStore,
  secret: Uint8Array,
  clock: () => Date,
  logger: Logger,
  maxTokenTtlSeconds: number = DEFAULT_MAX_TOKEN_TTL_SECONDS,
): Promise<Array<{ name: string; sub: string; roles: string[]; token: string; ttlSeconds: number }>> => {
  if ((await store.headPosition()) === 0) {
    const admin: RequestContext = { user: { id: 'seed', roles: ['admin'] }, correlationId: 'seed' };
    for (const p of demoPeople) {
      // Their roles in the directory too, as their printed tokens give them.
      await service.upsertPerson(admin, p.sub, { name: p.name, email: p.email, timezone: p.timezone, roles: p.roles });
    }
    const now = clock();
    const meetings = [
      {
        title: 'Strength basics',
        customerId: 'customer-1',
        start: at(now, 0),
        end: at(now, 1),
        trainingType: '1-1' as const,
      },
      {
        title: 'Mobility check-in',
        customerId: 'customer-2',
        start: at(now, 24),
        end: at(now, 24.75),
        trainingType: 'link' as const,
        remoteLink: 'https://meet.example.com/mobility',
      },
      {
        title: 'Cardio plan review',
        customerId: 'customer-1',
        start: at(now, 48),
        end: at(now, 49),
        trainingType: '1-1' as const,
      },
    ];
    for (const m of meetings) {
      const result = await service.scheduleMeeting(admin, {
        ...m,
        instructorId: 'instructor-1',
        timezone: 'America/New_York',
        description: 'Demo session',
      });
      if (E.isLeft(result)) logger.warn({ error: result.left }, 'demo meeting not created');
    }
    logger.info('seeded demo people and meetings');
  }
  // As long as the server accepts: 24 hours, or less when AUTH_MAX_TOKEN_TTL_SECONDS says so.
  const ttl = Math.min(DEMO_TOKEN_TTL_SECONDS, maxTokenTtlSeconds);
  const tokens = [];
  for (const p of demoPeople) {
    tokens.push({
      name: p.name,
      sub: p.sub,
      roles: [...p.roles],
      ttlSeconds: ttl,
      token: await mintToken(secret, { sub: p.sub, roles: p.roles, name: p.name, email: p.email }, ttl),
    });
  }
  return tokens;
};
