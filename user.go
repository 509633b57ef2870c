package latchkey

import (
	"context"
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
	ID    string `json:"id"`
	Email string `json:"email"`
	// EmailVerified: the address was proved, by a mailed link or code or
	// a password reset, or vouched for by an operator.
	EmailVerified bool      `json:"email_verified"`
	Name          string    `json:"name"`
	Role          Role      `json:"role"`
	CreatedAt     time.Time `json:"created_at"`
	// Disabled appears only in admin answers (see httpapi's adminUser).
	Disabled     bool   `json:"-"`
	PasswordHash string `json:"-"` // empty for external users: no password
	// Issuer is the trusted external issuer a provisioned user comes from
	// (its ID is that issuer's sub); empty for Latchkey's own users.
	Issuer string `json:"-"`
}

// UserService stores accounts.
type UserService interface {
	// CreateUser inserts u and fills in an empty ID and CreatedAt (a set ID
	// lets a change made with the user, such as a token, name it). It returns
	// EEMAILTAKEN when an account has the email, compared by its key
	// (package emailkey: one key for every spelling of an address).
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns ENOTFOUND when there is no such user.
	FindUserByID(ctx context.Context, id string) (*User, error)
	// FindUserByEmail matches by the email's key; ENOTFOUND when none.
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

	// ResetPassword is a password reset: it replaces the hash, marks the
	// email verified, revokes every session of the user (reason
	// ReasonPasswordReset) and clears the account's sign-in throttle, in
	// one transaction with the token change ctx carries. It returns the
	// revoked ids.
	ResetPassword(ctx context.Context, userID, hash string, now time.Time) ([]string, error)
	// VerifyEmail marks the user's address verified, when it is still
	// email (compared as stored; EINVALIDONETIME otherwise). When it was
	// not verified before, it also revokes every session of the user
	// created up to now but keepSessionID (ReasonEmailVerified), and
	// reports first = true. It returns the user as stored after.
	VerifyEmail(ctx context.Context, userID, email, keepSessionID string, now time.Time) (u *User, first bool, revoked []string, err error)
	// ChangeEmail sets the user's address to email, verified, when it is
	// still oldEmail (EINVALIDONETIME otherwise), and revokes every
	// other session of the user but keepSessionID (ReasonEmailChanged).
	// EEMAILTAKEN when another account has the address's key.
	ChangeEmail(ctx context.Context, userID, oldEmail, email, keepSessionID string, now time.Time) (*User, []string, error)
}

// UserUpdate holds an admin's changes to a user; nil means leave as is.
type UserUpdate struct {
	Role          *Role
	Disabled      *bool
	EmailVerified *bool
}

// AdminService is what the admin routes and commands need beyond
// UserService.
type AdminService interface {
	// ListUsers returns at most limit users, newest first, and, when more
	// follow, the cursor of the last one returned.
	ListUsers(ctx context.Context, limit int, after *Cursor) ([]*User, *Cursor, error)
	// UpdateUser applies upd in one transaction. Disabling a user, or
	// changing its role, revokes every one of its sessions (reason
	// user_disabled or role_changed), whose ids it returns, so that no
	// token carries a stale role or outlives the account. It refuses, with
	// EVALIDATION on the field, to disable or demote the last enabled
	// local admin (one with a password: admins of a trusted external
	// issuer cannot use the admin API, so they do not count); ENOTFOUND
	// when there is no such user.
	UpdateUser(ctx context.Context, id string, upd UserUpdate, now time.Time) (*User, []string, error)
}
