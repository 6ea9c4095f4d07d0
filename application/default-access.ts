import { isAdmin, readsAll } from './ports/access.ts';
import type { AccessProvider, AuthUser } from './ports/access.ts';
import type { MeetingQueries } from './ports/read-models.ts';

/** The contract's rules: admins see and edit all; auditors see all; the instructor sees and edits own; the customer sees own. */
export const defaultAccessProvider = (queries: Pick<MeetingQueries, 'calendar' | 'getPerson'>): AccessProvider => {
  const canView = async (user: AuthUser, m: { customerId: string; instructorId: string }) =>
    readsAll(user) || m.customerId === user.id || m.instructorId === user.id;
  return {
    name: 'default',
    deterministic: true,
    canView,
    canModify: async (user, m) => isAdmin(user) || (user.roles.includes('instructor') && m.instructorId === user.id),
    canCreate: async (user, draft) =>
      isAdmin(user) || (user.roles.includes('instructor') && draft.instructorId === user.id),
    canReadCalendarOf: async (user, userId) => readsAll(user) || user.id === userId,
    filterVisible: async (user, items) => {
      const visible = [];
      for (const item of items) if (await canView(user, item)) visible.push(item);
      return visible;
    },
    userMeetings: async (userId, from, to) => queries.calendar(userId, from, to),
    personExists: async (personId) => queries.getPerson(personId) !== undefined,
  };
};
