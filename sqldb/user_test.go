package sqldb_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

func TestCreateUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := &latchkey.User{
			Email:        "Ada.Lovelace@Example.COM",
			Name:         "Ada",
			Role:         latchkey.RoleAdmin,
			Disabled:     true,
			PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		}
		must(t, db.CreateUser(ctx, u))
		id, err := uuid.Parse(u.ID)
		if err != nil || id.Version() != 7 {
			t.Fatalf("ID = %q (%v), want a UUIDv7", u.ID, err)
		}
		if !u.CreatedAt.Equal(t0) || u.CreatedAt.Location() != time.UTC {
			t.Fatalf("CreatedAt = %v, want %v in UTC", u.CreatedAt, t0)
		}

		got, err := db.FindUserByID(ctx, u.ID)
		must(t, err)
		if *got != *u {
			t.Fatalf("FindUserByID = %+v, want %+v", got, u)
		}
		for _, email := range []string{"ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM", u.Email} {
			got, err := db.FindUserByEmail(ctx, email)
			must(t, err)
			if *got != *u {
				t.Fatalf("FindUserByEmail(%q) = %+v, want %+v", email, got, u)
			}
		}
	})
}

func TestCreateUserDefaultsRole(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		if u.Role != latchkey.RoleUser {
			t.Fatalf("Role = %q, want user", u.Role)
		}
		got, err := db.FindUserByID(ctx, u.ID)
		must(t, err)
		if got.Role != latchkey.RoleUser || got.Disabled {
			t.Fatalf("stored %+v", got)
		}
	})
}

func TestCreateUserInvalidRole(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := &latchkey.User{Email: "a@example.com", Role: "root", PasswordHash: "x"}
		wantCode(t, db.CreateUser(ctx, u), latchkey.EINVALID)
		_, err := db.FindUserByEmail(ctx, "a@example.com")
		wantCode(t, err, latchkey.ENOTFOUND)
	})
}

func TestCreateUserEmailTaken(t *testing.T) {
	tests := []struct{ first, second string }{
		{"ada@example.com", "ada@example.com"},
		{"Grace@Example.com", "grace@EXAMPLE.COM"},
		{"ÉMILE@example.com", "émile@example.com"}, // beyond ASCII
	}
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		for _, tt := range tests {
			first := &latchkey.User{Email: tt.first, Name: "first", PasswordHash: "x"}
			must(t, db.CreateUser(ctx, first))
			second := &latchkey.User{Email: tt.second, Name: "second", PasswordHash: "y"}
			wantCode(t, db.CreateUser(ctx, second), latchkey.EEMAILTAKEN)
			if second.ID != "" {
				t.Errorf("failed CreateUser set ID %q", second.ID)
			}
			got, err := db.FindUserByEmail(ctx, tt.second)
			must(t, err)
			if got.ID != first.ID || got.Email != tt.first || got.PasswordHash != "x" {
				t.Errorf("after duplicate %q: found %+v, want the first user", tt.second, got)
			}
		}
	})
}

func TestFindUserNotFound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		newUser(t, db)
		_, err := db.FindUserByID(ctx, "01900000-0000-7000-8000-000000000000")
		wantCode(t, err, latchkey.ENOTFOUND)
		_, err = db.FindUserByID(ctx, "")
		wantCode(t, err, latchkey.ENOTFOUND)
		_, err = db.FindUserByEmail(ctx, "nobody@example.com")
		wantCode(t, err, latchkey.ENOTFOUND)
	})
}

func TestSetPassword(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		other := newUser(t, db)
		now := t0.Add(time.Hour)

		keep := newSession(t, db, u.ID, t0)
		a := newSession(t, db, u.ID, t0.Add(time.Second))
		b := newSession(t, db, u.ID, t0.Add(2*time.Second))
		earlier := newSession(t, db, u.ID, t0.Add(3*time.Second))
		must(t, db.RevokeSessionByID(ctx, earlier.ID, latchkey.ReasonSignout, t0.Add(4*time.Second)))
		expired := newSession(t, db, u.ID, now.Add(-25*time.Hour))
		others := newSession(t, db, other.ID, t0)

		revoked, err := db.SetPassword(ctx, u.ID, "new-hash", keep.ID, now)
		must(t, err)
		slices.Sort(revoked)
		want := []string{a.ID, b.ID, expired.ID}
		slices.Sort(want)
		if !slices.Equal(revoked, want) {
			t.Fatalf("revoked %v, want %v", revoked, want)
		}

		got, err := db.FindUserByID(ctx, u.ID)
		must(t, err)
		if got.PasswordHash != "new-hash" {
			t.Fatalf("hash = %q", got.PasswordHash)
		}
		for _, tt := range []struct {
			s          *latchkey.Session
			revokedAt  time.Time
			wantReason string
		}{
			{keep, time.Time{}, ""},
			{a, now, latchkey.ReasonPasswordChanged},
			{b, now, latchkey.ReasonPasswordChanged},
			{earlier, t0.Add(4 * time.Second), latchkey.ReasonSignout},
			{expired, now, latchkey.ReasonPasswordChanged},
			{others, time.Time{}, ""},
		} {
			s, err := db.FindSession(ctx, tt.s.ID)
			must(t, err)
			if !s.RevokedAt.Equal(tt.revokedAt) || s.RevokeReason != tt.wantReason {
				t.Errorf("session created %v: revoked %v %q, want %v %q",
					tt.s.CreatedAt, s.RevokedAt, s.RevokeReason, tt.revokedAt, tt.wantReason)
			}
		}
		live, err := liveSessions(db, u.ID, now)
		must(t, err)
		if len(live) != 1 || live[0].ID != keep.ID {
			t.Fatalf("live sessions %v, want only the kept one", sessionIDs(live))
		}
	})
}

func TestSetPasswordKeepNone(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s1 := newSession(t, db, u.ID, t0)
		s2 := newSession(t, db, u.ID, t0)
		revoked, err := db.SetPassword(ctx, u.ID, "h2", "", t0.Add(time.Minute))
		must(t, err)
		slices.Sort(revoked)
		want := []string{s1.ID, s2.ID}
		slices.Sort(want)
		if !slices.Equal(revoked, want) {
			t.Fatalf("revoked %v, want %v", revoked, want)
		}
		// No sessions at all is fine too.
		revoked, err = db.SetPassword(ctx, u.ID, "h3", "", t0.Add(time.Minute))
		must(t, err)
		if len(revoked) != 0 {
			t.Fatalf("revoked %v, want none", revoked)
		}
	})
}

func TestSetPasswordUnknownUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		_, err := db.SetPassword(ctx, "no-such-user", "h", "", t0.Add(time.Minute))
		wantCode(t, err, latchkey.ENOTFOUND)
		got, err := db.FindSession(ctx, s.ID)
		must(t, err)
		if got.Revoked() {
			t.Fatal("a failed SetPassword revoked a session")
		}
	})
}

func sessionIDs(ss []*latchkey.Session) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func TestRehashPassword(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		ok, err := db.RehashPassword(ctx, u.ID, "not-the-hash", "new")
		must(t, err)
		if ok {
			t.Fatal("rehash replaced a hash that was not the stored one")
		}
		ok, err = db.RehashPassword(ctx, u.ID, u.PasswordHash, "stronger")
		must(t, err)
		got, err := db.FindUserByID(ctx, u.ID)
		must(t, err)
		if !ok || got.PasswordHash != "stronger" {
			t.Fatalf("rehash: %v %q", ok, got.PasswordHash)
		}
	})
}

func TestReserveSignIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		since := t0.Add(-15 * time.Minute)
		for i := range 3 {
			ok, _, err := db.ReserveSignIn(ctx, "Ada@Example.com", t0.Add(time.Duration(i)*time.Second), since, 3)
			must(t, err)
			if !ok {
				t.Fatalf("attempt %d refused", i+1)
			}
		}
		ok, oldest, err := db.ReserveSignIn(ctx, "ada@EXAMPLE.com", t0.Add(time.Minute), since, 3)
		must(t, err)
		if ok || !oldest.Equal(t0) {
			t.Fatalf("4th attempt: ok %v, oldest %v", ok, oldest)
		}
		// Another email is not affected; attempts outside the window do not count.
		if ok, _, _ := db.ReserveSignIn(ctx, "bob@example.com", t0, since, 3); !ok {
			t.Fatal("another email refused")
		}
		if ok, _, _ := db.ReserveSignIn(ctx, "ada@example.com", t0.Add(time.Hour), t0.Add(time.Second), 3); !ok {
			t.Fatal("the window did not move")
		}
		// Concurrent reservations: exactly max get through.
		var wg sync.WaitGroup
		var mu sync.Mutex
		through := 0
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := db.ReserveSignIn(ctx, "storm@example.com", t0, since, 5)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					through++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if through != 5 {
			t.Fatalf("%d of 20 concurrent attempts got through, want 5", through)
		}
		must(t, db.ClearSignInFailures(ctx, "STORM@example.com"))
		if ok, _, _ := db.ReserveSignIn(ctx, "storm@example.com", t0, since, 5); !ok {
			t.Fatal("clear did not reset")
		}
		n, err := db.PruneSignInFailures(ctx, t0.Add(time.Hour))
		must(t, err)
		if n == 0 {
			t.Fatal("nothing pruned")
		}
		// A huge email costs one fixed-size key.
		if ok, _, err := db.ReserveSignIn(ctx, strings.Repeat("x", 1<<20), t0, since, 5); err != nil || !ok {
			t.Fatalf("huge email: %v %v", ok, err)
		}
	})
}

func TestProvisionExternalUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u, err := db.ProvisionExternalUser(ctx, &latchkey.User{ID: "ext-1", Role: latchkey.RoleAdmin, Issuer: "https://front.example"})
		must(t, err)
		if u.ID != "ext-1" || u.Issuer != "https://front.example" || u.Role != latchkey.RoleAdmin || u.Email != "" || u.PasswordHash != "" {
			t.Fatalf("provisioned %+v", u)
		}
		// Second sight: the same row, unchanged.
		again, err := db.ProvisionExternalUser(ctx, &latchkey.User{ID: "ext-1", Role: latchkey.RoleUser, Issuer: "https://front.example"})
		must(t, err)
		if again.Role != latchkey.RoleAdmin || !again.CreatedAt.Equal(u.CreatedAt) {
			t.Fatalf("second sight changed the user: %+v", again)
		}
		// A Latchkey user's id is returned as it is, for the caller to refuse.
		own := newUser(t, db)
		got, err := db.ProvisionExternalUser(ctx, &latchkey.User{ID: own.ID, Issuer: "https://front.example"})
		must(t, err)
		if got.Issuer != "" || got.Email != own.Email {
			t.Fatalf("an own user was taken over: %+v", got)
		}
		// Two external users, no email clash.
		_, err = db.ProvisionExternalUser(ctx, &latchkey.User{ID: "ext-2", Issuer: "https://front.example"})
		must(t, err)
	})
}

// Emails are one account by emailkey.Of: case folding beyond ToLower,
// compatibility forms, NFC and NFD, invisible characters.
func TestEmailKey(t *testing.T) {
	groups := [][]string{
		{"sam@example.com", "SAM@EXAMPLE.COM", "ſam@example.com", "ＳＡＭ@example.com", "sa\u200bm@example.com", "\u202esam@example.com"},
		{"σς@example.gr", "σσ@example.gr", "ΣΣ@EXAMPLE.GR"},
		{"café@example.com", "cafe\u0301@example.com", "CAFÉ@example.com"},
		{"straße@example.de", "strasse@example.de"},
	}
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		for _, g := range groups {
			first := &latchkey.User{Email: g[0], PasswordHash: "x"}
			must(t, db.CreateUser(ctx, first))
			for _, other := range g {
				wantCode(t, db.CreateUser(ctx, &latchkey.User{Email: other, PasswordHash: "y"}), latchkey.EEMAILTAKEN)
				got, err := db.FindUserByEmail(ctx, other)
				must(t, err)
				if got.ID != first.ID || got.Email != g[0] {
					t.Fatalf("FindUserByEmail(%+q) = %+v, want %s", other, got, g[0])
				}
			}
		}
		// Different accounts stay different.
		for _, e := range []string{"cafe@example.com", "ѕam@example.com", "sam@example.org"} {
			_, err := db.FindUserByEmail(ctx, e)
			wantCode(t, err, latchkey.ENOTFOUND)
		}
		// No address holds a NUL, and PostgreSQL's TEXT cannot: not found,
		// not a database error.
		_, err := db.FindUserByEmail(ctx, "sam\x00@example.com")
		wantCode(t, err, latchkey.ENOTFOUND)
	})
}

// The throttle counts every spelling of an address for one account.
func TestReserveSignInEmailKey(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		since := t0.Add(-15 * time.Minute)
		spellings := []string{"sam@x", "ſam@x", "SAM@X", "ＳＡＭ@x", "sa\u200bm@x"}
		for i, s := range spellings[:4] {
			ok, _, err := db.ReserveSignIn(ctx, s, t0.Add(time.Duration(i)*time.Second), since, 4)
			must(t, err)
			if !ok {
				t.Fatalf("attempt %d (%+q) refused", i+1, s)
			}
		}
		if ok, _, err := db.ReserveSignIn(ctx, spellings[4], t0.Add(time.Minute), since, 4); err != nil || ok {
			t.Fatalf("5th attempt, as %+q: ok %v, %v; want refused", spellings[4], ok, err)
		}
		must(t, db.ClearSignInFailures(ctx, "Sam@x"))
		if ok, _, err := db.ReserveSignIn(ctx, "ſam@x", t0.Add(time.Minute), since, 4); err != nil || !ok {
			t.Fatalf("after clearing another spelling: ok %v, %v", ok, err)
		}
	})
}
