import { AccessDeniedError, KurrentDBClient } from '@kurrent/kurrentdb-client';
import type { Log } from '../../../application/ports/logger.ts';

/** Connecting to KurrentDB, and saying what went wrong without ever showing the connection's credentials. */

/** The logger port's levels the adapter uses; its lines name the server (never the credentials). */
export type KurrentDbLogger = Pick<Log, 'info' | 'warn' | 'error'>;

/** The server answered, but refused the connection's user; the message names the host and user, never the password. */
export class KurrentDbAccessDeniedError extends Error {
  override readonly name = 'KurrentDbAccessDeniedError';
  constructor(
    message: string,
    readonly target: string,
    readonly user: string | undefined,
  ) {
    super(message);
  }
}

/** The connection string itself is unusable; the message names the host only. */
export class KurrentDbConnectionStringError extends Error {
  override readonly name = 'KurrentDbConnectionStringError';
}

/** Start-up could not reach the server; the message names the host only, never the credentials. */
export class KurrentDbUnreachableError extends Error {
  override readonly name = 'KurrentDbUnreachableError';
  constructor(
    message: string,
    readonly target: string,
  ) {
    super(message);
  }
}

/** Host part of a connection string, never its credentials. */
export function describeConnectionTarget(connectionString: string): string {
  const match = /^[a-z+]+:\/\/(?:[^@/?]*@)?([^/?#]*)/i.exec(connectionString.trim());
  return match?.[1] ? match[1] : '(unparseable connection string)';
}

/** User name of a connection string (`kurrentdb://user:password@host`), never its password. */
export function describeConnectionUser(connectionString: string): string | undefined {
  const match = /^[a-z+]+:\/\/([^@/?#]*)@/i.exec(connectionString.trim());
  const userInfo = match?.[1];
  if (userInfo === undefined) return undefined;
  const raw = userInfo.split(':')[0] ?? '';
  let user: string;
  try {
    user = decodeURIComponent(raw);
  } catch {
    user = raw;
  }
  // Shown in messages and logs: printable characters only, bounded.
  user = user.replace(/[^\x20-\x7e]/g, '?').slice(0, 128);
  return user === '' ? undefined : user;
}

/** Client errors may quote the connection string; what we log or throw names the host only. */
export function redactorFor(connectionString: string, target: string): (text: string) => string {
  return (text) =>
    text
      .split(connectionString)
      .join(target)
      .replace(/\/\/[^@/\s]*@/g, '//');
}

export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, type } = error as { code?: unknown; type?: unknown };
  return (
    type === 'unavailable' ||
    type === 'deadline-exceeded' ||
    type === 'timeout' ||
    code === 14 ||
    code === 4 ||
    /UNAVAILABLE|ECONNREFUSED|ECONNRESET|No connection established/i.test(error.message)
  );
}

export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const kind = error.constructor.name || error.name;
  return error.message === '' || error.message === kind ? kind : `${kind}: ${error.message}`;
}

/** Who is connecting to where, for the connection and for every message about it. */
export interface ConnectionIdentity {
  readonly connectionString: string;
  readonly target: string;
  readonly user: string | undefined;
  readonly redact: (text: string) => string;
}

export function connectionIdentity(connectionString: string): ConnectionIdentity {
  const target = describeConnectionTarget(connectionString);
  return {
    connectionString,
    target,
    user: describeConnectionUser(connectionString),
    redact: redactorFor(connectionString, target),
  };
}

export function createClient(identity: ConnectionIdentity): KurrentDBClient {
  try {
    return KurrentDBClient.connectionString(identity.connectionString);
  } catch (error) {
    throw new KurrentDbConnectionStringError(
      `Invalid KurrentDB connection string for ${identity.target}: ${identity.redact(errorText(error))}`,
    );
  }
}

/**
 * Start-up waits until `probe` (a first read) answers, for at most `timeoutMs`. Otherwise the client is disposed of
 * and the failure is reported as denied access or as an unreachable server.
 */
export async function awaitServer(
  client: KurrentDBClient,
  identity: ConnectionIdentity,
  probe: () => Promise<unknown>,
  timeoutMs: number,
): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      probe().then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  } catch (error) {
    await client.dispose().catch(() => {});
    throw startUpError(error, identity);
  }
}

function startUpError(error: unknown, { target, user, redact }: ConnectionIdentity): Error {
  if (error instanceof AccessDeniedError) {
    // Wrong credentials and missing rights look the same to the client (Unauthenticated and PermissionDenied both
    // become AccessDeniedError); both need the same fix.
    const who =
      user === undefined
        ? 'a connection without credentials (add user:password@ to the connection string)'
        : `user '${user}' (check the password, and that the user may read $all)`;
    return new KurrentDbAccessDeniedError(
      `KurrentDB at ${target} denied access to ${who}: the service needs read access to $all (by default only ` +
        `members of $admins have it; grant it with the $$$all stream's $r ACL) and write access to its streams`,
      target,
      user,
    );
  }
  const reason =
    (error as { type?: unknown }).type === 'unavailable'
      ? 'connection refused or server unavailable'
      : redact(errorText(error));
  return new KurrentDbUnreachableError(`Cannot reach KurrentDB at ${target}: ${reason}`, target);
}
