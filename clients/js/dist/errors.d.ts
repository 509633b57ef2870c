/** One field of a 400 `validation_failed`. */
export interface FieldError {
    field: string;
    message: string;
}
/** A problem+json document, with the members Latchkey adds. */
export interface Problem {
    type?: string;
    title?: string;
    status?: number;
    code?: string;
    detail?: string;
    errors?: FieldError[];
    /** `mfa_required` at sign-in: the one-time token of the second step. */
    mfa_token?: string;
    /** `mfa_required` at sign-in: "totp", "recovery_code", "passkey". */
    methods?: string[];
    expires_in?: number;
    [member: string]: unknown;
}
/**
 * LatchkeyError is a refused call: `status` is the HTTP status (0 when
 * Latchkey could not be reached), `code` the contract's code
 * ("validation_failed", "token_expired", …; "network_error" for status 0),
 * `fieldErrors` the fields a `validation_failed` names, `retryAfter` the
 * seconds of a 429 or 503's Retry-After, or null.
 */
export declare class LatchkeyError extends Error {
    readonly status: number;
    readonly code: string;
    readonly problem: Problem;
    readonly fieldErrors: FieldError[];
    readonly retryAfter: number | null;
    constructor(status: number, problem: Problem | null, retryAfter?: number | null);
}
/**
 * SessionEndedError is thrown by a call that needs a session when there is
 * none, or when the session ended under it (signed out elsewhere, revoked,
 * expired). `code` is Latchkey's (`token_revoked`, `invalid_token`, …), or
 * "no_session" when there was no session to begin with.
 */
export declare class SessionEndedError extends LatchkeyError {
    constructor(code?: string, problem?: Problem | null);
}
