import type { ListOptions, MFAStep, SessionPage, TokenResponse, User } from "./types.js";
/** Where a client that cannot use the cookie keeps the refresh token. */
export interface RefreshTokenStore {
    get(): string | null | Promise<string | null>;
    set(token: string | null): void | Promise<void>;
}
/** A store that keeps the refresh token in memory: it is gone on reload. */
export declare function memoryStore(): RefreshTokenStore;
export interface ClientOptions {
    /**
     * Latchkey's origin ("https://auth.example.com"), or "" for the page's
     * own. The cookie works only on the page's own origin (serve Latchkey
     * there, or proxy /api/ to it); elsewhere give a refreshTokenStore.
     */
    baseUrl?: string;
    /** The fetch to call; globalThis.fetch by default. */
    fetch?: typeof globalThis.fetch;
    /** Keep the refresh token here instead of relying on the cookie. */
    refreshTokenStore?: RefreshTokenStore;
    /**
     * The name the tabs of a browser share (BroadcastChannel, Web Lock):
     * "latchkey" by default; null keeps this client to itself.
     */
    channel?: string | null;
    /**
     * Origins of your own backends that trust Latchkey's tokens
     * ("https://api.example.com"): fetch() sends the access token to
     * Latchkey and to these, and refuses any other absolute URL.
     */
    trustedOrigins?: string[];
    /**
     * Milliseconds a refresh may take before it is given up as a network
     * error (the session stays, to try again): 15000 by default. A refresh
     * holds the tabs' lock, so one that hangs must not hold it for ever.
     */
    refreshTimeout?: number;
}
/** What changed: the event, and the user after it (null when nobody). */
export interface AuthChange {
    type: "signedin" | "signedout" | "ended" | "remote-signin" | "remote-signout" | "restored" | "user-changed" | "user-updated";
    user: User | null;
    code?: string;
}
interface SendOptions {
    body?: unknown;
    token?: string | null;
    timeout?: number;
}
/** createClient makes the one client a front end holds. */
export declare function createClient(options?: ClientOptions): LatchkeyClient;
export declare class LatchkeyClient {
    #private;
    readonly baseUrl: string;
    /** The signed-in user's tasks: /api/{user_id}/tasks. */
    readonly tasks: {
        list: (options?: import("./types.js").TaskListOptions) => Promise<import("./types.js").TaskPage>;
        get: (id: string) => Promise<import("./types.js").Task>;
        create: (task: import("./types.js").NewTask) => Promise<import("./types.js").Task>;
        update: (id: string, change: import("./types.js").TaskChange) => Promise<import("./types.js").Task>;
        replace: (id: string, task: Required<import("./types.js").TaskChange>) => Promise<import("./types.js").Task>;
        complete: (id: string, completed?: boolean) => Promise<import("./types.js").Task>;
        toggle: (id: string) => Promise<import("./types.js").Task>;
        remove: (id: string) => Promise<void>;
    };
    /** Forgotten passwords: a mailed link or code. */
    readonly password: {
        forgot: (email: string) => Promise<void>;
        reset: (input: {
            token: string;
            new_password: string;
        } | {
            email: string;
            code: string;
            new_password: string;
        }) => Promise<void>;
    };
    /** Verifying and changing the email address. */
    readonly email: {
        verify: (input: {
            token: string;
        } | {
            email: string;
            code: string;
        }) => Promise<User>;
        resendVerification: () => Promise<void>;
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
    /** Two-factor sign-in (TOTP) and recovery codes. */
    readonly mfa: {
        status: () => Promise<import("./types.js").MFAStatus>;
        startTOTP: (input: {
            current_password: string;
        }) => Promise<import("./types.js").TOTPEnrollment>;
        confirmTOTP: (factorId: string, code: string) => Promise<{
            recovery_codes: string[];
            user: User;
        }>;
        removeTOTP: (factorId: string, input: import("./types.js").Reauth) => Promise<void>;
        newRecoveryCodes: (input: import("./types.js").Reauth) => Promise<string[]>;
    };
    /** Passkeys: the JSON side of the WebAuthn ceremonies. */
    readonly passkeys: {
        registerOptions: (input?: {
            current_password?: string;
        }) => Promise<import("./types.js").PasskeyChallenge>;
        register: (input: {
            challenge_id: string;
            credential: unknown;
            name?: string;
        }) => Promise<import("./types.js").Passkey>;
        signInOptions: () => Promise<import("./types.js").PasskeyChallenge>;
        signIn: (input: {
            challenge_id: string;
            credential: unknown;
        }) => Promise<User>;
        list: () => Promise<import("./types.js").Passkey[]>;
        rename: (id: string, name: string) => Promise<import("./types.js").Passkey>;
        remove: (id: string, input?: {
            current_password?: string;
        }) => Promise<void>;
    };
    constructor(options?: ClientOptions);
    /** The signed-in user, or null. */
    get user(): User | null;
    /** The session's id (the access token's sid), or null. */
    get sessionId(): string | null;
    /** onAuthChange calls fn at each change; the function returned stops it. */
    onAuthChange(fn: (change: AuthChange) => void): () => void;
    /** close stops listening to the other tabs. */
    close(): void;
    /**
     * url resolves a path of Latchkey's API ("/api/…") against baseUrl. With
     * absolute, an absolute URL is taken too, when its origin is Latchkey's
     * or a trusted one; anything else throws TypeError, so that the access
     * token never goes where the app did not say it may.
     */
    url(path: string, absolute?: boolean): string;
    /**
     * send makes one request and decodes the answer (null for 204). It never
     * refreshes and never retries; a refusal throws LatchkeyError.
     */
    send<T>(method: string, path: string, { body, token, timeout }?: SendOptions): Promise<T>;
    /**
     * signInWith posts to a route that answers a token response (sign-in,
     * its second step, a passkey sign-in) and takes the session.
     */
    signInWith(path: string, body: unknown): Promise<User>;
    /**
     * replaceSession takes the token answer of a route that ended this
     * session and began a new one for this device (turning two-factor
     * sign-in on revokes every session). The user stays; no event.
     */
    replaceSession(g: TokenResponse): Promise<void>;
    /**
     * signUp creates the account and signs in. A server that requires a
     * verified address answers the account alone: signedIn is then false.
     */
    signUp(input: {
        email: string;
        password: string;
        name?: string;
    }): Promise<{
        user: User;
        signedIn: boolean;
    }>;
    /**
     * signIn with email and password. A user with a second factor gets a
     * LatchkeyError with code "mfa_required" instead, whose problem holds
     * mfa_token and methods for signInMFA.
     */
    signIn(input: {
        email: string;
        password: string;
    }): Promise<User>;
    /** signInMFA is a sign-in's second step: a TOTP, a recovery code or a passkey. */
    signInMFA(step: MFAStep): Promise<User>;
    /**
     * restore resumes a session from the refresh token, as at page load:
     * user is null when there is none; ended says one existed and is over.
     */
    restore(): Promise<{
        user: User | null;
        ended: boolean;
    }>;
    /**
     * refresh gets a new access token. Concurrent callers share one request;
     * tabs take turns. A refused refresh ends the session.
     */
    refresh(): Promise<User>;
    /**
     * accessToken resolves to a token that has a while to live (10 s, or a
     * quarter of its life when that is shorter), refreshing first when it is
     * missing or nearer its end: for a call this client does not make itself
     * (a WebSocket, a form).
     */
    accessToken(): Promise<string>;
    /**
     * request makes an authenticated call and decodes the answer (null for
     * 204). On a 401 it refreshes, or waits for the refresh in flight, and
     * retries once. Rejects with LatchkeyError, or SessionEndedError when
     * the session is over.
     */
    request<T>(method: string, path: string, body?: unknown): Promise<T>;
    /**
     * fetch is fetch with the access token: path is Latchkey's (resolved
     * against baseUrl) or an absolute URL of Latchkey or of one of the
     * trustedOrigins (a backend that trusts Latchkey's tokens); any other
     * throws TypeError. On a 401 it refreshes and sends once more, so the
     * body must be one fetch can send twice (a string, Blob, FormData,
     * URLSearchParams). The second answer is returned whatever it is.
     */
    fetch(path: string, init?: RequestInit): Promise<Response>;
    /**
     * signOut ends this session ("local", the default), every other one
     * ("others": this device stays signed in) or all ("global"). Except with
     * "others" it forgets the session here and in the other tabs, even when
     * Latchkey cannot be reached or the session was already over.
     */
    signOut({ scope }?: {
        scope?: "local" | "others" | "global";
    }): Promise<void>;
    /** forget drops the session here and in the other tabs ("signedout"). */
    forget(): Promise<void>;
    /**
     * drop forgets the session here and in the other tabs without an event:
     * for when Latchkey has ended every session (a password reset) and the
     * page says so itself.
     */
    drop(): Promise<void>;
    /** me asks Latchkey for the user, and keeps the answer. */
    me(): Promise<User>;
    /** sessions lists the user's live sessions, newest first, a page at a time. */
    sessions(options?: ListOptions): Promise<SessionPage>;
    /**
     * revokeSession ends one of the user's sessions. Ending this one is
     * signing out here: a local sign-out, which also clears the cookie, and
     * which, unlike signOut(), fails when Latchkey does not confirm it.
     */
    revokeSession(id: string): Promise<void>;
    /** changePassword changes it and ends every other session. */
    changePassword(input: {
        current_password: string;
        new_password: string;
    }): Promise<void>;
    /**
     * setUser replaces the cached user (a route answered it); listeners hear
     * "user-updated" when its name, email or verification changed.
     */
    setUser(user: User | null | undefined): void;
}
export {};
