import * as E from 'fp-ts/lib/Either.js';
import type { Context } from 'hono';
import type { Identified } from '../../../application/oidc.ts';
import type { RefreshCookie, Sessions } from '../../../application/sessions.ts';
import { clientIp } from '../auth/guards.ts';
import type { Env } from '../kit/context.ts';

const MAX_USER_AGENT = 256;

/**
 * A session for the person the provider signed in (method `oidc`), with the provider's roles when they come from its
 * roles claim, its refresh credential set as the sign-in routes' cookie: the page then takes its access token from
 * `POST /auth/refresh`, like after an email link.
 */
export const oidcSessionStarter =
  (sessions: Pick<Sessions, 'start'>, setRefreshCookie: (c: Context, cookie: RefreshCookie) => void) =>
  async (c: Context<Env>, identified: Identified): Promise<E.Either<string, void>> => {
    const userAgent = c.req.header('user-agent')?.slice(0, MAX_USER_AGENT);
    const started = await sessions.start({
      personId: identified.person.id,
      method: 'oidc',
      client: { ip: clientIp(c), ...(userAgent !== undefined ? { userAgent } : {}) },
      ...(identified.rolesFromClaim ? { roles: identified.roles } : {}),
    });
    if (E.isLeft(started)) {
      return E.left(
        started.left._tag === 'Forbidden' ? started.left.message : 'the session could not be started; try again',
      );
    }
    setRefreshCookie(c, started.right.refreshCookie);
    return E.right(undefined);
  };
