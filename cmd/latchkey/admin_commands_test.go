package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(binPath, append(args, "--database-url", "sqlite:"+dbPath)...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
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
