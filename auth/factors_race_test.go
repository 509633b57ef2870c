package auth_test

// Sign-ins racing a change of the user's factors: the interleaving is
// forced by a store that runs the other request just before the sign-in's
// write, exactly as two concurrent requests may interleave (found by
// review). A session stored after a "revoke every session" must not
// survive it.

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	vw "github.com/descope/virtualwebauthn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/testkit"
)

type hookStore struct {
	latchkey.Store
	before func() // run once, before the next CreateSession
}

func (h *hookStore) CreateSession(ctx context.Context, s *latchkey.Session, max int) ([]string, error) {
	if f := h.before; f != nil {
		h.before = nil
		f()
	}
	return h.Store.CreateSession(ctx, s, max)
}

// A password-only sign-in racing "turn TOTP on" keeps a pwd session on an
// account that now has TOTP, and that session can add a passkey.
func TestSignInRacesEnableTOTP(t *testing.T) {
	e := newPasskeyEnv(t)
	u := e.signUp("race@example.com")
	victim, err := e.s.SignIn(bg, "race@example.com", testkit.Password, auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	en, err := e.s.StartTOTP(bg, u.ID, victim.SessionID, testkit.Password, auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	hs := &hookStore{Store: e.s.Store}
	e.s.Store = hs
	hs.before = func() { // the victim confirms while the attacker's sign-in is between its check and its insert
		if _, _, err := e.s.EnableTOTP(bg, u.ID, victim.SessionID, en.Factor.ID, codeAt(t, en.Secret, e.clock.Now()), auth.Client{}); err != nil {
			t.Fatal(err)
		}
	}
	attacker, err := e.s.SignIn(bg, "race@example.com", testkit.Password, auth.Client{})
	var mr *auth.MFARequired
	if !errors.As(err, &mr) || attacker != nil {
		t.Errorf("a password sign-in across TOTP turned on: %v, want mfa_required", err)
	}
	if _, err := e.s.Store.ConfirmedTOTPFactor(bg, u.ID); err != nil {
		t.Fatalf("TOTP not on: %v", err)
	}
	// The session it stored is revoked.
	sessions, _, err := e.s.Store.ListSessions(bg, latchkey.SessionFilter{UserID: u.ID, Now: e.clock.Now(), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		if !slices.Contains(s.AMR, latchkey.AMROTP) {
			t.Errorf("password-only session %s (amr %v) survives turning TOTP on", s.ID, s.AMR)
		}
	}
}

// A passkey sign-in racing the admin MFA reset keeps an mfa session whose
// user's factors are all gone; as "recent MFA" it adds a new passkey
// without the password.
func TestPasskeySignInRacesResetMFA(t *testing.T) {
	e := newPasskeyEnv(t)
	u := e.signUp("reset@example.com")
	d := newDevice(u, vw.AuthenticatorOptions{})
	if _, err := e.register(u, d, rpOK); err != nil {
		t.Fatal(err)
	}
	admin := e.signUp("admin@example.com")
	hs := &hookStore{Store: e.s.Store}
	e.s.Store = hs
	hs.before = func() {
		if err := e.s.ResetMFA(bg, admin.ID, u.ID, auth.Client{}); err != nil {
			t.Fatal(err)
		}
	}
	in, opts := e.beginSignIn()
	g, err := e.s.SignInPasskey(bg, auth.Client{}, in.ChallengeID, assertion(d, rpOK, opts, 1))
	if latchkey.ErrorCode(err) != latchkey.EINVALIDCREDENTIALS || g != nil {
		t.Errorf("a passkey sign-in across the reset that removed the passkey: %v, want invalid_credentials", err)
	}
	if keys, _ := e.s.Store.ListPasskeys(bg, u.ID); len(keys) != 0 {
		t.Fatalf("reset left %d passkeys", len(keys))
	}
	sessions, _, err := e.s.Store.ListSessions(bg, latchkey.SessionFilter{UserID: u.ID, Now: e.clock.Now(), Limit: 10})
	if err != nil || len(sessions) != 0 {
		t.Errorf("live sessions after the reset: %d, %v", len(sessions), err)
	}
}

type hookUseStore struct {
	latchkey.Store
	before func()
}

func (h *hookUseStore) UpdatePasskeyUse(ctx context.Context, id string, n uint32, b bool, at time.Time) error {
	if f := h.before; f != nil {
		h.before = nil
		f()
	}
	return h.Store.UpdatePasskeyUse(ctx, id, n, b, at)
}

// A passkey removed while its assertion is being verified: the sign-in
// must be the contract's 401 invalid_credentials, not a 404.
func TestPasskeySignInRacesRemoval(t *testing.T) {
	e := newPasskeyEnv(t)
	u := e.signUp("rm@example.com")
	d := newDevice(u, vw.AuthenticatorOptions{})
	p, err := e.register(u, d, rpOK)
	if err != nil {
		t.Fatal(err)
	}
	hs := &hookUseStore{Store: e.s.Store}
	e.s.Store = hs
	hs.before = func() {
		if err := e.a.Store.DeletePasskey(bg, u.ID, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	in, opts := e.beginSignIn()
	_, err = e.s.SignInPasskey(bg, auth.Client{}, in.ChallengeID, assertion(d, rpOK, opts, 1))
	if latchkey.ErrorCode(err) != latchkey.EINVALIDCREDENTIALS {
		t.Errorf("sign-in with a passkey removed meanwhile: %v (code %s), want invalid_credentials", err, latchkey.ErrorCode(err))
	}
}
