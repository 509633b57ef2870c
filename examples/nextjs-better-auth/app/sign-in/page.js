"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";

import { authClient } from "@/lib/auth-client";
import { forgetToken } from "@/lib/latchkey";

export default function SignIn() {
  const router = useRouter();
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function onSubmit(e) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError("");
    const { data, error } = await authClient.signIn.email({
      email: form.get("email"),
      password: form.get("password"),
    });
    setBusy(false);
    if (error) {
      setError(error.message || "Sign-in failed.");
      return;
    }
    // A token this tab still holds is not this user's, or not of this session.
    forgetToken();
    router.replace(`/u/${encodeURIComponent(data.user.id)}/tasks`);
  }

  return (
    <>
      <h1>Sign in</h1>
      <form onSubmit={onSubmit} aria-label="Sign in">
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
      <p>
        New here? <Link href="/sign-up">Create an account</Link>
      </p>
    </>
  );
}
