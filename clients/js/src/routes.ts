// The route groups of a client: each call goes through the client's
// request (Bearer, one refresh on 401) or, for routes that need no
// session, its send.

import type { LatchkeyClient } from "./client.js";
import type {
  MFAStatus,
  NewTask,
  Passkey,
  PasskeyChallenge,
  Reauth,
  Task,
  TaskChange,
  TaskListOptions,
  TaskPage,
  TokenResponse,
  TOTPEnrollment,
  User,
} from "./types.js";
import { SessionEndedError } from "./errors.js";

const enc = encodeURIComponent;

/** query makes "?a=1&b=2" of the set members of params, or "". */
export function query(params: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

/** taskRoutes are the signed-in user's tasks. */
export function taskRoutes(c: LatchkeyClient) {
  const base = () => {
    const u = c.user;
    if (!u) throw new SessionEndedError();
    return `/api/${enc(u.id)}/tasks`;
  };
  const one = (id: string) => `${base()}/${enc(id)}`;
  return {
    /** list gives a page of tasks, newest first. */
    list: async (options: TaskListOptions = {}): Promise<TaskPage> => c.request("GET", base() + query(options)),
    get: async (id: string): Promise<Task> => c.request("GET", one(id)),
    create: async (task: NewTask): Promise<Task> => c.request("POST", base(), task),
    /** update changes what change names (PATCH). */
    update: async (id: string, change: TaskChange): Promise<Task> => c.request("PATCH", one(id), change),
    /** replace sets every field (PUT). */
    replace: async (id: string, task: Required<TaskChange>): Promise<Task> => c.request("PUT", one(id), task),
    /** complete marks the task completed, or pending with false. */
    complete: async (id: string, completed = true): Promise<Task> => c.request("PATCH", one(id), { completed }),
    /** toggle flips completion on the server (PATCH …/complete). */
    toggle: async (id: string): Promise<Task> => c.request("PATCH", `${one(id)}/complete`),
    remove: async (id: string): Promise<void> => {
      await c.request("DELETE", one(id));
    },
  };
}

/** passwordRoutes recover an account whose password is forgotten. */
export function passwordRoutes(c: LatchkeyClient) {
  return {
    /** forgot asks for a reset mail; the answer is the same for any address. */
    forgot: async (email: string): Promise<void> => {
      await c.send("POST", "/api/auth/password/forgot", { body: { email } });
    },
    /**
     * reset sets a new password with the mailed link's token, or the
     * address and the mailed code. Latchkey ends every session of the
     * user: this client drops its own without an event.
     */
    reset: async (
      input: { token: string; new_password: string } | { email: string; code: string; new_password: string },
    ): Promise<void> => {
      await c.send("POST", "/api/auth/password/reset", { body: input });
      await c.drop();
    },
  };
}

/** emailRoutes verify and change the address. */
export function emailRoutes(c: LatchkeyClient) {
  const keep = (r: { user: User }) => {
    c.setUser(r.user);
    return r.user;
  };
  return {
    /** verify takes the mailed link's token or the address and code; signed in or not. */
    verify: async (input: { token: string } | { email: string; code: string }): Promise<User> =>
      keep(
        c.user
          ? await c.request<{ user: User }>("POST", "/api/auth/email/verify", input)
          : await c.send<{ user: User }>("POST", "/api/auth/email/verify", { body: input }),
      ),
    resendVerification: async (): Promise<void> => {
      await c.request("POST", "/api/auth/email/verify/resend");
    },
    /** change mails a confirmation to the new address. */
    change: async (input: { new_email: string; current_password: string }): Promise<void> => {
      await c.request("POST", "/api/auth/email/change", input);
    },
    confirmChange: async (input: { token: string } | { code: string }): Promise<User> =>
      keep(await c.request<{ user: User }>("POST", "/api/auth/email/change/confirm", input)),
  };
}

/** mfaRoutes manage two-factor sign-in. */
export function mfaRoutes(c: LatchkeyClient) {
  return {
    status: (): Promise<MFAStatus> => c.request("GET", "/api/auth/mfa"),
    /** startTOTP makes an unconfirmed factor: show its QR code or secret. */
    startTOTP: (input: { current_password: string }): Promise<TOTPEnrollment> =>
      c.request("POST", "/api/auth/mfa/totp", input),
    /**
     * confirmTOTP turns two-factor sign-in on with a first code. Latchkey
     * ends every session and answers a new one for this device, which the
     * client takes; show the recovery codes once.
     */
    confirmTOTP: async (factorId: string, code: string): Promise<{ recovery_codes: string[]; user: User }> => {
      const r = await c.request<TokenResponse & { recovery_codes: string[] }>(
        "POST",
        `/api/auth/mfa/totp/${enc(factorId)}/confirm`,
        { code },
      );
      await c.replaceSession(r);
      return { recovery_codes: r.recovery_codes, user: r.user };
    },
    removeTOTP: async (factorId: string, input: Reauth): Promise<void> => {
      await c.request("DELETE", `/api/auth/mfa/totp/${enc(factorId)}`, input);
    },
    newRecoveryCodes: async (input: Reauth): Promise<string[]> =>
      (await c.request<{ recovery_codes: string[] }>("POST", "/api/auth/mfa/recovery-codes", input)).recovery_codes,
  };
}

/**
 * passkeyRoutes are the JSON side of the WebAuthn ceremonies: pass
 * `options` to navigator.credentials, and its answer back as `credential`.
 */
export function passkeyRoutes(c: LatchkeyClient) {
  return {
    /** registerOptions needs the password, or none just after a second factor. */
    registerOptions: (input: { current_password?: string } = {}): Promise<PasskeyChallenge> =>
      c.request("POST", "/api/auth/passkeys/register/options", input),
    register: async (input: { challenge_id: string; credential: unknown; name?: string }): Promise<Passkey> =>
      (await c.request<{ passkey: Passkey }>("POST", "/api/auth/passkeys/register", input)).passkey,
    /** signInOptions starts a passkey sign-in, or a sign-in's passkey second step. */
    signInOptions: (): Promise<PasskeyChallenge> => c.send("POST", "/api/auth/passkeys/signin/options", { body: {} }),
    signIn: (input: { challenge_id: string; credential: unknown }): Promise<User> =>
      c.signInWith("/api/auth/passkeys/signin", input),
    list: async (): Promise<Passkey[]> =>
      (await c.request<{ passkeys: Passkey[] }>("GET", "/api/auth/passkeys")).passkeys,
    rename: async (id: string, name: string): Promise<Passkey> =>
      (await c.request<{ passkey: Passkey }>("PATCH", `/api/auth/passkeys/${enc(id)}`, { name })).passkey,
    remove: async (id: string, input: { current_password?: string } = {}): Promise<void> => {
      await c.request("DELETE", `/api/auth/passkeys/${enc(id)}`, input);
    },
  };
}
