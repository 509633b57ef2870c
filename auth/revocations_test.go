package auth_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/testkit"
)

func newSession(t *testing.T, db latchkey.Store, userID string, n byte) *latchkey.Session {
	t.Helper()
	now := time.Now().UTC()
	s := &latchkey.Session{
		ID: "s" + string('0'+n), UserID: userID, CreatedAt: now, LastUsedAt: now,
		ExpiresAt: now.Add(time.Hour), RotatedAt: now,
		RefreshKey: []byte("k"), RefreshHash: []byte{n},
	}
	if _, err := db.CreateSession(context.Background(), s, 0); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRevocationsAcrossProcesses shares one SQLite file between two store
// handles, as two server processes would, and checks that a revocation made
// through one reaches the other's in-memory set within the watch interval.
func TestRevocationsAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lk.db")
	a, b := testkit.OpenSQLite(t, path), testkit.OpenSQLite(t, path)
	u := &latchkey.User{Email: "ada@example.com", Role: latchkey.RoleUser, PasswordHash: "x"}
	if err := a.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	early := newSession(t, a, u.ID, 1)
	late := newSession(t, a, u.ID, 2)
	// Revoked before b starts: Load must pick it up.
	if err := a.RevokeSessionByID(context.Background(), early.ID, latchkey.ReasonSignout, time.Now()); err != nil {
		t.Fatal(err)
	}

	set := auth.NewRevocations(time.Hour)
	since, err := set.Load(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if !set.Revoked(early.ID) || set.Revoked(late.ID) {
		t.Fatalf("after load: early %v late %v", set.Revoked(early.ID), set.Revoked(late.ID))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go set.Watch(ctx, b, since, 50*time.Millisecond, nil, slog.New(slog.DiscardHandler))

	start := time.Now()
	if err := a.RevokeSessionByID(context.Background(), late.ID, latchkey.ReasonSignout, time.Now()); err != nil {
		t.Fatal(err)
	}
	for !set.Revoked(late.ID) {
		if time.Since(start) > 2*time.Second {
			t.Fatal("revocation did not reach the other handle within 2s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("revocation seen after %v", time.Since(start))
}

// TestRevocationsForget checks entries leave the set once every token they
// could affect has expired, so the set stays bounded.
func TestRevocationsForget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lk.db")
	db := testkit.OpenSQLite(t, path)
	set := auth.NewRevocations(100 * time.Millisecond)
	set.Add(time.Now(), "old")
	if !set.Revoked("old") {
		t.Fatal("added entry not revoked")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go set.Watch(ctx, db, time.Now(), 20*time.Millisecond, nil, slog.New(slog.DiscardHandler))
	deadline := time.Now().Add(2 * time.Second)
	for set.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("entry never pruned")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPruneSessionsLoop(t *testing.T) {
	db := testkit.OpenSQLite(t, filepath.Join(t.TempDir(), "lk.db"))
	u := &latchkey.User{Email: "ada@example.com", Role: latchkey.RoleUser, PasswordHash: "x"}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	old := newSession(t, db, u.ID, 1)
	// Revoked two hours ago (the store stamps revocations itself, so set it).
	if _, err := db.Writer().Exec(`UPDATE sessions SET revoked_at = $1 WHERE id = $2`, time.Now().Add(-2*time.Hour).UnixNano(), old.ID); err != nil {
		t.Fatal(err)
	}
	live := newSession(t, db, u.ID, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go auth.Prune(ctx, db, auth.Retention{Sessions: time.Hour}, time.Hour, slog.New(slog.DiscardHandler))
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, err := db.FindSession(context.Background(), old.ID); latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the old revoked session was not pruned")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := db.FindSession(context.Background(), live.ID); err != nil {
		t.Fatalf("live session pruned: %v", err)
	}
}

// TestRevocationsNeverEmpty: an empty session id is never added, since it
// would revoke every token that names no session.
func TestRevocationsNeverEmpty(t *testing.T) {
	r := auth.NewRevocations(time.Hour)
	r.Add(time.Now(), "", "s1")
	if r.Revoked("") || !r.Revoked("s1") || r.Len() != 1 {
		t.Fatalf("after Add(\"\", \"s1\"): Revoked(\"\")=%t Revoked(s1)=%t Len=%d", r.Revoked(""), r.Revoked("s1"), r.Len())
	}
}

// TestRevocationsChanged: Changed's channel is closed by a revocation new
// to the set, made here or read from the store by Watch, and by nothing
// else: the same id again, an empty id, or a poll that finds nothing new.
func TestRevocationsChanged(t *testing.T) {
	closed := func(c <-chan struct{}) bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
	set := auth.NewRevocations(time.Hour)
	c := set.Changed()
	set.Add(time.Now(), "")
	if closed(c) {
		t.Fatal("an empty id woke the waiters")
	}
	set.Add(time.Now(), "s1")
	if !closed(c) {
		t.Fatal("a new revocation did not wake the waiters")
	}
	c = set.Changed()
	if closed(c) {
		t.Fatal("the next channel is closed already")
	}
	set.Add(time.Now(), "s1")
	if closed(c) {
		t.Fatal("a revocation already known woke the waiters")
	}

	// From the store, through Watch: another process revokes.
	path := filepath.Join(t.TempDir(), "lk.db")
	a, b := testkit.OpenSQLite(t, path), testkit.OpenSQLite(t, path)
	u := &latchkey.User{Email: "ada@example.com", Role: latchkey.RoleUser, PasswordHash: "x"}
	if err := a.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	s := newSession(t, a, u.ID, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go set.Watch(ctx, b, time.Now(), 20*time.Millisecond, nil, slog.New(slog.DiscardHandler))
	time.Sleep(100 * time.Millisecond) // a few polls that find nothing
	if closed(c) {
		t.Fatal("polls that found nothing new woke the waiters")
	}
	if err := a.RevokeSessionByID(context.Background(), s.ID, latchkey.ReasonSignout, time.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c:
	case <-time.After(2 * time.Second):
		t.Fatal("a revocation read from the store did not wake the waiters within 2 s")
	}
}
