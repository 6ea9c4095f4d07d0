/**
 * An example ACCESS_PROVIDER plugin, as a site would write one (`ACCESS_PROVIDER=./adapters/access/front-desk.ts`):
 * the default rules, and two of the site's own on top.
 *
 * - The front desk: a person whose directory entry carries the CRM field `staff role` = `front-desk` (set by
 *   `npm run import` from the CRM's export, or `PUT /people/:id`) sees every session and every calendar, as an
 *   auditor does. What they may change stays what the default allows their roles.
 * - Blocked members: the ids in the file FRONT_DESK_BLOCKED_FILE (one a line, `#` starts a comment), as the CRM
 *   exports its list of suspended members, see no session and no calendar (not even their own), book nothing, and
 *   cannot be booked. Admins are never blocked, so a wrong list cannot lock the site out. The file is read at start
 *   (a missing file stops the server) and again whenever it changes; if it later cannot be read, the last list read
 *   stays in force and the log says so.
 *
 * It lives among the adapters because that is what it is: an implementation of the application's AccessProvider
 * port, importing only the port's types (the layer rule lets adapters do that and nothing above them).
 */
import { readFileSync, statSync } from 'node:fs';
import type { AccessPluginContext, AccessProviderFactory } from '../../application/access-plugin.ts';
import type { AccessProvider, AuthUser } from '../../application/ports/access.ts';

export const FRONT_DESK_FIELD = 'staff role';
export const FRONT_DESK_VALUE = 'front-desk';

const parseList = (text: string): Set<string> =>
  new Set(
    text
      .split(/\r\n|\n|\r/)
      .map((line) => line.replace(/#.*$/, '').trim())
      .filter((line) => line.length > 0),
  );

/** The blocked ids, read again when the file's modification time or size changes. */
const blockedList = (path: string | undefined, log: AccessPluginContext['log']): (() => ReadonlySet<string>) => {
  if (path === undefined) return () => new Set();
  const stamp = () => {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}`;
  };
  let seen = stamp();
  let list = parseList(readFileSync(path, 'utf8'));
  let warned = false;
  return () => {
    try {
      const now = stamp();
      if (now !== seen) {
        list = parseList(readFileSync(path, 'utf8'));
        seen = now;
        warned = false;
      }
    } catch (error) {
      if (!warned) log.warn({ path, err: String(error) }, 'blocked members file unreadable: keeping the last list');
      warned = true;
    }
    return list;
  };
};

export const createFrontDeskProvider = (
  context: AccessPluginContext,
  blockedFile: string | undefined = process.env.FRONT_DESK_BLOCKED_FILE?.trim() || undefined,
): AccessProvider => {
  const base = context.defaultProvider;
  const blocked = blockedList(blockedFile, context.log);
  /** A user by their token's roles; a person to be booked by their directory entry's. */
  const isBlocked = (who: AuthUser | string): boolean => {
    const id = typeof who === 'string' ? who : who.id;
    if (!blocked().has(id)) return false;
    const roles = typeof who === 'string' ? (context.queries.getPerson(id)?.roles ?? []) : who.roles;
    return !roles.includes('admin');
  };
  const atFrontDesk = (user: AuthUser): boolean =>
    user.scope === undefined &&
    context.queries.getPerson(user.id)?.crm?.fields?.[FRONT_DESK_FIELD] === FRONT_DESK_VALUE;
  const canView: AccessProvider['canView'] = async (user, meeting) =>
    !isBlocked(user) && (atFrontDesk(user) || (await base.canView(user, meeting)));
  return {
    name: 'front-desk',
    // The blocked list is outside the event log: answers may change without an event.
    deterministic: false,
    canView,
    canModify: async (user, meeting) => !isBlocked(user) && (await base.canModify(user, meeting)),
    canCreate: async (user, draft) =>
      !isBlocked(user) && !isBlocked(draft.customerId) && (await base.canCreate(user, draft)),
    canReadCalendarOf: async (user, userId) =>
      !isBlocked(user) && (atFrontDesk(user) || (await base.canReadCalendarOf(user, userId))),
    filterVisible: async (user, items) => {
      const visible = [];
      for (const item of items) if (await canView(user, item)) visible.push(item);
      return visible;
    },
    userMeetings: (userId, from, to) => base.userMeetings(userId, from, to),
    personExists: async (personId) => !isBlocked(personId) && (await base.personExists(personId)),
  };
};

const factory: AccessProviderFactory = (context) => createFrontDeskProvider(context);
export default factory;
