// The session's life: onAuthChange, sign-out scopes, sessions, password
// change, me and the user it keeps.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { LatchkeyError, SessionEndedError, memoryStore } from "../dist/index.js";
import { BASE, PASSWORD, device, events, mailCode, newClient, recorder } from "./helpers.mjs";

/** refreshWith posts a refresh with this token in the body, outside any client. */
async function refreshWith(token) {
  const res = await fetch(BASE + "/api/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: token }),
  });
  await res.body?.cancel();
  return res.status;
}

const isEnded = (code) => (e) => e instanceof SessionEndedError && e.status === 401 && e.code === code;

describe("session", { concurrency: true }, () => {
  test("onAuthChange hears signedin and signedout, with the user; unsubscribing stops it", async () => {
    const rec = recorder({ cookies: true });
    const c = newClient(rec);
    const heard = events(c);
    const second = [];
    const stop = c.onAuthChange((ch) => second.push(ch.type));
    const { user, signedIn } = await c.signUp({ email: `events-${Date.now()}-${process.pid}@example.com`, password: PASSWORD, name: "Eve" });
    assert.equal(signedIn, true);
    assert.equal(user.name, "Eve");
    assert.deepEqual(heard, [{ type: "signedin", user }]);
    assert.equal(c.user, user);
    assert.ok(c.sessionId);
    stop();
    await c.signOut();
    assert.deepEqual(heard[1], { type: "signedout", user: null });
    assert.deepEqual(second, ["signedin"]);
    assert.equal(c.user, null);
    assert.equal(c.sessionId, null);

    await c.signIn({ email: user.email, password: PASSWORD });
    assert.deepEqual(
      heard.map((h) => h.type),
      ["signedin", "signedout", "signedin"],
    );
    assert.equal(heard[2].user.id, user.id);
  });

  test("signOut() (local) ends this session only: its cookie is cleared and refused, the other device stays", async () => {
    const a = await device("cookie", { tag: "local" });
    const store = memoryStore();
    const b = await device("store", { address: a.email, store });
    const aCookie = a.rec.cookie();
    const mark = a.rec.mark();
    await a.c.signOut();
    const signout = a.rec.since(mark).at(-1);
    assert.equal(`${signout.method} ${signout.path} ${signout.status}`, "POST /api/auth/signout 204", a.rec.show(mark));
    assert.deepEqual(JSON.parse(signout.body), { scope: "local" });
    assert.equal(a.c.user, null);
    assert.equal(a.rec.cookie(), null, "the sign-out cleared the cookie");
    assert.equal(await refreshWith(aCookie), 401, "the signed-out session's refresh token is refused");
    assert.equal((await b.c.me()).id, a.user.id, "the other device is still signed in");
    assert.equal(await refreshWith(store.get()), 200, "and can still refresh");
    await assert.rejects(a.c.me(), isEnded("no_session"));
  });

  test("signOut({scope: 'others'}) keeps this device and ends the others", async () => {
    const a = await device("cookie", { tag: "others" });
    const b = await device("cookie", { address: a.email });
    const aHeard = events(a.c);
    const bHeard = events(b.c);
    await a.c.signOut({ scope: "others" });
    assert.equal(a.c.user.id, a.user.id);
    assert.ok(a.rec.cookie(), "this device keeps its cookie");
    assert.equal((await a.c.me()).id, a.user.id);
    assert.deepEqual(aHeard, [], "no event here");
    await assert.rejects(b.c.me(), isEnded("token_revoked"));
    assert.deepEqual(
      bHeard.map((h) => [h.type, h.code]),
      [["ended", "token_revoked"]],
    );
    const { sessions } = await a.c.sessions();
    assert.deepEqual(
      sessions.map((s) => [s.id, s.current]),
      [[a.c.sessionId, true]],
    );
  });

  test("signOut({scope: 'global'}) ends every session, this one included", async () => {
    const a = await device("cookie", { tag: "global" });
    const b = await device("store", { address: a.email });
    const heard = events(a.c);
    await a.c.signOut({ scope: "global" });
    assert.equal(a.c.user, null);
    assert.equal(a.rec.cookie(), null);
    assert.deepEqual(
      heard.map((h) => h.type),
      ["signedout"],
    );
    await assert.rejects(b.c.tasks.list(), isEnded("token_revoked"));
    const c = newClient(a.rec);
    assert.deepEqual(await c.restore(), { user: null, ended: false }, "no cookie left to restore from");
  });

  test("signOut() forgets the session even when Latchkey cannot be reached", async () => {
    const a = await device("cookie", { tag: "offline-signout" });
    const heard = events(a.c);
    a.rec.down(/./);
    await a.c.signOut();
    assert.equal(a.c.user, null);
    assert.deepEqual(
      heard.map((h) => h.type),
      ["signedout"],
    );
    a.rec.up();
  });

  test("sessions() marks this device as current, pages, and revokeSession ends another device", async () => {
    const a = await device("cookie", { tag: "sessions" });
    const b = await device("store", { address: a.email });
    const c2 = await device("store", { address: a.email });
    const all = await a.c.sessions();
    assert.equal(all.sessions.length, 3);
    assert.equal(all.next_cursor, null);
    const current = all.sessions.filter((s) => s.current);
    assert.deepEqual(
      current.map((s) => s.id),
      [a.c.sessionId],
    );
    for (const s of all.sessions) {
      for (const k of ["id", "created_at", "last_used_at", "expires_at", "user_agent", "ip", "current"]) assert.ok(k in s, k);
    }
    const first = await a.c.sessions({ limit: 2 });
    assert.equal(first.sessions.length, 2);
    assert.ok(first.next_cursor);
    const rest = await a.c.sessions({ limit: 2, cursor: first.next_cursor });
    assert.equal(rest.sessions.length, 1);

    const bHeard = events(b.c);
    await a.c.revokeSession(b.c.sessionId);
    await assert.rejects(b.c.me(), isEnded("token_revoked"));
    assert.deepEqual(
      bHeard.map((h) => [h.type, h.code]),
      [["ended", "token_revoked"]],
    );
    assert.equal((await c2.c.me()).id, a.user.id, "a third device is untouched");
    assert.deepEqual(
      (await a.c.sessions()).sessions.map((s) => s.id).sort(),
      [a.c.sessionId, c2.c.sessionId].sort(),
    );
  });

  test("revokeSession of this very session is signing out here: signedout, cookie gone", async () => {
    const a = await device("cookie", { tag: "self-revoke" });
    const heard = events(a.c);
    await a.c.revokeSession(a.c.sessionId);
    assert.equal(a.c.user, null);
    assert.deepEqual(
      heard.map((h) => h.type),
      ["signedout"],
    );
    const again = newClient(a.rec);
    const r = await again.restore();
    assert.equal(r.user, null, "the revoked session cannot be restored");
    assert.equal(r.ended, false, "the cookie went with the session: a reload finds no session, not an ended one");
  });

  test("changePassword keeps this device, ends the others, and the new password signs in", async () => {
    const a = await device("cookie", { tag: "password" });
    const b = await device("store", { address: a.email });
    const heard = events(a.c);
    const next = PASSWORD + "-changed";
    await assert.rejects(a.c.changePassword({ current_password: "not the password 1234", new_password: next }), (e) => {
      assert.ok(e instanceof LatchkeyError);
      assert.equal(e.status, 400);
      assert.equal(e.code, "validation_failed");
      assert.deepEqual(
        e.fieldErrors.map((f) => f.field),
        ["current_password"],
      );
      return true;
    });
    await a.c.changePassword({ current_password: PASSWORD, new_password: next });
    assert.equal((await a.c.me()).id, a.user.id, "this device stays signed in");
    await assert.rejects(b.c.me(), isEnded("token_revoked"));
    assert.deepEqual(heard, []);
    const fresh = newClient(recorder({ cookies: true }));
    await assert.rejects(fresh.signIn({ email: a.email, password: PASSWORD }), (e) => e.code === "invalid_credentials");
    assert.equal((await fresh.signIn({ email: a.email, password: next })).id, a.user.id);
  });

  test("tabs on one channel follow each other: a sign-in is heard as remote-signin, a sign-out as remote-signout", async () => {
    const channel = `tabs-${process.pid}-${Date.now()}`;
    const rec = recorder({ cookies: true }); // one browser: one cookie jar
    const one = newClient(rec, "cookie", { channel });
    const two = newClient(rec, "cookie", { channel });
    const heard = events(two);
    // next resolves at the other tab's next change of this type, or
    // rejects after 5 s.
    const next = (type) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the other tab heard no ${type} within 5 s`)), 5000);
        const stop = two.onAuthChange((ch) => {
          if (ch.type === type) {
            clearTimeout(timer);
            stop();
            resolve(ch);
          }
        });
      });
    try {
      let got = next("remote-signin");
      const { user } = await one.signUp({ email: `tabs-${Date.now()}-${process.pid}@example.com`, password: PASSWORD });
      assert.equal((await got).user, null, "the other tab has no session yet");
      assert.equal((await two.restore()).user.id, user.id, "it follows with restore(), through the shared cookie");
      got = next("remote-signout");
      await one.signOut();
      assert.equal((await got).user, null);
      assert.equal(two.user, null, "the other tab forgot the session");
      assert.deepEqual(
        heard.map((h) => h.type),
        ["remote-signin", "restored", "remote-signout"],
      );
    } finally {
      one.close();
      two.close();
    }
  });

  test("me() answers the user and keeps it; a changed user is heard as user-updated", async (t) => {
    const a = await device("cookie", { tag: "me", name: "Mia" });
    const heard = events(a.c);
    const me = await a.c.me();
    assert.deepEqual(me, a.user);
    assert.equal(me.email_verified, false);
    assert.deepEqual(heard, [], "the same user: no event");

    const code = mailCode(a.email, "Verify your email address");
    if (code === null) {
      t.skip("LATCHKEY_BIN and LATCHKEY_DATABASE_URL are not set: cannot read the verification mail");
      return;
    }
    const verified = await a.c.email.verify({ email: a.email, code });
    assert.equal(verified.email_verified, true);
    assert.equal(a.c.user.email_verified, true, "the client keeps the answered user");
    assert.deepEqual(
      heard.map((h) => [h.type, h.user?.email_verified]),
      [["user-updated", true]],
    );
    await a.c.me();
    assert.equal(heard.length, 1, "me() with nothing new: no event");
  });
});
