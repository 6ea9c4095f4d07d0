import * as E from 'fp-ts/lib/Either.js';
import { initialState } from '../domain/person.ts';
import type { PersonCommand, PersonCrm, PersonEvent, PersonState } from '../domain/person.ts';
import type { Actor, FieldError, Role } from '../domain/shared.ts';
import { people } from './aggregates.ts';
import type { AppError, Executor, RequestContext } from './execute.ts';
import { isAdmin, readsAll } from './ports/access.ts';
import type { MeetingQueries, PeopleCursor, PeopleQuery, PersonView } from './ports/read-models.ts';

export interface PeopleDeps {
  readonly readModels: Pick<MeetingQueries, 'getPerson' | 'peopleWithEmail' | 'listPeople' | 'personActive'>;
  readonly executor: Pick<Executor, 'execute' | 'stamp'>;
}

/** What a client gives for a person: today's fields, and optionally roles, the active flag and a language. */
export interface PersonInput {
  readonly name: string;
  readonly email: string;
  readonly timezone?: string;
  readonly language?: string;
  readonly roles?: ReadonlyArray<Role>;
  readonly active?: boolean;
  /** Given, it replaces the CRM record (`{}` clears it); left out, it stays. */
  readonly crm?: PersonCrm;
}

/** `GET /me`: who the token says the caller is, and what the directory knows of them. */
export interface Me {
  readonly id: string;
  readonly roles: ReadonlyArray<Role>;
  readonly inDirectory: boolean;
  readonly name?: string;
  readonly email?: string;
  readonly timezone?: string;
  readonly language?: string;
  readonly active?: boolean;
  readonly scope?: { readonly meetingId: string };
}

const forbidden = (message: string): AppError => ({ _tag: 'Forbidden', message });

/**
 * One write per address at a time in this process, held until the read model shows it (the executor waits), so two
 * requests giving one new address to two people cannot both find it free.
 */
const addressLocks = new Map<string, Promise<unknown>>();
const withAddressLock = async <A>(email: string, work: () => Promise<A>): Promise<A> => {
  const key = email.trim().toLowerCase();
  const previous = addressLocks.get(key) ?? Promise.resolve();
  const current = previous.then(work, work);
  const tail = current.catch(() => undefined);
  addressLocks.set(key, tail);
  try {
    return await current;
  } finally {
    if (addressLocks.get(key) === tail) addressLocks.delete(key);
  }
};

/** A person's own roles and active flag are set by someone else: the events say what this request would change. */
export const selfChange = (
  ctx: RequestContext,
  personId: string,
  decided: ReadonlyArray<PersonEvent>,
): AppError | undefined => {
  if (ctx.user.id !== personId) return undefined;
  if (decided.some((e) => e.type === 'PersonRolesChanged')) return forbidden('you may not change your own `roles`');
  if (decided.some((e) => e.type === 'PersonDeactivated' || e.type === 'PersonReactivated'))
    return forbidden('you may not change your own `active`');
  return undefined;
};

/** The decider's state of a person as the directory shows them (`none` when it does not know them). */
export const personStateOf = (view: PersonView | undefined): PersonState =>
  view === undefined
    ? initialState()
    : {
        status: 'known',
        id: view.id,
        name: view.name,
        email: view.email,
        ...(view.timezone !== undefined ? { timezone: view.timezone } : {}),
        ...(view.language !== undefined ? { language: view.language } : {}),
        ...(view.crm !== undefined ? { crm: view.crm } : {}),
        roles: view.roles,
        active: view.active,
      };

/** The person command an input makes (as `PUT /people/:id` records it). */
export const recordPersonCommand = (
  personId: string,
  input: PersonInput,
  stamp: { readonly at: string; readonly by: Actor },
): PersonCommand => {
  const { roles, ...rest } = input;
  return {
    type: 'RecordPerson',
    data: { personId, ...rest, ...(roles !== undefined ? { roles: [...roles] } : {}), ...stamp },
  };
};

export const addressTaken = (
  deps: Pick<PeopleDeps, 'readModels'>,
  personId: string,
  email: string,
): AppError | undefined =>
  deps.readModels.peopleWithEmail(email).some((id) => id !== personId)
    ? { _tag: 'Conflict', message: '`email`: another person in the directory already has this address' }
    : undefined;

export const upsertPerson = async (
  deps: PeopleDeps,
  ctx: RequestContext,
  personId: string,
  input: PersonInput,
): Promise<E.Either<AppError, PersonView>> => {
  if (!isAdmin(ctx.user)) return E.left(forbidden('only admins may change the people directory'));
  const command = recordPersonCommand(personId, input, deps.executor.stamp(ctx));
  return withAddressLock(input.email, async () => {
    const result = await deps.executor.execute(ctx, people, personId, [command], {
      check: async (decided) =>
        selfChange(ctx, personId, decided) ??
        (decided.some((e) => e.type === 'PersonRegistered' || e.type === 'PersonUpdated')
          ? addressTaken(deps, personId, input.email)
          : undefined),
    });
    if (E.isLeft(result)) return result;
    return found(deps.readModels.getPerson(personId));
  });
};

/** A person's entry without the CRM record: what anyone but an admin or auditor may be shown. */
export const withoutCrm = (view: PersonView): PersonView => {
  const { crm: _crm, ...rest } = view;
  return rest;
};

const found = (view: PersonView | undefined): E.Either<AppError, PersonView> =>
  view === undefined ? E.left({ _tag: 'NotFound', message: 'person not found' }) : E.right(view);

export const getPerson = async (
  deps: PeopleDeps,
  ctx: RequestContext,
  personId: string,
): Promise<E.Either<AppError, PersonView>> => {
  if (!readsAll(ctx.user) && ctx.user.id !== personId)
    return E.left(forbidden('you may read only your own entry in the people directory'));
  const view = deps.readModels.getPerson(personId);
  // The CRM record is the site's: a person reading their own entry does not see it.
  return found(view !== undefined && !readsAll(ctx.user) ? withoutCrm(view) : view);
};

export const listPeople = async (
  deps: PeopleDeps,
  ctx: RequestContext,
  query: PeopleQuery,
): Promise<E.Either<AppError, { items: ReadonlyArray<PersonView>; next?: PeopleCursor }>> => {
  if (!readsAll(ctx.user)) return E.left(forbidden('only admins and auditors may list the people directory'));
  return E.right(deps.readModels.listPeople(query));
};

/** One entry of the name look-up: only what every booking form may show (no address, no roles). */
export interface PersonName {
  readonly id: string;
  readonly name: string;
  readonly timezone?: string;
}

export interface NameLookup {
  /** A prefix of the name, any case. */
  readonly query?: string;
  readonly role?: Role;
  readonly limit: number;
}

/** Pages of the directory a look-up reads at most: a prefix that matches many addresses but few names stays cheap. */
const LOOKUP_PAGES = 3;
const LOOKUP_PAGE = 200;

/**
 * `GET /directory/names`: active people whose name begins with the query, for pickers. Admins and auditors look up
 * anyone; instructors look up customers only (whom they book), and see only the id, name and zone.
 */
export const lookupNames = async (
  deps: PeopleDeps,
  ctx: RequestContext,
  lookup: NameLookup,
): Promise<E.Either<AppError, { items: ReadonlyArray<PersonName> }>> => {
  const staff = readsAll(ctx.user);
  if (!staff && !ctx.user.roles.includes('instructor'))
    return E.left(forbidden('only admins, auditors and instructors may look up names'));
  if (!staff && lookup.role !== undefined && lookup.role !== 'customer')
    return E.left(forbidden('instructors may look up customers only'));
  const role = staff ? lookup.role : 'customer';
  const prefix = (lookup.query ?? '').toLowerCase();
  const items: PersonName[] = [];
  let after: PeopleCursor | undefined;
  for (let page = 0; page < LOOKUP_PAGES && items.length < lookup.limit; page++) {
    const query = {
      ...(prefix.length > 0 ? { query: prefix } : {}),
      ...(role !== undefined ? { role } : {}),
      ...(after !== undefined ? { after } : {}),
      active: true,
      limit: LOOKUP_PAGE,
    };
    const found = deps.readModels.listPeople(query);
    // The directory's search also matches addresses: only names count here, so an address is never probed.
    for (const p of found.items)
      if (items.length < lookup.limit && p.name.toLowerCase().startsWith(prefix))
        items.push({ id: p.id, name: p.name, ...(p.timezone !== undefined ? { timezone: p.timezone } : {}) });
    if (found.next === undefined) break;
    after = found.next;
  }
  return E.right({ items });
};

export const me = (deps: PeopleDeps, ctx: RequestContext): Me => {
  const { user } = ctx;
  const entry = deps.readModels.getPerson(user.id);
  const scope = user.scope !== undefined ? { scope: { meetingId: user.scope.meetingId } } : {};
  if (entry === undefined) return { id: user.id, roles: [...user.roles], inDirectory: false, ...scope };
  return {
    id: user.id,
    roles: [...user.roles],
    inDirectory: true,
    name: entry.name,
    email: entry.email,
    ...(entry.timezone !== undefined ? { timezone: entry.timezone } : {}),
    ...(entry.language !== undefined ? { language: entry.language } : {}),
    active: entry.active,
    ...scope,
  };
};

/**
 * A booking's people who are deactivated in the directory: each a field error, worded like an unknown person's.
 * People the directory does not know are the access provider's to answer (`unknownParticipants`).
 */
export const deactivatedParticipants = (
  queries: Pick<MeetingQueries, 'personActive'>,
  draft: { readonly customerId: string; readonly instructorId: string },
): FieldError[] =>
  (['customerId', 'instructorId'] as const)
    .filter((field) => queries.personActive(draft[field]) === false)
    .map((path) => ({ path, message: 'is deactivated in the people directory and cannot be booked' }));
