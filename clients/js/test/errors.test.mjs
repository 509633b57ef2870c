// The shapes of refusals: every one is a LatchkeyError with Latchkey's
// status, code and field errors; a session that ended elsewhere is a
// SessionEndedError (a LatchkeyError with status 401), heard as "ended".

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, test } from "node:test";

import { createClient, LatchkeyError, SessionEndedError, memoryStore } from "../dist/index.js";
import { PASSWORD, device, email, events, expire, newClient, recorder } from "./helpers.mjs";

/** refused checks that e is a LatchkeyError (not a SessionEndedError) with status and code. */
function refused(status, code) {
  return (e) => {
    assert.ok(e instanceof LatchkeyError, `a LatchkeyError, got ${e}`);
    assert.ok(!(e instanceof SessionEndedError), "not a SessionEndedError");
    assert.equal(e.name, "LatchkeyError");
    assert.equal(e.status, status);
    assert.equal(e.code, code);
    assert.equal(e.problem.code, code);
    assert.equal(e.problem.status, status);
    assert.ok(e.message, "a message to show");
    return true;
  };
}

/** ended checks that e is a SessionEndedError, 401, with code. */
function ended(code) {
  return (e) => {
    assert.ok(e instanceof SessionEndedError, `a SessionEndedError, got ${e}`);
    assert.ok(e instanceof LatchkeyError);
    assert.equal(e.name, "SessionEndedError");
    assert.equal(e.status, 401);
    assert.equal(e.code, code);
    return true;
  };
}

describe("errors", { concurrency: true }, () => {
  test("400 validation_failed names each bad field of a sign-up", async () => {
    const rec = recorder({ cookies: true });
    const c = newClient(rec);
    const heard = events(c);
    await assert.rejects(c.signUp({ email: "not-an-email", password: "short" }), (e) => {
      refused(400, "validation_failed")(e);
      assert.deepEqual(e.fieldErrors.map((f) => f.field).sort(), ["email", "password"]);
      for (const f of e.fieldErrors) assert.ok(typeof f.message === "string" && f.message, `a message for ${f.field}`);
      return true;
    });
    await assert.rejects(c.signUp({ email: email("short"), password: "short" }), (e) => {
      refused(400, "validation_failed")(e);
      assert.deepEqual(
        e.fieldErrors.map((f) => f.field),
        ["password"],
      );
      return true;
    });
    assert.equal(c.user, null);
    assert.deepEqual(heard, []);
    assert.equal(rec.cookie(), null);
  });

  test("409 email_taken for an address that has an account", async () => {
    const { email: taken } = await device("cookie", { tag: "taken" });
    const c = newClient(recorder({ cookies: true }));
    await assert.rejects(c.signUp({ email: taken, password: PASSWORD }), (e) => {
      refused(409, "email_taken")(e);
      assert.deepEqual(e.fieldErrors, []);
      return true;
    });
    assert.equal(c.user, null);
  });

  test("401 invalid_credentials for a wrong password is no session event", async () => {
    const { email: address } = await device("cookie", { tag: "wrongpw" });
    const c = newClient(recorder({ cookies: true }));
    const heard = events(c);
    await assert.rejects(c.signIn({ email: address, password: "not the password 1234" }), refused(401, "invalid_credentials"));
    await assert.rejects(c.signIn({ email: email("nobody"), password: PASSWORD }), refused(401, "invalid_credentials"));
    assert.equal(c.user, null);
    assert.deepEqual(heard, []);
  });

  test("403 forbidden for another user's tasks, through request and fetch, with no refresh", async () => {
    const a = await device("cookie", { tag: "owner" });
    const b = await device("cookie", { tag: "intruder" });
    await a.c.tasks.create({ title: "private" });
    const path = `/api/${a.user.id}/tasks`;
    const mark = b.rec.mark();
    await assert.rejects(b.c.request("GET", path), refused(403, "forbidden"));
    const res = await b.c.fetch(path);
    assert.equal(res.status, 403, "fetch returns the answer");
    assert.equal((await res.json()).code, "forbidden");
    // A 403 is no reason to refresh (a refresh is allowed only after a 401:
    // on a slow machine the 2 s token may run out before the calls).
    const after = b.rec.since(mark);
    assert.equal(after.filter((e) => e.status === 403).length, 2, b.rec.show(mark));
    after.forEach((e, i) => {
      if (e.path === "/api/auth/refresh") assert.equal(after[i - 1]?.status, 401, b.rec.show(mark));
    });
    assert.equal(b.c.user.id, b.user.id, "still signed in");
  });

  test("404 not_found for a task or a session that is not the caller's", async () => {
    const a = await device("cookie", { tag: "four04" });
    const b = await device("cookie", { tag: "other404" });
    const mine = await a.c.tasks.create({ title: "mine" });
    await assert.rejects(a.c.tasks.get("01a23d98-0000-7000-8000-000000000000"), refused(404, "not_found"));
    await a.c.tasks.remove(mine.id);
    await assert.rejects(a.c.tasks.update(mine.id, { title: "gone" }), refused(404, "not_found"));
    await assert.rejects(a.c.revokeSession(b.c.sessionId), refused(404, "not_found"));
    assert.ok(a.c.user, "still signed in");
  });

  test("status 0 network_error when Latchkey cannot be reached", async () => {
    const port = await closedPort();
    const c = createClient({ baseUrl: `http://127.0.0.1:${port}`, channel: null });
    await assert.rejects(c.signIn({ email: email("net"), password: PASSWORD }), (e) => {
      assert.ok(e instanceof LatchkeyError);
      assert.equal(e.status, 0);
      assert.equal(e.code, "network_error");
      assert.deepEqual(e.fieldErrors, []);
      return true;
    });
    // restore cannot tell there is no session: it rethrows, and the page can retry.
    await assert.rejects(c.restore(), (e) => e instanceof LatchkeyError && e.status === 0);
  });

  for (const [how, end] of [
    ["signs out globally", async (other) => other.c.signOut({ scope: "global" })],
    ["revokes its session", async (other, victim) => other.c.revokeSession(victim.c.sessionId)],
    ["changes the password", async (other) => other.c.changePassword({ current_password: PASSWORD, new_password: PASSWORD + "-new" })],
  ]) {
    test(`SessionEndedError and "ended" when another device ${how}`, async () => {
      const victim = await device("cookie", { tag: "victim" });
      const other = await device("store", { address: victim.email });
      const heard = events(victim.c);
      await end(other, victim);
      const mark = victim.rec.mark();
      await assert.rejects(victim.c.tasks.list(), ended("token_revoked"));
      assert.deepEqual(
        victim.rec.since(mark).map((e) => `${e.method} ${e.path} ${e.status}`),
        [`GET /api/${victim.user.id}/tasks 401`, "POST /api/auth/refresh 401"],
        "one refresh tried, refused",
      );
      assert.equal(victim.c.user, null);
      assert.deepEqual(heard, [{ type: "ended", user: null, code: "token_revoked" }]);
      assert.equal(victim.rec.cookie(), null, "the refused refresh cleared the cookie");
      // Later calls need no request to know.
      const later = victim.rec.mark();
      await assert.rejects(victim.c.tasks.list(), ended("no_session"));
      await assert.rejects(victim.c.me(), ended("no_session"));
      assert.equal(victim.rec.since(later).length, 0, victim.rec.show(later));
      assert.equal(heard.length, 1, "ended is heard once");
    });
  }

  for (const mode of ["cookie", "store"]) {
    test(`${mode} mode: a session revoked between the refresh and the retry ends, heard as "ended" by the time the call rejects`, async () => {
      const victim = await device(mode, { tag: "between-" + mode });
      const other = await device("store", { address: victim.email });
      const heard = events(victim.c);
      await expire();
      // Right after the refresh answers, another device signs out everywhere.
      victim.rec.afterEach(async (e) => {
        if (e.path === "/api/auth/refresh" && e.status === 200) await other.c.signOut({ scope: "global" });
      });
      const mark = victim.rec.mark();
      await assert.rejects(victim.c.tasks.list(), ended("token_revoked"));
      assert.deepEqual(
        victim.rec.since(mark).map((e) => `${e.method} ${e.path} ${e.status}`),
        [`GET /api/${victim.user.id}/tasks 401`, "POST /api/auth/refresh 200", `GET /api/${victim.user.id}/tasks 401`],
      );
      assert.equal(victim.c.user, null);
      assert.deepEqual(
        heard.map((h) => [h.type, h.code]),
        [["ended", "token_revoked"]],
      );
    });
  }

  test("a session revoked elsewhere ends after expiry too, in store mode, and the store is emptied", async () => {
    const store = memoryStore();
    const victim = await device("store", { tag: "victim-store", store });
    const other = await device("cookie", { address: victim.email });
    const heard = events(victim.c);
    await other.c.signOut({ scope: "global" });
    await expire();
    await assert.rejects(victim.c.me(), ended("token_revoked"));
    assert.equal(store.get(), null);
    assert.deepEqual(
      heard.map((h) => [h.type, h.code]),
      [["ended", "token_revoked"]],
    );
    assert.deepEqual(await victim.c.restore(), { user: null, ended: false }, "nothing left to restore");
  });

  test("restore() with no session is {user: null, ended: false}, in both modes, and no event", async () => {
    const rec = recorder({ cookies: true });
    const c = newClient(rec);
    const heard = events(c);
    assert.deepEqual(await c.restore(), { user: null, ended: false });
    assert.deepEqual(
      rec.log.map((e) => `${e.method} ${e.path} ${e.status}`),
      ["POST /api/auth/refresh 400"],
      "a cookie refresh without a cookie is how a page learns there is no session",
    );

    const srec = recorder();
    const s = newClient(srec, "store");
    const sheard = events(s);
    assert.deepEqual(await s.restore(), { user: null, ended: false });
    assert.equal(srec.log.length, 0, "an empty store needs no request");
    assert.deepEqual([...heard, ...sheard], []);
    await assert.rejects(s.tasks.list(), ended("no_session"));
  });

  test("restore() resumes a session from the cookie (a reload), and reports one that ended", async () => {
    const first = await device("cookie", { tag: "reload" });
    // A reload: a new client, the same cookie jar.
    const again = newClient(first.rec);
    const heard = events(again);
    const r = await again.restore();
    assert.equal(r.ended, false);
    assert.equal(r.user.id, first.user.id);
    assert.deepEqual(
      heard.map((h) => h.type),
      ["restored"],
      "restore brings a user where there was none",
    );
    await again.tasks.create({ title: "after reload" });

    const other = await device("store", { address: first.email });
    await other.c.signOut({ scope: "global" });
    const third = newClient(first.rec);
    assert.deepEqual(await third.restore(), { user: null, ended: true });
  });
});

/** closedPort is a loopback port nothing listens on. */
async function closedPort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

