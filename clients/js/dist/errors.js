// Latchkey answers every error as problem+json (RFC 9457) with a stable
// `code`; LatchkeyError carries it, so callers branch on `code`, never on
// the wording of `detail`.
/**
 * LatchkeyError is a refused call: `status` is the HTTP status (0 when
 * Latchkey could not be reached), `code` the contract's code
 * ("validation_failed", "token_expired", …; "network_error" for status 0),
 * `fieldErrors` the fields a `validation_failed` names, `retryAfter` the
 * seconds of a 429 or 503's Retry-After, or null.
 */
export class LatchkeyError extends Error {
    status;
    code;
    problem;
    fieldErrors;
    retryAfter;
    constructor(status, problem, retryAfter = null) {
        const p = problem ?? {};
        super(p.detail || p.title || (status ? `HTTP ${status}` : "network error"));
        this.name = "LatchkeyError";
        this.status = status;
        this.problem = p;
        this.code = typeof p.code === "string" ? p.code : status ? "" : "network_error";
        this.fieldErrors = Array.isArray(p.errors) ? p.errors : [];
        this.retryAfter = retryAfter;
    }
}
/**
 * SessionEndedError is thrown by a call that needs a session when there is
 * none, or when the session ended under it (signed out elsewhere, revoked,
 * expired). `code` is Latchkey's (`token_revoked`, `invalid_token`, …), or
 * "no_session" when there was no session to begin with.
 */
export class SessionEndedError extends LatchkeyError {
    constructor(code = "no_session", problem = null) {
        super(401, { title: "Unauthorized", detail: "the session has ended", ...problem, code });
        this.name = "SessionEndedError";
    }
}
