package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/latchkey/latchkey"
)

// Retention says how long the store keeps what it prunes.
type Retention struct {
	// Sessions: how long after expiry or revocation a session stays. It
	// must cover the revocation set's retention: a restarting process
	// reloads revocations that recent from the store.
	Sessions time.Duration
	// Audit: how long audit events stay (LATCHKEY_AUDIT_RETENTION); 0
	// keeps them forever.
	Audit time.Duration
}

// Prune deletes, every interval until ctx ends, the sessions past their
// retention with their spent refresh tokens, the sign-in failures and code
// guesses older than their windows, the expired one-time tokens,
// mfa_tokens and WebAuthn challenges, the inactive SSF streams and expired
// SSF acks, and the audit events past theirs, so
// the store does not grow with every refresh or failed sign-in forever.
func Prune(ctx context.Context, store latchkey.Store, keep Retention, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := store.PruneSessions(ctx, time.Now().Add(-keep.Sessions))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("prune sessions", "err", err)
		case n > 0:
			log.Info("pruned sessions", "count", n)
		}
		if _, err := store.PruneSignInFailures(ctx, time.Now().Add(-SignInFailureWindow)); err != nil && ctx.Err() == nil {
			log.Warn("prune sign-in failures", "err", err)
		}
		if _, err := store.PruneCodeAttempts(ctx, time.Now().Add(-CodeFailureWindow)); err != nil && ctx.Err() == nil {
			log.Warn("prune code attempts", "err", err)
		}
		if _, err := store.PruneOneTimeTokens(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("prune one-time tokens", "err", err)
		}
		if _, err := store.PruneMFATokens(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("prune mfa_tokens", "err", err)
		}
		if _, err := store.PruneWebAuthnChallenges(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("prune WebAuthn challenges", "err", err)
		}
		// An SSF stream idle for StreamInactivity is refused at once
		// (TouchStream) and not counted under its receiver's cap
		// (CreateStream); here its row and its acks go.
		if n, err := store.PruneSSF(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("prune SSF streams and acks", "err", err)
		} else if n > 0 {
			log.Info("pruned inactive SSF streams", "count", n)
		}
		if keep.Audit > 0 {
			if n, err := store.PruneAudit(ctx, time.Now().Add(-keep.Audit)); err != nil && ctx.Err() == nil {
				log.Warn("prune audit events", "err", err)
			} else if n > 0 {
				log.Info("pruned audit events", "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
