package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	vw "github.com/descope/virtualwebauthn"

	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/testkit"
)

// TestE2EPostgresPasskeys: two instances on one PostgreSQL finish each
// other's passkey ceremonies (the challenge waits in the store): a passkey
// registration begun on A is finished on B, a sign-in begun on B is
// finished on A, a challenge used on one is dead on the other, a sign
// counter seen on one is enforced by the other, and a removal on B is
// refused by A's next sign-in. `user reset-mfa` removes passkeys too.
func TestE2EPostgresPasskeys(t *testing.T) {
	t.Parallel()
	url := pgtest.Shared(t).URL(t)
	pa, pb := servePG(t, url), servePG(t, url)
	pa.waitReady(t)
	pb.waitReady(t)
	var sec secrets
	sec.watch(t, pa.log, pb.log)
	ca, cb := testkit.NewClient(t, pa.base, nil), testkit.NewClient(t, pb.base, nil)
	const email, pw = "pgpasskey@example.com", "postgres-passkey-password"
	sec.add(pw)
	g := sec.grant(ca.SignUp(email, pw, ""))
	pk := testkit.NewPasskey(g.User.ID, vw.AuthenticatorOptions{})

	var reg struct {
		ChallengeID string         `json:"challenge_id"`
		Options     map[string]any `json:"options"`
	}
	ca.Call("POST", "/api/auth/passkeys/register/options", g.AccessToken, map[string]string{"current_password": pw}).Decode(t, &reg)
	r := cb.Call("POST", "/api/auth/passkeys/register", g.AccessToken, map[string]any{"challenge_id": reg.ChallengeID, "credential": pk.Attest(t, reg.Options)})
	r.WantStatus(t, http.StatusCreated)
	id := r.JSON(t)["passkey"].(map[string]any)["id"].(string)
	ca.Call("POST", "/api/auth/passkeys/register", g.AccessToken, map[string]any{"challenge_id": reg.ChallengeID, "credential": pk.Attest(t, reg.Options)}).
		Problem(t, http.StatusBadRequest, "invalid_token")

	signIn := func(begin, finish *testkit.Client, counter uint32) testkit.Response {
		t.Helper()
		var in struct {
			ChallengeID string         `json:"challenge_id"`
			Options     map[string]any `json:"options"`
		}
		begin.Call("POST", "/api/auth/passkeys/signin/options", "", nil).Decode(t, &in)
		return finish.Call("POST", "/api/auth/passkeys/signin", "", map[string]any{"challenge_id": in.ChallengeID, "credential": pk.Assert(t, in.Options, counter)})
	}
	done := sec.grant(ca.Grant(signIn(cb, ca, 7), http.StatusOK))
	if amr := testkit.JSONPart(t, done.AccessToken, 1)["amr"]; !slices.Equal(amr.([]any), []any{"hwk", "user", "mfa"}) {
		t.Errorf("amr = %v", amr)
	}
	signIn(ca, cb, 7).Problem(t, http.StatusUnauthorized, "invalid_credentials") // A's counter, on B
	sec.grant(cb.Grant(signIn(ca, cb, 8), http.StatusOK))

	// Removed on B within the session's first 5 minutes (no password), so
	// A refuses the passkey.
	cb.Call("DELETE", "/api/auth/passkeys/"+id, done.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	signIn(ca, ca, 9).Problem(t, http.StatusUnauthorized, "invalid_credentials")

	// reset-mfa removes a passkey added again.
	ca.Call("POST", "/api/auth/passkeys/register/options", g.AccessToken, map[string]string{"current_password": pw}).Decode(t, &reg)
	pk = testkit.NewPasskey(g.User.ID, vw.AuthenticatorOptions{})
	cb.Call("POST", "/api/auth/passkeys/register", g.AccessToken, map[string]any{"challenge_id": reg.ChallengeID, "credential": pk.Attest(t, reg.Options)}).WantStatus(t, http.StatusCreated)
	if o := cliPG(t, url, "", "user", "reset-mfa", "--email", email); !strings.Contains(o, g.User.ID) {
		t.Errorf("user reset-mfa: %q", o)
	}
	refusedWithin(t, cb, "reset-mfa", done.AccessToken, time.Now())
	signIn(cb, ca, 1).Problem(t, http.StatusUnauthorized, "invalid_credentials")
}
