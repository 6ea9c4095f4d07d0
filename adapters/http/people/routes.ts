import { Hono } from 'hono';
import type { Service } from '../../../application/service.ts';
import { pathId, requestContext as ctx } from '../kit/context.ts';
import type { Env } from '../kit/context.ts';
import { answer } from '../kit/problem.ts';
import { write } from '../kit/versioned.ts';
import { PersonBody } from './shapes.ts';

/** `/people/:id`: the people directory (who can be booked, and where their mail goes). */
export const peopleRoutes = (service: Service): Hono<Env> => {
  const routes = new Hono<Env>();
  routes.put(
    '/people/:id',
    write(PersonBody, false, async (c, body) => answer(c, await service.upsertPerson(ctx(c), pathId(c), body))),
  );
  routes.get('/people/:id', async (c) => answer(c, await service.getPerson(ctx(c), pathId(c))));
  return routes;
};
