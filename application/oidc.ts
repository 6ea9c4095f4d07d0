import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { Role } from '../domain/shared.ts';
import type { Actor } from '../domain/shared.ts';
import type { IdentityRefusalReason } from '../domain/identity.ts';
import { identities } from './aggregates.ts';
import type { Recorder } from './execute.ts';
import type { MeetingQueries, PersonView } from './ports/read-models.ts';

/**
 * Who a person signing in through the OpenID provider is: the person their identity (issuer and `sub`) is linked to,
 * else the one person whose address the provider vouches for (`email_verified`), who is then linked. Nobody is
 * created: a provider's account without a person in the directory is refused, and so is a deactivated person.
 */

/** The claims of a validated ID token or access token, as far as they matter here. */
export interface IdentityClaims {
  readonly sub: string;
  readonly [claim: string]: unknown;
}

export interface IdentityDeps {
  readonly recorder: Pick<Recorder, 'record' | 'load'>;
  readonly queries: Pick<MeetingQueries, 'getPerson' | 'personByEmail'>;
  readonly clock: () => Date;
  readonly issuer: string;
  /** The claim roles come from (`roles`, or a dotted path such as `realm_access.roles`); unset: the directory's. */
  readonly rolesClaim?: string;
}

export interface Identified {
  readonly person: PersonView;
  readonly roles: ReadonlyArray<Role>;
  /** The roles are the provider's (its roles claim), not the directory's: a session keeps them. */
  readonly rolesFromClaim: boolean;
  /** The identity was linked to the person just now (matched by verified email). */
  readonly linked: boolean;
}

export interface IdentityRefusal {
  readonly reason: IdentityRefusalReason;
  readonly message: string;
}

const REFUSALS: Record<IdentityRefusalReason, string> = {
  'no-matching-person': 'no account here belongs to this sign-in; ask an administrator to add you',
  'person-deactivated': 'the account is deactivated',
  'no-roles': 'the account has no role here; ask an administrator for one',
};

/** The identity's stream key: issuer and subject may hold any characters, a digest holds none that matter. */
export const identityKey = (issuer: string, subject: string): string =>
  createHash('sha256').update(`${issuer}\n${subject}`).digest('hex');

const OIDC_ACTOR: Actor = { id: 'oidc', roles: [] };

/** The claim by exact name, else by dotted path (claim names may themselves hold dots, as URLs do). */
const claimAt = (claims: IdentityClaims, name: string): unknown => {
  if (name in claims) return claims[name];
  return name.split('.').reduce<unknown>((value, key) => {
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }, claims);
};

/** An array of strings or one space-separated string; only the roles this product knows are kept. */
export const rolesFromClaim = (value: unknown): ReadonlyArray<Role> => {
  const names = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/\s+/) : [];
  return [...new Set(names.filter((name): name is Role => Role.is(name)))];
};

/** Some providers send `email_verified` as the string "true". */
const verifiedEmail = (claims: IdentityClaims): string | undefined => {
  const verified = claims.email_verified === true || claims.email_verified === 'true';
  return verified && typeof claims.email === 'string' && claims.email.length <= 254 ? claims.email : undefined;
};

/** Links found, kept: a link never changes once made (domain/identity.ts), and bearer requests ask on every call. */
const LINK_CACHE_LIMIT = 10_000;

export const createIdentities = (deps: IdentityDeps) => {
  const links = new Map<string, string>();
  const linkedPerson = async (subject: string): Promise<string | undefined> => {
    const cached = links.get(subject);
    if (cached !== undefined) return cached;
    const loaded = await deps.recorder.load(identities, identityKey(deps.issuer, subject));
    if (E.isLeft(loaded)) throw new Error(`the identity stream cannot be read: ${loaded.left._tag}`);
    const state = loaded.right.state;
    if (state.status !== 'linked') return undefined;
    if (links.size >= LINK_CACHE_LIMIT) links.delete(links.keys().next().value as string);
    links.set(subject, state.personId);
    return state.personId;
  };

  const refuse = async (
    claims: IdentityClaims,
    reason: IdentityRefusalReason,
    record: boolean,
    personId?: string,
  ): Promise<E.Either<IdentityRefusal, Identified>> => {
    if (record) {
      await deps.recorder.record(identities, identityKey(deps.issuer, claims.sub), {
        type: 'RecordSignInFailure',
        data: {
          issuer: deps.issuer,
          subject: claims.sub,
          reason,
          ...(personId !== undefined ? { personId } : {}),
          at: deps.clock().toISOString(),
          by: OIDC_ACTOR,
        },
      });
    }
    return E.left({ reason, message: REFUSALS[reason] });
  };

  /**
   * The person and roles for these validated claims. `signIn`: a sign-in (the callback), which links an identity
   * matched by email and records refusals; a bearer token only reads, so a request never writes.
   */
  const identify = async (claims: IdentityClaims, signIn: boolean): Promise<E.Either<IdentityRefusal, Identified>> => {
    const linkedId = await linkedPerson(claims.sub);
    const email = linkedId === undefined ? verifiedEmail(claims) : undefined;
    const person =
      linkedId !== undefined
        ? deps.queries.getPerson(linkedId)
        : email !== undefined
          ? deps.queries.personByEmail(email)
          : undefined;
    if (person === undefined) return refuse(claims, 'no-matching-person', signIn);
    if (!person.active) return refuse(claims, 'person-deactivated', signIn, person.id);
    const roles =
      deps.rolesClaim !== undefined ? rolesFromClaim(claimAt(claims, deps.rolesClaim)) : [...new Set(person.roles)];
    if (roles.length === 0) return refuse(claims, 'no-roles', signIn, person.id);
    const linked = linkedId === undefined && signIn;
    if (linked) {
      const result = await deps.recorder.record(identities, identityKey(deps.issuer, claims.sub), {
        type: 'LinkIdentity',
        data: {
          issuer: deps.issuer,
          subject: claims.sub,
          personId: person.id,
          at: deps.clock().toISOString(),
          by: { id: person.id, roles },
        },
      });
      if (E.isLeft(result)) throw new Error(`the identity could not be linked: ${result.left._tag}`);
    }
    return E.right({ person, roles, rolesFromClaim: deps.rolesClaim !== undefined, linked });
  };

  return { identify };
};

export type Identities = ReturnType<typeof createIdentities>;
