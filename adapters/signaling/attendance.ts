import * as E from 'fp-ts/lib/Either.js';
import type { Hub, Member } from './hub.ts';
import { errorText } from './errors.ts';

/**
 * What the signaling server tells the attendance port: a member seated in its meeting's room, or gone from it. Fire
 * and forget (a rejection is logged and never affects the call); a person's calls for a meeting run one after the
 * other, so a leave (or a rejoin) is decided once the call before it landed.
 *
 * A leave waits `attendanceGraceMs` before it is told: a reconnect (a reload, a lost network, a server restart) inside
 * it continues the same visit, so neither the leave nor the rejoin is recorded, and a client that connects and closes
 * in a loop cannot flood the meeting's history. When the grace is up, a person who holds a seat in the room on any
 * node (they came back elsewhere) has not left either. The leave is recorded with the time it happened.
 */

const keyOf = (member: Member): string => `${member.meetingId}\u0000${member.userId}`;

const enqueue = (hub: Hub, member: Member, run: () => Promise<void>, what: string): void => {
  const { queues } = hub.attendance;
  const key = keyOf(member);
  const telling = (queues.get(key) ?? Promise.resolve())
    .then(run)
    .catch((err: unknown) =>
      hub.settings.log.warn(
        { meetingId: member.meetingId, role: member.role, err: errorText(err) },
        `signaling: ${what} not recorded`,
      ),
    );
  queues.set(key, telling);
  hub.leaving.add(telling);
  void telling.finally(() => {
    hub.leaving.delete(telling);
    if (queues.get(key) === telling) queues.delete(key);
  });
};

/** The leave, unless the person holds a seat in the room again (on any node; a bus that cannot tell: recorded). */
const recordLeave = (hub: Hub, member: Member, at: Date): void => {
  const port = hub.settings.attendance;
  if (port === undefined) return;
  enqueue(
    hub,
    member,
    async () => {
      const seats = await hub.bus.occupants(member.meetingId).catch(() => E.right([]));
      if (E.isRight(seats) && seats.right.some((seat) => seat.userId === member.userId)) return;
      await port.left(member.meetingId, member.userId, member.role, at);
    },
    'left',
  );
};

export const tellJoined = (hub: Hub, member: Member): void => {
  const port = hub.settings.attendance;
  if (port === undefined) return;
  const { pendingLeaves } = hub.attendance;
  const pending = pendingLeaves.get(keyOf(member));
  if (pending !== undefined) {
    // Back within the grace: the same visit goes on.
    clearTimeout(pending.timer);
    pendingLeaves.delete(keyOf(member));
    return;
  }
  const at = hub.settings.now();
  enqueue(hub, member, () => port.joined(member.meetingId, member.userId, member.role, at), 'joined');
};

export const tellLeft = (hub: Hub, member: Member): void => {
  if (hub.settings.attendance === undefined) return;
  const at = hub.settings.now();
  const { pendingLeaves } = hub.attendance;
  const key = keyOf(member);
  clearTimeout(pendingLeaves.get(key)?.timer);
  if (hub.settings.attendanceGraceMs <= 0) {
    pendingLeaves.delete(key);
    recordLeave(hub, member, at);
    return;
  }
  const timer = setTimeout(() => {
    pendingLeaves.delete(key);
    recordLeave(hub, member, at);
  }, hub.settings.attendanceGraceMs);
  timer.unref();
  pendingLeaves.set(key, { timer, member, at });
};

/** At shutdown: the leaves still in their grace are told now (the caller then waits for `hub.leaving`). */
export const flushLeaves = (hub: Hub): void => {
  const { pendingLeaves } = hub.attendance;
  for (const [key, { timer, member, at }] of [...pendingLeaves]) {
    clearTimeout(timer);
    pendingLeaves.delete(key);
    recordLeave(hub, member, at);
  }
};
