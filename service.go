package latchkey

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"time"
	"unicode/utf8"
)

// UserService stores accounts.
type UserService interface {
	// CreateUser inserts u and fills in ID and CreatedAt. It returns
	// EEMAILTAKEN when the email exists, compared case-insensitively.
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns ENOTFOUND when there is no such user.
	FindUserByID(ctx context.Context, id string) (*User, error)
	// FindUserByEmail matches case-insensitively; ENOTFOUND when none.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	// SetPassword replaces the user's password hash and, in the same
	// transaction, revokes every unrevoked session of the user except keepSessionID
	// (which may be empty). It returns the ids of the sessions it revoked.
	SetPassword(ctx context.Context, userID, hash, keepSessionID string, now time.Time) ([]string, error)
	// ProvisionExternalUser creates, on first sight, the user of a trusted
	// external issuer whose ID is u.ID (the issuer's sub), with u.Role and
	// u.Issuer, and returns the stored user, which may be an existing user
	// of another issuer.
	ProvisionExternalUser(ctx context.Context, u *User) (*User, error)
	// RehashPassword replaces oldHash with newHash, the same password under
	// stronger parameters, only if oldHash is still the stored one (a
	// password change in between wins). It reports whether it replaced.
	RehashPassword(ctx context.Context, userID, oldHash, newHash string) (bool, error)
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

// RevokedSession is one entry of the revocation feed.
type RevokedSession struct {
	ID        string
	RevokedAt time.Time
}

// SessionService stores sessions and their refresh-token state.
type SessionService interface {
	// CreateSession inserts s as given (the caller fills every field).
	CreateSession(ctx context.Context, s *Session) error
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
	// ListSessions returns the user's live sessions (not revoked, not
	// expired at now), newest first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)
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

// TaskUpdate holds the fields to change; nil means leave as is.
type TaskUpdate struct {
	Title       *string
	Description *string
	Completed   *bool
}

// Cursor is the keyset position after which a list continues: the time and
// id of the last item returned (tasks, users and audit events alike).
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// TaskFilter selects a page of one user's tasks, newest first.
type TaskFilter struct {
	UserID string
	Status TaskStatus
	Limit  int
	After  *Cursor // nil for the first page
}

// TaskService stores tasks. Every method takes the owner's id and treats a
// task of another user exactly like a missing one (ENOTFOUND).
type TaskService interface {
	// CreateTask inserts t and fills in ID, CreatedAt and UpdatedAt.
	CreateTask(ctx context.Context, t *Task) error
	FindTask(ctx context.Context, userID, id string) (*Task, error)
	UpdateTask(ctx context.Context, userID, id string, upd TaskUpdate) (*Task, error)
	// ToggleTask flips Completed atomically.
	ToggleTask(ctx context.Context, userID, id string) (*Task, error)
	DeleteTask(ctx context.Context, userID, id string) error
	// ListTasks returns at most f.Limit tasks and, when more follow, the
	// cursor of the last one returned.
	ListTasks(ctx context.Context, f TaskFilter) ([]*Task, *Cursor, error)
}

// KeyService stores signing keys.
type KeyService interface {
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns every key, newest first.
	ListSigningKeys(ctx context.Context) ([]*SigningKey, error)
	// DeleteSigningKeys removes retired keys for good.
	DeleteSigningKeys(ctx context.Context, ids []string) error
}

// ThrottleService counts sign-in attempts per email, in the store so that
// the per-account throttle holds across instances and restarts. Emails are
// compared case-insensitively.
type ThrottleService interface {
	// ReserveSignIn records an attempt at now unless max are already
	// recorded at or after since; then it records nothing and returns the
	// oldest one's time. Concurrent reservations are serialized.
	ReserveSignIn(ctx context.Context, email string, now, since time.Time, max int) (bool, time.Time, error)
	// ReleaseSignIn takes back the attempt reserved at at, which never
	// reached a password check.
	ReleaseSignIn(ctx context.Context, email string, at time.Time) error
	// ClearSignInFailures forgets the attempts (after a success).
	ClearSignInFailures(ctx context.Context, email string) error
	PruneSignInFailures(ctx context.Context, before time.Time) (int64, error)
}

// Store is everything the server keeps.
type Store interface {
	UserService
	SessionService
	TaskService
	KeyService
	ThrottleService
	AuditService
	AdminService
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	Close() error
}

// Encode turns a keyset position into the opaque string clients pass back.
func (c Cursor) Encode() string {
	b := binary.BigEndian.AppendUint64(nil, uint64(c.CreatedAt.UnixNano()))
	b = append(b, c.ID...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a cursor made by Encode; EINVALID when it is not one.
func DecodeCursor(s string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 9 || len(b) > 8+64 || !utf8.Valid(b[8:]) {
		return nil, Errorf(EINVALID, "bad cursor")
	}
	return &Cursor{
		CreatedAt: time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))).UTC(),
		ID:        string(b[8:]),
	}, nil
}
