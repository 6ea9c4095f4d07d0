import * as E from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import type {
  BusDelivery,
  BusUnavailable,
  Seat,
  SeatClaim,
  SignalingBus,
} from '../../application/ports/signaling-bus.ts';

/**
 * The rooms and nodes of one process. Every node's bus on one broker shares its rooms, so several signaling
 * servers in one process (tests) behave as nodes on one Redis would; deliveries are synchronous.
 */
export interface InProcessBroker {
  bus(node: string): SignalingBus;
  /** Seats by meeting (for tests). */
  readonly rooms: ReadonlyMap<string, readonly Seat[]>;
}

const peerOf = (seat: Seat) => ({ peerId: seat.peerId, role: seat.role, node: seat.node });

export const createInProcessBroker = (): InProcessBroker => {
  const rooms = new Map<string, Seat[]>();
  const nodes = new Map<string, (delivery: BusDelivery) => void>();
  const deliver = (node: string, delivery: BusDelivery): void => {
    nodes.get(node)?.(delivery);
  };

  const claim = (meetingId: string, seat: Seat, connectionId: string): SeatClaim => {
    const seats = rooms.get(meetingId) ?? [];
    const replaced = seats.find((s) => s.userId === seat.userId && s.peerId !== seat.peerId);
    const others = seats.filter((s) => s !== replaced && s.peerId !== seat.peerId);
    if (replaced !== undefined) {
      for (const other of others) deliver(other.node, { kind: 'peer-left', to: other.peerId, peerId: replaced.peerId });
      deliver(replaced.node, { kind: 'replaced', to: replaced.peerId });
    }
    if (others.length >= 2 || others.some((s) => s.role === seat.role)) {
      if (others.length === 0) rooms.delete(meetingId);
      else rooms.set(meetingId, others);
      return { admitted: false, reason: 'room_full', replaced };
    }
    rooms.set(meetingId, [...others, seat]);
    const partner = others[0];
    if (partner !== undefined) {
      deliver(partner.node, { kind: 'paired', to: partner.peerId, peer: peerOf(seat), connectionId });
    }
    return { admitted: true, replaced, partner: partner === undefined ? undefined : peerOf(partner) };
  };

  const leave = (meetingId: string, peerId: string, reason: 'left' | undefined): void => {
    const seats = rooms.get(meetingId);
    if (seats === undefined || !seats.some((s) => s.peerId === peerId)) return;
    const others = seats.filter((s) => s.peerId !== peerId);
    if (others.length === 0) rooms.delete(meetingId);
    else rooms.set(meetingId, others);
    for (const other of others) {
      deliver(other.node, { kind: 'peer-left', to: other.peerId, peerId, ...(reason !== undefined ? { reason } : {}) });
    }
  };

  const bus = (node: string): SignalingBus => ({
    name: 'in-process',
    node,
    start: (handler) => {
      nodes.set(node, handler);
    },
    claim: async (meetingId, seat, connectionId): Promise<Either<BusUnavailable, SeatClaim>> =>
      E.right(claim(meetingId, seat, connectionId)),
    leave: async (meetingId, peerId, _partner, reason) => E.right(leave(meetingId, peerId, reason)),
    // A closed node's seats are not anyone's any more (as a crashed node's are not in Redis).
    occupants: async (meetingId) => E.right((rooms.get(meetingId) ?? []).filter((s) => nodes.has(s.node))),
    send: (to, delivery) => E.right(deliver(to, delivery)),
    broadcast: (delivery) => {
      for (const other of [...nodes.keys()]) if (other !== node) deliver(other, delivery);
      return E.right(undefined);
    },
    status: () => 'ok',
    close: async () => {
      nodes.delete(node);
    },
  });

  return { bus, rooms };
};

/** One node's bus on a broker of its own: a single process, today's behaviour. */
export const createInProcessBus = (node = 'local'): SignalingBus => createInProcessBroker().bus(node);
