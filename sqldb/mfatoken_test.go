package sqldb_test

import (
	"crypto/sha256"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

// newMFAToken stores an mfa_token of u, made now on the store's clock and
// live for MFATokenTTL.
func newMFAToken(t *testing.T, db *sqldb.DB, u *latchkey.User) *latchkey.MFAToken {
	t.Helper()
	now := clockOf(db).Now()
	h := sha256.Sum256(randBytes(t, 32))
	tok := &latchkey.MFAToken{UserID: u.ID, Hash: h[:], AMR: []string{latchkey.AMRPassword},
		CreatedAt: now, ExpiresAt: now.Add(latchkey.MFATokenTTL)}
	must(t, db.CreateMFAToken(ctx, tok))
	if tok.ID == "" {
		t.Fatal("CreateMFAToken left the ID empty")
	}
	return tok
}

func TestMFATokenAttempts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		tok := newMFAToken(t, db, u)
		for i := 1; i <= latchkey.MaxMFAAttempts; i++ {
			got, err := db.CountMFAAttempt(ctx, tok.Hash, now)
			must(t, err)
			if got.ID != tok.ID || got.UserID != u.ID || got.Attempts != i || !slices.Equal(got.AMR, tok.AMR) ||
				!got.ExpiresAt.Equal(tok.ExpiresAt) {
				t.Fatalf("attempt %d: %+v, want token %s with %d attempts", i, got, tok.ID, i)
			}
		}
		// The last attempt may still use it (a right code on the fifth
		// try), but no sixth attempt is counted.
		_, err := db.CountMFAAttempt(ctx, tok.Hash, now)
		wantCode(t, err, latchkey.EINVALIDTOKEN)
		must(t, db.UseMFAToken(ctx, tok.ID, now))
	})
}

func TestMFATokenUseOnceAndExpiry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		tok := newMFAToken(t, db, u)
		_, err := db.CountMFAAttempt(ctx, tok.Hash, now)
		must(t, err)
		must(t, db.UseMFAToken(ctx, tok.ID, now))
		wantCode(t, db.UseMFAToken(ctx, tok.ID, now), latchkey.EINVALIDTOKEN)
		_, err = db.CountMFAAttempt(ctx, tok.Hash, now)
		wantCode(t, err, latchkey.EINVALIDTOKEN)

		// Expired at ExpiresAt, not a nanosecond later.
		old := newMFAToken(t, db, u)
		end := old.ExpiresAt
		_, err = db.CountMFAAttempt(ctx, old.Hash, end.Add(-time.Nanosecond))
		must(t, err)
		_, err = db.CountMFAAttempt(ctx, old.Hash, end)
		wantCode(t, err, latchkey.EINVALIDTOKEN)
		wantCode(t, db.UseMFAToken(ctx, old.ID, end), latchkey.EINVALIDTOKEN)

		_, err = db.CountMFAAttempt(ctx, randBytes(t, 32), now)
		wantCode(t, err, latchkey.EINVALIDTOKEN)

		// Pruning deletes what expired before the cut-off.
		n, err := db.PruneMFATokens(ctx, end.Add(time.Nanosecond))
		must(t, err)
		if n != 2 {
			t.Fatalf("pruned %d tokens, want 2", n)
		}
	})
}

// TestMFATokenAttemptRace: a burst of attempts at once counts exactly
// MaxMFAAttempts, and of the requests that then use it, one wins.
func TestMFATokenAttemptRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		tok := newMFAToken(t, db, newUser(t, db))
		now := clockOf(db).Now()
		var counted, used atomic.Int32
		var wg sync.WaitGroup
		for range 4 * latchkey.MaxMFAAttempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := db.CountMFAAttempt(ctx, tok.Hash, now)
				switch latchkey.ErrorCode(err) {
				case "":
					counted.Add(1)
				case latchkey.EINVALIDTOKEN:
					return
				default:
					t.Error(err)
					return
				}
				switch err := db.UseMFAToken(ctx, got.ID, now); latchkey.ErrorCode(err) {
				case "":
					used.Add(1)
				case latchkey.EINVALIDTOKEN:
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// Some attempts may have lost to the first use rather than to the
		// count; none past the limit may have been counted.
		if counted.Load() < 1 || counted.Load() > latchkey.MaxMFAAttempts || used.Load() != 1 {
			t.Fatalf("%d attempts counted, %d uses; want 1..%d and 1", counted.Load(), used.Load(), latchkey.MaxMFAAttempts)
		}
	})
}

// TestMFATokenCountRace: attempts alone, at once, count exactly
// MaxMFAAttempts.
func TestMFATokenCountRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		tok := newMFAToken(t, db, newUser(t, db))
		now := clockOf(db).Now()
		var counted atomic.Int32
		var wg sync.WaitGroup
		for range 4 * latchkey.MaxMFAAttempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.CountMFAAttempt(ctx, tok.Hash, now)
				switch latchkey.ErrorCode(err) {
				case "":
					counted.Add(1)
				case latchkey.EINVALIDTOKEN:
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if counted.Load() != latchkey.MaxMFAAttempts {
			t.Fatalf("%d attempts counted, want %d", counted.Load(), latchkey.MaxMFAAttempts)
		}
	})
}
