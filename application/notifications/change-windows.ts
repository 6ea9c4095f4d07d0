import * as E from 'fp-ts/lib/Either.js';
import { changeWindowDecider, changeWindowStreamName, ChangeWindowEvent } from '../../domain/change-window.ts';
import type { ChangeWindowCommand, ChangeWindowError, ChangeWindowState } from '../../domain/change-window.ts';
import { decodeRecorded } from '../decode.ts';
import type { EventStore } from '../ports/event-store.ts';

interface Known {
  readonly state: ChangeWindowState;
  /** The stream's revision this state includes (-1: the stream does not exist yet). */
  readonly revision: number;
}

/** Subjects whose window state is kept; the least recently used beyond it is read again from its stream. */
const KEPT_SUBJECTS = 2_000;
const MAX_ATTEMPTS = 8;

/**
 * The change windows as the change reaction decides on them, each subject's state kept with the stream revision it
 * includes: a decision reads only what was appended since (by this node or another), so a change costs a read of a
 * few events however many windows its subject had. Streams only grow, so a kept state is always a prefix of the
 * stream; every append names the revision it was decided on, and a refused one is decided again on what was added.
 */
export class ChangeWindows {
  private readonly known = new Map<string, Known>();

  constructor(private readonly deps: { readonly store: EventStore; readonly newId: () => string }) {}

  async load(subject: string): Promise<Known> {
    const kept = this.known.get(subject);
    let state = kept?.state ?? changeWindowDecider.initialState();
    let revision = kept?.revision ?? -1;
    const recorded = await this.deps.store.readStream(changeWindowStreamName(subject), {
      fromRevision: revision + 1,
      requiresLeader: true,
    });
    for (const r of recorded) {
      const decoded = decodeRecorded(ChangeWindowEvent, r);
      if (E.isLeft(decoded)) throw new Error(decoded.left.message);
      state = changeWindowDecider.evolve(state, decoded.right);
      revision = r.revision;
    }
    this.keep(subject, { state, revision });
    return { state, revision };
  }

  /** Decides the command on the latest state and appends at that revision; a refusal is the decider's. */
  async decide(subject: string, command: ChangeWindowCommand): Promise<E.Either<ChangeWindowError, ChangeWindowState>> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const { state, revision } = await this.load(subject);
      const decided = changeWindowDecider.decide(command, state);
      if (E.isLeft(decided)) return decided;
      if (decided.right.length === 0) return E.right(state);
      const appended = await this.deps.store.appendToStream(
        changeWindowStreamName(subject),
        decided.right.map((event) => ({ id: this.deps.newId(), type: event.type, data: event.data })),
        { expectedRevision: revision === -1 ? 'no_stream' : revision },
      );
      if (E.isRight(appended)) {
        const after = decided.right.reduce(changeWindowDecider.evolve, state);
        this.keep(subject, { state: after, revision: appended.right.nextExpectedRevision });
        return E.right(after);
      }
      // Another node appended meanwhile: the next load reads what it added, and the command is decided again.
    }
    throw new Error(`the change window of ${subject} keeps moving; try again later`);
  }

  private keep(subject: string, known: Known): void {
    this.known.delete(subject);
    this.known.set(subject, known);
    if (this.known.size > KEPT_SUBJECTS) {
      const oldest = this.known.keys().next();
      if (oldest.done !== true) this.known.delete(oldest.value);
    }
  }
}
