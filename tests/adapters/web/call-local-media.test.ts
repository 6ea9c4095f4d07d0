import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallHandle } from '../../../adapters/web/src/features/call/engine/call.ts';
import { useLocalMedia } from '../../../adapters/web/src/features/call/local-media.ts';

// The call page's own camera and microphone against a fake browser: what a device switch in the call does when the
// call ends meanwhile, when the engine refuses the track, and on a phone that opens one camera at a time.

class FakeTrack {
  readyState: 'live' | 'ended' = 'live';
  enabled = true;
  constructor(
    readonly kind: 'video' | 'audio',
    readonly deviceId: string,
  ) {}
  stop() {
    this.readyState = 'ended';
  }
  getSettings() {
    return { deviceId: this.deviceId };
  }
}

class FakeStream {
  constructor(private readonly tracks: FakeTrack[] = []) {}
  getTracks() {
    return [...this.tracks];
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === 'video');
  }
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
}

type Ask = (constraints: MediaStreamConstraints) => Promise<FakeStream>;
let ask: Ask;
const opened: FakeTrack[] = [];
const deviceOf = (c: boolean | MediaTrackConstraints | undefined) =>
  typeof c === 'object' ? String((c.deviceId as { exact: string }).exact) : 'default';
const open: Ask = async (c) => {
  const tracks: FakeTrack[] = [];
  if (c.video) tracks.push(new FakeTrack('video', deviceOf(c.video)));
  if (c.audio) tracks.push(new FakeTrack('audio', deviceOf(c.audio)));
  opened.push(...tracks);
  return new FakeStream(tracks);
};

beforeEach(() => {
  opened.length = 0;
  ask = open;
  Object.defineProperty(globalThis, 'navigator', {
    value: { mediaDevices: { getUserMedia: (c: MediaStreamConstraints) => ask(c) } },
    configurable: true,
  });
  Object.defineProperty(globalThis, 'MediaStream', { value: FakeStream, configurable: true, writable: true });
});
afterEach(() => {
  Reflect.deleteProperty(globalThis, 'MediaStream');
});

const inCall = async (replaceTrack: (track: MediaStreamTrack) => Promise<void> = async () => {}) => {
  const local = useLocalMedia();
  await local.acquire();
  const replaced: MediaStreamTrack[] = [];
  const handle = {
    replaceTrack: async (track: MediaStreamTrack) => {
      replaced.push(track);
      await replaceTrack(track);
    },
    setMedia: () => {},
  } as unknown as CallHandle;
  local.attach(handle);
  return { local, replaced };
};

describe('a device switch in the call', () => {
  it('replaces the camera track and keeps the microphone', async () => {
    const { local, replaced } = await inCall();
    await local.switchDevice('video', 'cam-2');
    expect(replaced.map((t) => (t as unknown as FakeTrack).deviceId)).toEqual(['cam-2']);
    expect(local.stream.value?.getTracks().map((t) => `${t.kind}:${(t as unknown as FakeTrack).deviceId}`)).toEqual([
      'audio:default',
      'video:cam-2',
    ]);
    expect(local.choice.cameraId).toBe('cam-2');
  });

  it('stops the new camera when the call ended while it opened, and hands nothing to the old call', async () => {
    const { local, replaced } = await inCall();
    let grant: () => void = () => {};
    ask = (c) => new Promise((resolve) => (grant = () => resolve(open(c))));
    const switching = local.switchDevice('video', 'cam-2');
    local.attach(undefined);
    local.release();
    grant();
    await switching;
    expect(replaced).toEqual([]);
    expect(opened.filter((t) => t.deviceId === 'cam-2').map((t) => t.readyState)).toEqual(['ended']);
  });

  it('stops the new track when the engine refuses it, and the picker shows the camera in use again', async () => {
    const { local } = await inCall(async () => {
      throw new DOMException('no', 'InvalidStateError');
    });
    const before = local.choice.cameraId;
    await local.switchDevice('video', 'cam-2');
    expect(opened.find((t) => t.deviceId === 'cam-2')?.readyState).toBe('ended');
    expect(local.choice.cameraId).toBe(before);
    expect(local.switchProblem.value).toBe('failed');
    expect(local.stream.value?.getVideoTracks()[0]?.readyState).toBe('live');
  });

  it('on a phone that opens one camera at a time, lets the old camera go and asks once more', async () => {
    const { local, replaced } = await inCall();
    const old = local.stream.value?.getVideoTracks()[0] as unknown as FakeTrack;
    let asked = 0;
    ask = async (c) => {
      asked += 1;
      if (old.readyState === 'live') throw new DOMException('busy', 'NotReadableError');
      return open(c);
    };
    await local.switchDevice('video', 'cam-2');
    expect(asked).toBe(2);
    expect(old.readyState).toBe('ended');
    expect(replaced.map((t) => (t as unknown as FakeTrack).deviceId)).toEqual(['cam-2']);
    expect(local.switchProblem.value).toBeUndefined();
  });
});
