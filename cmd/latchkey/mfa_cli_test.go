package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey/internal/testkit"
)

// TestRunUserResetMFA: `latchkey user reset-mfa --email E` against the file
// a server uses removes the user's TOTP factor and revokes the sessions
// (the server refuses the token within seconds); the user then signs in
// with the password alone. An unknown email exits 1, no --email 2.
func TestRunUserResetMFA(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	db := []string{"--database-url", "sqlite:" + dbPath}
	const pw = "reset-my-second-factor"
	var sec secrets
	sec.add(pw)
	s := serveInProcess(t, nil, dbPath)
	sec.watch(t, s.log)
	c := testkit.NewClient(t, s.base, nil)
	g := sec.grant(c.SignUp("m@example.com", pw, ""))

	enr := c.Call("POST", "/api/auth/mfa/totp", g.AccessToken, map[string]string{"current_password": pw}).JSON(t)
	secret := enr["secret"].(string)
	sec.add(secret)
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	conf := c.Call("POST", "/api/auth/mfa/totp/"+enr["factor_id"].(string)+"/confirm", g.AccessToken, map[string]string{"code": code})
	g = sec.grant(c.Grant(conf, http.StatusOK))
	c.Call("POST", "/api/auth/signin", "", map[string]string{"email": "m@example.com", "password": pw}).
		Problem(t, http.StatusUnauthorized, "mfa_required")

	code2, stdout, stderr := runCLI(t, nil, "", append([]string{"user", "reset-mfa", "--email", "M@example.com"}, db...)...)
	if code2 != 0 || !strings.Contains(stdout, g.User.ID) || stderr != "" {
		t.Fatalf("user reset-mfa: exit %d, stdout %q, stderr %q", code2, stdout, stderr)
	}
	if _, ok := testkit.Poll(5*time.Second, 20*time.Millisecond, func() bool {
		return c.Call("GET", "/api/auth/me", g.AccessToken, nil).Status == http.StatusUnauthorized
	}); !ok {
		t.Error("the user's token still works 5 s after reset-mfa")
	}
	again := sec.grant(c.SignIn("m@example.com", pw))
	if amr := testkit.JSONPart(t, again.AccessToken, 1)["amr"]; len(amr.([]any)) != 1 {
		t.Errorf("after the reset, amr = %v", amr)
	}

	code2, _, stderr = runCLI(t, nil, "", append([]string{"user", "reset-mfa", "--email", "nobody@example.com"}, db...)...)
	if code2 != 1 {
		t.Errorf("reset-mfa of an unknown email: exit %d, want 1", code2)
	}
	wantOneLineError(t, stderr)
	if code2, _, _ = runCLI(t, nil, "", append([]string{"user", "reset-mfa"}, db...)...); code2 != 2 {
		t.Errorf("reset-mfa without --email: exit %d, want 2", code2)
	}
}
