"use client";

// Calls to Latchkey's task API, straight from the browser (Latchkey allows
// this app's origin through LATCHKEY_CORS_ORIGINS).
//
// The Better Auth JWT lives in this module's variables only: never in
// localStorage, sessionStorage or a cookie of ours. It is fetched from
// Better Auth's /api/auth/token (the session cookie goes along), attached
// as Authorization: Bearer, and fetched again once when Latchkey answers
// 401 with the problem code token_expired. It is held with its user (the
// JWT's sub) and used only for that user: the signed-in user of the page.
// forgetToken() (on sign-out, sign-in and sign-up) drops it, and no call
// made before it reaches Latchkey after it. A sign-out in one tab is
// broadcast to the app's other tabs, which forget their token too.

let held = null; // the current JWT and its user: {token, sub}, or null
let pending = null; // the fetch of a new JWT in progress, shared by concurrent calls
let generation = 0; // bumped by forgetToken: older calls stop

/** A problem+json answer of Latchkey (or a failure to get a token). */
export class LatchkeyError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code || "";
    this.fieldErrors = problem?.errors || [];
  }
}

/** No Better Auth session: /api/auth/token answered 401, or the user signed out. */
export class SignedOutError extends Error {
  constructor() {
    super("You are signed out.");
    this.code = "signed_out";
  }
}

/** Better Auth's session is another user's than the page's. */
export class AccountChangedError extends SignedOutError {
  constructor() {
    super();
    this.message = "You are signed in as someone else now. Reload the page.";
    this.code = "account_changed";
  }
}

/** Drops the token, and stops every call started before (on sign-out, sign-in, sign-up). */
export function forgetToken() {
  generation++;
  held = null;
  pending = null;
}

// The app's tabs tell each other of a sign-out (a BroadcastChannel reaches
// the other tabs of this origin in this browser profile, not the sender).
// In the browser only: this module is also loaded on the server to render
// the page.
const channel = typeof window !== "undefined" && typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("latchkey-example-auth") : null;
const signOutListeners = new Set();
channel?.addEventListener("message", (e) => {
  if (e.data?.type !== "signed-out") return;
  forgetToken();
  for (const f of signOutListeners) f();
});

/** Tells the app's other tabs that the user signed out (after Better Auth's signOut succeeded). */
export function broadcastSignOut() {
  channel?.postMessage({ type: "signed-out" });
}

/** Calls f when another tab signs out (the token is already forgotten then); returns the unsubscribe. */
export function onSignOutElsewhere(f) {
  signOutListeners.add(f);
  return () => signOutListeners.delete(f);
}

// The sub claim of a JWT: its payload is base64url JSON. Read, not
// verified (Latchkey verifies it), to know whose token it is.
function subOf(jwt) {
  try {
    const b64 = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)).sub || null;
  } catch {
    return null;
  }
}

// The token of user `me` to use: the one held, unless it is `stale` (just
// refused as expired), or another user's, or there is none; then a new one
// from Better Auth, one fetch for all callers. A new token of another user
// than `me` (the session changed under the page) is not kept.
async function tokenFor(gen, me, stale) {
  if (gen !== generation) throw new SignedOutError();
  if (held && held.sub !== me) held = null;
  if (held && held.token !== stale) return held.token;
  if (!pending) {
    const mine = (pending = (async () => {
      const res = await fetch("/api/auth/token", { credentials: "same-origin", cache: "no-store" });
      if (res.status === 401) throw new SignedOutError();
      if (!res.ok) throw new LatchkeyError(res.status, { detail: `Better Auth answered ${res.status} for a token.` });
      const { token } = await res.json();
      const got = { token, sub: subOf(token) };
      if (gen === generation) held = got;
      return got;
    })().finally(() => {
      if (pending === mine) pending = null;
    }));
  }
  const got = await pending;
  if (gen !== generation) throw new SignedOutError();
  if (got.sub !== me) {
    if (held === got) held = null;
    throw new AccountChangedError();
  }
  return got.token;
}

async function problemOf(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/**
 * A client of one Latchkey server for the signed-in user `me` (their id:
 * Better Auth's user.id, the JWT's sub). baseUrl comes from the server at
 * request time (LATCHKEY_URL), not from the build.
 */
export function latchkey(baseUrl, me) {
  async function call(method, path, body) {
    const gen = generation;
    const send = async (t) => {
      if (gen !== generation) throw new SignedOutError();
      return fetch(baseUrl + path, {
        method,
        headers: {
          Authorization: `Bearer ${t}`,
          ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        cache: "no-store",
      });
    };
    let t = await tokenFor(gen, me);
    let res = await send(t);
    if (res.status === 401) {
      const problem = await problemOf(res);
      if (problem?.code !== "token_expired") throw new LatchkeyError(401, problem);
      // Expired: one new token from Better Auth, one retry.
      t = await tokenFor(gen, me, t);
      res = await send(t);
    }
    if (!res.ok) throw new LatchkeyError(res.status, await problemOf(res));
    return res.status === 204 ? null : res.json();
  }

  const tasks = (userId) => `/api/${encodeURIComponent(userId)}/tasks`;
  return {
    list: (userId) => call("GET", tasks(userId) + "?limit=200"),
    create: (userId, title) => call("POST", tasks(userId), { title }),
    complete: (userId, id) => call("PATCH", `${tasks(userId)}/${encodeURIComponent(id)}/complete`),
    remove: (userId, id) => call("DELETE", `${tasks(userId)}/${encodeURIComponent(id)}`),
  };
}
