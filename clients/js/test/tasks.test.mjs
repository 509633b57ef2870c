// The task routes of the signed-in user: /api/{user_id}/tasks.

import assert from "node:assert/strict";
import { test } from "node:test";

import { LatchkeyError, SessionEndedError } from "../dist/index.js";
import { device, newClient, recorder } from "./helpers.mjs";

test("tasks: list, create, get, update, replace, complete, toggle and remove", async () => {
  const { c, rec, user } = await device("cookie", { tag: "tasks" });
  assert.deepEqual(await c.tasks.list(), { tasks: [], next_cursor: null });

  const milk = await c.tasks.create({ title: "Buy milk", description: "semi-skimmed" });
  assert.equal(milk.title, "Buy milk");
  assert.equal(milk.description, "semi-skimmed");
  assert.equal(milk.user_id, user.id);
  assert.equal(milk.completed, false);
  const bread = await c.tasks.create({ title: "Buy bread" });
  assert.equal(bread.description, "");
  const post = rec.log.find((e) => e.method === "POST" && e.path === `/api/${user.id}/tasks`);
  assert.deepEqual(JSON.parse(post.body), { title: "Buy milk", description: "semi-skimmed" });

  let page = await c.tasks.list();
  assert.deepEqual(
    page.tasks.map((t) => t.title),
    ["Buy bread", "Buy milk"],
    "newest first",
  );
  page = await c.tasks.list({ limit: 1 });
  assert.equal(page.tasks.length, 1);
  assert.ok(page.next_cursor);
  page = await c.tasks.list({ limit: 1, cursor: page.next_cursor });
  assert.deepEqual(
    page.tasks.map((t) => t.title),
    ["Buy milk"],
  );
  assert.ok(rec.log.some((e) => e.path === `/api/${user.id}/tasks` && e.method === "GET"), "the list is the user's path");

  assert.equal((await c.tasks.get(milk.id)).title, "Buy milk");
  const renamed = await c.tasks.update(milk.id, { title: "Buy oat milk" });
  assert.equal(renamed.title, "Buy oat milk");
  assert.equal(renamed.description, "semi-skimmed", "PATCH keeps what it does not name");
  const replaced = await c.tasks.replace(bread.id, { title: "Bake bread", description: "rye", completed: false });
  assert.deepEqual([replaced.title, replaced.description, replaced.completed], ["Bake bread", "rye", false]);

  assert.equal((await c.tasks.complete(milk.id)).completed, true);
  assert.deepEqual(
    (await c.tasks.list({ status: "completed" })).tasks.map((t) => t.id),
    [milk.id],
  );
  assert.deepEqual(
    (await c.tasks.list({ status: "pending" })).tasks.map((t) => t.id),
    [bread.id],
  );
  assert.equal((await c.tasks.complete(milk.id, false)).completed, false);
  assert.equal((await c.tasks.toggle(milk.id)).completed, true);
  assert.equal((await c.tasks.toggle(milk.id)).completed, false);
  assert.ok(rec.log.some((e) => e.method === "PATCH" && e.path === `/api/${user.id}/tasks/${milk.id}/complete`));

  assert.equal(await c.tasks.remove(milk.id), undefined);
  assert.deepEqual(
    (await c.tasks.list()).tasks.map((t) => t.id),
    [bread.id],
  );
  await assert.rejects(c.tasks.get(milk.id), (e) => e instanceof LatchkeyError && e.status === 404 && e.code === "not_found");

  // A 400 on a task names its field.
  await assert.rejects(c.tasks.create({ title: "" }), (e) => {
    assert.equal(e.status, 400);
    assert.equal(e.code, "validation_failed");
    assert.deepEqual(
      e.fieldErrors.map((f) => f.field),
      ["title"],
    );
    return true;
  });
});

test("tasks: signed out, every call rejects with SessionEndedError (a rejected promise, never a throw) and sends nothing", async () => {
  const rec = recorder({ cookies: true });
  const c = newClient(rec);
  const calls = {
    list: () => c.tasks.list(),
    get: () => c.tasks.get("x"),
    create: () => c.tasks.create({ title: "x" }),
    update: () => c.tasks.update("x", { title: "y" }),
    replace: () => c.tasks.replace("x", { title: "y", description: "", completed: false }),
    complete: () => c.tasks.complete("x"),
    toggle: () => c.tasks.toggle("x"),
    remove: () => c.tasks.remove("x"),
  };
  for (const [name, call] of Object.entries(calls)) {
    let p;
    assert.doesNotThrow(() => {
      p = call();
    }, `tasks.${name}() returns a promise instead of throwing`);
    await assert.rejects(p, (e) => e instanceof SessionEndedError && e.status === 401 && e.code === "no_session", `tasks.${name}()`);
  }
  assert.equal(rec.log.length, 0);
});
