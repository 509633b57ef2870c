package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testkit"
	"github.com/latchkey/latchkey/token"
)

// TestE2ERevocationsCrossProcess: every kind of revocation made on one
// process reaches the other process sharing the SQLite file within 2 s.
func TestE2ERevocationsCrossProcess(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	pa := serveBin(t, dbPath, "--refresh-grace", "0")
	pb := serveBin(t, dbPath, "--refresh-grace", "0")
	ca, cb := testkit.NewClient(t, pa.base, nil), testkit.NewClient(t, pb.base, nil)
	const pw = "cross-process-password"
	me := ca.SignUp("x@example.com", pw, "")

	// refusedOnB waits until B answers 401 token_revoked for tok.
	refusedOnB := func(what, tok string, since time.Time) {
		t.Helper()
		var last testkit.Response
		_, ok := testkit.Poll(5*time.Second, 20*time.Millisecond, func() bool {
			last = cb.Call("GET", "/api/auth/me", tok, nil)
			return last.Status != http.StatusOK
		})
		took := time.Since(since)
		if !ok {
			t.Fatalf("%s: B still accepts the token after 5 s", what)
		}
		last.Problem(t, http.StatusUnauthorized, "token_revoked")
		t.Logf("%s reached B after %v", what, took)
		if took > 2*time.Second {
			t.Errorf("%s took %v to reach B, want at most 2 s", what, took)
		}
	}

	// Session revoked through DELETE /api/auth/sessions/{id} on A.
	victim := ca.SignIn("x@example.com", pw)
	cb.Call("GET", "/api/auth/me", victim.AccessToken, nil).WantStatus(t, http.StatusOK)
	start := time.Now()
	ca.Call("DELETE", "/api/auth/sessions/"+victim.SessionID, me.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	refusedOnB("session revoke", victim.AccessToken, start)

	// Refresh reuse detected on A.
	r := ca.SignIn("x@example.com", pw)
	r2 := ca.Refresh(r.RefreshToken).Grant(t, http.StatusOK)
	start = time.Now()
	ca.Refresh(r.RefreshToken).Problem(t, http.StatusUnauthorized, "token_revoked")
	refusedOnB("refresh reuse", r2.AccessToken, start)

	// Password change on A revokes the other sessions.
	other := ca.SignIn("x@example.com", pw)
	start = time.Now()
	ca.Call("POST", "/api/auth/password", me.AccessToken, map[string]string{
		"current_password": pw, "new_password": "a brand new password",
	}).WantStatus(t, http.StatusNoContent)
	refusedOnB("password change", other.AccessToken, start)
	cb.Call("GET", "/api/auth/me", me.AccessToken, nil).WantStatus(t, http.StatusOK)
}

// TestE2EKeyRotationCrossProcess: after `keys rotate` on the shared file,
// tokens either process signs are accepted by the other at every moment.
func TestE2EKeyRotationCrossProcess(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	pa := serveBin(t, dbPath)
	pb := serveBin(t, dbPath)
	ca, cb := testkit.NewClient(t, pa.base, nil), testkit.NewClient(t, pb.base, nil)
	g := ca.SignUp("k@example.com", "key-rotation-password", "")
	oldKid := testkit.JSONPart(t, g.AccessToken, 0)["kid"]

	out, err := exec.Command(binPath, "keys", "rotate", "--database-url", "sqlite:"+dbPath).CombinedOutput()
	if err != nil {
		t.Fatalf("keys rotate: %v: %s", err, out)
	}
	deadline := time.Now().Add(token.Activation + 3*time.Second)
	for n := 0; ; n++ {
		g = ca.Refresh(g.RefreshToken).Grant(t, http.StatusOK)
		cb.Call("GET", "/api/auth/me", g.AccessToken, nil).WantStatus(t, http.StatusOK)
		if testkit.JSONPart(t, g.AccessToken, 0)["kid"] != oldKid {
			t.Logf("A signed with the new key after %d refreshes", n+1)
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("A never signed with the new key")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestE2EAccountThrottleSurvivesRestart: the per-account failure count is
// in the store, so a restart does not wipe it.
func TestE2EAccountThrottleSurvivesRestart(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	p := serveBin(t, dbPath)
	c := testkit.NewClient(t, p.base, nil)
	const pw = "throttle-restart-password"
	c.SignUp("t@example.com", pw, "")
	for range 10 {
		c.Call("POST", "/api/auth/signin", "", map[string]string{"email": "t@example.com", "password": "wrong password"}).
			Problem(t, http.StatusUnauthorized, "invalid_credentials")
	}
	if code, _ := p.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	p2 := serveBin(t, dbPath)
	r := testkit.NewClient(t, p2.base, nil).Call("POST", "/api/auth/signin", "", map[string]string{"email": "t@example.com", "password": pw})
	r.Problem(t, http.StatusTooManyRequests, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}
