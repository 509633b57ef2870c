package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/testkit"
)

// TestE2EUserDisableAndAudit: `latchkey user disable` against the file a
// server uses refuses the user's live token there within 2 s; sign-in then
// says account_disabled; `latchkey audit` shows what happened.
func TestE2EUserDisableAndAudit(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	p := serveBin(t, dbPath)
	c := testkit.NewClient(t, p.base, nil)
	const pw = "disable-me-password"
	g := c.SignUp("d@example.com", pw, "")
	c.Call("GET", "/api/auth/me", g.AccessToken, nil).WantStatus(t, http.StatusOK)

	run := func(args ...string) (string, int) { t.Helper(); return runOn(t, dbPath, args...) }
	start := time.Now()
	if out, code := run("user", "disable", "--email", "D@example.com"); code != 0 {
		t.Fatalf("user disable: exit %d: %s", code, out)
	}
	var last testkit.Response
	if _, ok := testkit.Poll(5*time.Second, 20*time.Millisecond, func() bool {
		last = c.Call("GET", "/api/auth/me", g.AccessToken, nil)
		return last.Status != http.StatusOK
	}); !ok {
		t.Fatal("the disabled user's token still works after 5 s")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("disable reached the server after %v, want at most 2 s", took)
	}
	last.Problem(t, http.StatusUnauthorized, "token_revoked")
	c.Call("POST", "/api/auth/signin", "", map[string]string{"email": "d@example.com", "password": pw}).
		Problem(t, http.StatusForbidden, "account_disabled")

	if out, code := run("user", "disable", "--email", "nobody@example.com"); code != 1 || strings.Count(out, "\n") != 1 {
		t.Errorf("unknown email: exit %d, output %q", code, out)
	}
	if _, code := run("user", "disable"); code != 2 {
		t.Errorf("no --email: exit %d, want 2", code)
	}

	// The audit log has the signup and the disable (written with their
	// changes), newest first; --type filters.
	out, code := run("audit", "--limit", "10")
	if code != 0 || !strings.Contains(out, "user_disabled") || !strings.Contains(out, "signup") {
		t.Fatalf("audit: exit %d\n%s", code, out)
	}
	if strings.Index(out, "user_disabled") > strings.Index(out, "signup") {
		t.Errorf("audit is not newest first:\n%s", out)
	}
	out, _ = run("audit", "--type", "signup")
	if strings.Contains(out, "user_disabled") || !strings.Contains(out, "signup") {
		t.Errorf("audit --type signup:\n%s", out)
	}
	if strings.Contains(out, pw) || strings.Contains(out, g.AccessToken) || strings.Contains(out, g.RefreshToken) {
		t.Fatal("a secret in the audit output")
	}
	if _, code := run("audit", "--limit", "0"); code != 2 {
		t.Errorf("audit --limit 0: exit %d, want 2", code)
	}
}

// TestE2EUserCommandsByID: `--id` names a user of a trusted issuer, whose
// email Latchkey does not keep: `user disable --id SUB` refuses its token
// at the running server within 2 s. --id and --email together, or
// neither, exit 2; an unknown id exits 1.
func TestE2EUserCommandsByID(t *testing.T) {
	t.Parallel()
	const iss, aud, secret, sub = "https://front.example", "latchkey-api", "a shared secret of thirty-two bytes", "front-user-1"
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	p := spawn(t, filepath.Dir(dbPath), childEnv("LATCHKEY_TRUSTED_SECRET="+secret),
		"serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:"+dbPath,
		"--trusted-issuer", iss, "--trusted-audience", aud).waitReady(t)
	c := testkit.NewClient(t, p.base, nil)
	ext := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": iss, "aud": aud, "sub": sub, "exp": time.Now().Add(time.Hour).Unix()})
	delete(ext.Header, "typ") // as Better Auth's: none
	tok, err := ext.SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	c.Call("GET", "/api/"+sub+"/tasks", tok, nil).WantStatus(t, http.StatusOK) // the user, provisioned

	run := func(args ...string) (string, int) { t.Helper(); return runOn(t, dbPath, args...) }
	for _, args := range [][]string{{"user", "disable"}, {"user", "disable", "--id", sub, "--email", "a@example.com"}} {
		if out, code := run(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2: %s", args, code, out)
		}
	}
	if out, code := run("user", "disable", "--id", "nobody"); code != 1 || !strings.Contains(out, "no user with id nobody") {
		t.Errorf("unknown id: exit %d: %s", code, out)
	}
	c.Call("GET", "/api/"+sub+"/tasks", tok, nil).WantStatus(t, http.StatusOK) // nothing changed so far
	start := time.Now()
	if out, code := run("user", "disable", "--id", sub); code != 0 || !strings.Contains(out, sub) {
		t.Fatalf("user disable --id: exit %d: %s", code, out)
	}
	var last testkit.Response
	if _, ok := testkit.Poll(5*time.Second, 20*time.Millisecond, func() bool {
		last = c.Call("GET", "/api/"+sub+"/tasks", tok, nil)
		return last.Status != http.StatusOK
	}); !ok {
		t.Fatal("the disabled external user's token still works after 5 s")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("disable reached the server after %v, want at most 2 s", took)
	}
	last.Problem(t, http.StatusUnauthorized, "token_revoked")
}

// runOn runs the binary with args on the SQLite file dbPath and returns
// its output (stdout and stderr) and exit status.
func runOn(t *testing.T, dbPath string, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(binPath, append(args, "--database-url", "sqlite:"+dbPath)...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}
