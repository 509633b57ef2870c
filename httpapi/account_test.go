package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/testkit"
	"github.com/latchkey/latchkey/mail"
)

// Issue 13's routes: password reset, email verification, email change.
// Mail waits in the outbox (no SMTP here); the tests read it there, as
// `latchkey mail list` does, and follow its link or type its code.

const newPassword = "a brand new passphrase"

// mailSecrets waits for the n-th mail with subject to to and returns its
// link's token and its code.
func (h *harness) mailSecrets(to, subject string, n int) (token, code string) {
	h.t.Helper()
	token, code = testkit.MailSecrets(h.t, h.WaitMail(h.t, to, subject, n).Text)
	h.Secrets = append(h.Secrets, token) // never in the log (checked at the end)
	return token, code
}

func (h *harness) post(path, bearer string, body any) response {
	h.t.Helper()
	return h.Do(req{Method: "POST", Path: path, Bearer: bearer, Body: body})
}

func (h *harness) me(bearer string) testkit.User {
	h.t.Helper()
	var out struct{ User testkit.User }
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: bearer}).Decode(h.t, &out)
	return out.User
}

// auditCounts counts the audit log's events by type.
func (h *harness) auditCounts() map[string]int {
	h.t.Helper()
	events, _, err := h.store.ListAudit(context.Background(), latchkey.AuditFilter{Limit: 200})
	if err != nil {
		h.t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range events {
		n[e.Type]++
	}
	return n
}

// TestForgotPasswordSameAnswer: every forgot answers 202 {} alike; only an
// enabled account gets a mail, once a minute.
func TestForgotPasswordSameAnswer(t *testing.T) {
	h := newHarness(t, options{})
	h.signUp("ada@example.com")
	h.signUp("off@example.com")
	root := h.admin("root@example.com")
	off := h.me(h.signIn("off@example.com", testPassword).AccessToken)
	h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + off.ID, Bearer: root.AccessToken,
		Body: map[string]any{"disabled": true}}).WantStatus(t, http.StatusOK)

	var first response
	for i, email := range []string{"ada@example.com", "nobody@example.com", "off@example.com", "ada@example.com", "ADA@example.com", strings.Repeat("a", 300) + "@example.com"} {
		r := h.post("/api/auth/password/forgot", "", map[string]string{"email": email})
		r.WantStatus(t, http.StatusAccepted)
		if strings.TrimSpace(string(r.Body)) != "{}" {
			t.Errorf("forgot %s: body %s, want {}", email, r.Body)
		}
		if i == 0 {
			first = r
		} else if r.Header.Get("Content-Type") != first.Header.Get("Content-Type") || r.Header.Get("Cache-Control") != first.Header.Get("Cache-Control") {
			t.Errorf("forgot %s: headers %v differ from the first answer's %v", email, r.Header, first.Header)
		}
	}
	if n := len(h.Mails(t, "ada@example.com", mail.SubjectReset)); n != 1 {
		t.Errorf("ada got %d reset mails from three requests within a minute, want 1", n)
	}
	if n := len(h.Mails(t, "off@example.com", mail.SubjectReset)) + len(h.Mails(t, "nobody@example.com", "")); n != 0 {
		t.Errorf("a disabled or unknown account got %d mails", n)
	}
	// A minute on, the cooldown is over: a new mail, and the older token
	// is dead.
	old, _ := h.mailSecrets("ada@example.com", mail.SubjectReset, 1)
	h.clock.Advance(latchkey.OutboxBackoffMin + time.Minute)
	h.post("/api/auth/password/forgot", "", map[string]string{"email": "ada@example.com"}).WantStatus(t, http.StatusAccepted)
	tok, _ := h.mailSecrets("ada@example.com", mail.SubjectReset, 2)
	h.post("/api/auth/password/reset", "", map[string]string{"token": old, "new_password": newPassword}).Problem(t, http.StatusBadRequest, "invalid_token")
	h.post("/api/auth/password/reset", "", map[string]string{"token": tok, "new_password": newPassword}).WantStatus(t, http.StatusNoContent)

	h.post("/api/auth/password/forgot", "", map[string]string{}).Problem(t, http.StatusBadRequest, "validation_failed")
	h.post("/api/auth/password/forgot", "", `{"email": "ada@example.com", "extra": 1}`).Problem(t, http.StatusBadRequest, "invalid_request")
	if n := h.auditCounts()[latchkey.AuditPasswordResetRequested]; n != 2 {
		t.Errorf("%d password_reset_requested events, want 2 (one per mail)", n)
	}
}

// TestResetPassword: a reset by link revokes every session, sets the new
// password, verifies the address, clears the throttle and mails a notice;
// the token works once.
func TestResetPassword(t *testing.T) {
	h := newHarness(t, options{})
	a := h.signUp("ada@example.com")
	b := h.signIn("ada@example.com", testPassword)
	for range 9 { // one short of the throttle
		h.post("/api/auth/signin", "", map[string]string{"email": "ada@example.com", "password": "wrong password"}).Problem(t, http.StatusUnauthorized, "invalid_credentials")
	}
	// An email change waiting for its confirmation: the reset kills it.
	h.post("/api/auth/email/change", b.AccessToken, map[string]string{"new_email": "new@example.com", "current_password": testPassword}).WantStatus(t, http.StatusAccepted)
	_, changeCode := h.mailSecrets("new@example.com", mail.SubjectEmailChange, 1)
	h.post("/api/auth/password/forgot", "", map[string]string{"email": "ada@example.com"}).WantStatus(t, http.StatusAccepted)
	tok, code := h.mailSecrets("ada@example.com", mail.SubjectReset, 1)

	// GET never uses a token: the link opens the web app (the token is in
	// the fragment, which no browser sends), and no route takes a GET.
	h.Do(req{Method: "GET", Path: "/?token=" + tok}).WantStatus(t, http.StatusOK)
	h.Do(req{Method: "GET", Path: "/api/auth/password/reset?token=" + tok}).Problem(t, http.StatusNotFound, "not_found")

	// A weak password is refused first and leaves the token alone.
	r := h.post("/api/auth/password/reset", "", map[string]string{"token": tok, "new_password": "short"})
	if p := r.Problem(t, http.StatusBadRequest, "validation_failed"); !strings.Contains(string(r.Body), `"new_password"`) {
		t.Errorf("weak password: %v, want an error on new_password", p)
	}
	h.post("/api/auth/password/reset", "", map[string]string{"token": tok, "email": "ada@example.com", "new_password": newPassword}).Problem(t, http.StatusBadRequest, "validation_failed")
	h.post("/api/auth/password/reset", "", map[string]string{"new_password": newPassword}).Problem(t, http.StatusBadRequest, "validation_failed")
	h.post("/api/auth/password/reset", "", map[string]string{"token": tok + "A", "new_password": newPassword}).Problem(t, http.StatusBadRequest, "invalid_token")

	h.post("/api/auth/password/reset", "", map[string]string{"token": tok, "new_password": newPassword}).WantStatus(t, http.StatusNoContent)
	// Used: neither the link nor the code works again.
	h.post("/api/auth/password/reset", "", map[string]string{"token": tok, "new_password": newPassword}).Problem(t, http.StatusBadRequest, "invalid_token")
	h.post("/api/auth/password/reset", "", map[string]string{"email": "ada@example.com", "code": code, "new_password": newPassword}).Problem(t, http.StatusBadRequest, "invalid_token")

	for _, g := range []grant{a, b} {
		h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken}).Problem(t, http.StatusUnauthorized, "token_revoked")
		h.Refresh(g.RefreshToken).Problem(t, http.StatusUnauthorized, "token_revoked")
	}
	h.post("/api/auth/signin", "", map[string]string{"email": "ada@example.com", "password": testPassword}).Problem(t, http.StatusUnauthorized, "invalid_credentials")
	// The throttle was cleared: nine failures plus the one above would
	// otherwise refuse this.
	c := h.signIn("ada@example.com", newPassword)
	if u := h.me(c.AccessToken); !u.EmailVerified {
		t.Error("a reset did not mark the address verified")
	}
	h.post("/api/auth/email/change/confirm", c.AccessToken, map[string]string{"code": changeCode}).Problem(t, http.StatusBadRequest, "invalid_token")
	h.WaitMail(t, "ada@example.com", mail.SubjectPasswordChange, 1)
	types := h.auditCounts()
	if types[latchkey.AuditPasswordReset] != 1 {
		t.Errorf("password_reset events: %d, want 1", types[latchkey.AuditPasswordReset])
	}
	h.Secrets = append(h.Secrets, newPassword)
}

// TestResetByCode: {email, code}; five wrong codes kill the token, link
// and code alike; an unknown email gets the same answer as a wrong code.
func TestResetByCode(t *testing.T) {
	h := newHarness(t, options{})
	h.signUp("ada@example.com")
	h.post("/api/auth/password/forgot", "", map[string]string{"email": "ada@example.com"}).WantStatus(t, http.StatusAccepted)
	tok, code := h.mailSecrets("ada@example.com", mail.SubjectReset, 1)
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	body := func(email, code string) map[string]string {
		return map[string]string{"email": email, "code": code, "new_password": newPassword}
	}
	unknown := h.post("/api/auth/password/reset", "", body("nobody@example.com", code))
	unknown.Problem(t, http.StatusBadRequest, "invalid_token")
	for i := range latchkey.MaxCodeAttempts {
		r := h.post("/api/auth/password/reset", "", body("ada@example.com", wrong))
		r.Problem(t, http.StatusBadRequest, "invalid_token")
		if string(r.Body) != string(unknown.Body) {
			t.Fatalf("wrong code %d: %s; unknown email: %s: the answers differ", i+1, r.Body, unknown.Body)
		}
	}
	h.post("/api/auth/password/reset", "", body("ada@example.com", code)).Problem(t, http.StatusBadRequest, "invalid_token")
	h.post("/api/auth/password/reset", "", map[string]string{"token": tok, "new_password": newPassword}).Problem(t, http.StatusBadRequest, "invalid_token")

	// A new token after the cooldown; wrong codes short of five leave it
	// usable. Six guesses of the address's daily ten are spent (the right
	// code on the dead token was one): three more, then the right one.
	h.clock.Advance(time.Minute + time.Second)
	h.post("/api/auth/password/forgot", "", map[string]string{"email": "ada@example.com"}).WantStatus(t, http.StatusAccepted)
	_, code = h.mailSecrets("ada@example.com", mail.SubjectReset, 2)
	if code == wrong {
		wrong = "999999"
	}
	for range 3 {
		h.post("/api/auth/password/reset", "", body("ada@example.com", wrong)).Problem(t, http.StatusBadRequest, "invalid_token")
	}
	h.post("/api/auth/password/reset", "", body("ADA@Example.com", code)).WantStatus(t, http.StatusNoContent)
	h.signIn("ada@example.com", newPassword)
}

// TestCodeGuessBudget: an address takes MaxCodeFailures wrong codes a
// day over all its tokens; then even the right code is refused, the link
// still works, and a day later codes work again. Unknown addresses are
// counted alike.
func TestCodeGuessBudget(t *testing.T) {
	h := newHarness(t, options{})
	h.signUp("ada@example.com")
	wrongFor := func(code string) string {
		if code == "000000" {
			return "000001"
		}
		return "000000"
	}
	guess := func(email, code string) response {
		return h.post("/api/auth/password/reset", "", map[string]string{"email": email, "code": code, "new_password": newPassword})
	}
	spent := 0
	for n := 1; spent < auth.MaxCodeFailures; n++ {
		h.post("/api/auth/password/forgot", "", map[string]string{"email": "ada@example.com"}).WantStatus(t, http.StatusAccepted)
		_, code := h.mailSecrets("ada@example.com", mail.SubjectReset, n)
		for i := 0; i < latchkey.MaxCodeAttempts-1 && spent < auth.MaxCodeFailures; i++ {
			guess("ada@example.com", wrongFor(code)).Problem(t, http.StatusBadRequest, "invalid_token")
			spent++
		}
		h.clock.Advance(time.Minute + time.Second)
	}
	h.post("/api/auth/password/forgot", "", map[string]string{"email": "ada@example.com"}).WantStatus(t, http.StatusAccepted)
	tok, code := h.mailSecrets("ada@example.com", mail.SubjectReset, len(h.Mails(t, "ada@example.com", mail.SubjectReset)))
	guess("ada@example.com", code).Problem(t, http.StatusBadRequest, "invalid_token")
	for range auth.MaxCodeFailures {
		guess("nobody@example.com", "123456").Problem(t, http.StatusBadRequest, "invalid_token")
	}
	// The link is 256 bits, not guessable: it still works.
	h.post("/api/auth/password/reset", "", map[string]string{"token": tok, "new_password": newPassword}).WantStatus(t, http.StatusNoContent)
	// A day later, codes work again.
	h.clock.Advance(auth.CodeFailureWindow)
	h.post("/api/auth/password/forgot", "", map[string]string{"email": "ada@example.com"}).WantStatus(t, http.StatusAccepted)
	_, code = h.mailSecrets("ada@example.com", mail.SubjectReset, len(h.Mails(t, "ada@example.com", mail.SubjectReset)))
	guess("ada@example.com", code).WantStatus(t, http.StatusNoContent)
}

// TestResetTokenExpiry: a reset token lives LATCHKEY_RESET_TTL (30 min).
func TestResetTokenExpiry(t *testing.T) {
	h := newHarness(t, options{})
	h.signUp("ada@example.com")
	h.post("/api/auth/password/forgot", "", map[string]string{"email": "ada@example.com"}).WantStatus(t, http.StatusAccepted)
	tok, _ := h.mailSecrets("ada@example.com", mail.SubjectReset, 1)
	h.clock.Advance(30*time.Minute + time.Second)
	h.post("/api/auth/password/reset", "", map[string]string{"token": tok, "new_password": newPassword}).Problem(t, http.StatusBadRequest, "invalid_token")
}

// TestResetDisabledAccount: a token mailed before the account was disabled
// does not reset its password.
func TestResetDisabledAccount(t *testing.T) {
	h := newHarness(t, options{})
	h.signUp("ada@example.com")
	root := h.admin("root@example.com")
	h.post("/api/auth/password/forgot", "", map[string]string{"email": "ada@example.com"}).WantStatus(t, http.StatusAccepted)
	tok, _ := h.mailSecrets("ada@example.com", mail.SubjectReset, 1)
	id := h.me(h.signIn("ada@example.com", testPassword).AccessToken).ID
	h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + id, Bearer: root.AccessToken, Body: map[string]any{"disabled": true}}).WantStatus(t, http.StatusOK)
	h.post("/api/auth/password/reset", "", map[string]string{"token": tok, "new_password": newPassword}).Problem(t, http.StatusBadRequest, "invalid_token")
}

// TestResetRace: of many resets with one token at once, exactly one wins.
func TestResetRace(t *testing.T) {
	h := newHarness(t, options{})
	h.signUp("ada@example.com")
	h.post("/api/auth/password/forgot", "", map[string]string{"email": "ada@example.com"}).WantStatus(t, http.StatusAccepted)
	tok, _ := h.mailSecrets("ada@example.com", mail.SubjectReset, 1)
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			pw := newPassword + " " + string(rune('a'+i))
			statuses[i] = h.post("/api/auth/password/reset", "", map[string]string{"token": tok, "new_password": pw}).Status
		}()
	}
	close(start)
	wg.Wait()
	won := -1
	for i, s := range statuses {
		switch {
		case s == http.StatusNoContent && won < 0:
			won = i
		case s != http.StatusBadRequest:
			t.Fatalf("statuses %v: want one 204 and the rest 400", statuses)
		}
	}
	if won < 0 {
		t.Fatalf("statuses %v: nobody won", statuses)
	}
	h.signIn("ada@example.com", newPassword+" "+string(rune('a'+won)))
}

// TestVerifyEmail: sign-up mails a verification; the first verification
// revokes the sessions opened before it but the verifying one (a
// pre-account takeover); verifying is idempotent.
func TestVerifyEmail(t *testing.T) {
	h := newHarness(t, options{})
	squatter := h.signUp("ada@example.com") // registered by someone else
	// The user and its verification mail are one transaction: the mail is
	// in the outbox when sign-up answers.
	if n := len(h.Mails(t, "ada@example.com", mail.SubjectVerify)); n != 1 {
		t.Fatalf("%d verification mails in the outbox when sign-up answered, want 1", n)
	}
	owner := h.signIn("ada@example.com", testPassword)
	if h.me(owner.AccessToken).EmailVerified {
		t.Fatal("a new account's address is verified")
	}
	tok, code := h.mailSecrets("ada@example.com", mail.SubjectVerify, 1)
	// The sign-up's mail starts the cooldown: a resend sends nothing.
	h.post("/api/auth/email/verify/resend", "", nil).Problem(t, http.StatusUnauthorized, "missing_token")
	h.post("/api/auth/email/verify/resend", owner.AccessToken, nil).WantStatus(t, http.StatusAccepted)
	if n := len(h.Mails(t, "ada@example.com", mail.SubjectVerify)); n != 1 {
		t.Errorf("%d verification mails after a resend within the cooldown, want 1", n)
	}
	h.post("/api/auth/email/verify", "", map[string]string{"token": tok, "code": code}).Problem(t, http.StatusBadRequest, "validation_failed")
	h.post("/api/auth/email/verify", "", map[string]string{"code": code}).Problem(t, http.StatusBadRequest, "validation_failed")
	h.post("/api/auth/email/verify", "not.a.token", map[string]string{"token": tok}).Problem(t, http.StatusUnauthorized, "invalid_token")

	var out struct{ User testkit.User }
	h.post("/api/auth/email/verify", owner.AccessToken, map[string]string{"token": tok}).Decode(t, &out)
	if !out.User.EmailVerified || out.User.Email != "ada@example.com" {
		t.Fatalf("verify answered %+v", out.User)
	}
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: squatter.AccessToken}).Problem(t, http.StatusUnauthorized, "token_revoked")
	h.Refresh(squatter.RefreshToken).Problem(t, http.StatusUnauthorized, "token_revoked")
	if !h.me(owner.AccessToken).EmailVerified {
		t.Error("the verifying session lost its access or the address is not verified")
	}
	h.Grant(h.Refresh(owner.RefreshToken), http.StatusOK)

	// Idempotent: the spent link answers 200 again, and revokes nothing.
	later := h.signIn("ada@example.com", testPassword)
	h.post("/api/auth/email/verify", "", map[string]string{"token": tok}).WantStatus(t, http.StatusOK)
	h.post("/api/auth/email/verify", later.AccessToken, map[string]string{"email": "ada@example.com", "code": code}).WantStatus(t, http.StatusOK)
	h.me(later.AccessToken)
	// A spent code proves nothing without a Bearer; nor does a random link.
	h.post("/api/auth/email/verify", "", map[string]string{"email": "ada@example.com", "code": code}).Problem(t, http.StatusBadRequest, "invalid_token")
	h.post("/api/auth/email/verify", "", map[string]string{"token": strings.Repeat("A", 43)}).Problem(t, http.StatusBadRequest, "invalid_token")
	// With a Bearer, too: a random link, or a code with another address.
	h.post("/api/auth/email/verify", later.AccessToken, map[string]string{"token": strings.Repeat("A", 43)}).Problem(t, http.StatusBadRequest, "invalid_token")
	h.post("/api/auth/email/verify", later.AccessToken, map[string]string{"email": "bob@example.com", "code": code}).Problem(t, http.StatusBadRequest, "invalid_token")
	// Verified: a resend sends nothing even after the cooldown.
	h.clock.Advance(2 * time.Minute)
	h.post("/api/auth/email/verify/resend", later.AccessToken, nil).WantStatus(t, http.StatusAccepted)
	if n := len(h.Mails(t, "ada@example.com", mail.SubjectVerify)); n != 1 {
		t.Errorf("%d verification mails to a verified address, want 1", n)
	}
	if n := h.auditCounts()[latchkey.AuditEmailVerified]; n < 1 {
		t.Error("no email_verified event")
	}
}

// TestVerifyWithoutBearerRevokesAll: verified from another device, with no
// session of its own, the first verification keeps no older session.
func TestVerifyWithoutBearerRevokesAll(t *testing.T) {
	h := newHarness(t, options{})
	a := h.signUp("ada@example.com")
	_, code := h.mailSecrets("ada@example.com", mail.SubjectVerify, 1)
	h.post("/api/auth/email/verify", "", map[string]string{"email": "ada@example.com", "code": code}).WantStatus(t, http.StatusOK)
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: a.AccessToken}).Problem(t, http.StatusUnauthorized, "token_revoked")
	// Another user's Bearer keeps nothing of this user's either.
	h.signUp("bob@example.com")
	bob := h.signIn("bob@example.com", testPassword)
	bobOld := h.signUp("cy@example.com")
	tok, _ := h.mailSecrets("cy@example.com", mail.SubjectVerify, 1)
	h.post("/api/auth/email/verify", bob.AccessToken, map[string]string{"token": tok}).WantStatus(t, http.StatusOK)
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: bobOld.AccessToken}).Problem(t, http.StatusUnauthorized, "token_revoked")
	h.me(bob.AccessToken)
}

// TestResendVerification: a resend after the cooldown mails a new token
// and kills the old one.
func TestResendVerification(t *testing.T) {
	h := newHarness(t, options{})
	a := h.signUp("ada@example.com")
	old, _ := h.mailSecrets("ada@example.com", mail.SubjectVerify, 1)
	h.clock.Advance(time.Minute + time.Second)
	h.post("/api/auth/email/verify/resend", a.AccessToken, `{"x": 1}`).Problem(t, http.StatusBadRequest, "invalid_request")
	h.post("/api/auth/email/verify/resend", a.AccessToken, nil).WantStatus(t, http.StatusAccepted)
	tok, _ := h.mailSecrets("ada@example.com", mail.SubjectVerify, 2)
	h.post("/api/auth/email/verify", "", map[string]string{"token": old}).Problem(t, http.StatusBadRequest, "invalid_token")
	h.post("/api/auth/email/verify", a.AccessToken, map[string]string{"token": tok}).WantStatus(t, http.StatusOK)
	// The verification token lives 24 h; a day-old one is dead.
	h.signUp("bob@example.com")
	tok, _ = h.mailSecrets("bob@example.com", mail.SubjectVerify, 1)
	h.clock.Advance(24*time.Hour + time.Second)
	h.post("/api/auth/email/verify", "", map[string]string{"token": tok}).Problem(t, http.StatusBadRequest, "invalid_token")
}

// TestChangeEmail: the new address gets a link and code, the old one a
// notice; confirming sets the address, verified, revokes the other
// sessions and kills the tokens mailed to the old address.
func TestChangeEmail(t *testing.T) {
	h := newHarness(t, options{})
	a := h.signUp("ada@example.com")
	other := h.signIn("ada@example.com", testPassword)
	h.signUp("bob@example.com")
	change := func(bearer, email, pw string) response {
		return h.post("/api/auth/email/change", bearer, map[string]string{"new_email": email, "current_password": pw})
	}
	change("", "new@example.com", testPassword).Problem(t, http.StatusUnauthorized, "missing_token")
	for _, c := range []struct{ email, pw, field string }{
		{"new@example.com", "wrong password", "current_password"},
		{"new@example.com", "", "current_password"},
		{"not an address", testPassword, "new_email"},
		{"", testPassword, "new_email"},
		{"ADA@example.com", testPassword, "new_email"},
	} {
		r := change(a.AccessToken, c.email, c.pw)
		r.Problem(t, http.StatusBadRequest, "validation_failed")
		if !strings.Contains(string(r.Body), `"`+c.field+`"`) {
			t.Errorf("change to %q with %q: %s, want an error on %s", c.email, c.pw, r.Body, c.field)
		}
	}
	// A verification token mailed to the old address, to be killed.
	vtok, _ := h.mailSecrets("ada@example.com", mail.SubjectVerify, 1)

	// A taken address: the same 202, its owner gets nothing, the old
	// address its notice.
	change(a.AccessToken, "bob@example.com", testPassword).WantStatus(t, http.StatusAccepted)
	h.WaitMail(t, "ada@example.com", mail.SubjectEmailChanging, 1)
	if n := len(h.Mails(t, "bob@example.com", mail.SubjectEmailChange)); n != 0 {
		t.Errorf("the owner of a taken address got %d mails", n)
	}
	// Within the cooldown, nothing more is sent.
	change(a.AccessToken, "new@example.com", testPassword).WantStatus(t, http.StatusAccepted)
	if n := len(h.Mails(t, "new@example.com", "")); n != 0 {
		t.Errorf("a change within the cooldown mailed %d", n)
	}
	h.clock.Advance(time.Minute + time.Second)
	change(a.AccessToken, "new@example.com", testPassword).WantStatus(t, http.StatusAccepted)
	m := h.WaitMail(t, "new@example.com", mail.SubjectEmailChange, 1)
	tok, code := testkit.MailSecrets(t, m.Text)
	h.Secrets = append(h.Secrets, tok)
	notice := h.WaitMail(t, "ada@example.com", mail.SubjectEmailChanging, 2)
	if strings.Contains(notice.Text, "new@example.com") || strings.Contains(notice.Text, tok) || len(mail.FindCodes(notice.Text)) != 0 {
		t.Errorf("the notice to the old address names the new one or carries a token:\n%s", notice.Text)
	}

	// Another user cannot confirm it, by link or code.
	bob := h.signIn("bob@example.com", testPassword)
	h.post("/api/auth/email/change/confirm", bob.AccessToken, map[string]string{"token": tok}).Problem(t, http.StatusBadRequest, "invalid_token")
	h.post("/api/auth/email/change/confirm", bob.AccessToken, map[string]string{"code": code}).Problem(t, http.StatusBadRequest, "invalid_token")
	h.post("/api/auth/email/change/confirm", a.AccessToken, map[string]string{"code": code, "token": tok}).Problem(t, http.StatusBadRequest, "validation_failed")
	h.post("/api/auth/email/change/confirm", a.AccessToken, map[string]string{"email": "new@example.com", "code": code}).Problem(t, http.StatusBadRequest, "invalid_request")

	var out struct{ User testkit.User }
	h.post("/api/auth/email/change/confirm", a.AccessToken, map[string]string{"code": code}).Decode(t, &out)
	if out.User.Email != "new@example.com" || !out.User.EmailVerified {
		t.Fatalf("confirm answered %+v", out.User)
	}
	h.post("/api/auth/email/change/confirm", a.AccessToken, map[string]string{"token": tok}).Problem(t, http.StatusBadRequest, "invalid_token")
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: other.AccessToken}).Problem(t, http.StatusUnauthorized, "token_revoked")
	if u := h.me(a.AccessToken); u.Email != "new@example.com" {
		t.Errorf("me after the change: %+v", u)
	}
	h.post("/api/auth/email/verify", "", map[string]string{"token": vtok}).Problem(t, http.StatusBadRequest, "invalid_token")
	h.post("/api/auth/signin", "", map[string]string{"email": "ada@example.com", "password": testPassword}).Problem(t, http.StatusUnauthorized, "invalid_credentials")
	h.signIn("new@example.com", testPassword)
	types := h.auditCounts()
	if types[latchkey.AuditEmailChangeRequested] != 2 || types[latchkey.AuditEmailChanged] != 1 {
		t.Errorf("email change events: %v", types)
	}
}

// TestChangeEmailTakenMeanwhile: confirming an address another account
// took since is 409, and the token stays live.
func TestChangeEmailTakenMeanwhile(t *testing.T) {
	h := newHarness(t, options{})
	a := h.signUp("ada@example.com")
	h.post("/api/auth/email/change", a.AccessToken, map[string]string{"new_email": "new@example.com", "current_password": testPassword}).WantStatus(t, http.StatusAccepted)
	tok, _ := h.mailSecrets("new@example.com", mail.SubjectEmailChange, 1)
	squat := h.signUp("NEW@example.com")
	h.post("/api/auth/email/change/confirm", a.AccessToken, map[string]string{"token": tok}).Problem(t, http.StatusConflict, "email_taken")
	// The other account moves away from the address; the token still works.
	h.post("/api/auth/email/change", squat.AccessToken, map[string]string{"new_email": "elsewhere@example.com", "current_password": testPassword}).WantStatus(t, http.StatusAccepted)
	_, code := h.mailSecrets("elsewhere@example.com", mail.SubjectEmailChange, 1)
	h.post("/api/auth/email/change/confirm", squat.AccessToken, map[string]string{"code": code}).WantStatus(t, http.StatusOK)
	h.post("/api/auth/email/change/confirm", a.AccessToken, map[string]string{"token": tok}).WantStatus(t, http.StatusOK)
}

// TestRequireVerifiedEmail: with LATCHKEY_REQUIRE_VERIFIED_EMAIL, sign-up
// opens no session and sign-in with the right password is 403 until the
// address is verified; those 403s never count toward the throttle.
func TestRequireVerifiedEmail(t *testing.T) {
	h := newHarness(t, options{requireVerified: true})
	r := h.post("/api/auth/signup", "", map[string]string{"email": "ada@example.com", "password": testPassword})
	r.WantStatus(t, http.StatusCreated)
	body := r.JSON(t)
	if _, ok := body["access_token"]; ok || body["user"] == nil || len(body) != 1 || r.Header.Get("Set-Cookie") != "" {
		t.Fatalf("sign-up answered %s with Set-Cookie %q, want {user} alone", r.Body, r.Header.Get("Set-Cookie"))
	}
	for range 12 { // past the throttle's 10
		h.post("/api/auth/signin", "", map[string]string{"email": "ada@example.com", "password": testPassword}).Problem(t, http.StatusForbidden, "email_not_verified")
	}
	h.post("/api/auth/signin", "", map[string]string{"email": "ada@example.com", "password": "wrong password"}).Problem(t, http.StatusUnauthorized, "invalid_credentials")
	if n := len(h.Mails(t, "ada@example.com", mail.SubjectVerify)); n != 1 {
		t.Errorf("%d verification mails within the cooldown, want 1", n)
	}
	// After the cooldown a refused sign-in sends a fresh one.
	h.clock.Advance(time.Minute + time.Second)
	h.post("/api/auth/signin", "", map[string]string{"email": "ada@example.com", "password": testPassword}).Problem(t, http.StatusForbidden, "email_not_verified")
	_, code := h.mailSecrets("ada@example.com", mail.SubjectVerify, 2)
	h.post("/api/auth/email/verify", "", map[string]string{"email": "ada@example.com", "code": code}).WantStatus(t, http.StatusOK)
	h.signIn("ada@example.com", testPassword)
}

// TestAdminSetsEmailVerified: PATCH {email_verified} sets it, revokes no
// session and is audited with the admin as actor.
func TestAdminSetsEmailVerified(t *testing.T) {
	h := newHarness(t, options{})
	a := h.signUp("ada@example.com")
	root := h.admin("root@example.com")
	var out struct {
		User map[string]any `json:"user"`
	}
	h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + a.User.ID, Bearer: root.AccessToken, Body: map[string]any{"email_verified": true}}).Decode(t, &out)
	if out.User["email_verified"] != true {
		t.Fatalf("PATCH answered %v", out.User)
	}
	if !h.me(a.AccessToken).EmailVerified {
		t.Error("not verified after the PATCH, or the session was revoked")
	}
	events, _, err := h.store.ListAudit(context.Background(), latchkey.AuditFilter{Type: latchkey.AuditEmailVerified, Limit: 10})
	if err != nil || len(events) != 1 || events[0].ActorID != root.User.ID || events[0].Reason != "email_verified=true" {
		t.Fatalf("audit: %+v, %v", events, err)
	}
	h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + a.User.ID, Bearer: root.AccessToken, Body: map[string]any{"email_verified": "yes"}}).Problem(t, http.StatusBadRequest, "invalid_request")
}

// TestRecoveryRoutesRateLimited: every new POST shares the per-IP limit.
func TestRecoveryRoutesRateLimited(t *testing.T) {
	for _, path := range []string{"/api/auth/password/forgot", "/api/auth/password/reset", "/api/auth/email/verify",
		"/api/auth/email/verify/resend", "/api/auth/email/change", "/api/auth/email/change/confirm"} {
		h := newHarness(t, options{rate: 1})
		h.post(path, "", map[string]string{"email": "ada@example.com"})
		r := h.post(path, "", map[string]string{"email": "ada@example.com"})
		r.Problem(t, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without Retry-After", path)
		}
	}
}

// TestMailLinksFromIssuer: a link is LATCHKEY_ISSUER's, whatever Host the
// request named.
func TestMailLinksFromIssuer(t *testing.T) {
	h := newHarness(t, options{allowedHosts: []string{"other.example"}})
	h.signUp("ada@example.com")
	h.Do(req{Method: "POST", Path: "/api/auth/password/forgot", Host: "other.example",
		Body: map[string]string{"email": "ada@example.com"}}).WantStatus(t, http.StatusAccepted)
	m := h.WaitMail(t, "ada@example.com", mail.SubjectReset, 1)
	tok, _ := testkit.MailSecrets(t, m.Text)
	h.Secrets = append(h.Secrets, tok)
	if !strings.Contains(m.Text, testIssuer+"/#/reset?token="+tok) || strings.Contains(m.Text+m.HTML, "other.example") {
		t.Errorf("the reset link is not the issuer's:\n%s", m.Text)
	}
}

// TestChangePasswordMailsNotice: a password change mails "Your password
// was changed" and kills the user's one-time tokens.
func TestChangePasswordMailsNotice(t *testing.T) {
	h := newHarness(t, options{})
	a := h.signUp("ada@example.com")
	h.post("/api/auth/password/forgot", "", map[string]string{"email": "ada@example.com"}).WantStatus(t, http.StatusAccepted)
	tok, _ := h.mailSecrets("ada@example.com", mail.SubjectReset, 1)
	h.post("/api/auth/password", a.AccessToken, map[string]string{"current_password": testPassword, "new_password": newPassword}).WantStatus(t, http.StatusNoContent)
	notice := h.WaitMail(t, "ada@example.com", mail.SubjectPasswordChange, 1)
	if strings.Contains(notice.Text, "token=") || len(mail.FindCodes(notice.Text)) != 0 {
		t.Errorf("the notice carries a token:\n%s", notice.Text)
	}
	h.post("/api/auth/password/reset", "", map[string]string{"token": tok, "new_password": "yet another passphrase"}).Problem(t, http.StatusBadRequest, "invalid_token")
	h.signIn("ada@example.com", newPassword)
}
