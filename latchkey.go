// Package latchkey holds Latchkey's domain vocabulary: users, sessions, tasks,
// signing keys, the services that store them and the contract's error codes.
//
// It imports nothing but the standard library. Adapters (sqldb, httpapi, ...)
// depend on it; it depends on none of them.
package latchkey

import (
	"time"
)

// Role is a user's role, carried in the access token's "role" claim.
type Role string

const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return r == RoleUser || r == RoleAdmin }

// User is an account. PasswordHash is a PHC string and never leaves the server.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	// Disabled appears only in admin answers (see httpapi's adminUser).
	Disabled     bool   `json:"-"`
	PasswordHash string `json:"-"` // empty for external users: no password
	// Issuer is the trusted external issuer a provisioned user comes from
	// (its ID is that issuer's sub); empty for Latchkey's own users.
	Issuer string `json:"-"`
}

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
}

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
)

// Task is an item of a user's task list.
type Task struct {
	ID          string    `json:"id"`
	UserID      string    `json:"user_id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Completed   bool      `json:"completed"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// TaskStatus filters a task list.
type TaskStatus string

const (
	TaskStatusAll       TaskStatus = "all"
	TaskStatusPending   TaskStatus = "pending"
	TaskStatusCompleted TaskStatus = "completed"
)

// SigningKey is one key of the signing key ring. The newest key signs; older
// ones stay published until the tokens they signed have expired.
type SigningKey struct {
	ID         string // the JWS "kid"
	Algorithm  string // "EdDSA"
	PublicKey  []byte // raw Ed25519 public key
	PrivateKey []byte // raw Ed25519 private key (seed || public)
	CreatedAt  time.Time
}
