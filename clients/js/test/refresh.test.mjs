// The silent refresh: a call after the access token expired succeeds
// through exactly one POST /api/auth/refresh, calls failing together share
// it, and both places the refresh token can live work (the browser's
// HttpOnly cookie, and a refreshTokenStore).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { LatchkeyError, memoryStore } from "../dist/index.js";
import { BASE, device, events, expire } from "./helpers.mjs";

const N = 8;

// The tests wait for expiry, so they run side by side: each has its own
// user and its own request log.
describe("refresh", { concurrency: true }, () => {
  test("cookie mode: a call after expiry succeeds through one refresh that sends the cookie and no body", async () => {
    const { c, rec, user } = await device("cookie", { tag: "cookie" });
    const heard = events(c);
    const signedUpCookie = rec.cookie();
    assert.ok(signedUpCookie, "sign-up set the latchkey_refresh cookie");
    await c.tasks.create({ title: "before expiry" });
    await expire();

    const mark = rec.mark();
    const page = await c.tasks.list();
    assert.deepEqual(
      page.tasks.map((t) => t.title),
      ["before expiry"],
    );
    const after = rec.since(mark);
    assert.deepEqual(
      after.map((e) => `${e.method} ${e.path} ${e.status}`),
      [`GET /api/${user.id}/tasks 401`, "POST /api/auth/refresh 200", `GET /api/${user.id}/tasks 200`],
      rec.show(mark),
    );
    const refresh = after[1];
    assert.equal(refresh.body, null, "the cookie refresh sent no body");
    assert.equal(refresh.cookieSent, true, "the refresh carried the cookie");
    assert.equal(refresh.origin, new URL(BASE).origin);
    assert.equal(refresh.authorization, null);
    assert.notEqual(after[0].authorization, after[2].authorization, "the retry used the new access token");
    assert.ok(rec.cookie() && rec.cookie() !== signedUpCookie, "the refresh rotated the cookie");
    assert.equal(c.user.id, user.id);
    assert.deepEqual(heard, [], "a silent refresh of the same user is no auth change");
  });

  test("store mode: the refresh sends the stored token in the body, and the store keeps the rotated one", async () => {
    const store = memoryStore();
    const { c, rec, user } = await device("store", { tag: "store", store });
    const first = store.get();
    assert.ok(first, "sign-up put the refresh token in the store");
    assert.equal(rec.cookie(), null, "store mode keeps no cookie");
    await expire();

    const mark = rec.mark();
    const me = await c.me();
    assert.equal(me.id, user.id);
    const after = rec.since(mark);
    assert.deepEqual(
      after.map((e) => `${e.method} ${e.path} ${e.status}`),
      ["GET /api/auth/me 401", "POST /api/auth/refresh 200", "GET /api/auth/me 200"],
      rec.show(mark),
    );
    assert.deepEqual(JSON.parse(after[1].body), { refresh_token: first });
    assert.equal(after[1].cookieSent, false);
    const second = store.get();
    assert.ok(second && second !== first, "the store holds the rotated refresh token");
  });

  for (const mode of ["cookie", "store"]) {
    test(`${mode} mode: ${N} calls at once after expiry share exactly one refresh, and all succeed`, async () => {
      const { c, rec, user } = await device(mode, { tag: "many-" + mode });
      const created = [];
      for (let i = 0; i < N; i++) created.push(await c.tasks.create({ title: `task ${i}` }));
      await expire();

      const mark = rec.mark();
      const got = await Promise.all(created.map((t) => c.tasks.get(t.id)));
      assert.deepEqual(
        got.map((t) => t.title),
        created.map((t) => t.title),
      );
      const refreshes = rec.refreshes(mark);
      assert.equal(refreshes.length, 1, `exactly one refresh for ${N} calls failing together:\n${rec.show(mark)}`);
      assert.equal(refreshes[0].status, 200);
      const gets = rec.since(mark).filter((e) => e.method === "GET");
      assert.equal(gets.filter((e) => e.status === 200).length, N, rec.show(mark));
      assert.equal(gets.filter((e) => e.status === 401).length, N, "each call was refused once, then retried once");
      assert.equal(c.user.id, user.id);
    });
  }

  test("accessToken() refreshes a token about to expire once for concurrent callers, and the token works", async () => {
    const { c, rec, user } = await device("cookie", { tag: "token" });
    await expire();
    const mark = rec.mark();
    const [a, b] = await Promise.all([c.accessToken(), c.accessToken()]);
    assert.equal(a, b);
    assert.equal(rec.refreshes(mark).length, 1, rec.show(mark));
    assert.equal(a.split(".").length, 3, "a JWT");
    const res = await fetch(`${BASE}/api/${user.id}/tasks`, { headers: { Authorization: "Bearer " + a } });
    assert.equal(res.status, 200, "the token works for a call the client does not make");
    const claims = JSON.parse(Buffer.from(a.split(".")[1], "base64url").toString());
    assert.equal(claims.sub, user.id);
    assert.equal(claims.sid, c.sessionId);
  });

  test("fetch() attaches the token, refreshes once on 401 and returns the second answer", async () => {
    const { c, rec, user } = await device("cookie", { tag: "fetch" });
    await expire();
    const mark = rec.mark();
    const res = await c.fetch(`/api/${user.id}/tasks`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: "through fetch" }),
    });
    assert.equal(res.status, 201);
    assert.equal((await res.json()).title, "through fetch");
    assert.deepEqual(
      rec.since(mark).map((e) => `${e.method} ${e.path} ${e.status}`),
      [`POST /api/${user.id}/tasks 401`, "POST /api/auth/refresh 200", `POST /api/${user.id}/tasks 201`],
    );
  });

  test("a refresh that cannot reach Latchkey leaves the session as it was, to try again", async () => {
    const { c, rec, user } = await device("cookie", { tag: "offline" });
    const heard = events(c);
    await expire();
    rec.down(/^\/api\/auth\/refresh$/);
    await assert.rejects(c.tasks.list(), (e) => {
      assert.ok(e instanceof LatchkeyError);
      assert.equal(e.status, 0);
      assert.equal(e.code, "network_error");
      return true;
    });
    assert.equal(c.user?.id, user.id, "still signed in");
    assert.deepEqual(heard, []);
    rec.up();
    const mark = rec.mark();
    await c.tasks.list();
    assert.equal(rec.refreshes(mark).length, 1, rec.show(mark));
  });
});
