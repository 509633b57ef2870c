// The API client and the session it holds.
//
// The access token lives in this module's memory only: never in
// localStorage, sessionStorage or a cookie a script can read. The refresh
// token lives only in the HttpOnly latchkey_refresh cookie (over TLS
// __Host-latchkey_refresh), which the browser sends by itself; the
// refresh_token field of token answers is dropped unread.
//
// When an API call answers 401, the client refreshes once and retries the
// call once. Calls failing together share one refresh in flight. When the
// refresh itself answers 401 the session has ended (revoked, signed out
// elsewhere, expired): listeners hear 'ended' and the app shows sign-in.

/** An API error: status, the problem+json document, Retry-After seconds. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super((problem && (problem.detail || problem.title)) || (status ? `HTTP ${status}` : 'network error'));
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code || '';
    this.fields = Array.isArray(this.problem.errors) ? this.problem.errors : [];
    this.retryAfter = retryAfter;
  }
}

/** Thrown by calls made after, or cut short by, the end of the session. */
export class SessionEnded extends Error {
  constructor() {
    super('session ended');
  }
}

let session = null; // { token, user, sessionId }
let refreshing = null; // the Promise of the refresh in flight, shared
const listeners = new Set();

// The other tabs of this browser hear sign-in and sign-out here.
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('latchkey') : null;

/** onChange(fn): fn(event, detail) on 'signedin', 'ended', 'signedout', 'remote-signout', 'remote-signin', 'user-changed', 'user-updated'. */
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(event, detail) {
  for (const fn of listeners) fn(event, detail);
}

if (channel) {
  channel.addEventListener('message', (e) => {
    const msg = e.data || {};
    if (msg.type === 'signout') {
      if (session) {
        session = null;
        emit('remote-signout');
      }
    } else if (msg.type === 'signin') {
      if (!session || session.user.id !== msg.userId) emit('remote-signin');
    }
  });
}

function broadcast(msg) {
  if (channel) channel.postMessage(msg);
}

export function currentUser() {
  return session ? session.user : null;
}

export function currentSessionId() {
  return session ? session.sessionId : null;
}

// send makes one request. It never retries and never refreshes.
async function send(method, path, { body, token } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (token) headers.Authorization = 'Bearer ' + token;
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, { title: 'Network error', detail: 'Could not reach Latchkey. Check your connection and try again.' });
  }
  const text = res.status === 204 ? '' : await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const ra = Number.parseInt(res.headers.get('Retry-After') || '', 10);
    throw new ApiError(res.status, data, Number.isFinite(ra) ? ra : null);
  }
  return data;
}

// adopt takes a token answer as the session. The refresh token in it is
// ignored: the cookie carries it.
function adopt(grant) {
  const previous = session;
  session = { token: grant.access_token, user: grant.user, sessionId: grant.session_id };
  return !previous || previous.user.id !== grant.user.id;
}

/**
 * signIn with email and password; resolves to the user. A user with a
 * second factor gets an ApiError with code 'mfa_required' instead, whose
 * problem holds mfa_token, methods and expires_in for signInStep.
 */
export function signIn(email, password) {
  return signInAt('/api/auth/signin', { email, password });
}

/**
 * signInAt signs in through any route that answers a token response (the
 * second step of a sign-in, a passkey sign-in); resolves to the user.
 */
export async function signInAt(path, body) {
  const g = await send('POST', path, { body });
  adopt(g);
  broadcast({ type: 'signin', userId: g.user.id });
  emit('signedin', g.user);
  return g.user;
}

/**
 * replaceSession takes the token response of a route that ended this
 * session and began a new one for this device (turning two-factor sign-in
 * on revokes every session). The user stays; the view stays.
 */
export function replaceSession(grant) {
  adopt(grant);
}

/**
 * signUp creates the account and signs in; resolves to { user, signedIn }.
 * A server that requires a verified address answers the account alone,
 * with no tokens: signedIn is then false and nobody is signed in.
 */
export async function signUp(name, email, password) {
  const body = { email, password };
  if (name) body.name = name;
  const g = await send('POST', '/api/auth/signup', { body });
  if (!g.access_token) return { user: g.user, signedIn: false };
  adopt(g);
  broadcast({ type: 'signin', userId: g.user.id });
  emit('signedin', g.user);
  return { user: g.user, signedIn: true };
}

/**
 * post makes an unauthenticated POST (the account recovery routes, which
 * need no session) and resolves to the decoded answer (null for 204).
 */
export function post(path, body) {
  return send('POST', path, { body });
}

// NO_COOKIE is the code a SessionEnded carries when the refresh had no
// cookie to send: the server answers that 400 validation_failed on
// refresh_token (a missing field), and there was simply no session.
const NO_COOKIE = 'no_cookie';

function noCookie(e) {
  return e instanceof ApiError && e.status === 400 && e.code === 'validation_failed';
}

/**
 * restore tries to resume a session from the refresh cookie, as at page
 * load. Resolves to the user, or null when there is no session to resume;
 * { ended: true } tells a session that existed but is over.
 */
export async function restore() {
  try {
    await refresh();
    return { user: session.user };
  } catch (e) {
    if (e instanceof SessionEnded) return { user: null, ended: e.code !== NO_COOKIE };
    throw e;
  }
}

/**
 * refresh gets a new access token through the cookie. Concurrent callers
 * share one request. The call has no body; fetch sends Origin on a POST,
 * which the server's CSRF check of cookie calls requires.
 */
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      try {
        // Tabs of this browser share the cookie: one refresh at a time
        // across all of them (Web Locks), so each presents the token the
        // previous one got and none looks like reuse, even with no grace
        // window on the server.
        const post = () => send('POST', '/api/auth/refresh');
        const g = navigator.locks ? await navigator.locks.request('latchkey-refresh', post) : await post();
        const changed = adopt(g);
        if (changed) emit('user-changed', g.user);
        return g.user;
      } catch (e) {
        if (e instanceof ApiError && (e.status === 401 || noCookie(e))) {
          const hadSession = session !== null;
          session = null;
          const ended = new SessionEnded();
          ended.code = noCookie(e) ? NO_COOKIE : e.code;
          if (hadSession) emit('ended', ended.code);
          throw ended;
        }
        throw e;
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/**
 * call makes an authenticated API call and resolves to the decoded answer
 * (null for 204). On a 401 it refreshes (or waits for the refresh already
 * in flight) and retries once. Rejects with ApiError, or SessionEnded when
 * the session is over.
 */
export async function call(method, path, body) {
  if (!session) {
    if (refreshing) await refreshing.catch(() => {});
    if (!session) throw new SessionEnded();
  }
  const used = session.token;
  try {
    return await send(method, path, { body, token: used });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
  }
  // The token was refused. Refresh, unless another call already did since
  // this one started, and try once more.
  if (!session) throw new SessionEnded();
  if (session.token === used) await refresh();
  if (!session) throw new SessionEnded();
  try {
    return await send(method, path, { body, token: session.token });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      // A brand-new token refused: the session ended in between.
      session = null;
      emit('ended', e.code);
      throw new SessionEnded();
    }
    throw e;
  }
}

/**
 * signOut ends this session (scope 'local') on the server, forgets the
 * token and tells the other tabs. It forgets locally even when the server
 * cannot be reached or the session was already over.
 */
export async function signOut() {
  try {
    if (session) await call('POST', '/api/auth/signout', { scope: 'local' });
  } catch (e) {
    if (!(e instanceof SessionEnded) && !(e instanceof ApiError)) throw e;
  } finally {
    session = null;
    broadcast({ type: 'signout' });
    emit('signedout');
  }
}

/** forget drops the session locally, as when it was revoked from here. */
export function forget() {
  session = null;
  broadcast({ type: 'signout' });
  emit('signedout');
}

/**
 * drop forgets the session here and in the other tabs without a word to
 * listeners: for when the server has ended every session (a password
 * reset) and the view says so itself.
 */
export function drop() {
  if (!session) return;
  session = null;
  broadcast({ type: 'signout' });
}

/** tasksPath is the base path of the signed-in user's tasks. */
export function tasksPath() {
  if (!session) throw new SessionEnded();
  return `/api/${encodeURIComponent(session.user.id)}/tasks`;
}

/**
 * setUser replaces the cached user (after /api/auth/me, or a route that
 * answers the user); listeners hear 'user-updated' when what the frame
 * shows of it changed (name, email, email_verified).
 */
export function setUser(user) {
  if (!session || !user || user.id !== session.user.id) return;
  const before = session.user;
  session.user = user;
  if (before.name !== user.name || before.email !== user.email || before.email_verified !== user.email_verified) {
    emit('user-updated', user);
  }
}
