package main

import (
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testkit"
	lkmail "github.com/latchkey/latchkey/mail"
)

// TestRunUserVerifyAndMailList: the operator's side of issue 13, through
// run() on one SQLite file while a server (run serve, no SMTP) uses it.
// `user create` makes a verified address, since the operator vouches for
// it; a signed-up address is unverified until `user verify --email E`
// (exit 0), which on an unknown email exits 1 and without --email 2. With
// no SMTP configured, `mail list` shows a forgot-password mail's whole
// text, link and code included, and that link resets the password: the
// zero-config way to try a reset.
func TestRunUserVerifyAndMailList(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	db := []string{"--database-url", "sqlite:" + dbPath}
	const pw, newPW = "operator-made-password", "reset-from-mail-list"
	var sec secrets
	sec.add(pw, newPW)

	code, stdout, stderr := runCLI(t, nil, pw+"\n", append([]string{"user", "create", "--password-stdin", "--email", "made@example.com"}, db...)...)
	if code != 0 {
		t.Fatalf("user create: exit %d, %q %q", code, stdout, stderr)
	}
	s := serveInProcess(t, nil, dbPath)
	sec.watch(t, s.log)
	c := testkit.NewClient(t, s.base, nil)
	made := sec.grant(c.SignIn("made@example.com", pw))
	if me := getMe(t, c, made.AccessToken); !*me.EmailVerified {
		t.Errorf("user create made an unverified address: %+v", me)
	}

	signed := sec.grant(c.SignUp("signed@example.com", pw, ""))
	if me := getMe(t, c, signed.AccessToken); *me.EmailVerified {
		t.Fatalf("a sign-up is verified: %+v", me)
	}
	code, stdout, stderr = runCLI(t, nil, "", append([]string{"user", "verify", "--email", "Signed@Example.com"}, db...)...)
	if code != 0 || !strings.Contains(stdout, signed.User.ID) || stderr != "" {
		t.Fatalf("user verify: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// The admin vouches: the address is verified and no session revoked.
	if me := getMe(t, c, signed.AccessToken); !*me.EmailVerified {
		t.Errorf("after user verify, me = %+v", me)
	}
	code, _, stderr = runCLI(t, nil, "", append([]string{"user", "verify", "--email", "nobody@example.com"}, db...)...)
	if code != 1 {
		t.Errorf("user verify of an unknown email: exit %d, want 1", code)
	}
	wantOneLineError(t, stderr)
	code, _, stderr = runCLI(t, nil, "", append([]string{"user", "verify"}, db...)...)
	if code != 2 {
		t.Errorf("user verify without --email: exit %d, want 2", code)
	}
	wantOneLineError(t, stderr)

	if !strings.Contains(s.log.String(), "latchkey mail list") {
		t.Errorf("serve without SMTP did not say how to see the mail:\n%s", s.log.String())
	}
	c.Call("POST", "/api/auth/password/forgot", "", map[string]string{"email": "made@example.com"}).WantStatus(t, http.StatusAccepted)
	var out string
	if _, ok := testkit.Poll(5*time.Second, 20*time.Millisecond, func() bool {
		_, out, _ = runCLI(t, nil, "", append([]string{"mail", "list"}, db...)...)
		return strings.Contains(out, "Subject: "+lkmail.SubjectReset)
	}); !ok {
		t.Fatalf("mail list does not show the reset mail:\n%s", out)
	}
	// The reset mail, up to the next one.
	reset := out[strings.Index(out, "To:      made@example.com"):]
	if i := strings.Index(reset[1:], "\nMail:"); i >= 0 {
		reset = reset[:i+1]
	}
	link := regexp.MustCompile(regexp.QuoteMeta(testkit.Issuer) + `/#/reset\?token=([A-Za-z0-9_-]{43})`).FindStringSubmatch(reset)
	codes := lkmail.FindCodes(reset)
	if link == nil || len(codes) != 1 {
		t.Fatalf("mail list's reset mail has link %q and codes %q:\n%s", link, codes, reset)
	}
	sec.add(link[1])
	sec.code(codes[0])
	c.Call("POST", "/api/auth/password/reset", "", map[string]string{"token": link[1], "new_password": newPW}).
		WantStatus(t, http.StatusNoContent)
	sec.grant(c.SignIn("made@example.com", newPW))
}
