package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	vw "github.com/descope/virtualwebauthn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/testkit"
	"github.com/latchkey/latchkey/mail"
)

// The passkey handler tests answer the server's options with a virtual
// authenticator in Go (testkit.Passkey); the web app's tests do the same
// with Chromium's.

// ceremony is the answer of an options call: the challenge's id and the
// options for the authenticator.
type ceremony struct {
	ChallengeID string         `json:"challenge_id"`
	Options     map[string]any `json:"options"`
}

// registerOptions begins adding a passkey for g's user with body.
func (h *harness) registerOptions(g grant, body any) ceremony {
	h.t.Helper()
	var c ceremony
	r := h.Do(req{Method: "POST", Path: "/api/auth/passkeys/register/options", Bearer: g.AccessToken, Body: body})
	r.WantStatus(h.t, 200)
	r.Decode(h.t, &c)
	return c
}

// addPasskey registers pk for g's user (with the password) and returns the
// passkey's id.
func (h *harness) addPasskey(g grant, pk *testkit.Passkey, name string) string {
	h.t.Helper()
	c := h.registerOptions(g, map[string]string{"current_password": testPassword})
	r := h.Do(req{Method: "POST", Path: "/api/auth/passkeys/register", Bearer: g.AccessToken,
		Body: map[string]any{"challenge_id": c.ChallengeID, "credential": pk.Attest(h.t, c.Options), "name": name}})
	r.WantStatus(h.t, 201)
	var out struct {
		Passkey struct {
			ID string `json:"id"`
		} `json:"passkey"`
	}
	r.Decode(h.t, &out)
	return out.Passkey.ID
}

// signInOptions begins a passkey sign-in.
func (h *harness) signInOptions() ceremony {
	h.t.Helper()
	var c ceremony
	r := h.Do(req{Method: "POST", Path: "/api/auth/passkeys/signin/options"})
	r.WantStatus(h.t, 200)
	r.Decode(h.t, &c)
	return c
}

// passkeySignIn signs in with pk, its counter at counter.
func (h *harness) passkeySignIn(pk *testkit.Passkey, counter uint32) response {
	h.t.Helper()
	c := h.signInOptions()
	return h.Do(req{Method: "POST", Path: "/api/auth/passkeys/signin",
		Body: map[string]any{"challenge_id": c.ChallengeID, "credential": pk.Assert(h.t, c.Options, counter)}})
}

func (h *harness) passkeyNames(g grant) []string {
	h.t.Helper()
	var out struct {
		Passkeys []struct {
			Name       string     `json:"name"`
			LastUsedAt *time.Time `json:"last_used_at"`
		} `json:"passkeys"`
	}
	h.Do(req{Method: "GET", Path: "/api/auth/passkeys", Bearer: g.AccessToken}).Decode(h.t, &out)
	names := []string{}
	for _, p := range out.Passkeys {
		names = append(names, p.Name)
	}
	return names
}

// TestPasskeyLifecycle: add a passkey (mailed, audited), sign in with it
// (the sign-in's answer and cookie, amr hwk user mfa, no mfa_required
// even with TOTP on), rename it, remove it (mailed), and it signs in no
// more.
func TestPasskeyLifecycle(t *testing.T) {
	t.Parallel()
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		g := h.signUp("pk@example.com")
		c := h.registerOptions(g, map[string]string{"current_password": testPassword})
		sel, _ := c.Options["authenticatorSelection"].(map[string]any)
		if sel["residentKey"] != "required" || sel["userVerification"] != "required" {
			t.Fatalf("creation options: authenticatorSelection %v", sel)
		}
		pk := testkit.NewPasskey(g.User.ID, vw.AuthenticatorOptions{})
		id := h.addPasskey(g, pk, "Laptop")
		h.WaitMail(t, "pk@example.com", mail.SubjectPasskeyAdded, 1)
		// The second registration's options exclude the first passkey.
		if ex, _ := h.registerOptions(g, map[string]string{"current_password": testPassword}).Options["excludeCredentials"].([]any); len(ex) != 1 {
			t.Fatalf("excludeCredentials %v, want the one passkey", ex)
		}
		h.enableTOTP(g) // a passkey sign-in is MFA: no second step

		r := h.passkeySignIn(pk, 1)
		pg := h.Grant(r, 200)
		wantAMR(t, pg.AccessToken, "hwk", "user", "mfa")
		if !slices.ContainsFunc((&http.Response{Header: r.Header}).Cookies(), func(c *http.Cookie) bool { return c.Name == "latchkey_refresh" && c.Value == pg.RefreshToken }) {
			t.Error("passkey sign-in set no refresh cookie")
		}
		h.waitAudit(map[string]int{latchkey.AuditPasskeyAdded: 1, latchkey.AuditPasskeySignin: 1})

		r = h.Do(req{Method: "PATCH", Path: "/api/auth/passkeys/" + id, Bearer: pg.AccessToken, Body: map[string]string{"name": " Work laptop "}})
		r.WantStatus(t, 200)
		if n := r.JSON(t)["passkey"].(map[string]any); n["name"] != "Work laptop" || n["last_used_at"] == nil {
			t.Fatalf("renamed passkey %v", n)
		}
		if names := h.passkeyNames(pg); !slices.Equal(names, []string{"Work laptop"}) {
			t.Fatalf("passkeys %v", names)
		}
		h.Do(req{Method: "DELETE", Path: "/api/auth/passkeys/" + id, Bearer: pg.AccessToken, Body: map[string]string{"current_password": testPassword}}).WantStatus(t, 204)
		h.WaitMail(t, "pk@example.com", mail.SubjectPasskeyRemoved, 1)
		h.waitAudit(map[string]int{latchkey.AuditPasskeyRemoved: 1})
		h.passkeySignIn(pk, 2).Problem(t, 401, "invalid_credentials")
	})
}

// TestPasskeyRegisterErrors: every way a registration can be wrong.
func TestPasskeyRegisterErrors(t *testing.T) {
	t.Parallel()
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		g := h.signUp("reg@example.com")
		other := h.signUp("other@example.com")
		opts := "/api/auth/passkeys/register/options"
		h.Do(req{Method: "POST", Path: opts}).Problem(t, 401, "missing_token")
		// No password, and a password sign-in: the password is required.
		wantField(t, h.Do(req{Method: "POST", Path: opts, Bearer: g.AccessToken}), "current_password")
		wantField(t, h.Do(req{Method: "POST", Path: opts, Bearer: g.AccessToken, Body: map[string]string{"current_password": "wrong password"}}), "current_password")
		h.Do(req{Method: "POST", Path: opts, Bearer: g.AccessToken, Body: map[string]string{"password": testPassword}}).Problem(t, 400, "invalid_request")

		pk := testkit.NewPasskey(g.User.ID, vw.AuthenticatorOptions{})
		register := func(bearer string, body map[string]any) response {
			return h.Do(req{Method: "POST", Path: "/api/auth/passkeys/register", Bearer: bearer, Body: body})
		}
		c := h.registerOptions(g, map[string]string{"current_password": testPassword})
		cred := pk.Attest(t, c.Options)
		wantField(t, register(g.AccessToken, map[string]any{"challenge_id": c.ChallengeID}), "credential")
		wantField(t, register(g.AccessToken, map[string]any{"credential": cred}), "challenge_id")
		wantField(t, register(g.AccessToken, map[string]any{"challenge_id": c.ChallengeID, "credential": cred, "name": string(make([]byte, 65))}), "name")
		// Another user cannot finish this user's ceremony.
		register(other.AccessToken, map[string]any{"challenge_id": c.ChallengeID, "credential": cred}).Problem(t, 400, "invalid_token")
		// Garbage is refused, and uses the challenge up.
		wantField(t, register(g.AccessToken, map[string]any{"challenge_id": c.ChallengeID, "credential": map[string]string{"id": "x"}}), "credential")
		register(g.AccessToken, map[string]any{"challenge_id": c.ChallengeID, "credential": cred}).Problem(t, 400, "invalid_token")

		// Without user verification, or from another origin.
		noUV := testkit.NewPasskey(g.User.ID, vw.AuthenticatorOptions{UserNotVerified: true})
		c = h.registerOptions(g, map[string]string{"current_password": testPassword})
		wantField(t, register(g.AccessToken, map[string]any{"challenge_id": c.ChallengeID, "credential": noUV.Attest(t, c.Options)}), "credential")
		evil := testkit.NewPasskey(g.User.ID, vw.AuthenticatorOptions{})
		evil.RP.Origin = "http://evil.localhost:8080"
		c = h.registerOptions(g, map[string]string{"current_password": testPassword})
		wantField(t, register(g.AccessToken, map[string]any{"challenge_id": c.ChallengeID, "credential": evil.Attest(t, c.Options)}), "credential")

		// An expired challenge.
		c = h.registerOptions(g, map[string]string{"current_password": testPassword})
		h.clock.Advance(latchkey.WebAuthnChallengeTTL + time.Second)
		register(g.AccessToken, map[string]any{"challenge_id": c.ChallengeID, "credential": pk.Attest(t, c.Options)}).Problem(t, 400, "invalid_token")
		if names := h.passkeyNames(g); len(names) != 0 {
			t.Fatalf("refused registrations stored passkeys: %v", names)
		}
		// Nor mailed "a passkey was added" (the mail goes with the
		// passkey's insert, not with the challenge's use).
		if ms := h.Mails(t, "reg@example.com", mail.SubjectPasskeyAdded); len(ms) != 0 {
			t.Fatalf("%d passkey-added mails for refused registrations", len(ms))
		}

		// The cap: the 11th passkey is refused at its options.
		for i := range latchkey.MaxPasskeys {
			h.addPasskey(g, testkit.NewPasskey(g.User.ID, vw.AuthenticatorOptions{}), "key "+string(rune('a'+i)))
		}
		h.Do(req{Method: "POST", Path: opts, Bearer: g.AccessToken, Body: map[string]string{"current_password": testPassword}}).Problem(t, 400, "invalid_request")
	})
}

// TestPasskeySignInErrors: every way a passkey sign-in can be wrong.
func TestPasskeySignInErrors(t *testing.T) {
	t.Parallel()
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		g := h.signUp("in@example.com")
		pk := testkit.NewPasskey(g.User.ID, vw.AuthenticatorOptions{})
		h.addPasskey(g, pk, "")
		signin := func(body map[string]any) response {
			return h.Do(req{Method: "POST", Path: "/api/auth/passkeys/signin", Body: body})
		}
		c := h.signInOptions()
		good := pk.Assert(t, c.Options, 5)
		wantField(t, signin(map[string]any{"challenge_id": c.ChallengeID}), "credential")
		wantField(t, signin(map[string]any{"credential": good}), "challenge_id")
		signin(map[string]any{"challenge_id": "no-such-challenge", "credential": good}).Problem(t, 400, "invalid_token")
		h.Do(req{Method: "POST", Path: "/api/auth/passkeys/signin/options", Body: map[string]string{"x": "y"}}).Problem(t, 400, "invalid_request")

		// Not this user's key; no user verification; a user handle of
		// another user; another origin; a garbled signature.
		stranger := testkit.NewPasskey(g.User.ID, vw.AuthenticatorOptions{})
		noUV := &testkit.Passkey{Auth: pk.Auth, Cred: pk.Cred, RP: pk.RP}
		noUV.Auth.Options.UserNotVerified = true
		handle := &testkit.Passkey{Auth: pk.Auth, Cred: pk.Cred, RP: pk.RP}
		handle.Auth.Options.UserHandle = []byte("someone-else")
		evil := &testkit.Passkey{Auth: pk.Auth, Cred: pk.Cred, RP: pk.RP}
		evil.RP.Origin = "http://localhost:9999"
		for name, bad := range map[string]*testkit.Passkey{"stranger": stranger, "no UV": noUV, "user handle": handle, "origin": evil} {
			if r := h.passkeySignIn(bad, 2); r.Status != 401 {
				t.Errorf("%s: %d %s, want 401", name, r.Status, r.Body)
			}
		}
		c = h.signInOptions()
		signin(map[string]any{"challenge_id": c.ChallengeID, "credential": forged(t, pk.Assert(t, c.Options, 3))}).Problem(t, 401, "invalid_credentials")

		// The counter: 10, then 10 again (a copy of the key) is refused and
		// audited; 11 passes.
		h.Grant(h.passkeySignIn(pk, 10), 200)
		h.passkeySignIn(pk, 10).Problem(t, 401, "invalid_credentials")
		h.passkeySignIn(pk, 9).Problem(t, 401, "invalid_credentials")
		h.Grant(h.passkeySignIn(pk, 11), 200)
		h.waitAudit(map[string]int{latchkey.AuditPasskeySignin: 2})
		h.waitReasons(latchkey.AuditSigninFailed, map[string]int{latchkey.ReasonPasskeyCounter: 2, auth.ReasonPasskeyRefused: 5})

		// A disabled user's passkey signs nobody in.
		root := h.admin("root@example.com")
		h.Do(req{Method: "PATCH", Path: "/api/admin/users/" + g.User.ID, Bearer: root.AccessToken, Body: map[string]any{"disabled": true}}).WantStatus(t, 200)
		h.passkeySignIn(pk, 12).Problem(t, 403, "account_disabled")
	})
}

// TestPasskeyRecentMFA: a session that signed in with a second factor less
// than 5 minutes ago adds and removes passkeys without the password; an
// older one, or a password-only one, needs it. Removal checks the password
// before it looks the passkey up, and another user's passkey is 404.
func TestPasskeyRecentMFA(t *testing.T) {
	t.Parallel()
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		g := h.signUp("recent@example.com")
		pk := testkit.NewPasskey(g.User.ID, vw.AuthenticatorOptions{})
		id := h.addPasskey(g, pk, "one")
		other := h.signUp("someone@example.com")
		otherID := h.addPasskey(other, testkit.NewPasskey(other.User.ID, vw.AuthenticatorOptions{}), "theirs")

		fresh := h.Grant(h.passkeySignIn(pk, 1), 200)
		h.registerOptions(fresh, nil)
		h.registerOptions(fresh, map[string]any{})
		del := func(g grant, id string, body any) response {
			return h.Do(req{Method: "DELETE", Path: "/api/auth/passkeys/" + id, Bearer: g.AccessToken, Body: body})
		}
		del(fresh, otherID, nil).Problem(t, 404, "not_found")
		wantField(t, del(g, otherID, nil), "current_password") // the password first
		del(g, otherID, map[string]string{"current_password": testPassword}).Problem(t, 404, "not_found")
		h.Do(req{Method: "PATCH", Path: "/api/auth/passkeys/" + otherID, Bearer: g.AccessToken, Body: map[string]string{"name": "mine"}}).Problem(t, 404, "not_found")
		wantField(t, h.Do(req{Method: "PATCH", Path: "/api/auth/passkeys/" + id, Bearer: g.AccessToken, Body: map[string]any{}}), "name")
		wantField(t, h.Do(req{Method: "PATCH", Path: "/api/auth/passkeys/" + id, Bearer: g.AccessToken, Body: map[string]any{"name": "a\u202eb"}}), "name")

		// A refresh keeps the sign-in's time: 5 minutes on, the session is not
		// recent however fresh its token.
		h.clock.Advance(auth.RecentMFA)
		rg := h.Grant(h.Refresh(fresh.RefreshToken), 200)
		wantField(t, h.Do(req{Method: "POST", Path: "/api/auth/passkeys/register/options", Bearer: rg.AccessToken}), "current_password")
		wantField(t, del(rg, id, map[string]any{}), "current_password")
		del(rg, id, map[string]string{"current_password": "wrong password"}).Problem(t, 400, "validation_failed")
		del(rg, id, map[string]string{"current_password": testPassword}).WantStatus(t, 204)
		if names := h.passkeyNames(g); len(names) != 0 {
			t.Fatalf("passkeys left %v", names)
		}
		if names := h.passkeyNames(other); len(names) != 1 {
			t.Fatalf("the other user's passkeys %v", names)
		}
	})
}

// TestPasskeyAsSecondStep: with TOTP on and a passkey, mfa_required offers
// passkey, and the passkey completes the sign-in with amr pwd swk user mfa
// (a synced key); another user's passkey, a refused assertion or a dead
// challenge is invalid_credentials and costs an attempt; the admin reset
// removes passkeys too.
func TestPasskeyAsSecondStep(t *testing.T) {
	t.Parallel()
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		g := h.signUp("two@example.com")
		_, codes, g := h.enableTOTP(g)
		if m := h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "two@example.com", "password": testPassword}}).Problem(t, 401, "mfa_required"); slices.Contains(toStrings(m["methods"]), "passkey") {
			t.Fatalf("methods %v offer passkey to a user without one", m["methods"])
		}
		synced := testkit.NewPasskey(g.User.ID, vw.AuthenticatorOptions{BackupEligible: true, BackupState: true})
		h.addPasskey(g, synced, "synced")
		other := h.signUp("three@example.com")
		theirs := testkit.NewPasskey(other.User.ID, vw.AuthenticatorOptions{})
		h.addPasskey(other, theirs, "")

		m := h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "two@example.com", "password": testPassword}}).Problem(t, 401, "mfa_required")
		if got := toStrings(m["methods"]); !slices.Equal(got, []string{"totp", "recovery_code", "passkey"}) {
			t.Fatalf("methods %v", got)
		}
		tok := m["mfa_token"].(string)
		h.Secrets = append(h.Secrets, tok)
		step := func(pk *testkit.Passkey, counter uint32, mutate func(map[string]any)) response {
			c := h.signInOptions()
			body := map[string]any{"mfa_token": tok, "challenge_id": c.ChallengeID, "credential": pk.Assert(t, c.Options, counter)}
			if mutate != nil {
				mutate(body)
			}
			return h.Do(req{Method: "POST", Path: "/api/auth/signin/mfa", Body: body})
		}
		// Malformed: no attempt counted.
		step(synced, 1, func(b map[string]any) { delete(b, "credential") }).Problem(t, 400, "validation_failed")
		step(synced, 1, func(b map[string]any) { b["code"] = "123456" }).Problem(t, 400, "validation_failed")
		// Four failures: another user's passkey, a dead challenge, no UV, a
		// bad signature; the fifth attempt still works.
		step(theirs, 1, nil).Problem(t, 401, "invalid_credentials")
		step(synced, 1, func(b map[string]any) { b["challenge_id"] = "dead" }).Problem(t, 401, "invalid_credentials")
		noUV := &testkit.Passkey{Auth: synced.Auth, Cred: synced.Cred, RP: synced.RP}
		noUV.Auth.Options.UserNotVerified = true
		step(noUV, 1, nil).Problem(t, 401, "invalid_credentials")
		step(synced, 1, func(b map[string]any) { b["credential"] = forged(t, b["credential"].(json.RawMessage)) }).Problem(t, 401, "invalid_credentials")
		ok := h.Grant(step(synced, 2, nil), 200)
		wantAMR(t, ok.AccessToken, "pwd", "swk", "user", "mfa")
		step(synced, 3, nil).Problem(t, 401, "invalid_token") // used
		h.waitAudit(map[string]int{latchkey.AuditMFAChallengeFailed: 4})

		// Five failures kill the token.
		tok = h.mfaToken("two@example.com")
		for range 5 {
			step(theirs, 1, nil).Problem(t, 401, "invalid_credentials")
		}
		step(synced, 4, nil).Problem(t, 401, "invalid_token")
		// A recovery code is still a way in.
		tok = h.mfaToken("two@example.com")
		h.Grant(h.signInMFA(map[string]string{"mfa_token": tok, "recovery_code": codes[0]}), 200)

		// The admin reset removes the passkeys with the TOTP factor.
		root := h.admin("root@example.com")
		h.Do(req{Method: "POST", Path: "/api/admin/users/" + g.User.ID + "/mfa/reset", Bearer: root.AccessToken}).WantStatus(t, 204)
		h.passkeySignIn(synced, 5).Problem(t, 401, "invalid_credentials")
		h.Grant(h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "two@example.com", "password": testPassword}}), 200)
	})
}

// wantField wants 400 validation_failed naming field.
func wantField(t *testing.T, r response, field string) {
	t.Helper()
	m := r.Problem(t, 400, "validation_failed")
	errs, _ := m["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["field"] == field {
			return
		}
	}
	t.Errorf("%s: validation_failed on %v, want %s", r.What, errs, field)
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// waitReasons waits until the audit log holds want events of type typ of
// each reason.
func (h *harness) waitReasons(typ string, want map[string]int) {
	h.t.Helper()
	var n map[string]int
	if _, ok := testkit.Poll(5*time.Second, 20*time.Millisecond, func() bool {
		events, _, err := h.store.ListAudit(context.Background(), latchkey.AuditFilter{Limit: 200, Type: typ})
		if err != nil {
			h.t.Fatal(err)
		}
		n = map[string]int{}
		for _, e := range events {
			n[e.Reason]++
		}
		for r, c := range want {
			if n[r] != c {
				return false
			}
		}
		return true
	}); !ok {
		h.t.Errorf("%s events by reason %v, want %v", typ, n, want)
	}
}

// forged is an assertion with its signature replaced.
func forged(t *testing.T, cred json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(cred, &m); err != nil {
		t.Fatal(err)
	}
	m["response"].(map[string]any)["signature"] = "AAAA"
	return m
}
