import { expect } from 'vitest';
import { devClient } from '../../support/web.ts';

/** Data for the audit and history tests, made through the HTTP API as the app would make it (as `devClient`). */
export { devClient };

const hour = 3_600_000;
/** A whole hour `days` from now (UTC), so sessions of different tests never overlap. */
export const slot = (days: number, hours = 0, length = 1): { start: string; end: string } => {
  const start = Math.ceil(Date.now() / hour) * hour + days * 24 * hour + hours * hour;
  return { start: new Date(start).toISOString(), end: new Date(start + length * hour).toISOString() };
};

/** A session of Ivan and a member (Cora unless said) that was scheduled, retitled, moved and cancelled (with a reason) by Ivan. */
export const aChangedMeeting = async (
  url: string,
  days: number,
  title = 'Strength basics',
  customerId = 'customer-1',
): Promise<{ id: string; first: { start: string; end: string }; moved: { start: string; end: string } }> => {
  const ivan = await devClient(url, 'instructor-1');
  const first = slot(days);
  const created = await ivan.request('POST', '/meetings', {
    title,
    customerId,
    instructorId: 'instructor-1',
    ...first,
    trainingType: '1-1',
    timezone: 'America/Chicago',
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect((await ivan.request('PATCH', `/meetings/${id}`, { title: `${title} II` })).status).toBe(200);
  const moved = slot(days + 1, 2);
  expect((await ivan.request('PATCH', `/meetings/${id}`, moved)).status).toBe(200);
  expect((await ivan.request('POST', `/meetings/${id}/cancel`, { reason: 'Knee injury' })).status).toBe(200);
  return { id, first, moved };
};
