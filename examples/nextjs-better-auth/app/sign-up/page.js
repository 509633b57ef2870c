"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";

import { authClient } from "@/lib/auth-client";
import { forgetToken } from "@/lib/latchkey";

export default function SignUp() {
  const router = useRouter();
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function onSubmit(e) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError("");
    // Better Auth signs the new user in at once (its session cookie).
    const { data, error } = await authClient.signUp.email({
      name: form.get("name"),
      email: form.get("email"),
      password: form.get("password"),
    });
    setBusy(false);
    if (error) {
      setError(error.message || "Sign-up failed.");
      return;
    }
    // A token this tab still holds is not this user's, or not of this session.
    forgetToken();
    router.replace(`/u/${encodeURIComponent(data.user.id)}/tasks`);
  }

  return (
    <>
      <h1>Create your account</h1>
      <form onSubmit={onSubmit} aria-label="Create your account">
        <label>
          Name
          <input name="name" type="text" autoComplete="name" required />
        </label>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="new-password" minLength={8} required />
        </label>
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy}>Sign up</button>
      </form>
      <p>
        Have an account? <Link href="/sign-in">Sign in</Link>
      </p>
    </>
  );
}
