import { reactive, ref, shallowRef } from 'vue';
import type { CallHandle, MediaState } from './engine/call';
import { acquireMedia, acquireTrack, mediaProblemOf, stopStream } from './media';
import type { MediaProblem } from './media';

/** My camera and microphone: the stream (preview, then the call's), the chosen devices, on/off, and what failed. */
export const useLocalMedia = () => {
  const stream = shallowRef<MediaStream | undefined>();
  const problem = ref<MediaProblem | undefined>();
  const switchProblem = ref<MediaProblem | undefined>();
  const media = reactive<{ mic: boolean; cam: boolean }>({ mic: true, cam: true });
  const choice = reactive<{ cameraId: string; micId: string; speakerId: string }>({
    cameraId: '',
    micId: '',
    speakerId: '',
  });
  const acquiring = ref(false);
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
      problem.value = got.problem;
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
    if (change.mic !== undefined) media.mic = change.mic;
    if (change.cam !== undefined) media.cam = change.cam;
    if (handle !== undefined) handle.setMedia(change);
    else applyEnabled(stream.value);
  };

  /**
   * Another camera or microphone: before the call, the preview is opened again with it; in the call, a track of
   * that device replaces the old one (the call stays up) and the stream is handed on anew so the meters and the
   * self view follow.
   */
  const switchDevice = async (kind: 'video' | 'audio', deviceId: string) => {
    if (kind === 'video') choice.cameraId = deviceId;
    else choice.micId = deviceId;
    switchProblem.value = undefined;
    if (handle === undefined) {
      await acquire();
      return;
    }
    try {
      const track = await acquireTrack(kind, deviceId);
      track.enabled = kind === 'video' ? media.cam : media.mic;
      await handle.replaceTrack(track);
      // A kind the call had no track of yet (no camera at the start) is added by the engine, renegotiated.
      const others = stream.value?.getTracks().filter((t) => t.kind !== kind) ?? [];
      stream.value = new MediaStream([...others, track]);
    } catch (error) {
      switchProblem.value = mediaProblemOf(error);
    }
  };

  const attach = (call: CallHandle | undefined) => {
    handle = call;
  };
  return {
    stream,
    problem,
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
