package sqldb_test

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

// newPasskey returns an unstored passkey of u with a random credential ID.
func newPasskey(t testing.TB, u *latchkey.User, name string) *latchkey.Passkey {
	return &latchkey.Passkey{
		UserID: u.ID, CredentialID: randBytes(t, 32), PublicKey: randBytes(t, 77),
		AAGUID: randBytes(t, 16), Transports: []string{"internal", "hybrid"},
		BackupEligible: true, BackedUp: true, UserVerified: true, Name: name,
	}
}

func TestPasskeyRoundTrip(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u, other := newUser(t, db), newUser(t, db)
		p := newPasskey(t, u, "Laptop")
		p.SignCount = 7
		ev := &latchkey.AuditEvent{Type: latchkey.AuditPasskeyAdded}
		must(t, db.CreatePasskey(latchkey.WithAudit(ctx, ev), p))
		if p.ID == "" || !p.CreatedAt.Equal(t0) {
			t.Fatalf("created %+v, want an ID and CreatedAt %v", p, t0)
		}
		if ev.ID == "" || ev.UserID != u.ID {
			t.Fatalf("audit event %+v, want it recorded for %s", ev, u.ID)
		}
		got, err := db.FindPasskeyByCredentialID(ctx, p.CredentialID)
		must(t, err)
		if got.ID != p.ID || got.UserID != u.ID || !bytes.Equal(got.PublicKey, p.PublicKey) ||
			!bytes.Equal(got.AAGUID, p.AAGUID) || got.SignCount != 7 || len(got.Transports) != 2 ||
			!got.BackupEligible || !got.BackedUp || !got.UserVerified || got.Name != "Laptop" ||
			!got.CreatedAt.Equal(t0) || !got.LastUsedAt.IsZero() {
			t.Fatalf("found %+v, want %+v", got, p)
		}
		_, err = db.FindPasskeyByCredentialID(ctx, randBytes(t, 32))
		wantCode(t, err, latchkey.ENOTFOUND)

		// One credential is one passkey, whoever registers it.
		dup := newPasskey(t, other, "copy")
		dup.CredentialID = p.CredentialID
		wantCode(t, db.CreatePasskey(ctx, dup), latchkey.EINVALID)
		if dup.ID != "" {
			t.Fatalf("a refused passkey kept the ID %s", dup.ID)
		}
		wantCode(t, db.CreatePasskey(ctx, newPasskey(t, &latchkey.User{ID: "no-such-user"}, "x")), latchkey.ENOTFOUND)

		// Another user can neither rename nor remove it.
		wantCode(t, db.RenamePasskey(ctx, other.ID, p.ID, "mine"), latchkey.ENOTFOUND)
		wantCode(t, db.DeletePasskey(ctx, other.ID, p.ID), latchkey.ENOTFOUND)
		must(t, db.RenamePasskey(ctx, u.ID, p.ID, "Phone"))
		list, err := db.ListPasskeys(ctx, u.ID)
		must(t, err)
		if len(list) != 1 || list[0].Name != "Phone" {
			t.Fatalf("list %+v, want the one passkey renamed Phone", list)
		}
		if list, _ := db.ListPasskeys(ctx, other.ID); len(list) != 0 {
			t.Fatalf("the other user lists %d passkeys", len(list))
		}
		rm := &latchkey.AuditEvent{Type: latchkey.AuditPasskeyRemoved}
		must(t, db.DeletePasskey(latchkey.WithAudit(ctx, rm), u.ID, p.ID))
		if rm.ID == "" || rm.UserID != u.ID {
			t.Fatalf("removal's audit event %+v", rm)
		}
		wantCode(t, db.DeletePasskey(ctx, u.ID, p.ID), latchkey.ENOTFOUND)
		wantCode(t, db.UpdatePasskeyUse(ctx, p.ID, 9, false, t0), latchkey.ENOTFOUND)
	})
}

// TestPasskeyCap: of 2*MaxPasskeys concurrent registrations for one user,
// exactly MaxPasskeys are stored, and the rest are refused.
func TestPasskeyCap(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		var wg sync.WaitGroup
		errs := make(chan error, 2*latchkey.MaxPasskeys)
		for i := 0; i < 2*latchkey.MaxPasskeys; i++ {
			p := newPasskey(t, u, "key")
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- db.CreatePasskey(ctx, p)
			}()
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			if err == nil {
				ok++
				continue
			}
			wantCode(t, err, latchkey.EINVALID)
		}
		list, err := db.ListPasskeys(ctx, u.ID)
		must(t, err)
		if ok != latchkey.MaxPasskeys || len(list) != latchkey.MaxPasskeys {
			t.Fatalf("%d registrations passed, %d stored; want %d", ok, len(list), latchkey.MaxPasskeys)
		}
		// The cap is per user, and removing one makes room.
		must(t, db.CreatePasskey(ctx, newPasskey(t, newUser(t, db), "other user")))
		wantCode(t, db.CreatePasskey(ctx, newPasskey(t, u, "11th")), latchkey.EINVALID)
		must(t, db.DeletePasskey(ctx, u.ID, list[0].ID))
		must(t, db.CreatePasskey(ctx, newPasskey(t, u, "10th again")))
	})
}

// TestPasskeyCounter: the sign counter only moves forward; 0 after 0 is an
// authenticator without one.
func TestPasskeyCounter(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		p := newPasskey(t, u, "key")
		p.SignCount = 5
		must(t, db.CreatePasskey(ctx, p))
		t1 := t0.Add(time.Minute)
		ev := &latchkey.AuditEvent{Type: latchkey.AuditPasskeySignin, UserID: u.ID}
		must(t, db.UpdatePasskeyUse(latchkey.WithAudit(ctx, ev), p.ID, 6, false, t1))
		if ev.ID == "" {
			t.Fatal("the sign-in's audit event was not recorded")
		}
		for _, c := range []uint32{6, 5, 0} {
			ev := &latchkey.AuditEvent{Type: latchkey.AuditPasskeySignin, UserID: u.ID}
			err := db.UpdatePasskeyUse(latchkey.WithAudit(ctx, ev), p.ID, c, true, t1.Add(time.Minute))
			if err != latchkey.ErrPasskeyCounter {
				t.Fatalf("counter 6 -> %d: %v, want ErrPasskeyCounter", c, err)
			}
			if ev.ID != "" {
				t.Fatalf("counter 6 -> %d: audit event recorded", c)
			}
		}
		got, err := db.FindPasskeyByCredentialID(ctx, p.CredentialID)
		must(t, err)
		if got.SignCount != 6 || got.BackedUp || !got.LastUsedAt.Equal(t1) {
			t.Fatalf("after refused uses: %+v, want count 6, not backed up, used at %v", got, t1)
		}

		z := newPasskey(t, u, "no counter")
		must(t, db.CreatePasskey(ctx, z))
		must(t, db.UpdatePasskeyUse(ctx, z.ID, 0, true, t1))
		must(t, db.UpdatePasskeyUse(ctx, z.ID, 0, true, t1))
		must(t, db.UpdatePasskeyUse(ctx, z.ID, 1, true, t1))
		if err := db.UpdatePasskeyUse(ctx, z.ID, 0, true, t1); err != latchkey.ErrPasskeyCounter {
			t.Fatalf("counter 1 -> 0: %v, want ErrPasskeyCounter", err)
		}
	})
}

// TestPasskeyCounterRace: of several assertions carrying one counter
// value, one passes.
func TestPasskeyCounterRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		p := newPasskey(t, newUser(t, db), "key")
		p.SignCount = 1
		must(t, db.CreatePasskey(ctx, p))
		wins := race(t, 8, func() error { return db.UpdatePasskeyUse(ctx, p.ID, 2, false, t0) }, latchkey.ErrPasskeyCounter)
		if wins != 1 {
			t.Fatalf("%d assertions with counter 2 passed, want 1", wins)
		}
	})
}

// race runs fn n times at once and returns how many returned nil; every
// other answer must be lost.
func race(t *testing.T, n int, fn func() error, lost error) int {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- fn()
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	wins := 0
	for err := range errs {
		switch {
		case err == nil:
			wins++
		case lost != nil && err == lost:
		case lost == nil && latchkey.ErrorCode(err) == latchkey.ENOTFOUND:
		default:
			t.Fatalf("unexpected answer: %v", err)
		}
	}
	return wins
}

// newChallenge stores a challenge of purpose p (for u when registering),
// expiring after the TTL from the store's clock.
func newChallenge(t *testing.T, db *sqldb.DB, p latchkey.ChallengePurpose, userID string) *latchkey.WebAuthnChallenge {
	t.Helper()
	now := clockOf(db).Now()
	c := &latchkey.WebAuthnChallenge{
		Purpose: p, UserID: userID, Challenge: randBytes(t, latchkey.WebAuthnChallengeLen),
		Session: []byte(`{"challenge":"x"}`), ExpiresAt: now.Add(latchkey.WebAuthnChallengeTTL),
	}
	must(t, db.CreateWebAuthnChallenge(ctx, c))
	return c
}

func TestWebAuthnChallengeTakeOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u, other := newUser(t, db), newUser(t, db)
		now := clockOf(db).Now()
		reg := newChallenge(t, db, latchkey.ChallengeRegister, u.ID)
		// Another purpose or user takes nothing, and leaves it live.
		_, err := db.TakeWebAuthnChallenge(ctx, reg.ID, latchkey.ChallengeSignIn, "", now)
		wantCode(t, err, latchkey.ENOTFOUND)
		_, err = db.TakeWebAuthnChallenge(ctx, reg.ID, latchkey.ChallengeRegister, other.ID, now)
		wantCode(t, err, latchkey.ENOTFOUND)
		got, err := db.TakeWebAuthnChallenge(ctx, reg.ID, latchkey.ChallengeRegister, u.ID, now)
		must(t, err)
		if !bytes.Equal(got.Challenge, reg.Challenge) || string(got.Session) != `{"challenge":"x"}` ||
			got.UserID != u.ID || !got.UsedAt.Equal(now) || !got.ExpiresAt.Equal(reg.ExpiresAt) {
			t.Fatalf("took %+v, want %+v used at %v", got, reg, now)
		}
		_, err = db.TakeWebAuthnChallenge(ctx, reg.ID, latchkey.ChallengeRegister, u.ID, now)
		wantCode(t, err, latchkey.ENOTFOUND)

		// A register challenge names its user, a sign-in one none.
		bad := &latchkey.WebAuthnChallenge{Purpose: latchkey.ChallengeRegister, Challenge: randBytes(t, 32),
			Session: []byte("{}"), ExpiresAt: now.Add(time.Minute)}
		if err := db.CreateWebAuthnChallenge(ctx, bad); err == nil {
			t.Fatal("a register challenge without a user was stored")
		}
		bad.Purpose = "other"
		wantCode(t, db.CreateWebAuthnChallenge(ctx, bad), latchkey.EINVALID)

		// Of concurrent takes of one sign-in challenge, one wins.
		in := newChallenge(t, db, latchkey.ChallengeSignIn, "")
		wins := race(t, 8, func() error {
			_, err := db.TakeWebAuthnChallenge(ctx, in.ID, latchkey.ChallengeSignIn, "", now)
			return err
		}, nil)
		if wins != 1 {
			t.Fatalf("%d takes of one challenge won, want 1", wins)
		}
	})
}

func TestWebAuthnChallengeExpiry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		c := newChallenge(t, db, latchkey.ChallengeSignIn, "")
		late := c.ExpiresAt
		_, err := db.TakeWebAuthnChallenge(ctx, c.ID, latchkey.ChallengeSignIn, "", late)
		wantCode(t, err, latchkey.ENOTFOUND)
		_, err = db.TakeWebAuthnChallenge(ctx, c.ID, latchkey.ChallengeSignIn, "", late.Add(-time.Nanosecond))
		must(t, err)

		// Pruning deletes what expired, used or not, and nothing live.
		old := newChallenge(t, db, latchkey.ChallengeSignIn, "")
		clockOf(db).Advance(time.Hour)
		live := newChallenge(t, db, latchkey.ChallengeSignIn, "")
		n, err := db.PruneWebAuthnChallenges(ctx, clockOf(db).Now())
		must(t, err)
		if n != 2 {
			t.Fatalf("pruned %d challenges, want 2", n)
		}
		_, err = db.TakeWebAuthnChallenge(ctx, old.ID, latchkey.ChallengeSignIn, "", old.CreatedAt)
		wantCode(t, err, latchkey.ENOTFOUND)
		_, err = db.TakeWebAuthnChallenge(ctx, live.ID, latchkey.ChallengeSignIn, "", clockOf(db).Now())
		must(t, err)
	})
}

// TestWebAuthnChallengeAcrossInstances: a challenge one instance stored is
// taken by another over the same database, once, however many try.
func TestWebAuthnChallengeAcrossInstances(t *testing.T) {
	forEachEngineLoc(t, func(t *testing.T, e engine, loc string) {
		a, b := openMigrated(t, e, loc), openMigrated(t, e, loc)
		c := newChallenge(t, a, latchkey.ChallengeSignIn, "")
		now := clockOf(a).Now()
		var n atomic.Int32
		wins := race(t, 8, func() error {
			db := a
			if n.Add(1)%2 == 0 {
				db = b
			}
			_, err := db.TakeWebAuthnChallenge(ctx, c.ID, latchkey.ChallengeSignIn, "", now)
			return err
		}, nil)
		if wins != 1 {
			t.Fatalf("%d takes across two instances won, want 1", wins)
		}
	})
}
