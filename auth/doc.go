// Package auth is Latchkey's account and session logic. It knows nothing of
// HTTP: package httpapi calls a Service and maps its errors.
//
// Service's flows, one file each:
//
//   - SignUp and NewUser (also behind the `user create` command) validate
//     and store an account; sign-up then opens its first session.
//   - SignIn checks a password under a per-account throttle: after
//     MaxSignInFailures failures in SignInFailureWindow further attempts are
//     refused, and unknown emails are counted alike, so the answers reveal
//     no account. A password stored under weaker hashing parameters is
//     re-hashed once the sign-in has it in hand.
//   - Every new session keeps the user within MaxSessions live sessions:
//     one past it revokes the least recently used (startSession).
//   - Refresh rotates a refresh token. The token it just replaced, presented
//     again within RefreshGrace, gets the same new token (two tabs
//     converge); any other spent token is reuse and revokes the session.
//   - SignOut ends the caller's session (ScopeLocal), every other one
//     (ScopeOthers) or all of them (ScopeGlobal); SignOutRefresh does the
//     same for a caller who holds only a refresh token, judged by the rules
//     of a refresh (a spent token is reuse).
//   - Sessions lists a page of a user's live sessions; RevokeSession ends
//     one of them.
//   - ChangePassword checks the current password under the sign-in
//     throttle, stores the new one and revokes the user's other sessions.
//   - UpdateUser applies an admin's change of role or disabled flag; a new
//     role, or disabling, revokes every session of the user.
//   - ExternalUser admits the subject of a token from the trusted external
//     issuer, creating a user without a password on first sight.
//
// Around them: Revocations is the in-memory set of revoked sessions that
// every access token is checked against, and its Watch keeps it in step
// with the other processes sharing the store; Recorder writes the audit
// events that go with no change from a bounded queue, off the request path,
// and counts the rejections of unauthenticated requests per client address
// and reason instead of writing each (tally.go);
// Prune deletes what the store no longer needs (sessions long ended, old
// sign-in failures, audit events past their retention).
package auth
