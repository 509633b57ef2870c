package postgres_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/postgres"
	"github.com/latchkey/latchkey/sqldb"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.DiscardHandler)

func open(tb testing.TB, url string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), url, postgres.Options{ConnectTimeout: 2 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{
		"postgres://lk:hunter2-secret@[::1/db",                          // does not parse
		"postgres://lk:hunter2-secret@127.0.0.1:1/db?connect_timeout=1", // nobody listens
	} {
		start := time.Now()
		db, err := postgres.Open(ctx, url, postgres.Options{})
		if err == nil {
			db.Close()
			t.Fatalf("Open(%q) succeeded", url)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open's error shows the password: %v", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("Open(%q) took %v to fail", url, took)
		}
	}
	_, err := postgres.Open(ctx, "postgres://lk:pw@127.0.0.1:1/db?connect_timeout=1", postgres.Options{})
	if !postgres.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false for a server that does not listen", err)
	}
}

func TestDialectSchema(t *testing.T) {
	got := postgres.Dialect().Schema("a BLOB NOT NULL, b BLOBS, c blob_id BLOB)")
	if want := "a BYTEA NOT NULL, b BLOBS, c blob_id BYTEA)"; got != want {
		t.Fatalf("Schema = %q, want %q", got, want)
	}
}

// listener runs db.Listen until the test ends and returns the channels
// it reports, in order.
func listener(t *testing.T, db *postgres.DB) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Listen(ctx, []string{sqldb.ChannelRevocations, sqldb.ChannelKeys}, func(c string) { got <- c }, quiet)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Listen did not return within 5 s of its context ending")
		}
	})
	return got
}

// expect waits up to 5 s for exactly the channels want (in any order).
func expect(t *testing.T, got <-chan string, what string, want ...string) {
	t.Helper()
	var seen []string
	deadline := time.After(5 * time.Second)
	for len(seen) < len(want) {
		select {
		case c := <-got:
			seen = append(seen, c)
		case <-deadline:
			t.Fatalf("%s: notified %v within 5 s, want %v", what, seen, want)
		}
	}
	slices.Sort(seen)
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Fatalf("%s: notified %v, want %v", what, seen, want)
	}
}

// TestListen: a revocation committed through one store is announced to a
// listener on another, only once committed; a key change likewise.
func TestListen(t *testing.T) {
	url := pgtest.Shared(t).URL(t)
	a, b := open(t, url), open(t, url)
	got := listener(t, b)
	expect(t, got, "after the first LISTEN (catch-up)", sqldb.ChannelRevocations, sqldb.ChannelKeys)

	ctx := context.Background()
	u := &latchkey.User{Email: "ada@example.com", PasswordHash: "$argon2id$x"}
	if err := a.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := &latchkey.Session{UserID: u.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour), RefreshHash: []byte("h")}
	if _, err := a.CreateSession(ctx, s, 1); err != nil { // within the cap: revokes nothing
		t.Fatal(err)
	}
	select {
	case c := <-got:
		t.Fatalf("notified %q for a change that revokes nothing", c)
	case <-time.After(100 * time.Millisecond):
	}
	if err := a.RevokeSession(ctx, u.ID, s.ID, latchkey.ReasonSignout, now); err != nil {
		t.Fatal(err)
	}
	expect(t, got, "after a revocation", sqldb.ChannelRevocations)
	// A revocation that fails (already revoked) changes nothing and says nothing.
	if err := a.RevokeSession(ctx, u.ID, s.ID, latchkey.ReasonSignout, now); err == nil {
		t.Fatal("revoking twice succeeded")
	}
	// Every other write that revokes sessions announces it too.
	yes := true
	for _, tc := range []struct {
		name   string
		revoke func(u *latchkey.User, s *latchkey.Session) error
	}{
		{"RevokeSessionByID (refresh reuse)", func(u *latchkey.User, s *latchkey.Session) error {
			return a.RevokeSessionByID(ctx, s.ID, latchkey.ReasonRefreshReuse, now)
		}},
		{"RevokeUserSessions (sign-out everywhere)", func(u *latchkey.User, s *latchkey.Session) error {
			_, err := a.RevokeUserSessions(ctx, u.ID, "", latchkey.ReasonSignout, now)
			return err
		}},
		{"SetPassword (password change)", func(u *latchkey.User, s *latchkey.Session) error {
			_, err := a.SetPassword(ctx, u.ID, "$argon2id$y", "", now)
			return err
		}},
		{"UpdateUser (disable)", func(u *latchkey.User, s *latchkey.Session) error {
			_, _, err := a.UpdateUser(ctx, u.ID, latchkey.UserUpdate{Disabled: &yes}, now)
			return err
		}},
		{"CreateSession (past the session cap)", func(u *latchkey.User, s *latchkey.Session) error {
			next := &latchkey.Session{UserID: u.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour), RefreshHash: []byte("next")}
			_, err := a.CreateSession(ctx, next, 1)
			return err
		}},
	} {
		u := &latchkey.User{Email: strings.ReplaceAll(strings.Fields(tc.name)[0], " ", "") + "@example.com", PasswordHash: "$argon2id$x"}
		if err := a.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		s := &latchkey.Session{UserID: u.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour), RefreshHash: []byte(tc.name)}
		if _, err := a.CreateSession(ctx, s, 0); err != nil {
			t.Fatal(err)
		}
		if err := tc.revoke(u, s); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		expect(t, got, "after "+tc.name, sqldb.ChannelRevocations)
	}

	k := &latchkey.SigningKey{Algorithm: "EdDSA", PublicKey: []byte("p"), PrivateKey: []byte("k")}
	if err := a.CreateSigningKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	expect(t, got, "after a new signing key", sqldb.ChannelKeys)
	if err := a.DeleteSigningKeys(ctx, []string{k.ID}); err != nil {
		t.Fatal(err)
	}
	expect(t, got, "after deleting a signing key", sqldb.ChannelKeys)
	select {
	case c := <-got:
		t.Fatalf("unexpected notification %q", c)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestOutageAndRecovery: with the server down the store answers
// EUNAVAILABLE, quickly; when it is back the same store works again
// without being reopened, and the listener reconnects and reports every
// channel (the catch-up) before relaying new notifications.
func TestOutageAndRecovery(t *testing.T) {
	cluster := pgtest.New(t)
	url := cluster.URL(t)
	a, b := open(t, url), open(t, url)
	got := listener(t, b)
	expect(t, got, "first LISTEN", sqldb.ChannelRevocations, sqldb.ChannelKeys)
	ctx := context.Background()
	u := &latchkey.User{Email: "ada@example.com", PasswordHash: "$argon2id$x"}
	if err := a.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}

	if err := cluster.Kill(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := a.FindUserByID(ctx, u.ID)
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("FindUserByID during the outage: %v, want code unavailable", err)
	}
	_, err = a.RevokeUserSessions(ctx, u.ID, "", latchkey.ReasonSignout, time.Now())
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("RevokeUserSessions during the outage: %v, want code unavailable", err)
	}
	if err := a.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded during the outage")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the outage answers took %v", took)
	}

	if err := cluster.Restart(); err != nil {
		t.Fatal(err)
	}
	expect(t, got, "after reconnecting (catch-up)", sqldb.ChannelRevocations, sqldb.ChannelKeys)
	if _, err := a.FindUserByID(ctx, u.ID); err != nil {
		t.Fatalf("FindUserByID after the outage: %v", err)
	}
	if _, err := a.Writer().ExecContext(ctx, "SELECT pg_notify($1, '')", sqldb.ChannelKeys); err != nil {
		t.Fatal(err)
	}
	expect(t, got, "a notification after the outage", sqldb.ChannelKeys)
}

// BenchmarkRevocationFanout measures, as serve wires it, the time from a
// revocation committed on instance A to instance B's in-memory set holding
// it: NOTIFY, B's LISTEN wake-up, and B's read of the revocations. The
// target is 100 ms; the median is reported as ms-median.
func BenchmarkRevocationFanout(b *testing.B) {
	url := pgtest.Shared(b).URL(b)
	storeA, storeB := open(b, url), open(b, url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	revoked := auth.NewRevocations(time.Hour)
	since, err := revoked.Load(ctx, storeB)
	if err != nil {
		b.Fatal(err)
	}
	wake := make(chan struct{}, 1)
	go storeB.Listen(ctx, []string{sqldb.ChannelRevocations}, func(string) {
		select {
		case wake <- struct{}{}:
		default:
		}
	}, quiet)
	// A poll far longer than the fan-out, so that only NOTIFY can explain
	// a fast answer.
	go revoked.Watch(ctx, storeB, since, time.Hour, wake, quiet)

	u := &latchkey.User{Email: "bench@example.com", PasswordHash: "$argon2id$x"}
	if err := storeA.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	var took []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		now := time.Now()
		s := &latchkey.Session{UserID: u.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour), RefreshHash: []byte(now.String())}
		if _, err := storeA.CreateSession(ctx, s, 0); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := storeA.RevokeSession(ctx, u.ID, s.ID, latchkey.ReasonSignout, time.Now()); err != nil {
			b.Fatal(err)
		}
		for !revoked.Revoked(s.ID) {
			if time.Since(start) > 5*time.Second {
				b.Fatal("the revocation did not reach B within 5 s")
			}
			time.Sleep(50 * time.Microsecond)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2])/float64(time.Millisecond), "ms-median")
	b.ReportMetric(float64(took[len(took)*99/100])/float64(time.Millisecond), "ms-p99")
}

// TestClockSkew: this process and the local server share a clock, so the
// skew is within a few milliseconds.
func TestClockSkew(t *testing.T) {
	db := open(t, pgtest.Shared(t).URL(t))
	skew, err := db.ClockSkew(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if skew < -50*time.Millisecond || skew > 50*time.Millisecond {
		t.Fatalf("ClockSkew = %v against a server on this machine", skew)
	}
}
