package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testkit"
	"github.com/latchkey/latchkey/mail"
)

// code is a TOTP code for secret at the harness clock, after moving it on
// by one 30 s step, so that no two calls give codes of one step.
func (h *harness) code(secret string) string {
	h.t.Helper()
	h.clock.Advance(30 * time.Second)
	c, err := totp.GenerateCode(secret, h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	h.codes = append(h.codes, c)
	return c
}

// enrolTOTP starts an enrolment for g's user and returns the factor id and
// its secret.
func (h *harness) enrolTOTP(g grant) (id, secret string) {
	h.t.Helper()
	r := h.Do(req{Method: "POST", Path: "/api/auth/mfa/totp", Bearer: g.AccessToken, Body: map[string]string{"current_password": testPassword}})
	if r.Status != 200 {
		h.t.Fatalf("enrol: %d %s", r.Status, r.Body)
	}
	m := r.JSON(h.t)
	id, secret = m["factor_id"].(string), m["secret"].(string)
	h.Secrets = append(h.Secrets, secret)
	if !strings.HasPrefix(m["qr_png"].(string), "data:image/png;base64,") || !strings.HasPrefix(m["otpauth_uri"].(string), "otpauth://totp/") {
		h.t.Fatalf("enrolment = %v", m)
	}
	return id, secret
}

// enableTOTP enrols and confirms TOTP for g's user: the secret, the
// recovery codes, and the grant of the session confirming opened.
func (h *harness) enableTOTP(g grant) (secret string, codes []string, ng grant) {
	h.t.Helper()
	id, secret := h.enrolTOTP(g)
	r := h.Do(req{Method: "POST", Path: "/api/auth/mfa/totp/" + id + "/confirm", Bearer: g.AccessToken, Body: map[string]string{"code": h.code(secret)}})
	ng = h.Grant(r, 200)
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	r.Decode(h.t, &out)
	if len(out.RecoveryCodes) != latchkey.RecoveryCodeCount {
		h.t.Fatalf("confirm: recovery codes %v", out.RecoveryCodes)
	}
	h.Secrets = append(h.Secrets, out.RecoveryCodes...)
	return secret, out.RecoveryCodes, ng
}

// mfaToken signs in with the password and returns the mfa_token of the
// mfa_required answer.
func (h *harness) mfaToken(email string) string {
	h.t.Helper()
	m := h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": email, "password": testPassword}}).Problem(h.t, 401, "mfa_required")
	tok, _ := m["mfa_token"].(string)
	if tok == "" {
		h.t.Fatalf("mfa_required without an mfa_token: %v", m)
	}
	h.Secrets = append(h.Secrets, tok)
	return tok
}

// waitAudit waits until the audit log holds want events of each type:
// the events with no change go through the recorder's queue.
func (h *harness) waitAudit(want map[string]int) {
	h.t.Helper()
	var n map[string]int
	if _, ok := testkit.Poll(5*time.Second, 20*time.Millisecond, func() bool {
		n = h.auditCounts()
		for typ, c := range want {
			if n[typ] != c {
				return false
			}
		}
		return true
	}); !ok {
		h.t.Errorf("audit counts %v, want %v", n, want)
	}
}

func (h *harness) signInMFA(body map[string]string) response {
	h.t.Helper()
	return h.Do(req{Method: "POST", Path: "/api/auth/signin/mfa", Body: body})
}

// amr is the amr claim of an access token.
func amr(t *testing.T, tok string) []string {
	t.Helper()
	var out []string
	for _, v := range testkit.JSONPart(t, tok, 1)["amr"].([]any) {
		out = append(out, v.(string))
	}
	slices.Sort(out)
	return out
}

func wantAMR(t *testing.T, tok string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := amr(t, tok); !slices.Equal(got, want) {
		t.Errorf("amr = %v, want %v", got, want)
	}
}

// TestMFASignIn: a right password for a user with TOTP answers
// mfa_required and no token; the second step answers as sign-in does.
func TestMFASignIn(t *testing.T) {
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		plain := h.signUp("plain@example.com")
		wantAMR(t, plain.AccessToken, "pwd")
		ada := h.signUp("ada@example.com")
		secret, codes, _ := h.enableTOTP(ada)

		r := h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "ada@example.com", "password": testPassword}})
		m := r.Problem(t, 401, "mfa_required")
		if wa := r.Header.Get("WWW-Authenticate"); wa != `Bearer realm="latchkey"` {
			t.Errorf("WWW-Authenticate %q", wa)
		}
		if m["access_token"] != nil || m["refresh_token"] != nil || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("mfa_required carried a token or a cookie: %v %v", m, r.Header)
		}
		if m["expires_in"] != float64(300) || !slices.Equal(m["methods"].([]any), []any{"totp", "recovery_code"}) {
			t.Errorf("mfa_required = %v", m)
		}
		tok := m["mfa_token"].(string)
		h.Secrets = append(h.Secrets, tok)

		ok := h.signInMFA(map[string]string{"mfa_token": tok, "code": h.code(secret)})
		g := h.Grant(ok, 200)
		wantAMR(t, g.AccessToken, "pwd", "otp", "mfa")
		if !strings.Contains(strings.Join(ok.Header.Values("Set-Cookie"), ";"), "latchkey_refresh=") {
			t.Error("second step without the refresh cookie")
		}
		refreshed := h.Grant(h.Refresh(g.RefreshToken), 200)
		wantAMR(t, refreshed.AccessToken, "pwd", "otp", "mfa")
		// The token is single use; a code's step is accepted once.
		h.signInMFA(map[string]string{"mfa_token": tok, "code": h.code(secret)}).Problem(t, 401, "invalid_token")
		c := h.code(secret)
		h.Grant(h.signInMFA(map[string]string{"mfa_token": h.mfaToken("ada@example.com"), "code": c}), 200)
		h.signInMFA(map[string]string{"mfa_token": h.mfaToken("ada@example.com"), "code": c}).Problem(t, 401, "invalid_credentials")

		// A recovery code: amr without otp, and once only.
		rc := h.Grant(h.signInMFA(map[string]string{"mfa_token": h.mfaToken("ada@example.com"), "recovery_code": strings.ToLower(codes[0])}), 200)
		wantAMR(t, rc.AccessToken, "pwd", "mfa")
		h.signInMFA(map[string]string{"mfa_token": h.mfaToken("ada@example.com"), "recovery_code": codes[0]}).Problem(t, 401, "invalid_credentials")

		// Malformed codes are wrong codes; a missing or doubled field is not
		// an attempt at all.
		tok = h.mfaToken("ada@example.com")
		for _, bad := range []string{" " + h.code(secret), "12345", "1234567", "abcdef"} {
			h.signInMFA(map[string]string{"mfa_token": tok, "code": bad}).Problem(t, 401, "invalid_credentials")
		}
		h.signInMFA(map[string]string{"mfa_token": tok}).Problem(t, 400, "validation_failed")
		h.signInMFA(map[string]string{"code": "123456"}).Problem(t, 400, "validation_failed")
		h.signInMFA(map[string]string{"mfa_token": tok, "code": "123456", "recovery_code": codes[1]}).Problem(t, 400, "validation_failed")
		h.signInMFA(map[string]string{"mfa_token": "not-a-token", "code": "123456"}).Problem(t, 401, "invalid_token")
		// Four attempts so far: the fifth, right, still works.
		h.Grant(h.signInMFA(map[string]string{"mfa_token": tok, "code": h.code(secret)}), 200)

		h.waitAudit(map[string]int{latchkey.AuditRecoveryCodeUsed: 1, latchkey.AuditMFAChallengeFailed: 6, latchkey.AuditMFAEnabled: 1})
	})
}

// TestMFATokenLimits: an mfa_token takes 5 attempts and lives 5 minutes.
func TestMFATokenLimits(t *testing.T) {
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		secret, _, _ := h.enableTOTP(h.signUp("ada@example.com"))

		tok := h.mfaToken("ada@example.com")
		for range latchkey.MaxMFAAttempts {
			h.signInMFA(map[string]string{"mfa_token": tok, "code": "000000"}).Problem(t, 401, "invalid_credentials")
		}
		h.signInMFA(map[string]string{"mfa_token": tok, "code": h.code(secret)}).Problem(t, 401, "invalid_token")

		tok = h.mfaToken("ada@example.com")
		h.clock.Advance(latchkey.MFATokenTTL)
		h.signInMFA(map[string]string{"mfa_token": tok, "code": h.code(secret)}).Problem(t, 401, "invalid_token")
		tok = h.mfaToken("ada@example.com")
		h.clock.Advance(latchkey.MFATokenTTL - 31*time.Second)
		h.Grant(h.signInMFA(map[string]string{"mfa_token": tok, "code": h.code(secret)}), 200)
	})
}

// TestMFALock: 10 wrong codes lock TOTP for 15 minutes (429 with
// Retry-After, audited once); recovery codes still work, and none of it
// counts toward the password throttle.
func TestMFALock(t *testing.T) {
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		secret, codes, _ := h.enableTOTP(h.signUp("ada@example.com"))
		var last response
		for i := range latchkey.MaxTOTPFailures {
			tok := h.mfaToken("ada@example.com")
			last = h.signInMFA(map[string]string{"mfa_token": tok, "code": "000000"})
			if i < latchkey.MaxTOTPFailures-1 {
				last.Problem(t, 401, "invalid_credentials")
			}
		}
		last.Problem(t, 429, "rate_limited")
		if ra := last.Header.Get("Retry-After"); ra != "900" {
			t.Errorf("Retry-After %q at the lock", ra)
		}
		locked := h.signInMFA(map[string]string{"mfa_token": h.mfaToken("ada@example.com"), "code": h.code(secret)})
		locked.Problem(t, 429, "rate_limited")
		if locked.Header.Get("Retry-After") == "" {
			t.Error("locked without Retry-After")
		}
		// The password still answers mfa_required (mfaToken checks), not 429.
		h.Grant(h.signInMFA(map[string]string{"mfa_token": h.mfaToken("ada@example.com"), "recovery_code": codes[0]}), 200)
		h.waitAudit(map[string]int{latchkey.AuditMFALocked: 1, latchkey.AuditMFAChallengeFailed: 11, latchkey.AuditRateLimited: 0})
		h.clock.Advance(latchkey.TOTPLockout)
		h.Grant(h.signInMFA(map[string]string{"mfa_token": h.mfaToken("ada@example.com"), "code": h.code(secret)}), 200)
	})
}

// TestTOTPRoutes: enrol, confirm, list, regenerate and remove, each with
// its errors.
func TestTOTPRoutes(t *testing.T) {
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		ada := h.signUp("ada@example.com")
		other := h.signIn("ada@example.com", testPassword)
		mfa := func(bearer string) map[string]any {
			r := h.Do(req{Method: "GET", Path: "/api/auth/mfa", Bearer: bearer})
			if r.Status != 200 {
				t.Fatalf("GET mfa: %d %s", r.Status, r.Body)
			}
			return r.JSON(t)
		}
		if m := mfa(ada.AccessToken); len(m["factors"].([]any)) != 0 || m["recovery_codes_remaining"] != float64(0) {
			t.Errorf("before: %v", m)
		}
		h.Do(req{Method: "GET", Path: "/api/auth/mfa"}).Problem(t, 401, "missing_token")
		start := req{Method: "POST", Path: "/api/auth/mfa/totp", Bearer: ada.AccessToken, Body: map[string]string{"current_password": "wrong password"}}
		h.Do(start).Problem(t, 400, "validation_failed")
		start.Body = map[string]string{}
		h.Do(start).Problem(t, 400, "validation_failed")
		h.waitAudit(map[string]int{latchkey.AuditSigninFailed: 1}) // a wrong current_password is a failed password

		id, secret := h.enrolTOTP(ada)
		confirm := func(id, code string) response {
			return h.Do(req{Method: "POST", Path: "/api/auth/mfa/totp/" + id + "/confirm", Bearer: ada.AccessToken, Body: map[string]string{"code": code}})
		}
		m := confirm(id, "000000").Problem(t, 400, "validation_failed")
		if errs := m["errors"].([]any); errs[0].(map[string]any)["field"] != "code" {
			t.Errorf("wrong code: %v", m)
		}
		confirm("no-such-factor", h.code(secret)).Problem(t, 404, "not_found")
		r := confirm(id, h.code(secret))
		g := h.Grant(r, 200)
		wantAMR(t, g.AccessToken, "pwd", "otp", "mfa")
		h.WaitMail(t, "ada@example.com", mail.SubjectMFAEnabled, 1)
		// Every other session, the calling one included, is revoked.
		for _, old := range []grant{ada, other} {
			h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: old.AccessToken}).Problem(t, 401, "token_revoked")
			h.Refresh(old.RefreshToken).WantStatus(t, 401)
		}
		h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken}).WantStatus(t, 200)
		m = mfa(g.AccessToken)
		if fs := m["factors"].([]any); len(fs) != 1 || fs[0].(map[string]any)["id"] != id || fs[0].(map[string]any)["type"] != "totp" || m["recovery_codes_remaining"] != float64(10) {
			t.Errorf("after confirming: %v", m)
		}
		// One confirmed factor at a time.
		h.Do(req{Method: "POST", Path: "/api/auth/mfa/totp", Bearer: g.AccessToken, Body: map[string]string{"current_password": testPassword}}).Problem(t, 400, "invalid_request")

		regen := func(pw, code string) response {
			return h.Do(req{Method: "POST", Path: "/api/auth/mfa/recovery-codes", Bearer: g.AccessToken, Body: map[string]string{"current_password": pw, "code": code}})
		}
		regen("wrong password", h.code(secret)).Problem(t, 400, "validation_failed")
		regen(testPassword, "000000").Problem(t, 400, "validation_failed")
		regen(testPassword, "").Problem(t, 400, "validation_failed")
		r = regen(testPassword, h.code(secret))
		var out struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}
		r.Decode(t, &out)
		if r.Status != 200 || len(out.RecoveryCodes) != 10 {
			t.Fatalf("regenerate: %d %s", r.Status, r.Body)
		}
		h.Secrets = append(h.Secrets, out.RecoveryCodes...)
		h.WaitMail(t, "ada@example.com", mail.SubjectRecoveryCodes, 1)

		del := func(id, pw, code string) response {
			return h.Do(req{Method: "DELETE", Path: "/api/auth/mfa/totp/" + id, Bearer: g.AccessToken, Body: map[string]string{"current_password": pw, "code": code}})
		}
		del(id, "wrong password", out.RecoveryCodes[0]).Problem(t, 400, "validation_failed")
		del(id, testPassword, "0000-0000-0000-0000").Problem(t, 400, "validation_failed")
		del("no-such-factor", testPassword, out.RecoveryCodes[0]).Problem(t, 404, "not_found")
		del(id, testPassword, out.RecoveryCodes[0]).WantStatus(t, 204)
		h.WaitMail(t, "ada@example.com", mail.SubjectMFADisabled, 1)
		wantAMR(t, h.signIn("ada@example.com", testPassword).AccessToken, "pwd")
		h.waitAudit(map[string]int{latchkey.AuditMFADisabled: 1, latchkey.AuditRecoveryCodesRegenerated: 1, latchkey.AuditMFAChallengeFailed: 3})
	})
}

// TestAdminResetMFA: the escape hatch removes the factor and the codes and
// revokes every session; the user then signs in with the password alone.
func TestAdminResetMFA(t *testing.T) {
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		root := h.admin("root@example.com")
		_, codes, g := h.enableTOTP(h.signUp("ada@example.com"))
		path := "/api/admin/users/" + g.User.ID + "/mfa/reset"
		h.Do(req{Method: "POST", Path: path}).Problem(t, 401, "missing_token")
		h.Do(req{Method: "POST", Path: path, Bearer: g.AccessToken}).Problem(t, 403, "forbidden")
		h.Do(req{Method: "POST", Path: "/api/admin/users/no-such-user/mfa/reset", Bearer: root.AccessToken}).Problem(t, 404, "not_found")
		h.mfaToken("ada@example.com")

		h.Do(req{Method: "POST", Path: path, Bearer: root.AccessToken}).WantStatus(t, 204)
		h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken}).Problem(t, 401, "token_revoked")
		h.WaitMail(t, "ada@example.com", mail.SubjectMFAReset, 1)
		evs := h.auditOf(latchkey.AuditMFAReset)
		if len(evs) != 1 || evs[0].ActorID != root.User.ID || evs[0].UserID != g.User.ID {
			t.Errorf("mfa_reset events %+v", evs)
		}
		again := h.signIn("ada@example.com", testPassword)
		wantAMR(t, again.AccessToken, "pwd")
		if m := h.Do(req{Method: "GET", Path: "/api/auth/mfa", Bearer: again.AccessToken}).JSON(t); m["recovery_codes_remaining"] != float64(0) {
			t.Errorf("after the reset: %v", m)
		}
		_ = codes
	})
}

// TestMFAWindow: the previous, current and next steps are accepted, not
// two steps off; once a step is accepted, every earlier one is refused.
func TestMFAWindow(t *testing.T) {
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		secret, _, _ := h.enableTOTP(h.signUp("ada@example.com"))
		h.clock.Advance(2 * time.Minute) // past the confirming code's steps
		at := func(d time.Duration) string {
			c, err := totp.GenerateCode(secret, h.clock.Now().Add(d))
			if err != nil {
				t.Fatal(err)
			}
			h.codes = append(h.codes, c)
			return c
		}
		tok := h.mfaToken("ada@example.com")
		for _, d := range []time.Duration{-60 * time.Second, 60 * time.Second} {
			h.signInMFA(map[string]string{"mfa_token": tok, "code": at(d)}).Problem(t, 401, "invalid_credentials")
		}
		h.Grant(h.signInMFA(map[string]string{"mfa_token": tok, "code": at(30 * time.Second)}), 200)
		h.signInMFA(map[string]string{"mfa_token": h.mfaToken("ada@example.com"), "code": at(0)}).Problem(t, 401, "invalid_credentials")
		h.clock.Advance(30 * time.Second)
		h.Grant(h.signInMFA(map[string]string{"mfa_token": h.mfaToken("ada@example.com"), "code": at(30 * time.Second)}), 200)
	})
}

// TestMFATokenDiesWithPassword: a password change or reset kills the
// user's mfa_tokens, the second steps of sign-ins with the old password.
func TestMFATokenDiesWithPassword(t *testing.T) {
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		secret, _, g := h.enableTOTP(h.signUp("ada@example.com"))
		const newPW = "a brand new passphrase"
		h.Secrets = append(h.Secrets, newPW)

		tok := h.mfaToken("ada@example.com")
		h.post("/api/auth/password", g.AccessToken, map[string]string{"current_password": testPassword, "new_password": newPW}).WantStatus(t, 204)
		h.signInMFA(map[string]string{"mfa_token": tok, "code": h.code(secret)}).Problem(t, 401, "invalid_token")

		m := h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "ada@example.com", "password": newPW}}).Problem(t, 401, "mfa_required")
		tok = m["mfa_token"].(string)
		h.Secrets = append(h.Secrets, tok)
		h.post("/api/auth/password/forgot", "", map[string]string{"email": "ada@example.com"}).WantStatus(t, 202)
		reset, _ := h.mailSecrets("ada@example.com", mail.SubjectReset, 1)
		h.post("/api/auth/password/reset", "", map[string]string{"token": reset, "new_password": testPassword}).WantStatus(t, 204)
		h.signInMFA(map[string]string{"mfa_token": tok, "code": h.code(secret)}).Problem(t, 401, "invalid_token")
		// The second factor stays on after both.
		h.Grant(h.signInMFA(map[string]string{"mfa_token": h.mfaToken("ada@example.com"), "code": h.code(secret)}), 200)
	})
}

// TestRequireMFAForAdmins: with LATCHKEY_REQUIRE_MFA_FOR_ADMINS, an admin
// token of a password-only sign-in gets 403 mfa_required on every admin
// route; one of a sign-in with a second factor passes; without the
// setting, a password is enough.
func TestRequireMFAForAdmins(t *testing.T) {
	forEachEngine(t, options{adminMFA: true}, func(t *testing.T, h *harness) {
		root := h.admin("root@example.com")
		ada := h.signUp("ada@example.com")
		for _, r := range []req{
			{Method: "GET", Path: "/api/admin/users"},
			{Method: "GET", Path: "/api/admin/audit"},
			{Method: "PATCH", Path: "/api/admin/users/" + ada.User.ID, Body: map[string]any{"disabled": true}},
			{Method: "POST", Path: "/api/admin/users/" + ada.User.ID + "/mfa/reset"},
		} {
			r.Bearer = root.AccessToken
			h.Do(r).Problem(t, http.StatusForbidden, "mfa_required")
		}
		// A non-admin is still plain forbidden.
		h.Do(req{Method: "GET", Path: "/api/admin/users", Bearer: ada.AccessToken}).Problem(t, http.StatusForbidden, "forbidden")
		// The user was not disabled by the refused PATCH.
		h.me(ada.AccessToken)

		_, _, mfa := h.enableTOTP(root)
		wantAMR(t, mfa.AccessToken, "mfa", "otp", "pwd")
		h.Do(req{Method: "GET", Path: "/api/admin/users", Bearer: mfa.AccessToken}).WantStatus(t, http.StatusOK)

		plain := newHarness(t, options{postgres: h.postgres})
		g := plain.admin("root@example.com")
		plain.Do(req{Method: "GET", Path: "/api/admin/users", Bearer: g.AccessToken}).WantStatus(t, http.StatusOK)
	})
}

// TestMFAConcurrentReplay: one TOTP code, or one recovery code, sent at
// once in the second steps of several sign-ins is accepted by exactly
// one of them, on either engine (on PostgreSQL the requests run in
// transactions of their own, on several connections). With the recovery
// code's DELETE ignored every request wins; with the TOTP step's
// compare-and-swap gone, two requests overlapped enough to both win in
// about one run in three on PostgreSQL, never on SQLite: sqldb's
// TestTOTPAcceptStepRace is the sharp check of that statement.
func TestMFAConcurrentReplay(t *testing.T) {
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		secret, codes, _ := h.enableTOTP(h.signUp("ada@example.com"))
		const n = 8 // 7 losing TOTP codes count 7 failures: the lock is at 10
		race := func(field, code string) {
			t.Helper()
			toks := make([]string, n)
			for i := range toks {
				toks[i] = h.mfaToken("ada@example.com")
			}
			out := make([]response, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range out {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					out[i] = h.signInMFA(map[string]string{"mfa_token": toks[i], field: code})
				}()
			}
			close(start)
			wg.Wait()
			won := 0
			for _, r := range out {
				if r.Status == http.StatusOK {
					h.Grant(r, http.StatusOK)
					won++
				} else {
					r.Problem(t, http.StatusUnauthorized, "invalid_credentials")
				}
			}
			if won != 1 {
				t.Errorf("%s: %d of %d concurrent second steps accepted one code, want 1", field, won, n)
			}
		}
		race("code", h.code(secret))
		race("recovery_code", codes[0])
	})
}
