package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/testkit"
	"github.com/latchkey/latchkey/password"
)

// racingStore runs before() just ahead of every rotation: another request
// landing between the service's read of the session and its compare-and-swap.
type racingStore struct {
	latchkey.Store
	before func()
}

func (s racingStore) RotateSession(ctx context.Context, r latchkey.Rotation) (bool, error) {
	if s.before != nil {
		s.before()
	}
	return s.Store.RotateSession(ctx, r)
}

// newApp builds the server as serve does (internal/app, through the test
// kit), with its store: tests below HTTP use its account service.
func newApp(t testing.TB) (*app.App, *app.Store) {
	t.Helper()
	a := testkit.NewApp(t, testkit.Config(t))
	return a, a.Store
}

// withStore is the app's account service seeing store instead of the
// app's own: a wrapper that races it, or the same store from a second
// service.
func withStore(a *app.App, store latchkey.Store) *auth.Service {
	svc := *a.Auth
	svc.Store = store
	return &svc
}

// TestRefreshRacingRevocation: a sign-out that commits between a refresh's
// read and its rotation wins; the refresh is refused as revoked, not
// answered through the grace path.
func TestRefreshRacingRevocation(t *testing.T) {
	a, db := newApp(t)
	rs := racingStore{Store: db}
	svc := withStore(a, &rs)
	g, err := svc.SignUp(context.Background(), "ada@example.com", "correct horse", "", auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	rs.before = func() {
		if err := db.RevokeSessionByID(context.Background(), g.SessionID, latchkey.ReasonSignout, time.Now()); err != nil {
			t.Error(err)
		}
	}
	_, err = svc.Refresh(context.Background(), g.RefreshToken, auth.Client{})
	if latchkey.ErrorCode(err) != latchkey.ETOKENREVOKED {
		t.Fatalf("refresh racing a sign-out: %v, want token_revoked", err)
	}
}

// TestRefreshRacingRefresh: another refresh of the same token that wins the
// compare-and-swap first makes this one a grace answer with the same token.
func TestRefreshRacingRefresh(t *testing.T) {
	a, db := newApp(t)
	rs := racingStore{Store: db}
	svc := withStore(a, &rs)
	g, err := svc.SignUp(context.Background(), "ada@example.com", "correct horse", "", auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	var winner *auth.Grant
	rs.before = func() {
		rs.before = nil // only the first rotation is raced
		other := withStore(a, db)
		if winner, err = other.Refresh(context.Background(), g.RefreshToken, auth.Client{}); err != nil {
			t.Error(err)
		}
	}
	got, err := svc.Refresh(context.Background(), g.RefreshToken, auth.Client{})
	if err != nil {
		t.Fatalf("refresh that lost the race: %v", err)
	}
	if winner == nil || got.RefreshToken != winner.RefreshToken {
		t.Fatal("the two refreshes disagree on the new token")
	}
}

// TestRehashOnSignIn: a hash made under weaker parameters is replaced at the
// next successful sign-in, and the password still works afterwards.
func TestRehashOnSignIn(t *testing.T) {
	a, db := newApp(t)
	weak := withStore(a, db)
	if _, err := weak.NewUser(context.Background(), "ada@example.com", "correct horse", "", latchkey.RoleUser, false); err != nil {
		t.Fatal(err)
	}
	before, _ := db.FindUserByEmail(context.Background(), "ada@example.com")

	strong := withStore(a, db)
	strong.Hasher = password.New(password.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	if _, err := strong.SignIn(context.Background(), "ada@example.com", "wrong horse", auth.Client{}); latchkey.ErrorCode(err) != latchkey.EINVALIDCREDENTIALS {
		t.Fatalf("wrong password: %v", err)
	}
	if u, _ := db.FindUserByEmail(context.Background(), "ada@example.com"); u.PasswordHash != before.PasswordHash {
		t.Fatal("a failed sign-in rehashed")
	}
	if _, err := strong.SignIn(context.Background(), "ada@example.com", "correct horse", auth.Client{}); err != nil {
		t.Fatal(err)
	}
	after, _ := db.FindUserByEmail(context.Background(), "ada@example.com")
	if after.PasswordHash == before.PasswordHash || strong.Hasher.NeedsRehash(after.PasswordHash) {
		t.Fatalf("not rehashed: %s", after.PasswordHash)
	}
	if _, err := strong.SignIn(context.Background(), "ada@example.com", "correct horse", auth.Client{}); err != nil {
		t.Fatalf("sign-in after rehash: %v", err)
	}
}

// disablingStore disables the user just before a session is stored: an
// admin's change landing between a sign-in's password check and its session.
type disablingStore struct {
	latchkey.Store
	before func()
}

func (s disablingStore) CreateSession(ctx context.Context, sess *latchkey.Session, max int) ([]string, error) {
	if s.before != nil {
		s.before()
	}
	return s.Store.CreateSession(ctx, sess, max)
}

func TestSignInRacingDisable(t *testing.T) {
	a, db := newApp(t)
	ds := &disablingStore{Store: db}
	svc := withStore(a, ds)
	g, err := svc.SignUp(context.Background(), "ada@example.com", "correct horse", "", auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	disabled := true
	ds.before = func() {
		ds.before = nil
		if _, _, err := db.UpdateUser(context.Background(), g.User.ID, latchkey.UserUpdate{Disabled: &disabled}, time.Now()); err != nil {
			t.Error(err)
		}
	}
	_, err = svc.SignIn(context.Background(), "ada@example.com", "correct horse", auth.Client{})
	if latchkey.ErrorCode(err) != latchkey.EACCOUNTDISABLED {
		t.Fatalf("sign-in racing a disable: %v, want account_disabled", err)
	}
	live, _, err := db.ListSessions(context.Background(), latchkey.SessionFilter{UserID: g.User.ID, Now: time.Now(), Limit: latchkey.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 0 {
		t.Fatalf("%d live sessions after the disable", len(live))
	}
}

// TestBusyHashingDoesNotThrottle: attempts refused because the hashing gate
// was full (503) never reached a password check and do not count, so a busy
// server cannot lock out an account.
func TestBusyHashingDoesNotThrottle(t *testing.T) {
	a, db := newApp(t)
	svc := withStore(a, db)
	if _, err := svc.NewUser(context.Background(), "ada@example.com", "correct horse", "", latchkey.RoleUser, false); err != nil {
		t.Fatal(err)
	}
	// One slot, held by a slow hash; a caller waits 1 ms, then gets busy.
	slow := password.Params{Memory: 32 * 1024, Time: 16, Threads: 1, SaltLen: 16, KeyLen: 32}
	gate := password.New(slow, 1)
	gate.SetMaxWait(time.Millisecond)
	svc.Hasher = gate
	done := make(chan struct{})
	// The slow hash retries until it has the slot: a sign-in may hold it
	// first, and then the slow hash is the one turned away.
	go func() {
		for {
			if _, err := gate.Hash(context.Background(), "occupies the only slot"); err == nil {
				break
			}
		}
		close(done)
	}()
	// Sign-ins before the slow hash takes the slot are ordinary ones; from
	// the first busy answer on, the slot is held.
	busy := 0
	for start := time.Now(); busy == 0; {
		_, err := svc.SignIn(context.Background(), "ada@example.com", "correct horse", auth.Client{})
		if latchkey.ErrorCode(err) == latchkey.EUNAVAILABLE {
			busy++
		} else if time.Since(start) > 5*time.Second {
			t.Fatalf("the slow hash never held the gate: %v", err)
		}
	}
	for range 11 {
		_, err := svc.SignIn(context.Background(), "ada@example.com", "correct horse", auth.Client{})
		if latchkey.ErrorCode(err) == latchkey.EUNAVAILABLE {
			busy++
		}
	}
	<-done
	if busy < 11 {
		t.Fatalf("the slow hash ended too soon to hold the gate (%d busy answers)", busy)
	}
	svc.Hasher = password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	if _, err := svc.SignIn(context.Background(), "ada@example.com", "correct horse", auth.Client{}); err != nil {
		t.Fatalf("after %d busy answers: %v", busy, err)
	}
}
