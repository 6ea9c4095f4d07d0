import type { Either } from 'fp-ts/lib/Either.js';
import type { CallRole } from '../calls.ts';

/**
 * The signaling bus: what a signaling server needs to run a call room whose two members may sit on different nodes.
 * The room's seats live in the bus (one truth for every node); the sockets stay on the node they reached. Each node
 * receives, through `start`'s handler, what its own members must be told, whichever node caused it.
 *
 * Two adapters: in-process (one node, or several in one process sharing a broker) and Redis (pub/sub plus the room
 * state in a hash changed only by Lua scripts, so claims are atomic across nodes).
 */

/** One seat in a meeting's room: the member (a socket) and the node that holds its socket. */
export interface Seat {
  readonly peerId: string;
  readonly userId: string;
  readonly role: CallRole;
  readonly node: string;
}

/** The other member, as its partner learns it on pairing. */
export interface SeatPeer {
  readonly peerId: string;
  readonly role: CallRole;
  readonly node: string;
}

/** What a node's member must be told; `to` is the member's peer id on the receiving node. */
export type BusDelivery =
  /** The room has its two members: this is the other one and the connection id of their peer connection. */
  | { readonly kind: 'paired'; readonly to: string; readonly peer: SeatPeer; readonly connectionId: string }
  /** The other member left (or was replaced, or its node stopped answering). */
  | {
      readonly kind: 'peer-left';
      readonly to: string;
      readonly peerId: string;
      /** `left`: the other member said it was leaving (it did not just lose its connection). */
      readonly reason?: 'left';
    }
  /** A signal from the other member, to be relayed unchanged. */
  | {
      readonly kind: 'signal';
      readonly to: string;
      readonly from: string;
      readonly connectionId: string;
      readonly data: Record<string, unknown>;
    }
  /** A newer connection of the same user took this member's seat. */
  | { readonly kind: 'replaced'; readonly to: string }
  /** Some node saw the meeting change: every node re-checks its own members of that meeting. */
  | { readonly kind: 'recheck'; readonly meetingId: string; readonly origin: string };

/** A delivery for one member (all but `recheck`). */
export type MemberDelivery = Exclude<BusDelivery, { kind: 'recheck' }>;

/**
 * A claim's outcome. The bus has already told the others: the replaced member (`replaced`), the one left behind
 * (`peer-left` for the replaced one) and, once two are in, the other member (`paired`, with `connectionId`).
 */
export type SeatClaim =
  | {
      readonly admitted: true;
      /** The older seat of the same user that this claim took over, wherever it was. */
      readonly replaced: Seat | undefined;
      /** The other member, when the room now has two. */
      readonly partner: SeatPeer | undefined;
    }
  | {
      readonly admitted: false;
      /** The room has its two members, or one of the same role. */
      readonly reason: 'room_full';
      readonly replaced: Seat | undefined;
    };

/** The bus cannot answer (Redis down or too slow): the caller refuses the join instead of guessing. */
export interface BusUnavailable {
  readonly kind: 'BusUnavailable';
  readonly message: string;
}

export type BusStatus = 'ok' | 'connecting' | 'down';

export interface SignalingBus {
  /** `in-process` or `redis`, as `/health` names it. */
  readonly name: string;
  /** This node's id on the bus; seats name it. */
  readonly node: string;
  /**
   * Starts receiving this node's deliveries. `localSeats` lists this node's seated members: the bus keeps them
   * alive while they are, and seats them again after it lost its state (a Redis restart); one that can no longer be
   * seated is delivered `replaced`.
   */
  start(deliver: (delivery: BusDelivery) => void, localSeats: () => Iterable<{ meetingId: string; seat: Seat }>): void;
  /**
   * Takes a seat in the meeting's room, atomically across nodes: an older seat of the same user is replaced
   * (wherever it is), then a room with two members, or one of the same role, is full. `connectionId` is used when
   * the claim pairs the room.
   */
  claim(meetingId: string, seat: Seat, connectionId: string): Promise<Either<BusUnavailable, SeatClaim>>;
  /**
   * Gives the seat up (once: a seat already gone is a no-op); the other member is told `peer-left`. A leave the bus
   * cannot take now is kept (boundedly) and given up once it can; `partner`, the member's partner as its node knew
   * it, is then told directly if the bus lost the seat meanwhile (a Redis restart).
   */
  leave(meetingId: string, peerId: string, partner?: SeatPeer, reason?: 'left'): Promise<Either<BusUnavailable, void>>;
  /** Who holds a seat in the meeting's room now, on any live node (a crashed node's seats are not counted). */
  occupants(meetingId: string): Promise<Either<BusUnavailable, ReadonlyArray<Seat>>>;
  /** Sends a delivery to a member on its node (this node's are delivered without a round trip). */
  send(node: string, delivery: BusDelivery): Either<BusUnavailable, void>;
  /** Sends a delivery to every other node. */
  broadcast(delivery: BusDelivery): Either<BusUnavailable, void>;
  status(): BusStatus;
  close(): Promise<void>;
}
