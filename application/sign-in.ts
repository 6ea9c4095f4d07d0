import { createHash, randomBytes } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { emailProblem } from '../domain/email.ts';
import type { LinkPurpose, SignInFailureReason } from '../domain/sign-in.ts';
import type { SessionClient } from '../domain/session.ts';
import { idProblem } from '../domain/shared.ts';
import { signIns } from './aggregates.ts';
import { createRecorder } from './execute.ts';
import type { AppError, RequestContext } from './execute.ts';
import { actorOf } from './execute.ts';
import type { Log } from './ports/logger.ts';
import type { Mailer } from './ports/mailer.ts';
import type { EventStore } from './ports/event-store.ts';
import type { MeetingQueries, PersonView } from './ports/read-models.ts';
import { hashCredential, signInErrorOf } from './sessions.ts';
import type { SessionGrant, Sessions } from './sessions.ts';
import { renderSignInEmail } from './sign-in-email.ts';

/**
 * Sign-in by email link. Asking for a link answers at once, the same for every address: who has it, whether they may
 * sign in, and the mail itself are dealt with afterwards, off the request (queued here), so neither the answer nor its
 * timing says whether an address is known. The link carries a single-use code in its fragment (never sent to a
 * server, so never in an access log); only the code's SHA-256 is recorded.
 */

export const DEFAULT_LINK_TTL_SECONDS = 15 * 60;
export const DEFAULT_INVITATION_TTL_SECONDS = 7 * 24 * 3600;
/** Links one address may be sent per window. */
export const DEFAULT_LINKS_PER_ADDRESS = 5;
export const RATE_WINDOW_MS = 15 * 60_000;
/** Requests waiting to be dealt with; beyond this a request is dropped (and logged), never queued without bound. */
const MAX_QUEUED = 1000;
/** Addresses whose recent links are counted; beyond this the oldest windows are forgotten. */
const MAX_COUNTED_ADDRESSES = 10_000;

export interface SignInDeps {
  readonly store: EventStore;
  readonly newId: () => string;
  readonly clock: () => Date;
  readonly queries: Pick<MeetingQueries, 'getPerson' | 'personByEmail'>;
  readonly sessions: Pick<Sessions, 'start'>;
  readonly mailer: Mailer;
  readonly mail: { readonly from: string; readonly siteName: string };
  /** The address people open links at (PUBLIC_BASE_URL). */
  readonly publicBaseUrl: () => string;
  readonly log: Log;
  readonly linkTtlSeconds?: number;
  readonly invitationTtlSeconds?: number;
  readonly linksPerAddress?: number;
}

/** One answer for every code that does not sign anyone in: used, expired, unknown, or its person may not. */
export interface SignInRefused {
  readonly _tag: 'SignInRefused';
  readonly message: string;
}
const refused: SignInRefused = {
  _tag: 'SignInRefused',
  message: 'this sign-in link is not valid (used, expired or unknown); ask for a new one',
};

/** The address as the directory compares it, hashed: what the audit log keeps of an address nobody has. */
export const addressHash = (email: string): string =>
  createHash('sha256').update(email.trim().toLowerCase()).digest('hex');

const CODE_SECRET = /^[A-Za-z0-9_-]{43}$/;
const parseCode = (code: string): { attemptId: string; secret: string } | undefined => {
  if (code.length > 200) return undefined;
  const dot = code.lastIndexOf('.');
  const attemptId = code.slice(0, dot);
  const secret = code.slice(dot + 1);
  return dot > 0 && idProblem(attemptId) === undefined && CODE_SECRET.test(secret) ? { attemptId, secret } : undefined;
};

/** Counts per key in fixed windows of the injected clock; bounded (the oldest keys are forgotten first). */
const windowCounter = (limit: number, clock: () => Date) => {
  const windows = new Map<string, { start: number; count: number }>();
  return (key: string): boolean => {
    const now = clock().getTime();
    const current = windows.get(key);
    if (current === undefined || now - current.start >= RATE_WINDOW_MS) {
      windows.delete(key);
      if (windows.size >= MAX_COUNTED_ADDRESSES) windows.delete(windows.keys().next().value as string);
      windows.set(key, { start: now, count: 1 });
      return true;
    }
    current.count += 1;
    return current.count <= limit;
  };
};

const mayHaveSession = (person: PersonView): boolean => person.active && person.roles.length > 0;

/** Work done one job at a time after the request that asked for it was answered; bounded. */
const backgroundQueue = (log: Log) => {
  const queue: Array<() => Promise<void>> = [];
  let draining: Promise<void> | undefined;
  const drain = async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      try {
        await job();
      } catch (error) {
        log.error({ err: error }, 'sign-in request failed');
      }
    }
    draining = undefined;
  };
  return {
    push(job: () => Promise<void>): void {
      if (queue.length >= MAX_QUEUED) {
        log.warn({ queued: queue.length }, 'sign-in request dropped: too many waiting');
        return;
      }
      queue.push(job);
      draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(drain);
    },
    idle: async (): Promise<void> => {
      while (draining !== undefined) await draining;
    },
  };
};

export const createSignIn = (deps: SignInDeps) => {
  const recorder = createRecorder(deps);
  const linkTtl = deps.linkTtlSeconds ?? DEFAULT_LINK_TTL_SECONDS;
  const invitationTtl = deps.invitationTtlSeconds ?? DEFAULT_INVITATION_TTL_SECONDS;
  const allowAddress = windowCounter(deps.linksPerAddress ?? DEFAULT_LINKS_PER_ADDRESS, deps.clock);
  const queue = backgroundQueue(deps.log);

  const fail = async (reason: SignInFailureReason, facts: { personId?: string; addressHash?: string }) => {
    const attemptId = deps.newId();
    const result = await recorder.record(signIns, attemptId, {
      type: 'RecordFailure',
      data: { attemptId, method: 'email', reason, at: deps.clock().toISOString(), ...facts },
    });
    if (E.isLeft(result)) deps.log.error({ attemptId, error: result.left._tag }, 'sign-in failure not recorded');
  };

  /** Records the link (its code's hash) and emails it; the code exists only in the email. */
  const sendLink = async (person: PersonView, purpose: LinkPurpose, by: RequestContext['user'] | undefined) => {
    const attemptId = deps.newId();
    const secret = randomBytes(32).toString('base64url');
    const now = deps.clock();
    const ttl = purpose === 'invitation' ? invitationTtl : linkTtl;
    const expiresAt = new Date(now.getTime() + ttl * 1000);
    const recorded = await recorder.record(signIns, attemptId, {
      type: 'SendLink',
      data: {
        attemptId,
        personId: person.id,
        purpose,
        codeHash: hashCredential(secret),
        expiresAt: expiresAt.toISOString(),
        at: now.toISOString(),
        by: by !== undefined ? actorOf(by) : { id: person.id, roles: [...person.roles] },
      },
    });
    if (E.isLeft(recorded)) return E.left(signInErrorOf(recorded.left));
    const link = `${deps.publicBaseUrl()}/sign-in#code=${encodeURIComponent(`${attemptId}.${secret}`)}`;
    const email = renderSignInEmail({ purpose, link, siteName: deps.mail.siteName, name: person.name, expiresAt });
    const sent = await deps.mailer.send({
      idempotencyKey: `signin-${attemptId}`,
      from: deps.mail.from,
      to: person.email,
      ...email,
      attachments: [],
    });
    if (E.isLeft(sent))
      deps.log.warn({ attemptId, personId: person.id, error: sent.left.message }, 'sign-in link not sent');
    else deps.log.info({ attemptId, personId: person.id, purpose }, 'sign-in link sent');
    return E.right(undefined);
  };

  /** What a request for a link leads to, decided after the request was answered. */
  const handleRequest = async (email: string): Promise<void> => {
    const hash = addressHash(email);
    if (!allowAddress(hash)) return fail('rate-limited', { addressHash: hash });
    const person = deps.queries.personByEmail(email.trim());
    if (person === undefined) return fail('unknown-address', { addressHash: hash });
    if (!mayHaveSession(person)) return fail('not-allowed', { personId: person.id });
    const sent = await sendLink(person, 'sign-in', undefined);
    if (E.isLeft(sent)) deps.log.error({ personId: person.id, error: sent.left._tag }, 'sign-in link not recorded');
  };

  return {
    /**
     * Takes a request for a link to this address (already checked for form) and returns at once; the rest happens
     * after the caller has answered.
     */
    requestLink(email: string): void {
      queue.push(() => handleRequest(email));
    },

    /** Resolves once every request taken so far is dealt with (tests; shutdown). */
    idle: () => queue.idle(),

    /** Exchanges a link's code for a session: once, before it expires, for a person who may still sign in. */
    async redeem(code: string, client: SessionClient): Promise<E.Either<SignInRefused | AppError, SessionGrant>> {
      const parsed = parseCode(code);
      if (parsed === undefined) {
        await fail('unknown-code', {});
        return E.left(refused);
      }
      const { attemptId } = parsed;
      const at = deps.clock().toISOString();
      const redeemed = await recorder.record(signIns, attemptId, {
        type: 'RedeemCode',
        data: { attemptId, codeHash: hashCredential(parsed.secret), at },
      });
      if (E.isLeft(redeemed)) {
        const error = redeemed.left;
        if (error._tag !== 'CodeRefused') return E.left(signInErrorOf(error));
        if (error.reason === 'unknown-code') await fail('unknown-code', {});
        else {
          const failed = await recorder.record(signIns, attemptId, {
            type: 'RecordFailure',
            data: { attemptId, method: 'email', reason: error.reason, at },
          });
          if (E.isLeft(failed)) return E.left(signInErrorOf(failed.left));
        }
        return E.left(refused);
      }
      const state = redeemed.right.state;
      if (state.status !== 'redeemed') return E.left(refused);
      const started = await deps.sessions.start({ personId: state.personId, method: 'email', client, attemptId });
      if (E.isLeft(started)) return E.left(started.left._tag === 'Forbidden' ? refused : started.left);
      return started;
    },

    /** An admin emails a person an invitation: a sign-in link that stays good longer. */
    async invite(ctx: RequestContext, personId: string): Promise<E.Either<AppError, { readonly personId: string }>> {
      if (!ctx.user.roles.includes('admin'))
        return E.left({ _tag: 'Forbidden', message: 'only admins may invite people' });
      const person = deps.queries.getPerson(personId);
      if (person === undefined) return E.left({ _tag: 'NotFound', message: 'person not found' });
      if (!mayHaveSession(person))
        return E.left({
          _tag: 'Conflict',
          message: 'this person may not sign in: they are deactivated or have no role in the directory',
        });
      if (emailProblem(person.email) !== undefined)
        return E.left({ _tag: 'Conflict', message: 'this person has no address an email can go to' });
      const sent = await sendLink(person, 'invitation', ctx.user);
      return E.isLeft(sent) ? sent : E.right({ personId });
    },
  };
};

export type SignIn = ReturnType<typeof createSignIn>;
