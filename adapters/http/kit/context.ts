import type { Context } from 'hono';
import type { AuthUser } from '../../../application/ports/access.ts';
import type { RequestContext } from '../../../application/service.ts';

export type Env = {
  Variables: {
    user: AuthUser;
    requestId: string;
    errorDetail: string;
    clientAborted: boolean;
    /** The client's address: the connection's peer, or the one the trusted proxies say (see clientAddress). */
    clientAddress: string;
    /** Headers every answer to this request carries unless its route set its own (names in lower case). */
    defaultHeaders: Record<string, string>;
    /** The answer built with all its headers (plainAnswer), to which none is added. */
    completeAnswer: Response;
    /** The body, when read ahead of the route (to fingerprint an idempotent request). */
    bodyText: string;
    /** The request runs under an `Idempotency-Key` claim. */
    idempotency: NonNullable<RequestContext['idempotency']>;
  };
};

/** Who asks, under which correlation id, and under which `Idempotency-Key` claim if any. */
export const requestContext = (c: Context<Env>): RequestContext => ({
  user: c.get('user'),
  correlationId: c.get('requestId'),
  idempotency: c.get('idempotency'),
});

/** The `:id` of the route (checked against the id rule by the app before any route runs). */
export const pathId = (c: Context<Env>): string => c.req.param('id') ?? '';
