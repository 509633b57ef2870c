package sqldb_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

// TestResetPasswordStore: the hash, the verified mark, every session
// revoked and the throttle cleared, with the token's use, or nothing.
func TestResetPasswordStore(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		s1 := newSession(t, db, u.ID, now.Add(-time.Hour))
		s2 := newSession(t, db, u.ID, now)
		ok, _, err := db.ReserveSignIn(ctx, u.Email, now, now.Add(-time.Minute), 10)
		must(t, err)
		if !ok {
			t.Fatal("reserve refused")
		}
		tok := newToken(t, db, u, latchkey.PurposeReset, time.Hour)
		ch := &latchkey.TokenChange{Now: now, Use: tok.ID, KillUser: u.ID}
		ids, err := db.ResetPassword(latchkey.WithTokenChange(ctx, ch), u.ID, "new-hash", now)
		must(t, err)
		if len(ids) != 2 || !ch.Applied {
			t.Fatalf("revoked %v (want %s and %s), applied %v", ids, s1.ID, s2.ID, ch.Applied)
		}
		got, err := db.FindUserByID(ctx, u.ID)
		must(t, err)
		if got.PasswordHash != "new-hash" || !got.EmailVerified {
			t.Fatalf("after reset: %+v", got)
		}
		// The throttle is clear: ten attempts fit again.
		for i := range 10 {
			if ok, _, err := db.ReserveSignIn(ctx, u.Email, now, now.Add(-time.Minute), 10); err != nil || !ok {
				t.Fatalf("attempt %d after the reset refused: %v", i+1, err)
			}
		}
		// The token is spent: a second reset with it changes nothing.
		ch = &latchkey.TokenChange{Now: now, Use: tok.ID}
		_, err = db.ResetPassword(latchkey.WithTokenChange(ctx, ch), u.ID, "other-hash", now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		got, _ = db.FindUserByID(ctx, u.ID)
		if got.PasswordHash != "new-hash" {
			t.Fatal("a reset with a spent token changed the password")
		}
	})
}

// TestVerifyEmailStore: the first verification revokes the sessions up to
// its instant but the kept one; a second changes nothing; an address that
// is no longer the user's is refused.
func TestVerifyEmailStore(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		old := newSession(t, db, u.ID, now.Add(-time.Hour))
		keep := newSession(t, db, u.ID, now.Add(-time.Minute))
		_, _, _, err := db.VerifyEmail(ctx, u.ID, "someone-else@example.com", keep.ID, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		got, first, ids, err := db.VerifyEmail(ctx, u.ID, u.Email, keep.ID, now)
		must(t, err)
		if !first || !got.EmailVerified || len(ids) != 1 || ids[0] != old.ID {
			t.Fatalf("first verification: first %v, user %+v, revoked %v (want %s)", first, got, ids, old.ID)
		}
		later := newSession(t, db, u.ID, now.Add(time.Minute))
		_, first, ids, err = db.VerifyEmail(ctx, u.ID, u.Email, "", now.Add(2*time.Minute))
		must(t, err)
		if first || len(ids) != 0 {
			t.Fatalf("second verification: first %v, revoked %v (session %s must stay)", first, ids, later.ID)
		}
	})
}

// TestChangeEmailStore: the address changes only from the old one, never
// to one another account has (by key), and the other sessions go.
func TestChangeEmailStore(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u, other := newUser(t, db), newUser(t, db)
		now := clockOf(db).Now()
		s1 := newSession(t, db, u.ID, now)
		s2 := newSession(t, db, u.ID, now)
		_, _, err := db.ChangeEmail(ctx, u.ID, u.Email, strings.ToUpper(other.Email), s1.ID, now)
		wantCode(t, err, latchkey.EEMAILTAKEN)
		_, _, err = db.ChangeEmail(ctx, u.ID, "stale@example.com", "fresh@example.com", s1.ID, now)
		wantCode(t, err, latchkey.EINVALIDONETIME)
		got, ids, err := db.ChangeEmail(ctx, u.ID, u.Email, "fresh@example.com", s1.ID, now)
		must(t, err)
		if got.Email != "fresh@example.com" || !got.EmailVerified || len(ids) != 1 || ids[0] != s2.ID {
			t.Fatalf("change: %+v, revoked %v", got, ids)
		}
		if f, err := db.FindUserByEmail(ctx, "FRESH@example.com"); err != nil || f.ID != u.ID {
			t.Fatalf("find by the new address: %v, %v", f, err)
		}
	})
}

// TestMailCooldownRace: of concurrent issues of one purpose with a
// cooldown, exactly one commits, its mail with it.
func TestMailCooldownRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		const n = 8
		var wg sync.WaitGroup
		applied := make([]bool, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok := &latchkey.OneTimeToken{UserID: u.ID, Purpose: latchkey.PurposeReset, Email: u.Email,
					LinkHash: randBytes(t, 32), CodeMAC: randBytes(t, 32), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
				ch := &latchkey.TokenChange{Now: now, Issue: tok, Cooldown: time.Minute}
				m := &latchkey.Mail{UserID: u.ID, To: u.Email, Subject: "s", Text: "t", HTML: "h"}
				if err := db.ApplyTokenChange(latchkey.WithMail(latchkey.WithTokenChange(ctx, ch), m), ch); err != nil {
					t.Error(err)
				}
				applied[i] = ch.Applied
			}()
		}
		wg.Wait()
		count := 0
		for _, a := range applied {
			if a {
				count++
			}
		}
		mails, err := db.ListMail(ctx)
		must(t, err)
		if count != 1 || len(mails) != 1 {
			t.Fatalf("%d issues applied and %d mails, want 1 and 1", count, len(mails))
		}
		// Another purpose has its own cooldown; this one's ends after it.
		for _, c := range []struct {
			p    latchkey.TokenPurpose
			at   time.Time
			want bool
		}{
			{latchkey.PurposeVerifyEmail, now, true},
			{latchkey.PurposeReset, now.Add(59 * time.Second), false},
			{latchkey.PurposeReset, now.Add(61 * time.Second), true},
		} {
			tok := &latchkey.OneTimeToken{UserID: u.ID, Purpose: c.p, Email: u.Email,
				LinkHash: randBytes(t, 32), CodeMAC: randBytes(t, 32), CreatedAt: c.at, ExpiresAt: c.at.Add(time.Hour)}
			ch := &latchkey.TokenChange{Now: c.at, Issue: tok, Cooldown: time.Minute}
			must(t, db.ApplyTokenChange(ctx, ch))
			if ch.Applied != c.want {
				t.Errorf("%s at +%v: applied %v, want %v", c.p, c.at.Sub(now), ch.Applied, c.want)
			}
		}
	})
}

// TestIssueIfEmail: a token is issued only while the user's address is
// the one it is mailed for.
func TestIssueIfEmail(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := clockOf(db).Now()
		for _, c := range []struct {
			ifEmail string
			want    bool
		}{{"left@example.com", false}, {u.Email, true}} {
			tok := &latchkey.OneTimeToken{UserID: u.ID, Purpose: latchkey.PurposeReset, Email: c.ifEmail,
				LinkHash: randBytes(t, 32), CodeMAC: randBytes(t, 32), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			ch := &latchkey.TokenChange{Now: now, Issue: tok, IfEmail: c.ifEmail}
			m := &latchkey.Mail{UserID: u.ID, To: c.ifEmail, Subject: "s", Text: "t", HTML: "h"}
			must(t, db.ApplyTokenChange(latchkey.WithMail(latchkey.WithTokenChange(ctx, ch), m), ch))
			if ch.Applied != c.want {
				t.Errorf("issue for %s: applied %v, want %v", c.ifEmail, ch.Applied, c.want)
			}
		}
		mails, err := db.ListMail(ctx)
		must(t, err)
		if len(mails) != 1 || mails[0].To != u.Email {
			t.Fatalf("outbox: %d mails, want the one to %s", len(mails), u.Email)
		}
	})
}
