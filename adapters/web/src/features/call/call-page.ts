import { ref, shallowRef } from 'vue';
import { asProblem } from '../../api/problems';
import type { Problem } from '../../api/problems';
import { resolveAccess } from './access';
import type { Meeting, Role } from './access';
import { useChat } from './chat';
import { startCall } from './engine/call';
import type {
  CallError,
  CallHandle,
  CallState,
  MediaState,
  NativeJoinResponse,
  PartnerState,
  Quality,
  SimplePeerConstructor,
} from './engine/call';
import type { CallClient } from './call-client';
import { useLocalMedia } from './local-media';
import { resumeAudio } from './media';

export type Phase = 'loading' | 'lobby' | 'joining' | 'call' | 'left' | 'ended' | 'complete' | 'error';

/** A sentence for the page: an i18n key under `call.` with its values, or a problem the server answered. */
export type Notice = { readonly key: string; readonly values?: Record<string, string> } | { readonly problem: Problem };

// setTimeout's ceiling: a meeting ending further away gets no end timer.
const MAX_TIMER_MS = 2_147_483_647;
const ROOM_POLL_MS = 5_000;

let simplePeer: Promise<SimplePeerConstructor> | undefined;
/** simple-peer, from this origin's /static (a classic script that sets window.SimplePeer). */
const loadSimplePeer = (): Promise<SimplePeerConstructor> => {
  const existing = (window as unknown as { SimplePeer?: SimplePeerConstructor }).SimplePeer;
  if (typeof existing === 'function') return Promise.resolve(existing);
  simplePeer ??= new Promise<SimplePeerConstructor>((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/static/simplepeer.min.js';
    script.async = true;
    script.onload = () => {
      const loaded = (window as unknown as { SimplePeer?: SimplePeerConstructor }).SimplePeer;
      if (typeof loaded === 'function') resolve(loaded);
      else reject(new Error('simple-peer did not load'));
    };
    script.onerror = () => reject(new Error('simple-peer could not be loaded'));
    document.head.append(script);
  });
  simplePeer.catch(() => (simplePeer = undefined));
  return simplePeer;
};

const isPeerError = (err: CallError) =>
  typeof err.code !== 'string' || err.code === 'peer_error' || err.code.startsWith('ERR_');

export const otherRole = (role: Role | undefined): Role | undefined =>
  role === 'customer' ? 'instructor' : role === 'instructor' ? 'customer' : undefined;

/** What the call page knows and does, for the view: the lobby, the join, the call through the engine, the end. */
export class CallPage {
  readonly phase = ref<Phase>('loading');
  readonly meeting = shallowRef<Meeting | undefined>();
  readonly myRole = ref<Role | undefined>();
  readonly notice = shallowRef<Notice | undefined>();
  /** A link meeting's remote link (https only), once joined. */
  readonly remoteUrl = ref<string | undefined>();
  readonly partnerHere = ref(false);
  readonly callState = ref<CallState | undefined>();
  readonly partner = ref<PartnerState>('absent');
  readonly remoteStream = shallowRef<MediaStream | undefined>();
  readonly remoteMedia = ref<MediaState>({ mic: true, cam: true });
  readonly quality = shallowRef<Quality | undefined>();
  readonly handle = shallowRef<CallHandle | undefined>();
  readonly local = useLocalMedia();
  readonly chat = useChat();
  /** The "Leave the call?" dialog is open (from Leave, or from navigating away during the call). */
  readonly leaving = ref(false);
  private leaveAnswer: ((leave: boolean) => void) | undefined;
  private client: CallClient | undefined;
  private roomTimer: ReturnType<typeof setInterval> | undefined;
  private endTimer: ReturnType<typeof setTimeout> | undefined;
  private leftByUser = false;
  private lastError: CallError | undefined;
  private verdict: { origin?: string; suggestedOrigin?: string } | undefined;
  /** Bumped by every join and by Leave: a join still waiting for the server knows it was abandoned. */
  private attempt = 0;
  private disposed = false;
  /** Between startCall and the end of that call: the engine's callbacks count. */
  private active = false;

  constructor(
    readonly meetingId: string,
    private readonly onSignIn: () => void,
  ) {}

  private isOver(): boolean {
    return this.meeting.value !== undefined && Date.parse(this.meeting.value.end) <= Date.now();
  }

  async load(): Promise<void> {
    const access = await resolveAccess(this.meetingId);
    if (this.disposed) return;
    if (access.kind === 'sign-in') {
      this.onSignIn();
      return;
    }
    if (access.kind === 'refused') {
      this.phase.value = 'error';
      this.notice.value = { problem: access.problem };
      return;
    }
    this.client = access.client;
    this.meeting.value = access.meeting;
    this.myRole.value = access.myRole;
    this.enterLobby();
  }

  private enterLobby(): void {
    if (this.isOver() && this.meeting.value?.state !== 'cancelled') {
      this.complete();
      return;
    }
    this.phase.value = 'lobby';
    if (this.meeting.value?.trainingType !== 'link' && this.meeting.value?.state !== 'cancelled') {
      void this.local.acquire();
      this.startRoom();
    }
    // Still in the lobby when the session ends: "Meeting complete", the camera off.
    if (this.meeting.value?.state !== 'cancelled') this.scheduleEnd();
  }

  private async pollRoom(): Promise<void> {
    if (this.client === undefined || this.phase.value !== 'lobby') return;
    const { data } = await this.client.GET('/meetings/{id}/room', { params: { path: { id: this.meetingId } } });
    if (data === undefined) return;
    const other = otherRole(this.myRole.value);
    this.partnerHere.value = data.participants.some((p) => other === undefined || p.role === other);
  }

  private startRoom(): void {
    this.stopRoom();
    void this.pollRoom();
    this.roomTimer = setInterval(() => void this.pollRoom(), ROOM_POLL_MS);
  }

  private stopRoom(): void {
    clearInterval(this.roomTimer);
    this.roomTimer = undefined;
  }

  private async refreshMeeting(): Promise<void> {
    if (this.client === undefined) return;
    const { data } = await this.client.GET('/meetings/{id}', { params: { path: { id: this.meetingId } } });
    if (data !== undefined) this.meeting.value = data;
  }

  /** Ends our side of the call: the engine says bye, the camera goes off, the remote picture goes. */
  private stopCall(): void {
    clearTimeout(this.endTimer);
    this.endTimer = undefined;
    this.active = false;
    // A "Leave the call?" still open has nothing left to ask about: a navigation it held goes on.
    const answer = this.leaveAnswer;
    this.leaveAnswer = undefined;
    this.leaving.value = false;
    answer?.(true);
    const current = this.handle.value;
    this.handle.value = undefined;
    this.chat.handle.value = undefined;
    this.local.attach(undefined);
    current?.leave();
    this.local.release();
    this.remoteStream.value = undefined;
    this.quality.value = undefined;
  }

  private complete(): void {
    // A join still waiting for the server is abandoned.
    this.attempt += 1;
    this.stopCall();
    this.stopRoom();
    this.phase.value = 'complete';
    this.notice.value = undefined;
  }

  /** The Join button: asks the server, then links out (a link meeting) or starts the call. */
  async join(): Promise<void> {
    if (this.client === undefined) return;
    resumeAudio();
    this.attempt += 1;
    const mine = this.attempt;
    this.notice.value = undefined;
    const link = this.meeting.value?.trainingType === 'link';
    if (!link) this.phase.value = 'joining';
    const [answer] = await Promise.all([
      this.client.POST('/meetings/{id}/join', { params: { path: { id: this.meetingId } } }),
      link ? Promise.resolve() : this.local.ready(),
    ]);
    if (mine !== this.attempt || this.disposed) return;
    const { data, error, response } = answer;
    if (data === undefined) {
      await this.refused(asProblem(error, response.status));
      return;
    }
    if (data.mode === 'link') {
      this.phase.value = 'lobby';
      this.showLink(data.url);
      return;
    }
    await this.startNative(data);
  }

  private showLink(url: string): void {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.protocol !== 'https:') {
      this.remoteUrl.value = undefined;
      this.notice.value = { key: 'call.link.unusable' };
      return;
    }
    this.remoteUrl.value = parsed.href;
  }

  /** The server said no: too early (said in the viewer's zone), cancelled or over (the meeting read again), other. */
  private async refused(problem: Problem): Promise<void> {
    if (problem.status === 409) {
      await this.refreshMeeting();
      if (this.isOver() && this.meeting.value?.state !== 'cancelled') {
        this.complete();
        return;
      }
      this.phase.value = 'lobby';
      this.notice.value =
        typeof problem.opensAt === 'string'
          ? { key: 'call.lobby.opensAt', values: { at: problem.opensAt } }
          : this.meeting.value?.state === 'cancelled'
            ? undefined
            : { problem };
      if (this.meeting.value?.state === 'cancelled') {
        // Nothing to join any more: the camera goes off.
        this.stopRoom();
        clearTimeout(this.endTimer);
        this.local.release();
      }
      return;
    }
    if (problem.status === 401 || problem.status === 403 || problem.status === 404) {
      this.stopCall();
      this.stopRoom();
      this.phase.value = 'error';
    } else this.phase.value = 'lobby';
    this.notice.value = { problem };
  }

  private async rejoin(): Promise<NativeJoinResponse> {
    const client = this.client;
    if (client === undefined) throw Object.assign(new Error('no client'), { status: 401 });
    const { data, error, response } = await client.POST('/meetings/{id}/join', {
      params: { path: { id: this.meetingId } },
    });
    if (data === undefined) {
      throw Object.assign(new Error(asProblem(error).detail ?? 'refused'), { status: response.status });
    }
    if (data.mode !== 'native') throw Object.assign(new Error('not a call here'), { status: 409 });
    return data;
  }

  private async checkOrigin() {
    try {
      const origin = window.location.origin;
      const response = await fetch(`/signaling/origin-check?origin=${encodeURIComponent(origin)}`, {
        cache: 'no-store',
        credentials: 'omit',
      });
      if (!response.ok) return null;
      const body = (await response.json()) as { allowed?: unknown; origin?: string; suggestedOrigin?: string };
      if (typeof body.allowed !== 'boolean') return null;
      this.verdict = { origin: body.origin ?? origin, suggestedOrigin: body.suggestedOrigin };
      return { allowed: body.allowed, origin: body.origin, suggestedOrigin: body.suggestedOrigin };
    } catch {
      return null;
    }
  }

  private async startNative(answer: NativeJoinResponse): Promise<void> {
    const mine = this.attempt;
    let SimplePeer: SimplePeerConstructor;
    try {
      SimplePeer = await loadSimplePeer();
    } catch {
      this.phase.value = 'lobby';
      this.notice.value = { key: 'call.errors.library' };
      return;
    }
    if (mine !== this.attempt || this.disposed) return;
    this.stopRoom();
    if (answer.role !== undefined) this.myRole.value = answer.role;
    this.leftByUser = false;
    this.lastError = undefined;
    this.partner.value = 'absent';
    this.remoteMedia.value = { mic: true, cam: true };
    this.chat.entries.value = [];
    this.chat.unread.value = 0;
    this.phase.value = 'call';
    const localStream = this.local.stream.value;
    this.active = true;
    const call = startCall({
      join: answer,
      SimplePeer,
      ...(localStream !== undefined ? { localStream } : {}),
      // A kind with no track (blocked, missing) is told to the partner as off, not as on and silent.
      media: {
        mic: this.local.media.mic && this.local.available.value.mic,
        cam: this.local.media.cam && this.local.available.value.cam,
      },
      rejoin: () => this.rejoin(),
      checkOrigin: () => this.checkOrigin(),
      onState: (state) => this.onState(state),
      onPartner: (p) => (this.partner.value = p),
      onRemoteStream: (stream) => (this.remoteStream.value = stream ?? undefined),
      onRemoteMedia: (m) => (this.remoteMedia.value = { mic: m.mic, cam: m.cam }),
      onChat: (message) => this.chat.received(message),
      onChatDelivery: (id, delivery) => this.chat.delivered(id, delivery),
      onQuality: (q) => {
        if (this.callState.value === 'connected') this.quality.value = q;
      },
      onError: (err) => this.onError(err),
    });
    this.handle.value = call;
    this.chat.handle.value = call;
    this.local.attach(call);
    this.scheduleEnd();
  }

  private scheduleEnd(): void {
    clearTimeout(this.endTimer);
    this.endTimer = undefined;
    const end = this.meeting.value === undefined ? NaN : Date.parse(this.meeting.value.end);
    const ms = end - Date.now();
    if (!(ms > 0) || ms > MAX_TIMER_MS) return;
    this.endTimer = setTimeout(() => this.complete(), ms);
  }

  private onState(state: CallState): void {
    // stopCall() ended the call itself and set the page up already.
    if (!this.active) return;
    this.callState.value = state;
    // The quality line speaks of a live connection only.
    if (state !== 'connected') this.quality.value = undefined;
    if (state === 'connected' && this.notice.value !== undefined && 'key' in this.notice.value) {
      if (this.notice.value.key === 'call.errors.peer') this.notice.value = undefined;
    }
    if (state !== 'ended') return;
    const byUser = this.leftByUser;
    this.stopCall();
    if (byUser) {
      this.phase.value = 'left';
      this.notice.value = undefined;
      return;
    }
    if (this.isOver()) {
      this.complete();
      return;
    }
    this.phase.value = 'ended';
    this.notice.value = this.endNotice(this.lastError);
    const code = this.lastError?.code;
    if (code === 'cancelled') void this.refreshMeeting();
    // The server no longer takes us: a meeting cancelled meanwhile says so (with its reason).
    if (code === 'rejoin_refused') {
      void this.refreshMeeting().then(() => {
        if (this.phase.value === 'ended' && this.meeting.value?.state === 'cancelled') {
          this.notice.value = { key: 'call.errors.cancelled' };
        }
      });
    }
  }

  private endNotice(err: CallError | undefined): Notice {
    switch (err?.code) {
      case undefined:
        return { key: 'call.errors.ended' };
      case 'cancelled':
        return { key: 'call.errors.cancelled' };
      case 'outside_window':
        return { key: 'call.errors.outsideWindow' };
      case 'replaced':
        return { key: 'call.errors.replaced' };
      case 'unreachable':
        return { key: 'call.errors.unreachable' };
      case 'disconnected':
        return { key: 'call.errors.disconnected' };
      case 'rejoin_refused':
        return { key: 'call.errors.rejoinRefused' };
      case 'origin_refused':
        return {
          key:
            this.verdict?.suggestedOrigin === undefined ? 'call.errors.originRefused' : 'call.errors.originElsewhere',
          values: { origin: this.verdict?.origin ?? window.location.origin, to: this.verdict?.suggestedOrigin ?? '' },
        };
      case 'forbidden':
      case 'not_participant':
      case 'not_found':
      case 'not_native':
        return { key: 'call.errors.forbidden' };
      default:
        return { key: 'call.errors.other', values: { reason: err?.message ?? '' } };
    }
  }

  private onError(err: CallError): void {
    if (isPeerError(err)) {
      if (this.lastError === undefined) this.notice.value = { key: 'call.errors.peer' };
      return;
    }
    this.lastError = err;
  }

  /**
   * Asks "Leave the call?" (the Leave button, or a navigation away during the call): answers whether to leave; a
   * confirmed leave has left the call already.
   */
  askLeave(): Promise<boolean> {
    this.leaveAnswer?.(false);
    this.leaving.value = true;
    return new Promise<boolean>((resolve) => (this.leaveAnswer = resolve));
  }

  /** The dialog's answer. */
  answerLeave(confirmed: boolean): void {
    const answer = this.leaveAnswer;
    this.leaveAnswer = undefined;
    this.leaving.value = false;
    if (confirmed && this.phase.value === 'call') this.leave();
    answer?.(confirmed);
  }

  /** In the call: leaving the page should be asked first. */
  inCall(): boolean {
    return this.phase.value === 'call';
  }

  /** Leave, after the confirmation: bye to the partner, then "You left the call" and Join again. */
  leave(): void {
    this.attempt += 1;
    this.leftByUser = true;
    // The engine ends the call (state 'ended'); if it has not by the time leave() returns, the page ends it.
    this.handle.value?.leave();
    if (this.phase.value === 'left') return;
    this.stopCall();
    this.phase.value = 'left';
    this.notice.value = undefined;
  }

  /** Join again after leaving or after the call ended: the camera again, then the join. */
  async again(): Promise<void> {
    this.notice.value = undefined;
    resumeAudio();
    await this.refreshMeeting();
    if (this.disposed) return;
    if (this.meeting.value?.state === 'cancelled') {
      // Nothing to join: the lobby says why, and the camera stays off.
      this.enterLobby();
      return;
    }
    if (this.isOver()) {
      this.complete();
      return;
    }
    void this.local.acquire();
    await this.join();
  }

  /** The page goes away (navigation, tab closed): the partner is told at once. */
  dispose(): void {
    this.disposed = true;
    this.answerLeave(false);
    this.attempt += 1;
    this.stopRoom();
    this.stopCall();
  }
}
