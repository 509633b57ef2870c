package latchkey

import (
	"context"
	"time"
)

// ThrottleService counts sign-in attempts per email, in the store so that
// the per-account throttle holds across instances and restarts. Emails are
// compared by their key (package emailkey), so every spelling of an address
// counts for one account.
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

	// ReserveCodeAttempt is ReserveSignIn for the guesses of mailed
	// one-time codes, under a key of the caller's (the address or user and
	// the purpose), in a table of their own with a longer window: the
	// 5-attempt limit of one token would otherwise start afresh with every
	// new token.
	ReserveCodeAttempt(ctx context.Context, key string, now, since time.Time, max int) (bool, time.Time, error)
	// ReleaseCodeAttempt takes back the attempt reserved at at: the code
	// was right.
	ReleaseCodeAttempt(ctx context.Context, key string, at time.Time) error
	PruneCodeAttempts(ctx context.Context, before time.Time) (int64, error)
}
