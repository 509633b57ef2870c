package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/latchkey/latchkey"
)

// PruneSessions deletes, every interval until ctx ends, the sessions that
// expired or were revoked more than keep ago, with their spent refresh
// tokens, and the sign-in failures older than the throttle's window, so the
// store does not grow with every refresh or failed sign-in forever. keep must
// cover the revocation set's retention: a restarting process reloads
// revocations that recent from the store.
func PruneSessions(ctx context.Context, store latchkey.Store, keep, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := store.PruneSessions(ctx, time.Now().Add(-keep))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("prune sessions", "err", err)
		case n > 0:
			log.Info("pruned sessions", "count", n)
		}
		if _, err := store.PruneSignInFailures(ctx, time.Now().Add(-SignInFailureWindow)); err != nil && ctx.Err() == nil {
			log.Warn("prune sign-in failures", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
