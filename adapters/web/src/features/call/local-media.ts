import { computed, reactive, ref, shallowRef } from 'vue';
import type { CallHandle, MediaState } from './engine/call.ts';
import { acquireMedia, acquireTrack, mediaProblemOf, resumeAudio, stopStream } from './media.ts';
import type { MediaProblem } from './media.ts';

/**
 * A track of the device for a switch in the call. A phone opens one camera at a time (the second is "busy"): then
 * the old camera of `current()` (undefined once the switch is stale) is stopped and the new one asked for again.
 */
const openTrack = async (
  kind: 'video' | 'audio',
  deviceId: string,
  current: () => MediaStream | undefined,
): Promise<MediaStreamTrack> => {
  try {
    return await acquireTrack(kind, deviceId);
  } catch (error) {
    const old = current();
    if (kind !== 'video' || mediaProblemOf(error) !== 'busy' || old === undefined) throw error;
    for (const track of old.getVideoTracks()) track.stop();
    return acquireTrack(kind, deviceId);
  }
};

/** My camera and microphone: the stream (preview, then the call's), the chosen devices, on/off, and what failed. */
export const useLocalMedia = () => {
  const stream = shallowRef<MediaStream | undefined>();
  const videoProblem = ref<MediaProblem | undefined>();
  const audioProblem = ref<MediaProblem | undefined>();
  const switchProblem = ref<MediaProblem | undefined>();
  const media = reactive<{ mic: boolean; cam: boolean }>({ mic: true, cam: true });
  const choice = reactive<{ cameraId: string; micId: string; speakerId: string }>({
    cameraId: '',
    micId: '',
    speakerId: '',
  });
  const acquiring = ref(false);
  /** Whether there is a microphone and a camera track to turn on or off. */
  const available = computed(() => ({
    mic: (stream.value?.getAudioTracks().length ?? 0) > 0,
    cam: (stream.value?.getVideoTracks().length ?? 0) > 0,
  }));
  let pending: Promise<void> | undefined;
  let handle: CallHandle | undefined;
  /** Bumped by release(): a camera granted after the page let go of it is stopped at once. */
  let generation = 0;

  const applyEnabled = (s: MediaStream | undefined) => {
    for (const t of s?.getAudioTracks() ?? []) t.enabled = media.mic;
    for (const t of s?.getVideoTracks() ?? []) t.enabled = media.cam;
  };
  const remember = (s: MediaStream | undefined) => {
    choice.cameraId = s?.getVideoTracks()[0]?.getSettings().deviceId ?? choice.cameraId;
    choice.micId = s?.getAudioTracks()[0]?.getSettings().deviceId ?? choice.micId;
  };

  /** (Re)opens the chosen devices; the old stream is stopped. */
  const acquire = (): Promise<void> => {
    pending = (async () => {
      acquiring.value = true;
      const mine = generation;
      const got = await acquireMedia({ cameraId: choice.cameraId, micId: choice.micId });
      acquiring.value = false;
      if (mine !== generation) {
        stopStream(got.stream);
        return;
      }
      stopStream(stream.value);
      applyEnabled(got.stream);
      stream.value = got.stream;
      videoProblem.value = got.videoProblem;
      audioProblem.value = got.audioProblem;
      remember(got.stream);
    })();
    return pending;
  };
  const ready = async () => {
    if (pending === undefined) await acquire();
    else await pending;
  };
  const release = () => {
    generation += 1;
    stopStream(stream.value);
    stream.value = undefined;
    pending = undefined;
  };

  const setMedia = (change: Partial<MediaState>) => {
    resumeAudio();
    if (change.mic !== undefined) media.mic = change.mic;
    if (change.cam !== undefined) media.cam = change.cam;
    if (handle !== undefined) handle.setMedia(change);
    else applyEnabled(stream.value);
  };

  /**
   * Another camera or microphone: before the call, the preview is opened again with it; in the call, a track of
   * that device replaces the old one (the call stays up) and the stream is handed on anew so the meters and the
   * self view follow. A call that ended (or a page that let go of the camera) while the device opened gets nothing:
   * the new track is stopped. On failure the picker shows the device in use again.
   */
  const switchDevice = async (kind: 'video' | 'audio', deviceId: string) => {
    resumeAudio();
    const previous = kind === 'video' ? choice.cameraId : choice.micId;
    const pick = (id: string) => {
      if (kind === 'video') choice.cameraId = id;
      else choice.micId = id;
    };
    pick(deviceId);
    switchProblem.value = undefined;
    const call = handle;
    const mine = generation;
    if (call === undefined) {
      await acquire();
      return;
    }
    const stale = () => mine !== generation || handle !== call;
    let track: MediaStreamTrack | undefined;
    try {
      track = await openTrack(kind, deviceId, () => (stale() ? undefined : stream.value));
      if (stale()) {
        track.stop();
        return;
      }
      track.enabled = kind === 'video' ? media.cam : media.mic;
      await call.replaceTrack(track);
      if (stale()) return;
      // A kind the call had no track of yet (no camera at the start) is added by the engine, renegotiated.
      const had = kind === 'video' ? available.value.cam : available.value.mic;
      const others = stream.value?.getTracks().filter((t) => t.kind !== kind) ?? [];
      stream.value = new MediaStream([...others, track]);
      // The partner was told this kind was off while there was none: now it is as the toggle says.
      if (!had) call.setMedia(kind === 'video' ? { cam: media.cam } : { mic: media.mic });
    } catch (error) {
      track?.stop();
      if (stale()) return;
      pick(previous);
      switchProblem.value = mediaProblemOf(error);
    }
  };

  const attach = (call: CallHandle | undefined) => {
    handle = call;
  };
  return {
    stream,
    videoProblem,
    audioProblem,
    available,
    switchProblem,
    media,
    choice,
    acquiring,
    acquire,
    ready,
    release,
    setMedia,
    switchDevice,
    attach,
  };
};

export type LocalMedia = ReturnType<typeof useLocalMedia>;
