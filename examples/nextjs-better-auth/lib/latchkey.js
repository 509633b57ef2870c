"use client";

// Calls to Latchkey's task API, straight from the browser (Latchkey allows
// this app's origin through LATCHKEY_CORS_ORIGINS).
//
// The Better Auth JWT lives in this module's variables only: never in
// localStorage, sessionStorage or a cookie of ours. It is fetched from
// Better Auth's /api/auth/token (the session cookie goes along), attached
// as Authorization: Bearer, and fetched again once when Latchkey answers
// 401 with the problem code token_expired. forgetToken() (on sign-out)
// drops it, and no call made before it reaches Latchkey after it.

let token = null; // the current JWT, or null
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

/** Drops the token, and stops every call started before (on sign-out). */
export function forgetToken() {
  generation++;
  token = null;
  pending = null;
}

// The token to use: the one held, unless it is `stale` (just refused as
// expired) or there is none; then a new one from Better Auth, one fetch for
// all callers.
async function tokenFor(gen, stale) {
  if (gen !== generation) throw new SignedOutError();
  if (token && token !== stale) return token;
  if (!pending) {
    const mine = (pending = (async () => {
      const res = await fetch("/api/auth/token", { credentials: "same-origin", cache: "no-store" });
      if (res.status === 401) throw new SignedOutError();
      if (!res.ok) throw new LatchkeyError(res.status, { detail: `Better Auth answered ${res.status} for a token.` });
      const body = await res.json();
      if (gen === generation) token = body.token;
      return body.token;
    })().finally(() => {
      if (pending === mine) pending = null;
    }));
  }
  const t = await pending;
  if (gen !== generation) throw new SignedOutError();
  return t;
}

async function problemOf(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/**
 * A client of one Latchkey server. baseUrl comes from the server at
 * request time (LATCHKEY_URL), not from the build.
 */
export function latchkey(baseUrl) {
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
    let t = await tokenFor(gen);
    let res = await send(t);
    if (res.status === 401) {
      const problem = await problemOf(res);
      if (problem?.code !== "token_expired") throw new LatchkeyError(401, problem);
      // Expired: one new token from Better Auth, one retry.
      t = await tokenFor(gen, t);
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
