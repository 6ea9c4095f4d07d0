import type { Hub } from './hub.ts';

/** Pings every socket each interval; one that has not answered the previous ping is terminated. */
export const startHeartbeat = (hub: Hub): NodeJS.Timeout => {
  const heartbeat = setInterval(() => {
    for (const [ws, state] of hub.sockets) {
      if (!state.alive) {
        hub.settings.log.info({ meetingId: state.member?.meetingId }, 'signaling: no pong, terminating');
        ws.terminate();
        continue;
      }
      state.alive = false;
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }
  }, hub.settings.pingIntervalMs);
  heartbeat.unref();
  return heartbeat;
};
