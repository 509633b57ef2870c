package latchkey

import (
	"context"
	"time"
)

// Second factors (issue 14): a TOTP factor per user, its recovery codes,
// and the mfa_tokens that carry a password sign-in to its second step.
// The store keeps no secret in the clear: a factor's TOTP secret is
// sealed, recovery codes and mfa_tokens are kept as digests (auth makes
// and checks all three).

// The limits of the second step.
const (
	// MaxTOTPFailures consecutive wrong TOTP codes lock a user's TOTP
	// for TOTPLockout. Recovery codes still work during the lock.
	MaxTOTPFailures = 10
	TOTPLockout     = 15 * time.Minute

	// RecoveryCodeCount is how many recovery codes a user gets at a time.
	RecoveryCodeCount = 10

	// MaxMFAAttempts is how many codes an mfa_token takes, right or
	// wrong; after the last it is dead. MFATokenTTL is its lifetime.
	MaxMFAAttempts = 5
	MFATokenTTL    = 5 * time.Minute
)

// TOTPFactor is a user's TOTP authenticator as stored. A user has at most
// one confirmed factor; unconfirmed ones are enrolments in progress, and
// making a new one deletes the user's older unconfirmed ones.
type TOTPFactor struct {
	ID     string
	UserID string
	// Secret is the RFC 6238 secret sealed at rest (auth seals and opens
	// it); the store never sees it in the clear.
	Secret []byte
	// ConfirmedAt is zero until a first code confirmed the enrolment.
	ConfirmedAt time.Time
	// LastStep is the last time step (unix seconds / 30) accepted for
	// this factor, 0 before any: that step and every earlier one are
	// refused, so a code is never accepted twice.
	LastStep int64
	// Failures counts consecutive wrong codes; the MaxTOTPFailures-th
	// sets LockedUntil and starts the count again.
	Failures    int
	LockedUntil time.Time
	CreatedAt   time.Time
	LastUsedAt  time.Time
}

// Confirmed reports whether the factor's enrolment was confirmed.
func (f *TOTPFactor) Confirmed() bool { return !f.ConfirmedAt.IsZero() }

// Locked reports whether the factor refuses codes at now.
func (f *TOTPFactor) Locked(now time.Time) bool { return now.Before(f.LockedUntil) }

// MFAToken is an mfa_token as stored: what a right password answers
// instead of tokens when the user has a confirmed factor. Only the
// SHA-256 of its 32 random bytes is kept. It is live while UsedAt is
// zero, ExpiresAt is ahead and Attempts is below MaxMFAAttempts.
type MFAToken struct {
	ID     string
	UserID string
	Hash   []byte
	// AMR is how the first step authenticated the user (["pwd"]); the
	// second step adds its own methods to it.
	AMR       []string
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// Live reports whether t can still take an attempt at now.
func (t *MFAToken) Live(now time.Time) bool {
	return t.UsedAt.IsZero() && now.Before(t.ExpiresAt) && t.Attempts < MaxMFAAttempts
}

// MFAService stores second factors. The operations that decide whether a
// code is accepted are single atomic statements, so that the rules hold
// across instances sharing one database.
//
// Every method that changes something also makes the change ctx carries
// (WithAudit, WithMail, WithTokenChange) in the same transaction, except
// RecordTOTPFailure and CountMFAAttempt: their counts are committed alone,
// whatever ctx carries, since a failure must not send the mail or record
// the event meant for a success.
type MFAService interface {
	// CreateTOTPFactor stores f unconfirmed (filling in an empty ID) and
	// deletes the user's older unconfirmed factors. It fails with
	// EINVALID when the user already has a confirmed factor.
	CreateTOTPFactor(ctx context.Context, f *TOTPFactor) error
	// FindTOTPFactor returns the user's factor id, confirmed or not;
	// ENOTFOUND when there is none (or it is another user's).
	FindTOTPFactor(ctx context.Context, userID, id string) (*TOTPFactor, error)
	// ConfirmedTOTPFactor returns the user's confirmed factor; ENOTFOUND
	// when there is none.
	ConfirmedTOTPFactor(ctx context.Context, userID string) (*TOTPFactor, error)
	// ListTOTPFactors returns the user's factors, confirmed or not,
	// oldest first.
	ListTOTPFactors(ctx context.Context, userID string) ([]*TOTPFactor, error)
	// ConfirmTOTPFactor confirms the user's unconfirmed factor id with a
	// code of time step step, and replaces the user's recovery codes by
	// codeMACs, in one transaction. It fails with EINVALIDCREDENTIALS when
	// the step is not after the factor's last one (as AcceptTOTPStep),
	// ERATELIMITED when the factor is locked, ENOTFOUND when there is no
	// such unconfirmed factor, and EINVALID when the user has another
	// confirmed factor meanwhile.
	ConfirmTOTPFactor(ctx context.Context, userID, id string, step int64, codeMACs [][]byte, now time.Time) error
	// AcceptTOTPStep accepts a right code of time step step for factor id:
	// when step is greater than the factor's last step and the factor is
	// not locked at now, it records step as the last one, clears the
	// failure count and sets the last use, in one conditional update, so
	// that of two requests with one code (on any instance) exactly one is
	// accepted. Otherwise it changes nothing and fails with
	// EINVALIDCREDENTIALS (a step already used, or an earlier one) or
	// ERATELIMITED with RetryAfter (locked); ENOTFOUND for no factor.
	AcceptTOTPStep(ctx context.Context, id string, step int64, now time.Time) error
	// RecordTOTPFailure counts a wrong code against factor id, unless it
	// is locked at now. The MaxTOTPFailures-th consecutive one locks it
	// until now+TOTPLockout and clears the count; locked reports that this
	// call locked it. ERATELIMITED when it was already locked.
	RecordTOTPFailure(ctx context.Context, id string, now time.Time) (f *TOTPFactor, locked bool, err error)
	// DeleteTOTPFactor deletes the user's factor id; deleting the
	// confirmed one deletes the user's recovery codes too. ENOTFOUND when
	// the user has no such factor.
	DeleteTOTPFactor(ctx context.Context, userID, id string) error

	// ReplaceRecoveryCodes replaces all of the user's recovery codes by
	// codeMACs, their HMACs (auth computes them). ENOTFOUND when the user
	// has no confirmed factor: recovery codes exist only beside one.
	ReplaceRecoveryCodes(ctx context.Context, userID string, codeMACs [][]byte, now time.Time) error
	// UseRecoveryCode uses the user's recovery code whose MAC is codeMAC:
	// one conditional delete, so that a code works once even when two
	// requests bring it at once. EINVALIDCREDENTIALS when the user has no
	// such unused code.
	UseRecoveryCode(ctx context.Context, userID string, codeMAC []byte) error
	// CountRecoveryCodes returns how many unused recovery codes the user
	// has.
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)

	// ResetMFA deletes every factor (TOTP factors and passkeys) and
	// recovery code of the user, and kills the user's live mfa_tokens
	// (the admin escape hatch). It reports how many factors it deleted.
	ResetMFA(ctx context.Context, userID string, now time.Time) (int64, error)

	// CreateMFAToken stores t, filling in an empty ID.
	CreateMFAToken(ctx context.Context, t *MFAToken) error
	// CountMFAAttempt finds the live mfa_token whose hash is hash and
	// counts one attempt against it, in one conditional update committed
	// at once: of concurrent attempts, at most MaxMFAAttempts are ever
	// counted, and the token is dead after them. EINVALIDTOKEN when the
	// token is unknown, used, expired or out of attempts. The returned
	// token has the attempt counted.
	CountMFAAttempt(ctx context.Context, hash []byte, now time.Time) (*MFAToken, error)
	// UseMFAToken uses the mfa_token id once its attempt succeeded: one
	// conditional update, so that of two requests exactly one wins.
	// EINVALIDTOKEN when it is used or expired.
	UseMFAToken(ctx context.Context, id string, now time.Time) error
	// PruneMFATokens deletes the mfa_tokens that expired before before and
	// returns how many.
	PruneMFATokens(ctx context.Context, before time.Time) (int64, error)
}
