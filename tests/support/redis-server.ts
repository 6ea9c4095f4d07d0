import { NO_REDIS_HINT, REDIS_SERVER } from '../../apps/bench/redis-server.ts';

/** The tests start their Redis as the bench does: a `redis-server` of their own, on a free port, keeping nothing. */
export { NO_REDIS_HINT, REDIS_SERVER, startRedisServer } from '../../apps/bench/redis-server.ts';
export type { RedisServer } from '../../apps/bench/redis-server.ts';

/** A suite's title that says why it is skipped where it needs redis-server and the machine has none. */
export const needingRedis = (title: string, needs = true): string =>
  needs && REDIS_SERVER === undefined ? `${title} (skipped: ${NO_REDIS_HINT})` : title;
