// The sign-in page: asks for an email link, exchanges a link's code (in the fragment, never sent to a server) for a
// session, and in dev mode lists the demo people. The access token is kept in sessionStorage and renewed through
// /auth/refresh, whose credential is an HttpOnly cookie this script never sees.

const TOKEN_KEY = 'accessToken';
const PERSON_KEY = 'signedInPerson';
const $ = (id) => document.getElementById(id);

/** A path of this site to go to afterwards; anything else (another host, a scheme, a backslash) is `/`. */
export const safeNext = (next) => {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2048) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/';
  if (/[\u0000-\u001F\u007F]/.test(next)) return '/';
  return next;
};

const say = (text) => {
  $('status').textContent = text;
  $('error').textContent = '';
};
const fail = (text) => {
  $('error').textContent = text;
};

const post = async (path, body) => {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
    credentials: 'same-origin',
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, body: json };
};

let renewal;
const keep = (session) => {
  sessionStorage.setItem(TOKEN_KEY, session.accessToken);
  sessionStorage.setItem(PERSON_KEY, JSON.stringify(session.person));
  clearTimeout(renewal);
  // Renewed a little before it expires, for as long as the page is open.
  renewal = setTimeout(renew, Math.max(10, session.expiresIn - 30) * 1000);
};
const forget = () => {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(PERSON_KEY);
  clearTimeout(renewal);
};

async function renew() {
  const result = await post('/auth/refresh');
  if (result.status === 200) keep(result.body);
  else {
    forget();
    showSignedOut();
    say('Your session has ended. Sign in again.');
  }
}

const next = safeNext(new URLSearchParams(location.search).get('next') ?? '/');

const showSignedIn = (person) => {
  $('who').textContent = `${person.name} (${person.email})`;
  $('signed-in').hidden = false;
  $('email-form').hidden = true;
};
const showSignedOut = () => {
  $('signed-in').hidden = true;
  $('email-form').hidden = false;
};

const signedIn = (session) => {
  keep(session);
  location.assign(next);
};

const exchange = async (code) => {
  say('Signing you in…');
  const result = await post('/auth/session', { code });
  if (result.status === 200) return signedIn(result.body);
  say('');
  fail(result.body?.detail ?? 'This sign-in link does not work any more. Ask for a new one below.');
};

const askForLink = async (event) => {
  event.preventDefault();
  const email = $('email').value.trim();
  if (email === '') {
    $('email').setAttribute('aria-invalid', 'true');
    return fail('Enter your email address.');
  }
  $('email').removeAttribute('aria-invalid');
  const result = await post('/auth/email-link', { email });
  if (result.status === 202) return say(`If ${email} may sign in here, a link is on its way. Check your inbox.`);
  if (result.status === 400) {
    $('email').setAttribute('aria-invalid', 'true');
    return fail('That does not look like an email address.');
  }
  if (result.status === 429) return fail('Too many requests. Wait a few minutes and try again.');
  fail('Something went wrong. Try again.');
};

const listDemoPeople = async () => {
  const response = await fetch('/auth/dev-people', { credentials: 'same-origin' });
  if (response.status !== 200) return;
  const { items } = await response.json();
  const list = $('dev-people');
  for (const person of items) {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    // textContent, never HTML: names come from the directory.
    button.textContent = `${person.name} (${person.roles.join(', ')})`;
    button.addEventListener('click', async () => {
      const result = await post('/auth/dev-session', { personId: person.id });
      if (result.status === 200) signedIn(result.body);
      else fail(result.body?.detail ?? 'Could not sign in.');
    });
    item.append(button);
    list.append(item);
  }
  $('dev').hidden = items.length === 0;
};

/** The identity provider's button, when the site has one; it comes back here (or to `next`) signed in. */
const offerSingleSignOn = async () => {
  const response = await fetch('/auth/methods', { credentials: 'same-origin' });
  if (response.status !== 200) return;
  const methods = await response.json();
  if (methods.singleSignOn !== true) return;
  $('sso-link').href = `/auth/oidc/start?next=${encodeURIComponent(next)}`;
  $('sso').hidden = false;
};

/**
 * A session this browser already has (its cookie, say after the identity provider sent it back here): its access
 * token, without asking anything. Where the page was sent on to `next`, it goes there.
 */
const resume = async () => {
  const result = await post('/auth/refresh');
  if (result.status !== 200) return;
  keep(result.body);
  if (new URLSearchParams(location.search).has('next')) return location.assign(next);
  showSignedIn(result.body.person);
};

const start = async () => {
  $('email-form').addEventListener('submit', askForLink);
  $('continue').addEventListener('click', () => location.assign(next));
  $('sign-out').addEventListener('click', async () => {
    await post('/auth/sign-out');
    forget();
    showSignedOut();
    say('You are signed out.');
  });
  const code = new URLSearchParams(location.hash.slice(1)).get('code');
  // The code leaves the address bar (and the history) at once.
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  void listDemoPeople();
  void offerSingleSignOn();
  if (code) return exchange(code);
  const person = sessionStorage.getItem(PERSON_KEY);
  if (person && sessionStorage.getItem(TOKEN_KEY)) {
    showSignedIn(JSON.parse(person));
    await renew();
  } else await resume();
};

void start();
