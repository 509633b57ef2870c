package latchkey

import (
	"context"
	"time"
)

// Session is one signed-in device. Its refresh token is never stored: the
// store keeps the SHA-256 of the current token, of the one it replaced, and a
// per-session key from which the next token is derived (see token.NextRefresh),
// so that two tabs refreshing the same token at once get the same answer.
type Session struct {
	ID         string
	UserID     string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	IP         string

	// RevokedAt is zero while the session is live.
	RevokedAt    time.Time
	RevokeReason string

	// Refresh-token state.
	RefreshKey  []byte    // per-session HMAC key deriving the next token
	RefreshHash []byte    // SHA-256 of the current refresh token
	PrevHash    []byte    // SHA-256 of the token the current one replaced
	Generation  int64     // bumped by every rotation; the compare-and-swap guard
	RotatedAt   time.Time // when the current token was issued

	// AMR is how the sign-in that opened the session authenticated the
	// user (RFC 8176 values: AMRPassword...): every access token of the
	// session carries it as its amr claim, refreshes included.
	AMR []string
}

// Authentication method references (RFC 8176) of the amr claim.
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
	AMRMFA      = "mfa"
	AMRHardware = "hwk"
	AMRSoftware = "swk"
	AMRUser     = "user"
)

// Revoked reports whether the session has been revoked.
func (s *Session) Revoked() bool { return !s.RevokedAt.IsZero() }

// Revocation reasons, kept with the session and used in metrics and audit.
const (
	ReasonSignout         = "signout"
	ReasonSessionRevoked  = "session_revoked"
	ReasonPasswordChanged = "password_changed"
	ReasonRefreshReuse    = "refresh_reuse"
	ReasonUserDisabled    = "user_disabled"
	ReasonRoleChanged     = "role_changed"
	// ReasonSessionLimit: a sign-in past the per-user cap revoked the
	// least recently used session to make room (CreateSession's max).
	ReasonSessionLimit = "session_limit"
	// ReasonPasswordReset: a password reset revoked every session.
	ReasonPasswordReset = "password_reset"
	// ReasonEmailVerified: the first verification of an address revoked
	// the sessions opened before it (pre-account takeover).
	ReasonEmailVerified = "email_verified"
	// ReasonEmailChanged: an email change revoked the other sessions.
	ReasonEmailChanged = "email_changed"
	// ReasonMFAEnabled: confirming a TOTP factor revoked every session
	// but the new one it opened.
	ReasonMFAEnabled = "mfa_enabled"
	// ReasonMFAReset: an administrator's MFA reset revoked every session.
	ReasonMFAReset = "mfa_reset"
)

// Initiating entities of a CAEP session-revoked event (CAEP 1.0 §2): who or
// what caused the revocation.
const (
	EntityUser   = "user"   // the user, by an action of their own
	EntityAdmin  = "admin"  // an administrator
	EntityPolicy = "policy" // a rule of Latchkey's, not a person
	EntitySystem = "system" // anything else
)

// InitiatingEntity maps a session's revocation reason (Reason*) to the
// initiating_entity of the session-revoked Security Event Token announcing
// it. The user initiates signing out, revoking one of their sessions, a
// password change or reset, and the account changes they make (email
// verified or changed, a second factor enabled); an administrator initiates
// disabling, a role change and an MFA reset; policy revokes a reused refresh
// token's session and the least recently used session past the per-user
// cap. An unknown reason is "system".
func InitiatingEntity(reason string) string {
	switch reason {
	case ReasonSignout, ReasonSessionRevoked, ReasonPasswordChanged, ReasonPasswordReset,
		ReasonEmailVerified, ReasonEmailChanged, ReasonMFAEnabled:
		return EntityUser
	case ReasonUserDisabled, ReasonRoleChanged, ReasonMFAReset:
		return EntityAdmin
	case ReasonRefreshReuse, ReasonSessionLimit:
		return EntityPolicy
	}
	return EntitySystem
}

// Rotation moves a session's refresh token one generation on.
type Rotation struct {
	SessionID      string
	FromGeneration int64  // the compare-and-swap guard
	OldHash        []byte // hash of the token being spent
	NewHash        []byte
	Now            time.Time // becomes RotatedAt and LastUsedAt
	ExpiresAt      time.Time // refresh lifetime counted afresh
}

// SessionFilter selects a page of one user's live sessions (not revoked,
// expiring after Now), newest first by (CreatedAt, ID).
type SessionFilter struct {
	UserID string
	Now    time.Time
	Limit  int     // DefaultPageSize when not positive
	After  *Cursor // nil for the first page
}

// RevokedSession is one entry of the revocation feed.
type RevokedSession struct {
	ID        string
	RevokedAt time.Time
}

// SessionService stores sessions and their refresh-token state.
type SessionService interface {
	// CreateSession inserts s as given (the caller fills every field).
	// With max > 0 it also keeps the user's live sessions (not revoked,
	// expiring after s.CreatedAt) within max, the new one included, in the
	// same transaction: it revokes the least recently used of the others
	// (by LastUsedAt) with ReasonSessionLimit, records a session_revoked
	// event for each (reason ReasonSessionLimit, the new session's IP and
	// user agent), announces them as every revocation is announced, and
	// returns their ids. Concurrent calls for one user, on any instance,
	// never leave more than max live.
	CreateSession(ctx context.Context, s *Session, max int) (revoked []string, err error)
	// FindSession returns ENOTFOUND when there is no such session.
	FindSession(ctx context.Context, id string) (*Session, error)
	// FindSessionByRefreshHash finds the session whose current refresh token
	// has this hash, revoked or not; ENOTFOUND when none.
	FindSessionByRefreshHash(ctx context.Context, hash []byte) (*Session, error)
	// FindRefreshSession is FindSessionByRefreshHash that also returns the
	// session's user, in one read.
	FindRefreshSession(ctx context.Context, hash []byte) (*Session, *User, error)
	// FindSessionBySpentHash finds the session that once held, and rotated
	// away, a refresh token with this hash; ENOTFOUND when none.
	FindSessionBySpentHash(ctx context.Context, hash []byte) (*Session, error)
	// RotateSession records r.OldHash as spent and makes r.NewHash current,
	// only if the session is live and still at r.FromGeneration. It reports
	// false, with no change, when another rotation or a revocation won.
	RotateSession(ctx context.Context, r Rotation) (bool, error)
	// ListSessions returns at most f.Limit of the user's live sessions,
	// newest first, and, when more follow, the cursor of the last one.
	ListSessions(ctx context.Context, f SessionFilter) ([]*Session, *Cursor, error)
	// RevokeSession revokes one session of userID; ENOTFOUND when the
	// session is not the user's or is already revoked. Expired sessions are
	// revoked too: their last access token may still be live.
	RevokeSession(ctx context.Context, userID, id, reason string, now time.Time) error
	// RevokeUserSessions revokes every unrevoked session of userID except
	// exceptID (may be empty) and returns the ids it revoked.
	RevokeUserSessions(ctx context.Context, userID, exceptID, reason string, now time.Time) ([]string, error)
	// RevokeSessionByID revokes a session whatever its user (refresh reuse);
	// it is not an error when it was already revoked.
	RevokeSessionByID(ctx context.Context, id, reason string, now time.Time) error
	// PruneSessions deletes the sessions, and their spent refresh tokens,
	// that expired or were revoked before before. It returns how many.
	PruneSessions(ctx context.Context, before time.Time) (int64, error)
	// RevokedSince lists sessions revoked at or after since, oldest first.
	// Other processes sharing the store poll it to learn of revocations.
	RevokedSince(ctx context.Context, since time.Time) ([]RevokedSession, error)
}
