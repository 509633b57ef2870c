// Shared by the *.test.mjs files: the Latchkey under test, a fetch that
// records every request (and, for cookie mode, plays the browser's part:
// it keeps the HttpOnly refresh cookie and sends Origin), and users.
//
// The tests run against a real `latchkey serve` whose URL is in
// LATCHKEY_URL, started with a short access-token life (LATCHKEY_ACCESS_TTL,
// 2s by default) and no rate limit on /api/auth (LATCHKEY_AUTH_RATE=0):
// cmd/latchkey/jsclient_test.go starts one and runs `node --test` here.
// By hand:
//
//   LATCHKEY_ACCESS_TTL=2s LATCHKEY_AUTH_RATE=0 latchkey serve --addr 127.0.0.1:8080 &
//   LATCHKEY_URL=http://127.0.0.1:8080 npm test

import { execFileSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

import { createClient, memoryStore } from "../dist/index.js";

export const BASE = (process.env.LATCHKEY_URL ?? "").replace(/\/+$/, "");
if (!BASE) {
  throw new Error(
    "LATCHKEY_URL is not set: these tests need a running `latchkey serve` (LATCHKEY_ACCESS_TTL=2s LATCHKEY_AUTH_RATE=0); " +
      "go test ./cmd/latchkey -run TestJSClient starts one and runs them",
  );
}

export const PASSWORD = "node-client-password-1234";

// ttlMs is the server's access-token life, from LATCHKEY_ACCESS_TTL ("2s").
const ttlMs = (() => {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(process.env.LATCHKEY_ACCESS_TTL ?? "2s");
  if (!m) throw new Error("LATCHKEY_ACCESS_TTL: give it in s or ms, as 2s");
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
})();

/**
 * expire waits until every access token issued before it was called has
 * expired: the life, Latchkey's leeway (a tenth of it), a whole-second iat,
 * and a margin. It only lets time pass; the tests assert what follows.
 */
export function expire() {
  return sleep(ttlMs * 1.1 + 1000 + 300);
}

let serial = 0;
/** email makes an address no other test (or run) uses. */
export function email(tag) {
  return `${tag}-${process.pid}-${Date.now().toString(36)}-${++serial}@example.com`;
}

/**
 * recorder makes the fetch a test hands to createClient. Every request is
 * logged as {method, path, status, body, cookieSent, origin, authorization}
 * (status 0: the request failed). With cookies it does what a browser on
 * Latchkey's origin does: keeps latchkey_refresh from Set-Cookie (dropped
 * when cleared), sends it back on /api/auth/* (the cookie's Path), and sends
 * Origin on every request but GET and HEAD. down() makes every request
 * whose path matches fail as a network error, until up(); afterEach()
 * runs a step between an answer and the client.
 */
export function recorder({ cookies = false } = {}) {
  const log = [];
  let jar = null;
  let down = null;
  let after = null;
  const f = async (input, init = {}) => {
    const url = new URL(String(input));
    const method = (init.method ?? "GET").toUpperCase();
    const headers = new Headers(init.headers);
    let cookieSent = false;
    if (cookies) {
      if (jar !== null && url.pathname.startsWith("/api/auth/")) {
        headers.set("Cookie", "latchkey_refresh=" + jar);
        cookieSent = true;
      }
      if (method !== "GET" && method !== "HEAD") headers.set("Origin", url.origin);
    }
    const entry = {
      method,
      path: url.pathname,
      status: null,
      body: typeof init.body === "string" ? init.body : null,
      cookieSent,
      origin: headers.get("Origin"),
      authorization: headers.get("Authorization"),
    };
    log.push(entry);
    if (down && down.test(url.pathname)) {
      entry.status = 0;
      throw new TypeError("fetch failed (the test took the network down)");
    }
    let res;
    try {
      res = await globalThis.fetch(url, { ...init, headers });
    } catch (e) {
      entry.status = 0;
      throw e;
    }
    entry.status = res.status;
    if (after) await after(entry);
    if (cookies) {
      for (const sc of res.headers.getSetCookie()) {
        const [pair, ...attrs] = sc.split(";").map((s) => s.trim());
        const eq = pair.indexOf("=");
        if (pair.slice(0, eq) !== "latchkey_refresh") continue;
        const value = pair.slice(eq + 1);
        const cleared = attrs.some((a) => /^max-age=(0|-\d+)$/i.test(a)) || value === "";
        jar = cleared ? null : value;
      }
    }
    return res;
  };
  return {
    fetch: f,
    log,
    /** cookie is the latchkey_refresh cookie held, or null. */
    cookie: () => jar,
    setCookie: (v) => {
      jar = v;
    },
    /** mark is where the log ends now; since(mark) is what came after. */
    mark: () => log.length,
    since: (mark) => log.slice(mark),
    /** refreshes are the POST /api/auth/refresh requests after mark. */
    refreshes: (mark = 0) => log.slice(mark).filter((e) => e.method === "POST" && e.path === "/api/auth/refresh"),
    down: (re) => {
      down = re;
    },
    up: () => {
      down = null;
    },
    /** afterEach(fn) awaits fn(entry) once each answer is in, before the client sees it. */
    afterEach: (fn) => {
      after = fn;
    },
    /** show is the log after mark, one request a line, for assertion messages. */
    show: (mark = 0) =>
      log
        .slice(mark)
        .map((e) => `${e.method} ${e.path} ${e.status}${e.cookieSent ? " +cookie" : ""}${e.body ? " +body" : ""}`)
        .join("\n"),
  };
}

/**
 * newClient makes a client on rec for one of the two refresh modes:
 * "cookie" (the browser's: rec must keep cookies) or "store" (memoryStore).
 * Clients keep to themselves (channel: null): in one Node process every
 * client on the default channel would hear the others as tabs.
 */
export function newClient(rec, mode = "cookie", options = {}) {
  const opts = { baseUrl: BASE, fetch: rec.fetch, channel: null, ...options };
  if (mode === "store" && !opts.refreshTokenStore) opts.refreshTokenStore = memoryStore();
  return createClient(opts);
}

/** events subscribes to c and returns the list of changes it hears. */
export function events(c) {
  const heard = [];
  c.onAuthChange((ch) => heard.push(ch));
  return heard;
}

/**
 * device signs up a new user (or, given an address, signs in) on a new
 * client in mode (with store as its refreshTokenStore, if given) and
 * returns {c, rec, email, user}.
 */
export async function device(mode = "cookie", { address, tag = "u", name, store } = {}) {
  const rec = recorder({ cookies: mode === "cookie" });
  const c = newClient(rec, mode, store ? { refreshTokenStore: store } : {});
  let user;
  if (address) {
    user = await c.signIn({ email: address, password: PASSWORD });
  } else {
    address = email(tag);
    const input = { email: address, password: PASSWORD };
    if (name) input.name = name;
    ({ user } = await c.signUp(input));
  }
  return { c, rec, email: address, user };
}

/**
 * mailCode is the six-digit code of the newest mail to address with this
 * subject, read with `latchkey mail list` (LATCHKEY_BIN and
 * LATCHKEY_DATABASE_URL, set by the Go test), or null when those are not
 * set. Nothing of the mail is printed.
 */
export function mailCode(address, subject) {
  const bin = process.env.LATCHKEY_BIN;
  const db = process.env.LATCHKEY_DATABASE_URL;
  if (!bin || !db) return null;
  const out = execFileSync(bin, ["mail", "list", "--database-url", db], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
  });
  let code = null;
  for (const mail of out.split(/^Mail: /m)) {
    if (mail.includes("To:      " + address + "\n") && mail.includes("Subject: " + subject + "\n")) {
      const m = /^\s+(\d{6})$/m.exec(mail);
      if (m) code = m[1];
    }
  }
  return code;
}

export { sleep };
