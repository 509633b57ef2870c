// Guards of the client: where the access token may go, listeners that
// throw, tabs that each hold their own session, a sign-out that races a
// refresh, and revoking this device's session while Latchkey is away.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { SessionEndedError, memoryStore } from "../dist/index.js";
import { BASE, device, events, expire, newClient, recorder } from "./helpers.mjs";

describe("guards", { concurrency: true }, () => {
  test("fetch sends the token only to Latchkey and the trusted origins; request only to Latchkey's paths", async () => {
    const a = await device("cookie", { tag: "origins" });
    const sent = () => a.rec.log.length;
    const before = sent();
    for (const url of ["https://evil.example/steal", "//evil.example/steal", "evil.example/steal", "http://127.0.0.1:1/x"]) {
      await assert.rejects(a.c.fetch(url), TypeError, url);
    }
    await assert.rejects(a.c.request("GET", BASE + "/api/auth/me"), TypeError, "request takes a path, not a URL");
    assert.equal(sent(), before, "nothing was sent");
    // Latchkey's own absolute URL is fine.
    assert.equal((await a.c.fetch(BASE + "/api/auth/me")).status, 200);
    // A trusted origin gets the token: here Latchkey under its other name.
    const other = BASE.replace("127.0.0.1", "localhost");
    const trusting = newClient(a.rec, "cookie", { trustedOrigins: [other] });
    await trusting.restore();
    const res = await trusting.fetch(other + "/api/auth/me");
    assert.equal(res.status, 200);
    assert.match(a.rec.log.at(-1).authorization ?? "", /^Bearer /);
  });

  test("a listener that throws neither fails the call nor silences the others", async () => {
    const rec = recorder({ cookies: true });
    const c = newClient(rec);
    // Browsers have reportError (the page's "error" event); the client
    // uses it when there is one.
    const thrown = [];
    globalThis.reportError = (e) => thrown.push(e.message);
    try {
      c.onAuthChange(() => {
        throw new Error("listener broke");
      });
      const heard = events(c);
      const { signedIn } = await c.signUp({ email: `throws-${Date.now()}-${process.pid}@example.com`, password: "node-client-password-1234" });
      assert.equal(signedIn, true, "signUp resolved");
      assert.deepEqual(heard.map((h) => h.type), ["signedin"]);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(thrown, ["listener broke"], "the error is reported, not swallowed");
    } finally {
      delete globalThis.reportError;
    }
  });

  test("with a refresh-token store, another tab's sign-out ends only its own session", async () => {
    const channel = `stores-${process.pid}-${Date.now()}`;
    const a = await device("store", { tag: "tab-a" });
    const b = await device("store", { address: a.email });
    const one = newClient(a.rec, "store", { channel, refreshTokenStore: memoryStore() });
    const two = newClient(b.rec, "store", { channel, refreshTokenStore: memoryStore() });
    try {
      await one.signIn({ email: a.email, password: "node-client-password-1234" });
      await two.signIn({ email: a.email, password: "node-client-password-1234" });
      const heard = events(two);
      await one.signOut();
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(heard, [], "tab two holds another session: it stays");
      assert.ok(two.user);
      assert.ok(await two.me());
    } finally {
      one.close();
      two.close();
    }
  });

  test("a sign-out while a refresh is in flight is not undone by its answer", async () => {
    const a = await device("cookie", { tag: "race" });
    await expire();
    let release;
    const held = new Promise((r) => (release = r));
    a.rec.afterEach(async (r) => {
      if (r.path === "/api/auth/refresh") await held;
    });
    const refreshing = a.c.refresh();
    await new Promise((r) => setTimeout(r, 50));
    await a.c.forget();
    release();
    await assert.rejects(refreshing, (e) => e instanceof SessionEndedError);
    assert.equal(a.c.user, null, "the refresh's answer did not bring the session back");
  });

  test("revoking this device's session while Latchkey is unreachable fails and keeps the session", async () => {
    const a = await device("cookie", { tag: "revoke-offline" });
    const heard = events(a.c);
    a.rec.down(/\/api\/auth\/signout/);
    await assert.rejects(a.c.revokeSession(a.c.sessionId), (e) => e.code === "network_error");
    assert.ok(a.c.user, "still signed in");
    assert.deepEqual(heard, []);
    a.rec.up();
    await a.c.revokeSession(a.c.sessionId);
    assert.equal(a.c.user, null);
    assert.deepEqual(heard.map((h) => h.type), ["signedout"]);
  });
});

describe("a hung refresh", () => {
  test("is given up after refreshTimeout as a network error, and the session stays to try again", async () => {
    const a = await device("cookie", { tag: "hung" });
    let hang = true;
    // Latchkey that never answers a refresh, while hang holds.
    const fetch = (url, init) => {
      if (hang && new URL(url).pathname === "/api/auth/refresh") {
        return new Promise((_, reject) => init.signal?.addEventListener("abort", () => reject(init.signal.reason)));
      }
      return a.rec.fetch(url, init);
    };
    const c = newClient(a.rec, "cookie", { fetch, refreshTimeout: 300 });
    // AbortSignal.timeout's timer does not keep Node running; this does.
    const alive = setTimeout(() => {}, 10_000);
    const started = Date.now();
    try {
      await assert.rejects(c.restore(), (e) => e.code === "network_error" && e.status === 0);
    } finally {
      clearTimeout(alive);
    }
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 5000, `gave up after ${took} ms`);
    hang = false;
    assert.equal((await c.restore()).user.id, a.user.id, "the next try goes through");
  });
});
