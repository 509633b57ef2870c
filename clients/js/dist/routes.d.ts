import type { LatchkeyClient } from "./client.js";
import type { MFAStatus, NewTask, Passkey, PasskeyChallenge, Reauth, Task, TaskChange, TaskListOptions, TaskPage, TOTPEnrollment, User } from "./types.js";
/** query makes "?a=1&b=2" of the set members of params, or "". */
export declare function query(params: object): string;
/** taskRoutes are the signed-in user's tasks. */
export declare function taskRoutes(c: LatchkeyClient): {
    /** list gives a page of tasks, newest first. */
    list: (options?: TaskListOptions) => Promise<TaskPage>;
    get: (id: string) => Promise<Task>;
    create: (task: NewTask) => Promise<Task>;
    /** update changes what change names (PATCH). */
    update: (id: string, change: TaskChange) => Promise<Task>;
    /** replace sets every field (PUT). */
    replace: (id: string, task: Required<TaskChange>) => Promise<Task>;
    /** complete marks the task completed, or pending with false. */
    complete: (id: string, completed?: boolean) => Promise<Task>;
    /** toggle flips completion on the server (PATCH …/complete). */
    toggle: (id: string) => Promise<Task>;
    remove: (id: string) => Promise<void>;
};
/** passwordRoutes recover an account whose password is forgotten. */
export declare function passwordRoutes(c: LatchkeyClient): {
    /** forgot asks for a reset mail; the answer is the same for any address. */
    forgot: (email: string) => Promise<void>;
    /**
     * reset sets a new password with the mailed link's token, or the
     * address and the mailed code. Latchkey ends every session of the
     * user: this client drops its own without an event.
     */
    reset: (input: {
        token: string;
        new_password: string;
    } | {
        email: string;
        code: string;
        new_password: string;
    }) => Promise<void>;
};
/** emailRoutes verify and change the address. */
export declare function emailRoutes(c: LatchkeyClient): {
    /** verify takes the mailed link's token or the address and code; signed in or not. */
    verify: (input: {
        token: string;
    } | {
        email: string;
        code: string;
    }) => Promise<User>;
    resendVerification: () => Promise<void>;
    /** change mails a confirmation to the new address. */
    change: (input: {
        new_email: string;
        current_password: string;
    }) => Promise<void>;
    confirmChange: (input: {
        token: string;
    } | {
        code: string;
    }) => Promise<User>;
};
/** mfaRoutes manage two-factor sign-in. */
export declare function mfaRoutes(c: LatchkeyClient): {
    status: () => Promise<MFAStatus>;
    /** startTOTP makes an unconfirmed factor: show its QR code or secret. */
    startTOTP: (input: {
        current_password: string;
    }) => Promise<TOTPEnrollment>;
    /**
     * confirmTOTP turns two-factor sign-in on with a first code. Latchkey
     * ends every session and answers a new one for this device, which the
     * client takes; show the recovery codes once.
     */
    confirmTOTP: (factorId: string, code: string) => Promise<{
        recovery_codes: string[];
        user: User;
    }>;
    removeTOTP: (factorId: string, input: Reauth) => Promise<void>;
    newRecoveryCodes: (input: Reauth) => Promise<string[]>;
};
/**
 * passkeyRoutes are the JSON side of the WebAuthn ceremonies: pass
 * `options` to navigator.credentials, and its answer back as `credential`.
 */
export declare function passkeyRoutes(c: LatchkeyClient): {
    /** registerOptions needs the password, or none just after a second factor. */
    registerOptions: (input?: {
        current_password?: string;
    }) => Promise<PasskeyChallenge>;
    register: (input: {
        challenge_id: string;
        credential: unknown;
        name?: string;
    }) => Promise<Passkey>;
    /** signInOptions starts a passkey sign-in, or a sign-in's passkey second step. */
    signInOptions: () => Promise<PasskeyChallenge>;
    signIn: (input: {
        challenge_id: string;
        credential: unknown;
    }) => Promise<User>;
    list: () => Promise<Passkey[]>;
    rename: (id: string, name: string) => Promise<Passkey>;
    remove: (id: string, input?: {
        current_password?: string;
    }) => Promise<void>;
};
