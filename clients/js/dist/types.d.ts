export interface User {
    id: string;
    email: string;
    email_verified: boolean;
    name?: string;
    role: string;
    created_at: string;
}
/** What sign-up, sign-in, a second step and refresh answer. */
export interface TokenResponse {
    user: User;
    access_token: string;
    token_type: "Bearer";
    expires_in: number;
    refresh_token: string;
    refresh_expires_in: number;
    session_id: string;
}
/** A page of a list: `next_cursor` is null on the last one. */
export interface Page {
    next_cursor: string | null;
}
export interface Session {
    id: string;
    created_at: string;
    last_used_at: string;
    expires_at: string;
    user_agent: string;
    ip: string;
    current: boolean;
}
export interface SessionPage extends Page {
    sessions: Session[];
}
export interface Task {
    id: string;
    user_id: string;
    title: string;
    description: string;
    completed: boolean;
    created_at: string;
    updated_at: string;
}
export interface TaskPage extends Page {
    tasks: Task[];
}
export interface ListOptions {
    limit?: number;
    cursor?: string | null;
}
export interface TaskListOptions extends ListOptions {
    status?: "all" | "pending" | "completed";
}
export interface NewTask {
    title: string;
    description?: string;
}
export interface TaskChange {
    title?: string;
    description?: string;
    completed?: boolean;
}
export interface MFAStatus {
    factors: {
        id: string;
        type: "totp";
        created_at: string;
        last_used_at: string | null;
    }[];
    recovery_codes_remaining: number;
}
export interface TOTPEnrollment {
    factor_id: string;
    secret: string;
    otpauth_uri: string;
    /** A data:image/png;base64, URL of the QR code. */
    qr_png: string;
}
/** The second step of a sign-in, with the mfa_required problem's mfa_token. */
export type MFAStep = {
    mfa_token: string;
    code: string;
} | {
    mfa_token: string;
    recovery_code: string;
} | {
    mfa_token: string;
    challenge_id: string;
    credential: unknown;
};
/** Proof of the account's owner for a sensitive change. */
export interface Reauth {
    current_password: string;
    /** A TOTP or a recovery code. */
    code: string;
}
export interface Passkey {
    id: string;
    name: string;
    created_at: string;
    last_used_at: string | null;
    backed_up: boolean;
}
/** A WebAuthn ceremony's challenge: options for navigator.credentials. */
export interface PasskeyChallenge {
    challenge_id: string;
    options: Record<string, unknown>;
}
