// The route groups of a client: each call goes through the client's
// request (Bearer, one refresh on 401) or, for routes that need no
// session, its send.
import { SessionEndedError } from "./errors.js";
const enc = encodeURIComponent;
/** query makes "?a=1&b=2" of the set members of params, or "". */
export function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
        if (v !== undefined && v !== null && v !== "")
            q.set(k, String(v));
    }
    const s = q.toString();
    return s ? "?" + s : "";
}
/** taskRoutes are the signed-in user's tasks. */
export function taskRoutes(c) {
    const base = () => {
        const u = c.user;
        if (!u)
            throw new SessionEndedError();
        return `/api/${enc(u.id)}/tasks`;
    };
    const one = (id) => `${base()}/${enc(id)}`;
    return {
        /** list gives a page of tasks, newest first. */
        list: async (options = {}) => c.request("GET", base() + query(options)),
        get: async (id) => c.request("GET", one(id)),
        create: async (task) => c.request("POST", base(), task),
        /** update changes what change names (PATCH). */
        update: async (id, change) => c.request("PATCH", one(id), change),
        /** replace sets every field (PUT). */
        replace: async (id, task) => c.request("PUT", one(id), task),
        /** complete marks the task completed, or pending with false. */
        complete: async (id, completed = true) => c.request("PATCH", one(id), { completed }),
        /** toggle flips completion on the server (PATCH …/complete). */
        toggle: async (id) => c.request("PATCH", `${one(id)}/complete`),
        remove: async (id) => {
            await c.request("DELETE", one(id));
        },
    };
}
/** passwordRoutes recover an account whose password is forgotten. */
export function passwordRoutes(c) {
    return {
        /** forgot asks for a reset mail; the answer is the same for any address. */
        forgot: async (email) => {
            await c.send("POST", "/api/auth/password/forgot", { body: { email } });
        },
        /**
         * reset sets a new password with the mailed link's token, or the
         * address and the mailed code. Latchkey ends every session of the
         * user: this client drops its own without an event.
         */
        reset: async (input) => {
            await c.send("POST", "/api/auth/password/reset", { body: input });
            await c.drop();
        },
    };
}
/** emailRoutes verify and change the address. */
export function emailRoutes(c) {
    const keep = (r) => {
        c.setUser(r.user);
        return r.user;
    };
    return {
        /** verify takes the mailed link's token or the address and code; signed in or not. */
        verify: async (input) => keep(c.user
            ? await c.request("POST", "/api/auth/email/verify", input)
            : await c.send("POST", "/api/auth/email/verify", { body: input })),
        resendVerification: async () => {
            await c.request("POST", "/api/auth/email/verify/resend");
        },
        /** change mails a confirmation to the new address. */
        change: async (input) => {
            await c.request("POST", "/api/auth/email/change", input);
        },
        confirmChange: async (input) => keep(await c.request("POST", "/api/auth/email/change/confirm", input)),
    };
}
/** mfaRoutes manage two-factor sign-in. */
export function mfaRoutes(c) {
    return {
        status: () => c.request("GET", "/api/auth/mfa"),
        /** startTOTP makes an unconfirmed factor: show its QR code or secret. */
        startTOTP: (input) => c.request("POST", "/api/auth/mfa/totp", input),
        /**
         * confirmTOTP turns two-factor sign-in on with a first code. Latchkey
         * ends every session and answers a new one for this device, which the
         * client takes; show the recovery codes once.
         */
        confirmTOTP: async (factorId, code) => {
            const r = await c.request("POST", `/api/auth/mfa/totp/${enc(factorId)}/confirm`, { code });
            await c.replaceSession(r);
            return { recovery_codes: r.recovery_codes, user: r.user };
        },
        removeTOTP: async (factorId, input) => {
            await c.request("DELETE", `/api/auth/mfa/totp/${enc(factorId)}`, input);
        },
        newRecoveryCodes: async (input) => (await c.request("POST", "/api/auth/mfa/recovery-codes", input)).recovery_codes,
    };
}
/**
 * passkeyRoutes are the JSON side of the WebAuthn ceremonies: pass
 * `options` to navigator.credentials, and its answer back as `credential`.
 */
export function passkeyRoutes(c) {
    return {
        /** registerOptions needs the password, or none just after a second factor. */
        registerOptions: (input = {}) => c.request("POST", "/api/auth/passkeys/register/options", input),
        register: async (input) => (await c.request("POST", "/api/auth/passkeys/register", input)).passkey,
        /** signInOptions starts a passkey sign-in, or a sign-in's passkey second step. */
        signInOptions: () => c.send("POST", "/api/auth/passkeys/signin/options", { body: {} }),
        signIn: (input) => c.signInWith("/api/auth/passkeys/signin", input),
        list: async () => (await c.request("GET", "/api/auth/passkeys")).passkeys,
        rename: async (id, name) => (await c.request("PATCH", `/api/auth/passkeys/${enc(id)}`, { name })).passkey,
        remove: async (id, input = {}) => {
            await c.request("DELETE", `/api/auth/passkeys/${enc(id)}`, input);
        },
    };
}
