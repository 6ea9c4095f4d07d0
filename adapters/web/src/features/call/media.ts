import { onBeforeUnmount, ref, watch } from 'vue';
import type { Ref } from 'vue';

/** Why the camera or microphone could not be had, in the words the page uses (an i18n key under `call.media`). */
export type MediaProblem = 'denied' | 'missing' | 'busy' | 'insecure' | 'failed';

export const mediaProblemOf = (error: unknown): MediaProblem => {
  const name = error instanceof Error || error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'missing';
  if (name === 'NotReadableError' || name === 'AbortError' || name === 'TrackStartError') return 'busy';
  return 'failed';
};

export interface DeviceChoice {
  readonly cameraId?: string;
  readonly micId?: string;
}

export interface Acquired {
  readonly stream: MediaStream | undefined;
  /** Why there is no camera in the stream (undefined when there is one). */
  readonly videoProblem: MediaProblem | undefined;
  /** Why there is no microphone in the stream (undefined when there is one). */
  readonly audioProblem: MediaProblem | undefined;
}

const constraint = (id: string | undefined): MediaTrackConstraints | boolean =>
  id === undefined || id === '' ? true : { deviceId: { exact: id } };

const mediaDevices = (): MediaDevices | undefined =>
  typeof navigator !== 'undefined' && navigator.mediaDevices !== undefined ? navigator.mediaDevices : undefined;

const ask = async (devices: MediaDevices, constraints: MediaStreamConstraints) => {
  try {
    return { stream: await devices.getUserMedia(constraints), problem: undefined };
  } catch (error) {
    return { stream: undefined, problem: mediaProblemOf(error) };
  }
};

/**
 * Camera and microphone together; when that fails (Chrome refuses both if either is blocked, missing or busy), each
 * kind alone, so a blocked camera still leaves the microphone (and the other way round). Nothing: receive only.
 */
export const acquireMedia = async (choice: DeviceChoice): Promise<Acquired> => {
  const devices = mediaDevices();
  if (devices === undefined || typeof devices.getUserMedia !== 'function') {
    return { stream: undefined, videoProblem: 'insecure', audioProblem: 'insecure' };
  }
  const video = constraint(choice.cameraId);
  const audio = constraint(choice.micId);
  const both = await ask(devices, { video, audio });
  if (both.stream !== undefined) {
    const hasVideo = both.stream.getVideoTracks().length > 0;
    const hasAudio = both.stream.getAudioTracks().length > 0;
    return {
      stream: both.stream,
      videoProblem: hasVideo ? undefined : 'missing',
      audioProblem: hasAudio ? undefined : 'missing',
    };
  }
  const camera = await ask(devices, { video });
  const mic = await ask(devices, { audio });
  const tracks = [...(camera.stream?.getVideoTracks() ?? []), ...(mic.stream?.getAudioTracks() ?? [])];
  const hasVideo = tracks.some((t) => t.kind === 'video');
  const hasAudio = tracks.some((t) => t.kind === 'audio');
  return {
    stream: tracks.length === 0 ? undefined : new MediaStream(tracks),
    videoProblem: hasVideo ? undefined : (camera.problem ?? 'missing'),
    audioProblem: hasAudio ? undefined : (mic.problem ?? 'missing'),
  };
};

/** One track of a given device, for a switch in the middle of a call. */
export const acquireTrack = async (kind: 'video' | 'audio', deviceId: string): Promise<MediaStreamTrack> => {
  const devices = mediaDevices();
  if (devices === undefined) throw new DOMException('no media devices', 'NotFoundError');
  const stream = await devices.getUserMedia({ [kind]: { deviceId: { exact: deviceId } } });
  const track = kind === 'video' ? stream.getVideoTracks()[0] : stream.getAudioTracks()[0];
  if (track === undefined) throw new DOMException('no track', 'NotFoundError');
  return track;
};

export const stopStream = (stream: MediaStream | undefined): void => {
  for (const track of stream?.getTracks() ?? []) track.stop();
};

export interface DeviceLists {
  readonly cameras: Ref<ReadonlyArray<MediaDeviceInfo>>;
  readonly mics: Ref<ReadonlyArray<MediaDeviceInfo>>;
  readonly speakers: Ref<ReadonlyArray<MediaDeviceInfo>>;
  readonly refresh: () => Promise<void>;
}

/** Whether this browser can send a media element's sound to a chosen output (`setSinkId`). */
export const canPickSpeaker = (): boolean =>
  typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

/** The devices the browser lists (labels once permission was given), kept current on `devicechange`. */
export const useDevices = (): DeviceLists => {
  const cameras = ref<ReadonlyArray<MediaDeviceInfo>>([]);
  const mics = ref<ReadonlyArray<MediaDeviceInfo>>([]);
  const speakers = ref<ReadonlyArray<MediaDeviceInfo>>([]);
  const refresh = async () => {
    const devices = mediaDevices();
    if (devices === undefined || typeof devices.enumerateDevices !== 'function') return;
    const all = await devices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
    const real = (kind: MediaDeviceKind) => all.filter((d) => d.kind === kind && d.deviceId !== '');
    cameras.value = real('videoinput');
    mics.value = real('audioinput');
    speakers.value = canPickSpeaker() ? real('audiooutput') : [];
  };
  const onChange = () => void refresh();
  mediaDevices()?.addEventListener?.('devicechange', onChange);
  onBeforeUnmount(() => mediaDevices()?.removeEventListener?.('devicechange', onChange));
  void refresh();
  return { cameras, mics, speakers, refresh };
};

let sharedContext: AudioContext | undefined;
const audioContext = (): AudioContext | undefined => {
  if (typeof AudioContext === 'undefined') return undefined;
  sharedContext ??= new AudioContext();
  return sharedContext;
};

/** Web Audio may start suspended until the person does something: called from every lobby click and from Join. */
export const resumeAudio = (): void => {
  void audioContext()
    ?.resume()
    .catch(() => {});
};

/**
 * The sound level of a stream's audio, 0 to 100, sampled by an AnalyserNode every `everyMs` (the meter's value
 * changes no more often, so screen readers and layout are not flooded).
 */
export const useAudioLevel = (stream: Ref<MediaStream | undefined>, everyMs = 250): Ref<number> => {
  const level = ref(0);
  let timer: ReturnType<typeof setInterval> | undefined;
  let source: MediaStreamAudioSourceNode | undefined;
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
    source?.disconnect();
    source = undefined;
    level.value = 0;
  };
  const start = (s: MediaStream | undefined) => {
    stop();
    const context = audioContext();
    if (s === undefined || context === undefined || s.getAudioTracks().length === 0) return;
    source = context.createMediaStreamSource(s);
    const analyser = context.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    timer = setInterval(() => {
      analyser.getByteTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += ((sample - 128) / 128) ** 2;
      const rms = Math.sqrt(sum / samples.length);
      const next = Math.min(100, Math.round(rms * 300));
      if (next !== level.value) level.value = next;
    }, everyMs);
  };
  watch(stream, start, { immediate: true });
  onBeforeUnmount(stop);
  return level;
};
