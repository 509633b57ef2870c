"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState } from "react";

import { authClient } from "@/lib/auth-client";
import { broadcastSignOut, forgetToken, latchkey, onSignOutElsewhere, SignedOutError } from "@/lib/latchkey";

// What to show for an error of a call to Latchkey.
function messageOf(err) {
  if (err instanceof SignedOutError) return err.message; // signed out, or in as someone else
  if (err.signOutFailed) return `Sign-out failed: ${err.message} Try again.`;
  if (err.status === 403) return "These tasks belong to another account.";
  if (err.status === 401) return "Latchkey did not accept your sign-in. Sign in again.";
  if (err.status === undefined) return "Latchkey cannot be reached.";
  return err.message;
}

export default function Tasks({ latchkeyUrl, userId, me }) {
  const router = useRouter();
  // Calls with the JWT of the signed-in user (me), whatever the path's user.
  const api = useMemo(() => latchkey(latchkeyUrl, me.id), [latchkeyUrl, me.id]);
  const [tasks, setTasks] = useState(null);
  const [error, setError] = useState(null);
  const [title, setTitle] = useState("");
  const [busy, setBusy] = useState(false);
  const mine = userId === me.id;

  // The list, once when the page opens: no polling, no refetch on focus.
  useEffect(() => {
    let live = true;
    api.list(userId).then(
      (page) => live && setTasks(page.tasks),
      (err) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [api, userId]);

  // A sign-out in another tab of the app: lib/latchkey.js has forgotten
  // the token already; leave the task list.
  useEffect(
    () =>
      onSignOutElsewhere(() => {
        setTasks(null);
        router.replace("/sign-in");
      }),
    [router],
  );

  async function run(work) {
    setBusy(true);
    try {
      await work();
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const add = (e) => {
    e.preventDefault();
    const t = title.trim();
    if (!t) return;
    run(async () => {
      const task = await api.create(userId, t);
      setTasks((ts) => [task, ...(ts || [])]);
      setTitle("");
    });
  };
  const complete = (task) =>
    run(async () => {
      const updated = await api.complete(userId, task.id);
      setTasks((ts) => ts.map((x) => (x.id === task.id ? updated : x)));
    });
  const remove = (task) =>
    run(async () => {
      await api.remove(userId, task.id);
      setTasks((ts) => ts.filter((x) => x.id !== task.id));
    });

  async function signOut() {
    // The token goes first, so nothing still running can use it, then
    // Better Auth ends its session (and its cookie). Only once it has are
    // the other tabs told, and the page leaves; a failed sign-out is shown
    // (the token stays forgotten: the next call fetches a new one).
    forgetToken();
    setTasks(null);
    let failure;
    try {
      failure = (await authClient.signOut()).error;
    } catch (err) {
      failure = err;
    }
    if (failure) {
      const err = new Error(failure.message || failure.statusText || `HTTP ${failure.status}`);
      err.signOutFailed = true;
      setError(err);
      return;
    }
    broadcastSignOut();
    router.replace("/sign-in");
  }

  const forbidden = error && error.status === 403;
  const signedOut = error instanceof SignedOutError;
  return (
    <>
      {!signedOut && (
        <header>
          <p className="muted">Signed in as {me.email}</p>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </header>
      )}
      <h1>{mine ? "Your tasks" : "Tasks"}</h1>
      {error && (
        <p role="alert" className="error">
          {messageOf(error)}{" "}
          {forbidden && <Link href={`/u/${encodeURIComponent(me.id)}/tasks`}>Go to your tasks</Link>}
          {signedOut && <Link href="/sign-in">Sign in</Link>}
        </p>
      )}
      {!forbidden && !signedOut && tasks && (
        <>
          <form className="inline" onSubmit={add} aria-label="New task">
            <label>
              Title
              <input type="text" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} required />
            </label>
            <button type="submit" disabled={busy}>
              Add task
            </button>
          </form>
          {tasks.length === 0 ? (
            <p className="muted">No tasks yet.</p>
          ) : (
            <ul className="tasks" aria-label="Tasks">
              {tasks.map((task) => (
                <li key={task.id} className={task.completed ? "done" : ""}>
                  <label>
                    <input type="checkbox" checked={task.completed} disabled={busy} onChange={() => complete(task)} />
                    <span className="title">{task.title}</span>
                  </label>
                  <button type="button" disabled={busy} onClick={() => remove(task)} aria-label={`Delete ${task.title}`}>
                    Delete
                  </button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {!error && !tasks && <p className="muted">Loading…</p>}
    </>
  );
}
