/** The tests start their Redis as the bench does: a `redis-server` of their own, on a free port, keeping nothing. */
export { NO_REDIS_HINT, REDIS_SERVER, startRedisServer } from '../../apps/bench/redis-server.ts';
export type { RedisServer } from '../../apps/bench/redis-server.ts';
