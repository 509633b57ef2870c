package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/token"
)

// TestE2ERevocationsCrossProcess: every kind of revocation made on one
// process reaches the other process sharing the SQLite file within 2 s.
func TestE2ERevocationsCrossProcess(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	pa := serveBin(t, dbPath, "--refresh-grace", "0")
	pb := serveBin(t, dbPath, "--refresh-grace", "0")
	ca, cb := newAPI(t, pa.base), newAPI(t, pb.base)
	const pw = "cross-process-password"
	me := ca.signUp("x@example.com", pw, "")

	// refusedOnB waits until B answers 401 token_revoked for tok.
	refusedOnB := func(what, tok string, since time.Time) {
		t.Helper()
		var last reply
		_, ok := poll(5*time.Second, 20*time.Millisecond, func() bool {
			last = cb.do("GET", "/api/auth/me", tok, nil)
			return last.Status != http.StatusOK
		})
		took := time.Since(since)
		if !ok {
			t.Fatalf("%s: B still accepts the token after 5 s", what)
		}
		last.wantProblem(t, what+" on B", http.StatusUnauthorized, "token_revoked")
		t.Logf("%s reached B after %v", what, took)
		if took > 2*time.Second {
			t.Errorf("%s took %v to reach B, want at most 2 s", what, took)
		}
	}

	// Session revoked through DELETE /api/auth/sessions/{id} on A.
	victim := ca.signIn("x@example.com", pw)
	cb.do("GET", "/api/auth/me", victim.AccessToken, nil).wantStatus(t, "before revoke", http.StatusOK)
	start := time.Now()
	ca.do("DELETE", "/api/auth/sessions/"+victim.SessionID, me.AccessToken, nil).wantStatus(t, "revoke on A", http.StatusNoContent)
	refusedOnB("session revoke", victim.AccessToken, start)

	// Refresh reuse detected on A.
	r := ca.signIn("x@example.com", pw)
	r2 := ca.refresh(r.RefreshToken).grant(t, "refresh on A", http.StatusOK)
	start = time.Now()
	ca.refresh(r.RefreshToken).wantProblem(t, "reuse on A", http.StatusUnauthorized, "token_revoked")
	refusedOnB("refresh reuse", r2.AccessToken, start)

	// Password change on A revokes the other sessions.
	other := ca.signIn("x@example.com", pw)
	start = time.Now()
	ca.do("POST", "/api/auth/password", me.AccessToken, map[string]string{
		"current_password": pw, "new_password": "a brand new password",
	}).wantStatus(t, "password change on A", http.StatusNoContent)
	refusedOnB("password change", other.AccessToken, start)
	cb.do("GET", "/api/auth/me", me.AccessToken, nil).wantStatus(t, "the changing session on B", http.StatusOK)
}

// TestE2EKeyRotationCrossProcess: after `keys rotate` on the shared file,
// tokens either process signs are accepted by the other at every moment.
func TestE2EKeyRotationCrossProcess(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	pa := serveBin(t, dbPath)
	pb := serveBin(t, dbPath)
	ca, cb := newAPI(t, pa.base), newAPI(t, pb.base)
	g := ca.signUp("k@example.com", "key-rotation-password", "")
	oldKid := jwtPart(t, g.AccessToken, 0)["kid"]

	out, err := exec.Command(binPath, "keys", "rotate", "--database-url", "sqlite:"+dbPath).CombinedOutput()
	if err != nil {
		t.Fatalf("keys rotate: %v: %s", err, out)
	}
	deadline := time.Now().Add(token.Activation + 3*time.Second)
	for n := 0; ; n++ {
		g = ca.refresh(g.RefreshToken).grant(t, "refresh on A", http.StatusOK)
		cb.do("GET", "/api/auth/me", g.AccessToken, nil).wantStatus(t, "A's fresh token on B", http.StatusOK)
		if jwtPart(t, g.AccessToken, 0)["kid"] != oldKid {
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
	c := newAPI(t, p.base)
	const pw = "throttle-restart-password"
	c.signUp("t@example.com", pw, "")
	for range 10 {
		c.do("POST", "/api/auth/signin", "", map[string]string{"email": "t@example.com", "password": "wrong password"}).
			wantProblem(t, "failed sign-in", http.StatusUnauthorized, "invalid_credentials")
	}
	if code, _ := p.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	p2 := serveBin(t, dbPath)
	r := newAPI(t, p2.base).do("POST", "/api/auth/signin", "", map[string]string{"email": "t@example.com", "password": pw})
	r.wantProblem(t, "11th sign-in after a restart, right password", http.StatusTooManyRequests, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}
