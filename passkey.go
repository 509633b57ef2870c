package latchkey

import (
	"context"
	"time"
)

// Limits of passkeys (issue 14).
const (
	// MaxPasskeys is how many passkeys a user may have. The store refuses
	// the next one in the transaction that would add it.
	MaxPasskeys = 10
	// WebAuthnChallengeTTL is how long a ceremony's challenge may be
	// answered.
	WebAuthnChallengeTTL = 5 * time.Minute
	// WebAuthnChallengeLen is how many random bytes a challenge has.
	WebAuthnChallengeLen = 32
)

// ReasonPasskeyCounter is the reason of the signin_failed event of a
// passkey assertion whose sign counter did not move forward: a sign that
// the credential's key was copied.
const ReasonPasskeyCounter = "passkey_counter"

// ErrPasskeyCounter is what the store answers when a passkey's sign
// counter would not move forward (UpdatePasskeyUse). The caller refuses
// the sign-in with it and audits it; its message says no more than a
// failed sign-in does.
var ErrPasskeyCounter = &Error{Code: EINVALIDCREDENTIALS, Message: "passkey sign-in failed"}

// Passkey is a WebAuthn credential of a user, kept after its registration.
// ID is Latchkey's own (the routes name a passkey by it); CredentialID is
// the authenticator's, which an assertion names.
type Passkey struct {
	ID           string
	UserID       string
	CredentialID []byte
	PublicKey    []byte // COSE_Key, as the authenticator gave it
	// SignCount is the last signature counter seen. 0 with 0 seen again
	// is an authenticator without a counter; any other value must grow.
	SignCount uint32
	AAGUID    []byte
	// Transports are the hints the browser gave at registration (usb,
	// internal, hybrid...), sent back in excludeCredentials.
	Transports []string
	// BackupEligible (BE) is fixed at creation: the key may be synced
	// off the device. BackedUp (BS) is its latest backup state.
	BackupEligible bool
	BackedUp       bool
	// UserVerified: the authenticator verified the user (PIN, biometric)
	// at registration. Latchkey registers no passkey without it.
	UserVerified bool
	Name         string
	CreatedAt    time.Time
	LastUsedAt   time.Time // zero until its first sign-in
}

// ChallengePurpose is the ceremony a WebAuthn challenge belongs to. A
// challenge of one purpose is never taken for another.
type ChallengePurpose string

// The purposes of WebAuthn challenges.
const (
	ChallengeRegister ChallengePurpose = "register" // adding a passkey to a user
	ChallengeSignIn   ChallengePurpose = "signin"   // signing in with a passkey
)

// Valid reports whether p is one of the purposes above.
func (p ChallengePurpose) Valid() bool { return p == ChallengeRegister || p == ChallengeSignIn }

// WebAuthnChallenge is the server's half of a ceremony in progress, kept in
// the store so that any instance can finish what another began. It is
// taken once (TakeWebAuthnChallenge) and then dead.
type WebAuthnChallenge struct {
	ID        string
	Purpose   ChallengePurpose
	UserID    string // the registering user; empty for a sign-in
	Challenge []byte // WebAuthnChallengeLen random bytes
	// Session is go-webauthn's SessionData of the ceremony, serialized
	// (JSON) by auth; the store keeps it opaque.
	Session   []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// PasskeyService stores passkeys and the challenges of their ceremonies.
// A passkey is only ever found, changed or removed through its user (or,
// for a sign-in, its credential ID), so one user cannot name another's.
type PasskeyService interface {
	// CreatePasskey stores p, filling in an empty ID and CreatedAt, with
	// the audit event ctx carries. It answers EINVALID when the user
	// already has MaxPasskeys (counted in the same transaction, so that
	// concurrent registrations cannot pass it) or when a passkey with
	// p's credential ID exists (of any user), and ENOTFOUND when the user
	// does not exist.
	CreatePasskey(ctx context.Context, p *Passkey) error
	// ListPasskeys returns the user's passkeys, oldest first.
	ListPasskeys(ctx context.Context, userID string) ([]*Passkey, error)
	// FindPasskeyByCredentialID returns the passkey with this credential
	// ID, or ENOTFOUND.
	FindPasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error)
	// RenamePasskey sets the name of the user's passkey id; ENOTFOUND
	// when the user has no such passkey.
	RenamePasskey(ctx context.Context, userID, id, name string) error
	// DeletePasskey removes the user's passkey id, with the audit event
	// ctx carries; ENOTFOUND when the user has no such passkey.
	DeletePasskey(ctx context.Context, userID, id string) error
	// UpdatePasskeyUse records a sign-in with passkey id: its new sign
	// counter, backup state and last use, with the audit event ctx
	// carries. The counter must be above the stored one (or both be 0),
	// checked in the update itself, so that of two assertions with one
	// counter value only one passes; otherwise nothing changes and it
	// answers ErrPasskeyCounter. ENOTFOUND when there is no such passkey.
	UpdatePasskeyUse(ctx context.Context, id string, signCount uint32, backedUp bool, usedAt time.Time) error

	// CreateWebAuthnChallenge stores c, filling in an empty ID and
	// CreatedAt.
	CreateWebAuthnChallenge(ctx context.Context, c *WebAuthnChallenge) error
	// TakeWebAuthnChallenge uses the challenge id of purpose p and user
	// userID ("" for a sign-in) once, at now, and returns it. Whatever
	// the reason it cannot (unknown, another purpose or user, used,
	// expired), it answers ENOTFOUND; of two concurrent takes, one wins.
	TakeWebAuthnChallenge(ctx context.Context, id string, p ChallengePurpose, userID string, now time.Time) (*WebAuthnChallenge, error)
	// PruneWebAuthnChallenges deletes the challenges that expired before
	// before (used ones too) and returns how many.
	PruneWebAuthnChallenges(ctx context.Context, before time.Time) (int64, error)
}
