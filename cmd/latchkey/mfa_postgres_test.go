package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/testkit"
)

// TestE2EPostgresMFA: two instances on one PostgreSQL act as one server for
// the second factor. TOTP enrolled on A is confirmed on B (A refuses the
// user's earlier token within 2 s); a password on A answers mfa_required
// and B completes it; a code's step spent on B is refused on A, and so is
// a recovery code used on B; `user reset-mfa` turns it off for both. The
// codes are of the previous, current and next 30 s steps, used within a
// few seconds of the start of a step, so no wall-clock wait is needed.
func TestE2EPostgresMFA(t *testing.T) {
	t.Parallel()
	url := pgtest.Shared(t).URL(t)
	pa, pb := servePG(t, url), servePG(t, url)
	pa.waitReady(t)
	pb.waitReady(t)
	var sec secrets
	sec.watch(t, pa.log, pb.log)
	ca, cb := testkit.NewClient(t, pa.base, nil), testkit.NewClient(t, pb.base, nil)
	const email, pw = "pgmfa@example.com", "postgres-mfa-password"
	sec.add(pw)
	first := sec.grant(ca.SignUp(email, pw, ""))

	enr := ca.Call("POST", "/api/auth/mfa/totp", first.AccessToken, map[string]string{"current_password": pw}).JSON(t)
	secret := enr["secret"].(string)
	sec.add(secret)
	// Early in a step, so that the three codes below stay in the window.
	if left := 30 - time.Now().Unix()%30; left < 12 {
		time.Sleep(time.Duration(left)*time.Second + 100*time.Millisecond)
	}
	now := time.Now()
	code := func(step int) string {
		c, err := totp.GenerateCode(secret, now.Add(time.Duration(step)*30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		sec.code(c)
		return c
	}

	conf := cb.Call("POST", "/api/auth/mfa/totp/"+enr["factor_id"].(string)+"/confirm", first.AccessToken, map[string]string{"code": code(-1)})
	g := sec.grant(cb.Grant(conf, http.StatusOK))
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	conf.Decode(t, &out)
	sec.add(out.RecoveryCodes...)
	refusedWithin(t, ca, "TOTP confirmed on B", first.AccessToken, time.Now())

	mfaToken := func(c *testkit.Client) string {
		t.Helper()
		m := c.Call("POST", "/api/auth/signin", "", map[string]string{"email": email, "password": pw}).Problem(t, http.StatusUnauthorized, "mfa_required")
		tok := m["mfa_token"].(string)
		sec.add(tok)
		return tok
	}
	c0 := code(0)
	done := sec.grant(cb.Grant(cb.Call("POST", "/api/auth/signin/mfa", "", map[string]string{"mfa_token": mfaToken(ca), "code": c0}), http.StatusOK))
	amr := testkit.JSONPart(t, done.AccessToken, 1)["amr"]
	if !slices.Equal(amr.([]any), []any{"pwd", "otp", "mfa"}) {
		t.Errorf("amr = %v", amr)
	}
	ca.Call("POST", "/api/auth/signin/mfa", "", map[string]string{"mfa_token": mfaToken(ca), "code": c0}).
		Problem(t, http.StatusUnauthorized, "invalid_credentials")
	sec.grant(ca.Grant(ca.Call("POST", "/api/auth/signin/mfa", "", map[string]string{"mfa_token": mfaToken(cb), "code": code(1)}), http.StatusOK))

	rc := out.RecoveryCodes[0]
	sec.grant(cb.Grant(cb.Call("POST", "/api/auth/signin/mfa", "", map[string]string{"mfa_token": mfaToken(ca), "recovery_code": rc}), http.StatusOK))
	ca.Call("POST", "/api/auth/signin/mfa", "", map[string]string{"mfa_token": mfaToken(ca), "recovery_code": rc}).
		Problem(t, http.StatusUnauthorized, "invalid_credentials")

	if o := cliPG(t, url, "", "user", "reset-mfa", "--email", email); !strings.Contains(o, g.User.ID) {
		t.Errorf("user reset-mfa: %q", o)
	}
	refusedWithin(t, cb, "reset-mfa", done.AccessToken, time.Now())
	sec.grant(cb.SignIn(email, pw))
}
