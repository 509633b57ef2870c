package sqldb_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

// step0 is a realistic TOTP time step (unix seconds / 30) near t0.
var step0 = t0.Unix() / 30

// newFactor stores an unconfirmed factor of u with a random stand-in for
// the sealed secret.
func newFactor(t *testing.T, db *sqldb.DB, u *latchkey.User) *latchkey.TOTPFactor {
	t.Helper()
	f := &latchkey.TOTPFactor{UserID: u.ID, Secret: randBytes(t, 49), CreatedAt: clockOf(db).Now()}
	must(t, db.CreateTOTPFactor(ctx, f))
	if f.ID == "" {
		t.Fatal("CreateTOTPFactor left the ID empty")
	}
	return f
}

// codeMACs returns n random stand-ins for recovery codes' MACs.
func codeMACs(t *testing.T, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = randBytes(t, 32)
	}
	return out
}

// confirmedFactor stores a confirmed factor of u, confirmed at step0, with
// recovery codes, and returns it with the codes' MACs.
func confirmedFactor(t *testing.T, db *sqldb.DB, u *latchkey.User) (*latchkey.TOTPFactor, [][]byte) {
	t.Helper()
	f := newFactor(t, db, u)
	macs := codeMACs(t, latchkey.RecoveryCodeCount)
	must(t, db.ConfirmTOTPFactor(ctx, u.ID, f.ID, step0, macs, clockOf(db).Now()))
	return f, macs
}

func TestTOTPFactorEnrolment(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		_, err := db.ConfirmedTOTPFactor(ctx, u.ID)
		wantCode(t, err, latchkey.ENOTFOUND)

		// A new enrolment replaces an unconfirmed one.
		old := newFactor(t, db, u)
		f := newFactor(t, db, u)
		_, err = db.FindTOTPFactor(ctx, u.ID, old.ID)
		wantCode(t, err, latchkey.ENOTFOUND)
		got, err := db.FindTOTPFactor(ctx, u.ID, f.ID)
		must(t, err)
		if got.Confirmed() || string(got.Secret) != string(f.Secret) || got.LastStep != 0 || !got.CreatedAt.Equal(f.CreatedAt) {
			t.Fatalf("stored %+v, want unconfirmed %+v", got, f)
		}
		// Another user's id is not found.
		_, err = db.FindTOTPFactor(ctx, newUser(t, db).ID, f.ID)
		wantCode(t, err, latchkey.ENOTFOUND)
		err = db.ConfirmTOTPFactor(ctx, newUser(t, db).ID, f.ID, step0, nil, now)
		wantCode(t, err, latchkey.ENOTFOUND)

		must(t, db.ConfirmTOTPFactor(ctx, u.ID, f.ID, step0, codeMACs(t, 10), now))
		got, err = db.ConfirmedTOTPFactor(ctx, u.ID)
		must(t, err)
		if got.ID != f.ID || got.LastStep != step0 || !got.ConfirmedAt.Equal(now) || !got.LastUsedAt.Equal(now) {
			t.Fatalf("confirmed %+v, want %s at step %d", got, f.ID, step0)
		}
		if n, err := db.CountRecoveryCodes(ctx, u.ID); err != nil || n != 10 {
			t.Fatalf("CountRecoveryCodes = %d, %v; want 10", n, err)
		}
		// Confirmed once: not again, and no new enrolment beside it.
		err = db.ConfirmTOTPFactor(ctx, u.ID, f.ID, step0+1, nil, now)
		wantCode(t, err, latchkey.ENOTFOUND)
		err = db.CreateTOTPFactor(ctx, &latchkey.TOTPFactor{UserID: u.ID, Secret: randBytes(t, 49)})
		wantCode(t, err, latchkey.EINVALID)
		fs, err := db.ListTOTPFactors(ctx, u.ID)
		must(t, err)
		if len(fs) != 1 || fs[0].ID != f.ID {
			t.Fatalf("ListTOTPFactors = %v, want only %s", fs, f.ID)
		}
	})
}

// TestTOTPOneConfirmedIndex: the unique partial index refuses a second
// confirmed factor even from SQL that skips the store's checks.
func TestTOTPOneConfirmedIndex(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		confirmedFactor(t, db, u)
		const ins = `INSERT INTO totp_factors (id, user_id, secret, confirmed_at, created_at) VALUES ($1, $2, $3, $4, $4)`
		_, err := db.Writer().ExecContext(ctx, ins, "second", u.ID, randBytes(t, 49), t0.UnixNano())
		if err == nil {
			t.Fatal("a second confirmed factor was stored")
		}
		// Unconfirmed ones are not limited by it.
		_, err = db.Writer().ExecContext(ctx, `INSERT INTO totp_factors (id, user_id, secret, created_at) VALUES ($1, $2, $3, $4)`,
			"pending", u.ID, randBytes(t, 49), t0.UnixNano())
		must(t, err)
	})
}

func TestTOTPAcceptStep(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		f, _ := confirmedFactor(t, db, u)
		now := clockOf(db).Now()
		// The confirming step, and every earlier one, are spent.
		for _, s := range []int64{step0, step0 - 1} {
			wantCode(t, db.AcceptTOTPStep(ctx, f.ID, s, now), latchkey.EINVALIDCREDENTIALS)
		}
		later := now.Add(time.Minute)
		must(t, db.AcceptTOTPStep(ctx, f.ID, step0+2, later))
		wantCode(t, db.AcceptTOTPStep(ctx, f.ID, step0+2, later), latchkey.EINVALIDCREDENTIALS)
		wantCode(t, db.AcceptTOTPStep(ctx, f.ID, step0+1, later), latchkey.EINVALIDCREDENTIALS)
		got, err := db.ConfirmedTOTPFactor(ctx, u.ID)
		must(t, err)
		if got.LastStep != step0+2 || !got.LastUsedAt.Equal(later) {
			t.Fatalf("after accepting: step %d used %v, want %d at %v", got.LastStep, got.LastUsedAt, step0+2, later)
		}
		wantCode(t, db.AcceptTOTPStep(ctx, "no-such-factor", step0+9, later), latchkey.ENOTFOUND)
	})
}

// TestTOTPAcceptStepRace: many requests with one code at once, on
// separate connections: exactly one is accepted.
func TestTOTPAcceptStepRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f, _ := confirmedFactor(t, db, newUser(t, db))
		now := clockOf(db).Now()
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := db.AcceptTOTPStep(ctx, f.ID, step0+1, now)
				switch latchkey.ErrorCode(err) {
				case "":
					won.Add(1)
				case latchkey.EINVALIDCREDENTIALS:
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d requests accepted one step, want 1", won.Load())
		}
	})
}

func TestTOTPLock(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		f, macs := confirmedFactor(t, db, u)
		now := clockOf(db).Now()
		fail := func(n int) (locked bool) {
			t.Helper()
			for range n {
				var err error
				_, locked, err = db.RecordTOTPFailure(ctx, f.ID, now)
				must(t, err)
			}
			return locked
		}
		// A right code clears the count: 9 + 9 wrong codes lock nothing.
		if fail(latchkey.MaxTOTPFailures - 1) {
			t.Fatal("locked before the tenth wrong code")
		}
		must(t, db.AcceptTOTPStep(ctx, f.ID, step0+1, now))
		if fail(latchkey.MaxTOTPFailures - 1) {
			t.Fatal("a right code did not clear the count")
		}
		if !fail(1) {
			t.Fatal("the tenth consecutive wrong code did not lock")
		}
		got, err := db.ConfirmedTOTPFactor(ctx, u.ID)
		must(t, err)
		if want := now.Add(latchkey.TOTPLockout); !got.LockedUntil.Equal(want) || got.Failures != 0 {
			t.Fatalf("locked until %v with %d failures, want %v and 0", got.LockedUntil, got.Failures, want)
		}
		// Locked: a right code and a wrong one are both refused, with when
		// to come back; recovery codes still work.
		err = db.AcceptTOTPStep(ctx, f.ID, step0+2, now.Add(time.Minute))
		wantCode(t, err, latchkey.ERATELIMITED)
		var le *latchkey.Error
		if errors.As(err, &le); le.RetryAfter != latchkey.TOTPLockout-time.Minute {
			t.Fatalf("RetryAfter = %v, want %v", le.RetryAfter, latchkey.TOTPLockout-time.Minute)
		}
		_, _, err = db.RecordTOTPFailure(ctx, f.ID, now)
		wantCode(t, err, latchkey.ERATELIMITED)
		must(t, db.UseRecoveryCode(ctx, u.ID, macs[0]))
		// The lock ends after TOTPLockout.
		must(t, db.AcceptTOTPStep(ctx, f.ID, step0+2, now.Add(latchkey.TOTPLockout)))
	})
}

// TestTOTPLockRace: concurrent wrong codes lock the factor exactly once,
// and no more than MaxTOTPFailures are counted before the lock.
func TestTOTPLockRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f, _ := confirmedFactor(t, db, newUser(t, db))
		now := clockOf(db).Now()
		var counted, locks atomic.Int32
		var wg sync.WaitGroup
		for range 3 * latchkey.MaxTOTPFailures {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, locked, err := db.RecordTOTPFailure(ctx, f.ID, now)
				switch latchkey.ErrorCode(err) {
				case "":
					counted.Add(1)
					if locked {
						locks.Add(1)
					}
				case latchkey.ERATELIMITED:
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if counted.Load() != latchkey.MaxTOTPFailures || locks.Load() != 1 {
			t.Fatalf("%d failures counted, %d locks; want %d and 1", counted.Load(), locks.Load(), latchkey.MaxTOTPFailures)
		}
	})
}

func TestRecoveryCodes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		// Only beside a confirmed factor.
		wantCode(t, db.ReplaceRecoveryCodes(ctx, u.ID, codeMACs(t, 10), now), latchkey.ENOTFOUND)
		f, macs := confirmedFactor(t, db, u)

		must(t, db.UseRecoveryCode(ctx, u.ID, macs[3]))
		wantCode(t, db.UseRecoveryCode(ctx, u.ID, macs[3]), latchkey.EINVALIDCREDENTIALS)
		wantCode(t, db.UseRecoveryCode(ctx, u.ID, randBytes(t, 32)), latchkey.EINVALIDCREDENTIALS)
		// Another user's code is not this user's.
		other := newUser(t, db)
		_, otherMACs := confirmedFactor(t, db, other)
		wantCode(t, db.UseRecoveryCode(ctx, u.ID, otherMACs[0]), latchkey.EINVALIDCREDENTIALS)
		if n, _ := db.CountRecoveryCodes(ctx, u.ID); n != 9 {
			t.Fatalf("%d codes left, want 9", n)
		}

		// Replacing drops every old code.
		fresh := codeMACs(t, 10)
		must(t, db.ReplaceRecoveryCodes(ctx, u.ID, fresh, now))
		wantCode(t, db.UseRecoveryCode(ctx, u.ID, macs[4]), latchkey.EINVALIDCREDENTIALS)
		must(t, db.UseRecoveryCode(ctx, u.ID, fresh[0]))

		// Removing the confirmed factor removes the codes with it.
		must(t, db.DeleteTOTPFactor(ctx, u.ID, f.ID))
		if n, _ := db.CountRecoveryCodes(ctx, u.ID); n != 0 {
			t.Fatalf("%d codes left after removing the factor, want 0", n)
		}
		wantCode(t, db.DeleteTOTPFactor(ctx, u.ID, f.ID), latchkey.ENOTFOUND)
		if n, _ := db.CountRecoveryCodes(ctx, other.ID); n != 10 {
			t.Fatalf("the other user has %d codes, want 10", n)
		}
	})
}

// TestRecoveryCodeRace: one code brought by many requests at once works
// for exactly one.
func TestRecoveryCodeRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		_, macs := confirmedFactor(t, db, u)
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := db.UseRecoveryCode(ctx, u.ID, macs[0])
				switch latchkey.ErrorCode(err) {
				case "":
					won.Add(1)
				case latchkey.EINVALIDCREDENTIALS:
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d requests used one recovery code, want 1", won.Load())
		}
	})
}

func TestResetMFA(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		confirmedFactor(t, db, u)
		newFactor(t, db, newUser(t, db)) // another user's, kept
		must(t, db.CreatePasskey(ctx, newPasskey(t, u, "laptop")))
		other := newUser(t, db)
		must(t, db.CreatePasskey(ctx, newPasskey(t, other, "kept")))
		tok := newMFAToken(t, db, u)
		n, err := db.ResetMFA(ctx, u.ID, now)
		must(t, err)
		if n != 2 {
			t.Fatalf("ResetMFA deleted %d factors, want 2 (TOTP and a passkey)", n)
		}
		if keys, _ := db.ListPasskeys(ctx, u.ID); len(keys) != 0 {
			t.Fatalf("%d passkeys after reset", len(keys))
		}
		if keys, _ := db.ListPasskeys(ctx, other.ID); len(keys) != 1 {
			t.Fatalf("another user's passkeys after reset: %d, want 1", len(keys))
		}
		_, err = db.ConfirmedTOTPFactor(ctx, u.ID)
		wantCode(t, err, latchkey.ENOTFOUND)
		if c, _ := db.CountRecoveryCodes(ctx, u.ID); c != 0 {
			t.Fatalf("%d recovery codes after reset", c)
		}
		_, err = db.CountMFAAttempt(ctx, tok.Hash, now)
		wantCode(t, err, latchkey.EINVALIDTOKEN)
		// Enrolment starts again from nothing.
		confirmedFactor(t, db, u)
	})
}

// TestMFAFailuresCommitAlone: a wrong TOTP code's count and an mfa_token's
// attempt are committed without the event and mail the context carries
// for the success (they would say "two-factor sign-in turned on").
func TestMFAFailuresCommitAlone(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		f, _ := confirmedFactor(t, db, u)
		tok := newMFAToken(t, db, u)
		ev := &latchkey.AuditEvent{Type: latchkey.AuditPasswordChanged, UserID: u.ID}
		cctx := latchkey.WithMail(latchkey.WithAudit(ctx, ev), testMail(u.Email))
		_, _, err := db.RecordTOTPFailure(cctx, f.ID, now)
		must(t, err)
		_, err = db.CountMFAAttempt(cctx, tok.Hash, now)
		must(t, err)
		evs, _, err := db.ListAudit(ctx, latchkey.AuditFilter{UserID: u.ID, Type: latchkey.AuditPasswordChanged})
		must(t, err)
		var mails int
		must(t, db.Writer().QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&mails))
		if len(evs) != 0 || ev.ID != "" || mails != 0 {
			t.Fatalf("failures recorded %d events (%q) and %d mails", len(evs), ev.ID, mails)
		}
	})
}

// TestMFAUseThatLosesCommitsNothing: a recovery code or an mfa_token that
// was used already changes nothing, and commits none of what the context
// carries for the change it would have allowed.
func TestMFAUseThatLosesCommitsNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		_, macs := confirmedFactor(t, db, u)
		tok := newMFAToken(t, db, u)
		must(t, db.UseRecoveryCode(ctx, u.ID, macs[0]))
		must(t, db.UseMFAToken(ctx, tok.ID, now))
		ev := &latchkey.AuditEvent{Type: latchkey.AuditPasswordChanged, UserID: u.ID}
		cctx := latchkey.WithMail(latchkey.WithAudit(ctx, ev), testMail(u.Email))
		wantCode(t, db.UseRecoveryCode(cctx, u.ID, macs[0]), latchkey.EINVALIDCREDENTIALS)
		wantCode(t, db.UseMFAToken(cctx, tok.ID, now), latchkey.EINVALIDTOKEN)
		evs, _, err := db.ListAudit(ctx, latchkey.AuditFilter{UserID: u.ID, Type: latchkey.AuditPasswordChanged})
		must(t, err)
		var mails int
		must(t, db.Writer().QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&mails))
		if len(evs) != 0 || ev.ID != "" || mails != 0 {
			t.Fatalf("lost uses recorded %d events (%q) and %d mails", len(evs), ev.ID, mails)
		}
	})
}
