// The call page (/call?meeting=<id>#link=<join link token>, or #token=<jwt>). Served as-is under a strict CSP: no inline code, and everything
// that comes from the server or the URL reaches the DOM through textContent or checked attributes only.
import { startCall } from '/static/call-client.js';

const TOKEN_KEY = 'oneonone.call.token';
// setTimeout's ceiling; a meeting ending further away than this does not get an end timer.
const MAX_TIMER_MS = 2_147_483_647;

const STATE_TEXT = {
  'socket-connecting': 'Connecting…',
  'waiting-for-peer': 'Waiting for the other party to join…',
  'connecting-peer': 'Connecting to the other party…',
  connected: 'Connected',
  reconnecting: 'Connection lost, reconnecting…',
  ended: 'The call has ended.',
};

const byId = (id) => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`call page: #${id} missing`);
  return element;
};

const ui = {
  title: byId('title'),
  when: byId('when'),
  status: byId('status'),
  message: byId('message'),
  tokenBox: byId('token-box'),
  tokenForm: byId('token-form'),
  tokenInput: byId('token-input'),
  linkBox: byId('link-box'),
  link: byId('link'),
  linkHost: byId('link-host'),
  callBox: byId('call-box'),
  remoteVideo: byId('remote-video'),
  remoteLabel: byId('remote-label'),
  localVideo: byId('local-video'),
  unmute: byId('unmute'),
  leave: byId('leave'),
  againBox: byId('again-box'),
  again: byId('again'),
};

const meetingId = (new URLSearchParams(window.location.search).get('meeting') ?? '').trim();

// sessionStorage can be unavailable (privacy modes); the token then lives for this page only.
let memoryToken = null;
const tokenStore = {
  get() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) ?? memoryToken;
    } catch {
      return memoryToken;
    }
  },
  set(token) {
    memoryToken = token;
    try {
      window.sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // kept in memory
    }
  },
  clear() {
    memoryToken = null;
    try {
      window.sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // nothing stored
    }
  },
};

/**
 * Moves `#link=...` (a join link from the calendar or an email) or `#token=...` into sessionStorage and drops it from
 * the address bar and history. The fragment never reaches a server, so the credential is in no request log.
 */
const takeTokenFromFragment = () => {
  const hash = window.location.hash.replace(/^#/, '');
  if (hash === '') return;
  const params = new URLSearchParams(hash);
  const token = params.get('link') ?? params.get('token');
  if (token !== null && token.trim() !== '') tokenStore.set(token.trim());
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
};

class HttpError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

const api = async (method, path) => {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${tokenStore.get() ?? ''}`, accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new HttpError(0, 'The server cannot be reached. Check your connection and try again.');
  }
  const text = await response.text();
  let body;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!response.ok) {
    const detail =
      body !== null && typeof body.detail === 'string' && body.detail !== ''
        ? body.detail
        : `${response.status} ${response.statusText}`;
    throw new HttpError(response.status, detail, body);
  }
  return body;
};

const meetingPath = `/meetings/${encodeURIComponent(meetingId)}`;
const requestJoin = () => api('POST', `${meetingPath}/join`);

/** Whether the server lets a page on this origin open the signaling socket (null: it could not tell). */
const checkOrigin = async () => {
  try {
    const response = await fetch(`/signaling/origin-check?origin=${encodeURIComponent(window.location.origin)}`, {
      cache: 'no-store',
      credentials: 'omit',
    });
    if (!response.ok) return null;
    const body = await response.json();
    return body !== null && typeof body === 'object' && typeof body.allowed === 'boolean' ? body : null;
  } catch {
    return null;
  }
};

// ---- rendering ----

const show = (element, visible) => {
  element.hidden = !visible;
};

const setPhase = (phase) => {
  document.body.dataset.phase = phase;
  show(ui.tokenBox, phase === 'token');
  show(ui.linkBox, phase === 'link');
  show(ui.callBox, phase === 'call');
};

const setStatus = (state, text) => {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
};

const setMessage = (text, kind = 'error') => {
  ui.message.textContent = text ?? '';
  ui.message.dataset.kind = kind;
  show(ui.message, text !== null && text !== undefined && text !== '');
};

const offerAgain = (label) => {
  ui.again.textContent = label;
  show(ui.againBox, true);
};

/** The session's time in the viewer's zone, with that zone named ("…, 10:24–10:54 (America/Chicago)"). */
const formatWhen = (start, end) => {
  try {
    const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
    const range =
      typeof format.formatRange === 'function'
        ? format.formatRange(start, end)
        : `${format.format(start)} – ${format.format(end)}`;
    const zone = viewerZone();
    return zone !== undefined ? `${range} (${zone})` : range;
  } catch {
    return `${start.toISOString()} – ${end.toISOString()} (UTC)`;
  }
};

/** The viewer's own zone, by name (`Europe/Berlin`); undefined when the browser does not say. */
const viewerZone = () => {
  try {
    return new Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
  } catch {
    return undefined;
  }
};

const sameLocalDay = (a, b) =>
  a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/**
 * "Joining opens at 09:45 (Europe/Berlin), 15 minutes before the start." in the viewer's zone, named, with the date
 * when it is not today; null when `opensAt` is not an instant.
 */
const opensText = (opensAt) => {
  const opens = new Date(typeof opensAt === 'string' ? opensAt : NaN);
  if (Number.isNaN(opens.getTime())) return null;
  const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' }).format(opens);
  const day = sameLocalDay(opens, new Date())
    ? ''
    : ` on ${new Intl.DateTimeFormat(undefined, { dateStyle: 'full' }).format(opens)}`;
  const zone = viewerZone();
  const start = meeting === null ? NaN : Date.parse(meeting.start);
  const minutes = Math.round((start - opens.getTime()) / 60_000);
  const before = Number.isFinite(minutes) && minutes > 0 ? `, ${minutes} minutes before the start` : '';
  return `Joining opens${day} at ${time}${zone !== undefined ? ` (${zone})` : ''}${before}.`;
};

let meeting = null;

const showMeeting = (view) => {
  if (view === null || typeof view !== 'object') return;
  meeting = view;
  if (typeof view.title === 'string' && view.title !== '') {
    ui.title.textContent = view.title;
    document.title = `${view.title} · 1on1 call`;
  }
  const start = new Date(view.start);
  const end = new Date(view.end);
  if (!Number.isNaN(start.getTime()) && !Number.isNaN(end.getTime())) ui.when.textContent = formatWhen(start, end);
};

const meetingIsOver = () => meeting !== null && meeting.state !== 'cancelled' && Date.parse(meeting.end) <= Date.now();

const showComplete = () => {
  stopCall();
  setPhase('complete');
  setStatus('complete', 'Meeting complete');
  setMessage('This session has ended. Thank you for joining.', 'info');
  show(ui.againBox, false);
};

// ---- the call ----

let call = null;
let localStream = null;
let endTimer = null;
let leftByUser = false;
let lastError = null;
let lastPeerError = null;
let simplePeerLoading = null;
// Bumped by every (re)start and by Leave, so a start still waiting for the camera knows it was abandoned.
let attempt = 0;

const loadSimplePeer = () => {
  if (typeof window.SimplePeer === 'function') return Promise.resolve(window.SimplePeer);
  simplePeerLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/static/simplepeer.min.js';
    script.async = true;
    script.onload = () =>
      typeof window.SimplePeer === 'function'
        ? resolve(window.SimplePeer)
        : reject(new Error('The call library did not load.'));
    script.onerror = () => reject(new Error('The call library could not be loaded.'));
    document.head.append(script);
  });
  simplePeerLoading.catch(() => {
    simplePeerLoading = null;
  });
  return simplePeerLoading;
};

/** Camera and microphone, else microphone only, else nothing (the call still shows the other side). */
const getMedia = async () => {
  if (navigator.mediaDevices === undefined || typeof navigator.mediaDevices.getUserMedia !== 'function') {
    return { stream: null, note: 'This browser gives the page no camera or microphone (it needs https).' };
  }
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ video: true, audio: true }), note: null };
  } catch (first) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      return { stream, note: 'No camera available: the other party hears you but cannot see you.' };
    } catch {
      const reason =
        first instanceof Error && first.name === 'NotAllowedError' ? 'access was refused' : 'none was found';
      return {
        stream: null,
        note: `Camera and microphone unavailable (${reason}): the other party can neither see nor hear you.`,
      };
    }
  }
};

const stopLocalMedia = () => {
  if (localStream !== null) for (const track of localStream.getTracks()) track.stop();
  localStream = null;
  ui.localVideo.srcObject = null;
};

const stopCall = () => {
  if (endTimer !== null) clearTimeout(endTimer);
  endTimer = null;
  const current = call;
  call = null;
  if (current !== null) current.leave();
  stopLocalMedia();
  ui.remoteVideo.srcObject = null;
};

const playRemote = () => {
  ui.remoteVideo.play().catch(() => {
    // Autoplay with sound needs a user gesture in some browsers: start muted and offer the sound on a click.
    ui.remoteVideo.muted = true;
    show(ui.unmute, true);
    ui.remoteVideo.play().catch(() => {});
  });
};

const onRemoteStream = (stream) => {
  ui.remoteVideo.srcObject = stream;
  if (stream === null) {
    ui.remoteVideo.dataset.stream = 'none';
    return;
  }
  ui.remoteVideo.dataset.stream = 'live';
  playRemote();
};

const onCallState = (state) => {
  // stopCall() ends the call itself and then sets the page up; nothing more to do here.
  if (state === 'ended' && call === null) return;
  setStatus(state, STATE_TEXT[state] ?? state);
  if (state === 'connected' && ui.message.dataset.kind !== 'note') setMessage(null);
  if (state !== 'ended') return;
  const wasLeft = leftByUser;
  stopCall();
  setPhase('ended');
  if (wasLeft) {
    setStatus('ended', 'You left the call.');
    setMessage(null);
    offerAgain('Join again');
    return;
  }
  if (meetingIsOver()) {
    showComplete();
    return;
  }
  if (lastError !== null && lastError.code === 'origin_refused')
    setStatus('origin-refused', 'This address cannot open the call.');
  setMessage((lastError ?? lastPeerError)?.message ?? 'The call has ended.');
  offerAgain('Try to join again');
};

// simple-peer's own failures (ERR_...) and bad signals: the client retries them, and when the other side goes away
// they race with the server's reason, which must win.
const isPeerError = (err) => typeof err.code !== 'string' || err.code === 'peer_error' || err.code.startsWith('ERR_');

const onCallError = (err) => {
  if (isPeerError(err)) {
    lastPeerError = err;
    if (lastError === null) setMessage('The connection to the other party was interrupted; retrying…', 'info');
    return;
  }
  lastError = err;
  setMessage(err.message);
};

const rejoin = async () => {
  const answer = await requestJoin();
  if (answer === null || answer.mode !== 'native') throw new HttpError(409, 'This session no longer takes place here.');
  return answer;
};

const scheduleEnd = () => {
  if (meeting === null) return;
  const ms = Date.parse(meeting.end) - Date.now();
  if (!(ms > 0) || ms > MAX_TIMER_MS) return;
  endTimer = setTimeout(() => {
    endTimer = null;
    showComplete();
  }, ms);
};

const startNative = async (answer) => {
  setPhase('call');
  setStatus('media', 'Starting your camera and microphone…');
  ui.remoteVideo.muted = false;
  show(ui.unmute, false);
  ui.remoteLabel.textContent =
    answer.role === 'customer' ? 'Your instructor' : answer.role === 'instructor' ? 'Your customer' : 'The other party';
  const joinedAt = Date.now();
  const mine = attempt;
  let SimplePeer;
  let media;
  try {
    [SimplePeer, media] = await Promise.all([loadSimplePeer(), getMedia()]);
  } catch (err) {
    if (attempt !== mine) return;
    setPhase('error');
    setStatus('error', 'The call could not start.');
    setMessage(err instanceof Error ? err.message : String(err));
    offerAgain('Try again');
    return;
  }
  localStream = media.stream;
  ui.localVideo.srcObject = localStream;
  if (attempt !== mine) {
    stopLocalMedia();
    return;
  }
  if (media.note !== null) setMessage(media.note, 'note');
  // A ticket lives 60 s; a slow permission prompt may have outlived it.
  let join = answer;
  if (Date.now() - joinedAt > 30_000) {
    try {
      join = await rejoin();
    } catch (err) {
      stopLocalMedia();
      if (attempt === mine) void handleJoinError(err);
      return;
    }
    if (attempt !== mine) {
      stopLocalMedia();
      return;
    }
  }
  leftByUser = false;
  lastError = null;
  lastPeerError = null;
  call = startCall({
    join,
    SimplePeer,
    ...(localStream !== null ? { localStream } : {}),
    onState: onCallState,
    onRemoteStream,
    onError: onCallError,
    rejoin,
    checkOrigin,
  });
  scheduleEnd();
};

const showLink = (url) => {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (parsed === null || parsed.protocol !== 'https:') {
    setPhase('error');
    setStatus('error', 'This session has no usable link.');
    setMessage('The session link is missing or not a secure https link; please contact your instructor.');
    return;
  }
  setPhase('link');
  setStatus('link', 'Ready to join');
  ui.link.href = parsed.href;
  ui.linkHost.textContent = parsed.host;
};

const askToken = (why) => {
  setPhase('token');
  setStatus('token', 'An access token is needed to join.');
  setMessage(why ?? null);
  ui.tokenInput.value = '';
  ui.tokenInput.focus();
};

const handleJoinError = async (err) => {
  const status = err instanceof HttpError ? err.status : 0;
  const detail = err instanceof Error ? err.message : String(err);
  if (status === 401) {
    tokenStore.clear();
    askToken(`Your access token was not accepted: ${detail}`);
    return;
  }
  if (status === 404) {
    setPhase('error');
    setStatus('not-found', 'Meeting not found.');
    setMessage('There is no such meeting, or you are not one of its participants.');
    return;
  }
  if (status === 409) {
    await meetingLoaded;
    if (meetingIsOver()) {
      showComplete();
      return;
    }
    setPhase('refused');
    setStatus('refused', 'You cannot join this call right now.');
    // Too early: the server tells the time in the meeting's zone; the viewer gets it in their own.
    const opens =
      err instanceof HttpError && err.body !== null && typeof err.body === 'object'
        ? opensText(err.body.opensAt)
        : null;
    setMessage(opens ?? detail);
    offerAgain('Try again');
    return;
  }
  setPhase('error');
  setStatus('error', 'Something went wrong.');
  setMessage(detail);
  offerAgain('Try again');
};

let meetingLoaded = Promise.resolve();

const begin = async () => {
  attempt += 1;
  const mine = attempt;
  show(ui.againBox, false);
  setMessage(null);
  if (meetingId === '') {
    setPhase('error');
    setStatus('error', 'No meeting given.');
    setMessage('Open this page from your meeting link (it looks like /call?meeting=…).');
    return;
  }
  if (tokenStore.get() === null) {
    askToken();
    return;
  }
  setPhase('loading');
  setStatus('loading', 'Joining…');
  meetingLoaded = api('GET', meetingPath).then(showMeeting, () => {});
  let answer;
  try {
    answer = await requestJoin();
  } catch (err) {
    if (attempt === mine) await handleJoinError(err);
    return;
  }
  await meetingLoaded;
  if (attempt !== mine) return;
  if (answer !== null && answer.mode === 'link') {
    showLink(answer.url);
  } else if (answer !== null && answer.mode === 'native') {
    await startNative(answer);
  } else {
    setPhase('error');
    setStatus('error', 'Unexpected answer from the server.');
    offerAgain('Try again');
  }
};

ui.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = ui.tokenInput.value.trim();
  if (token === '') return;
  tokenStore.set(token);
  void begin();
});

ui.leave.addEventListener('click', () => {
  attempt += 1;
  leftByUser = true;
  if (call !== null) {
    call.leave();
    return;
  }
  stopCall();
  setPhase('ended');
  setStatus('ended', 'You left the call.');
  setMessage(null);
  offerAgain('Join again');
});

ui.unmute.addEventListener('click', () => {
  ui.remoteVideo.muted = false;
  ui.remoteVideo.play().catch(() => {});
  show(ui.unmute, false);
});

ui.again.addEventListener('click', () => {
  void begin();
});

// Tell the other side right away instead of letting it wait for the socket to time out.
window.addEventListener('pagehide', () => {
  if (call !== null) call.leave();
});

takeTokenFromFragment();
void begin();
