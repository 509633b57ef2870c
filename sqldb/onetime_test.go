package sqldb_test

import (
	"bytes"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

// newToken issues a token of purpose p to u, expiring in ttl from the
// store's clock, and returns it with its link hash and code MAC (random
// stand-ins: the store sees only digests).
func newToken(t *testing.T, db *sqldb.DB, u *latchkey.User, p latchkey.TokenPurpose, ttl time.Duration) *latchkey.OneTimeToken {
	t.Helper()
	now := clockOf(db).Now()
	link := sha256.Sum256(randBytes(t, 32))
	tok := &latchkey.OneTimeToken{
		UserID: u.ID, Purpose: p, Email: u.Email,
		LinkHash: link[:], CodeMAC: randBytes(t, 32),
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	must(t, db.IssueOneTimeToken(ctx, tok))
	if tok.ID == "" {
		t.Fatal("IssueOneTimeToken left the ID empty")
	}
	return tok
}

func TestOneTimeTokenConsumeOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		tok := newToken(t, db, u, latchkey.PurposeReset, 30*time.Minute)
		got, err := db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeReset, tok.LinkHash, now)
		must(t, err)
		if got.ID != tok.ID || got.UserID != u.ID || got.Email != u.Email || got.UsedAt.IsZero() {
			t.Fatalf("consumed %+v, want token %s of %s", got, tok.ID, u.ID)
		}
		_, err = db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeReset, tok.LinkHash, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		_, err = db.ConsumeOneTimeTokenCode(ctx, u.ID, latchkey.PurposeReset, tok.CodeMAC, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)

		// By code, once.
		tok2 := newToken(t, db, u, latchkey.PurposeReset, 30*time.Minute)
		got, err = db.ConsumeOneTimeTokenCode(ctx, u.ID, latchkey.PurposeReset, tok2.CodeMAC, now)
		must(t, err)
		if got.ID != tok2.ID {
			t.Fatalf("consumed %s, want %s", got.ID, tok2.ID)
		}
		_, err = db.ConsumeOneTimeTokenCode(ctx, u.ID, latchkey.PurposeReset, tok2.CodeMAC, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		_, err = db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeReset, tok2.LinkHash, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
	})
}

func TestOneTimeTokenIssueKillsOlder(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		old := newToken(t, db, u, latchkey.PurposeReset, 30*time.Minute)
		verify := newToken(t, db, u, latchkey.PurposeVerifyEmail, 24*time.Hour)
		other := newToken(t, db, newUser(t, db), latchkey.PurposeReset, 30*time.Minute)
		clockOf(db).Advance(time.Second)
		fresh := newToken(t, db, u, latchkey.PurposeReset, 30*time.Minute)
		_, err := db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeReset, old.LinkHash, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		_, err = db.ConsumeOneTimeTokenCode(ctx, u.ID, latchkey.PurposeReset, old.CodeMAC, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		// Another purpose of the same user, and another user, are untouched.
		_, err = db.FindOneTimeTokenByLink(ctx, latchkey.PurposeVerifyEmail, verify.LinkHash, now)
		must(t, err)
		_, err = db.FindOneTimeTokenByLink(ctx, latchkey.PurposeReset, other.LinkHash, now)
		must(t, err)
		_, err = db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeReset, fresh.LinkHash, now)
		must(t, err)
	})
}

// TestOneTimeTokenIssueRace: concurrent issues for one user and purpose
// leave exactly one live token, the last committed.
func TestOneTimeTokenIssueRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		var wg sync.WaitGroup
		toks := make([]*latchkey.OneTimeToken, 8)
		for i := range toks {
			link := sha256.Sum256(randBytes(t, 32))
			toks[i] = &latchkey.OneTimeToken{UserID: u.ID, Purpose: latchkey.PurposeReset, Email: u.Email,
				LinkHash: link[:], CodeMAC: randBytes(t, 32), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := db.IssueOneTimeToken(ctx, toks[i]); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		live := 0
		for _, tok := range toks {
			if _, err := db.FindOneTimeTokenByLink(ctx, latchkey.PurposeReset, tok.LinkHash, now); err == nil {
				live++
			}
		}
		if live != 1 {
			t.Fatalf("%d live tokens after concurrent issues, want 1", live)
		}
	})
}

// TestOneTimeTokenConsumeRace: two consumers of one token, exactly one wins.
func TestOneTimeTokenConsumeRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		for round := 0; round < 10; round++ {
			tok := newToken(t, db, u, latchkey.PurposeReset, time.Hour)
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins, losses := 0, 0
			for i := 0; i < 2; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var err error
					if i == 0 {
						_, err = db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeReset, tok.LinkHash, now)
					} else {
						_, err = db.ConsumeOneTimeTokenCode(ctx, u.ID, latchkey.PurposeReset, tok.CodeMAC, now)
					}
					mu.Lock()
					defer mu.Unlock()
					switch latchkey.ErrorCode(err) {
					case "":
						wins++
					case latchkey.EINVALIDONETIME:
						losses++
					default:
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if wins != 1 || losses != 1 {
				t.Fatalf("round %d: %d wins, %d losses, want 1 and 1", round, wins, losses)
			}
		}
	})
}

// TestOneTimeTokenUseWithChange: a token used with another change
// (WithTokenChange) commits with it, and a dead token undoes the change.
func TestOneTimeTokenUseWithChange(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		tok := newToken(t, db, u, latchkey.PurposeReset, time.Hour)
		found, err := db.FindOneTimeTokenByLink(ctx, latchkey.PurposeReset, tok.LinkHash, now)
		must(t, err)
		ev := &latchkey.AuditEvent{Type: latchkey.AuditPasswordChanged, UserID: u.ID}
		ch := &latchkey.TokenChange{Now: now, Use: found.ID, KillUser: u.ID}
		cctx := latchkey.WithAudit(latchkey.WithTokenChange(ctx, ch), ev)
		_, err = db.SetPassword(cctx, u.ID, "$argon2id$new", "", now)
		must(t, err)
		if !ch.Applied || ev.ID == "" {
			t.Fatalf("change applied %v, event %q: want both committed", ch.Applied, ev.ID)
		}
		// The same token again: the password change is undone with it.
		ch2 := &latchkey.TokenChange{Now: now, Use: found.ID}
		_, err = db.SetPassword(latchkey.WithTokenChange(ctx, ch2), u.ID, "$argon2id$newer", "", now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		if ch2.Applied {
			t.Fatal("a failed change marked Applied")
		}
		got, err := db.FindUserByID(ctx, u.ID)
		must(t, err)
		if got.PasswordHash != "$argon2id$new" {
			t.Fatalf("password %q: the change with a used token was committed", got.PasswordHash)
		}
	})
}

func TestOneTimeTokenExpiry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		tok := newToken(t, db, u, latchkey.PurposeVerifyEmail, time.Hour)
		exp := tok.ExpiresAt
		_, err := db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeVerifyEmail, tok.LinkHash, exp)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		_, err = db.ConsumeOneTimeTokenCode(ctx, u.ID, latchkey.PurposeVerifyEmail, tok.CodeMAC, exp.Add(time.Minute))
		wantCode(t, err, latchkey.EINVALIDONETIME)
		// Found live just before, the use itself re-checks the expiry.
		found, err := db.FindOneTimeTokenByLink(ctx, latchkey.PurposeVerifyEmail, tok.LinkHash, exp.Add(-time.Nanosecond))
		must(t, err)
		err = db.ApplyTokenChange(ctx, &latchkey.TokenChange{Now: exp, Use: found.ID})
		wantCode(t, err, latchkey.EINVALIDONETIME)
		_, err = db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeVerifyEmail, tok.LinkHash, exp.Add(-time.Nanosecond))
		must(t, err)
	})
}

// TestOneTimeTokenWrongCodes: the fifth wrong code kills the token, link
// and code alike; four leave it usable.
func TestOneTimeTokenWrongCodes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		wrong := bytes.Repeat([]byte{7}, 32)
		tok := newToken(t, db, u, latchkey.PurposeReset, time.Hour)
		for i := 0; i < latchkey.MaxCodeAttempts-1; i++ {
			_, err := db.ConsumeOneTimeTokenCode(ctx, u.ID, latchkey.PurposeReset, wrong, now)
			wantCode(t, err, latchkey.EINVALIDONETIME)
		}
		_, err := db.ConsumeOneTimeTokenCode(ctx, u.ID, latchkey.PurposeReset, tok.CodeMAC, now)
		must(t, err) // after four wrong codes, the right one still works

		for _, byLink := range []bool{true, false} {
			tok := newToken(t, db, u, latchkey.PurposeReset, time.Hour)
			for i := 0; i < latchkey.MaxCodeAttempts; i++ {
				_, err := db.CheckOneTimeTokenCode(ctx, u.ID, latchkey.PurposeReset, nil, now)
				wantCode(t, err, latchkey.EINVALIDONETIME)
			}
			if byLink {
				_, err = db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeReset, tok.LinkHash, now)
			} else {
				_, err = db.ConsumeOneTimeTokenCode(ctx, u.ID, latchkey.PurposeReset, tok.CodeMAC, now)
			}
			wantCode(t, err, latchkey.EINVALIDONETIME)
		}
	})
}

// TestOneTimeTokenWrongCodeKeepsNoAudit: a wrong code's count is committed,
// but the event meant for the change is not recorded with it.
func TestOneTimeTokenWrongCodeKeepsNoAudit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		newToken(t, db, u, latchkey.PurposeReset, time.Hour)
		ev := &latchkey.AuditEvent{Type: latchkey.AuditPasswordChanged, UserID: u.ID}
		_, err := db.ConsumeOneTimeTokenCode(latchkey.WithAudit(ctx, ev), u.ID, latchkey.PurposeReset, []byte("wrong"), now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		evs, _, err := db.ListAudit(ctx, latchkey.AuditFilter{UserID: u.ID, Type: latchkey.AuditPasswordChanged})
		must(t, err)
		if len(evs) != 0 || ev.ID != "" {
			t.Fatalf("a wrong code recorded %d events (%q)", len(evs), ev.ID)
		}
	})
}

// TestOneTimeTokenNoCrossMatch: a code or link never matches a token of
// another purpose or another user.
func TestOneTimeTokenNoCrossMatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ada, bob := newUser(t, db), newUser(t, db)
		now := clockOf(db).Now()
		tok := newToken(t, db, ada, latchkey.PurposeReset, time.Hour)
		newToken(t, db, ada, latchkey.PurposeVerifyEmail, time.Hour)
		newToken(t, db, bob, latchkey.PurposeReset, time.Hour)
		_, err := db.ConsumeOneTimeTokenCode(ctx, ada.ID, latchkey.PurposeVerifyEmail, tok.CodeMAC, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		_, err = db.ConsumeOneTimeTokenCode(ctx, bob.ID, latchkey.PurposeReset, tok.CodeMAC, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		_, err = db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeEmailChange, tok.LinkHash, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		_, err = db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeVerifyEmail, tok.LinkHash, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		_, err = db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeReset, tok.LinkHash, now)
		must(t, err)
	})
}

func TestOneTimeTokenKills(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u, other := newUser(t, db), newUser(t, db)
		now := clockOf(db).Now()
		reset := newToken(t, db, u, latchkey.PurposeReset, time.Hour)
		verify := newToken(t, db, u, latchkey.PurposeVerifyEmail, time.Hour)
		keep := newToken(t, db, other, latchkey.PurposeReset, time.Hour)
		n, err := db.KillOneTimeTokens(ctx, u.ID, now)
		must(t, err)
		if n != 2 {
			t.Fatalf("killed %d, want 2", n)
		}
		for _, tok := range []*latchkey.OneTimeToken{reset, verify} {
			_, err = db.ConsumeOneTimeTokenLink(ctx, tok.Purpose, tok.LinkHash, now)
			wantCode(t, err, latchkey.EINVALIDONETIME)
		}
		_, err = db.FindOneTimeTokenByLink(ctx, latchkey.PurposeReset, keep.LinkHash, now)
		must(t, err)

		// Sent to the old address: killed; to the new one: kept.
		oldReset := newToken(t, db, u, latchkey.PurposeReset, time.Hour)
		link := sha256.Sum256(randBytes(t, 32))
		change := &latchkey.OneTimeToken{UserID: u.ID, Purpose: latchkey.PurposeEmailChange, Email: "new@example.com",
			LinkHash: link[:], CodeMAC: randBytes(t, 32), ExpiresAt: now.Add(time.Hour)}
		must(t, db.IssueOneTimeToken(ctx, change))
		n, err = db.KillOneTimeTokensSentTo(ctx, u.ID, u.Email, now)
		must(t, err)
		if n != 1 {
			t.Fatalf("killed %d sent to the old address, want 1", n)
		}
		_, err = db.FindOneTimeTokenByLink(ctx, latchkey.PurposeReset, oldReset.LinkHash, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		got, err := db.ConsumeOneTimeTokenLink(ctx, latchkey.PurposeEmailChange, change.LinkHash, now)
		must(t, err)
		if got.Email != "new@example.com" {
			t.Fatalf("email-change token holds %q", got.Email)
		}
	})
}

// TestOneTimeTokenIssueUnknownUser: a token for no user is not stored.
func TestOneTimeTokenIssueUnknownUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		now := clockOf(db).Now()
		tok := &latchkey.OneTimeToken{UserID: "nobody", Purpose: latchkey.PurposeReset,
			LinkHash: randBytes(t, 32), CodeMAC: randBytes(t, 32), ExpiresAt: now.Add(time.Hour)}
		wantCode(t, db.IssueOneTimeToken(ctx, tok), latchkey.ENOTFOUND)
		if tok.ID != "" {
			t.Fatal("a failed issue left an ID")
		}
		tok.UserID, tok.Purpose = newUser(t, db).ID, "other"
		wantCode(t, db.IssueOneTimeToken(ctx, tok), latchkey.EINVALID)
	})
}

// TestOneTimeTokenGuessBurst: a burst of concurrent wrong codes with the
// right one among them. At most MaxCodeAttempts wrong ones ever count; the
// right one wins only if fewer came before it, and otherwise finds the
// token dead.
func TestOneTimeTokenGuessBurst(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		for round := 0; round < 5; round++ {
			tok := newToken(t, db, u, latchkey.PurposeReset, time.Hour)
			start := make(chan struct{})
			var wg sync.WaitGroup
			var rightErr error
			for i := 0; i < 16; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mac := bytes.Repeat([]byte{byte(i)}, 32)
					if i == 8 {
						mac = tok.CodeMAC
					}
					<-start
					_, err := db.ConsumeOneTimeTokenCode(ctx, u.ID, latchkey.PurposeReset, mac, now)
					if i == 8 {
						rightErr = err
					} else if latchkey.ErrorCode(err) != latchkey.EINVALIDONETIME {
						t.Errorf("wrong code: %v", err)
					}
				}()
			}
			close(start)
			wg.Wait()
			var attempts int
			must(t, db.Reader().QueryRowContext(ctx, `SELECT attempts FROM one_time_tokens WHERE id = $1`, tok.ID).Scan(&attempts))
			switch {
			case attempts > latchkey.MaxCodeAttempts:
				t.Fatalf("round %d: %d wrong codes counted", round, attempts)
			case rightErr == nil && attempts >= latchkey.MaxCodeAttempts:
				t.Fatalf("round %d: the right code won after %d wrong ones", round, attempts)
			case rightErr != nil && (latchkey.ErrorCode(rightErr) != latchkey.EINVALIDONETIME || attempts != latchkey.MaxCodeAttempts):
				t.Fatalf("round %d: the right code lost (%v) with %d wrong ones counted", round, rightErr, attempts)
			}
		}
	})
}

func TestOneTimeTokenPrune(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		short := newToken(t, db, u, latchkey.PurposeReset, time.Minute)
		long := newToken(t, db, u, latchkey.PurposeVerifyEmail, time.Hour)
		n, err := db.PruneOneTimeTokens(ctx, now.Add(time.Minute))
		must(t, err)
		if n != 0 {
			t.Fatalf("pruned %d at the first token's expiry, want 0", n)
		}
		n, err = db.PruneOneTimeTokens(ctx, now.Add(time.Minute+time.Nanosecond))
		must(t, err)
		if n != 1 {
			t.Fatalf("pruned %d, want 1", n)
		}
		var left int
		must(t, db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM one_time_tokens WHERE id IN ($1, $2)`, short.ID, long.ID).Scan(&left))
		if left != 1 {
			t.Fatalf("%d tokens left, want the live one", left)
		}
		_, err = db.FindOneTimeTokenByLink(ctx, latchkey.PurposeVerifyEmail, long.LinkHash, now)
		must(t, err)
	})
}
