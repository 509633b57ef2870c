package auth_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

var pwd = []string{latchkey.AMRPassword}

// TestMFATokenAttempts: five codes, right or wrong, then the token is
// dead; it dies after 5 minutes too.
func TestMFATokenAttempts(t *testing.T) {
	a, clock, u, secret, _ := enrolled(t)
	it, err := a.Auth.IssueMFAToken(bg, u.ID, pwd)
	if err != nil {
		t.Fatal(err)
	}
	if len(it.Secret) != 43 || it.ExpiresIn != 5*time.Minute {
		t.Fatalf("mfa_token %q expires in %v, want 43 base64url characters and 5m", it.Secret, it.ExpiresIn)
	}
	for i := range latchkey.MaxMFAAttempts {
		_, _, err := a.Auth.SecondFactor(bg, it.Secret, "000000", "")
		if i < latchkey.MaxMFAAttempts-1 || codeAt(t, secret, clock.Now()) != "000000" {
			wantErr(t, err, latchkey.EINVALIDCREDENTIALS, "a wrong code")
		}
	}
	_, _, err = a.Auth.SecondFactor(bg, it.Secret, codeAt(t, secret, clock.Now()), "")
	wantErr(t, err, latchkey.EINVALIDTOKEN, "a right code after five attempts")

	// A right code on the fifth attempt still works.
	it, err = a.Auth.IssueMFAToken(bg, u.ID, pwd)
	if err != nil {
		t.Fatal(err)
	}
	for range latchkey.MaxMFAAttempts - 1 {
		_, _, err := a.Auth.SecondFactor(bg, it.Secret, "12345", "") // malformed: an attempt all the same
		wantErr(t, err, latchkey.EINVALIDCREDENTIALS, "a malformed code")
	}
	if _, _, err := a.Auth.SecondFactor(bg, it.Secret, codeAt(t, secret, clock.Now()), ""); err != nil {
		t.Fatalf("the right code on the fifth attempt: %v", err)
	}

	// Dead at 5 minutes.
	it, err = a.Auth.IssueMFAToken(bg, u.ID, pwd)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(latchkey.MFATokenTTL)
	_, _, err = a.Auth.SecondFactor(bg, it.Secret, codeAt(t, secret, clock.Now()), "")
	wantErr(t, err, latchkey.EINVALIDTOKEN, "an mfa_token at 5 minutes")

	for _, bad := range []string{"", "x", it.Secret + "A", it.Secret[:42]} {
		_, err := a.Auth.CheckMFAToken(bg, bad)
		wantErr(t, err, latchkey.EINVALIDTOKEN, "mfa_token "+bad)
	}
}

// TestSecondFactor: a TOTP code or a recovery code completes the sign-in
// once, with the amr of each; the token is single use.
func TestSecondFactor(t *testing.T) {
	a, clock, u, secret, codes := enrolled(t)
	cases := []struct {
		code, recovery string
		amr            []string
	}{
		{code: codeAt(t, secret, clock.Now()), amr: []string{"pwd", "otp", "mfa"}},
		{recovery: codes[0], amr: []string{"pwd", "mfa"}},
	}
	for _, c := range cases {
		it, err := a.Auth.IssueMFAToken(bg, u.ID, pwd)
		if err != nil {
			t.Fatal(err)
		}
		tok, amr, err := a.Auth.SecondFactor(bg, it.Secret, c.code, c.recovery)
		if err != nil || tok.UserID != u.ID || !slices.Equal(amr, c.amr) {
			t.Fatalf("SecondFactor: %v, amr %v, want %v for %s", err, amr, c.amr, u.ID)
		}
		// Used: the token is gone whatever comes with it.
		_, _, err = a.Auth.SecondFactor(bg, it.Secret, "", codes[5])
		wantErr(t, err, latchkey.EINVALIDTOKEN, "a used mfa_token")
	}
	it, err := a.Auth.IssueMFAToken(bg, u.ID, pwd)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{"", ""}, {"123456", codes[1]}} {
		_, _, err := a.Auth.SecondFactor(bg, it.Secret, c[0], c[1])
		wantErr(t, err, latchkey.EINVALID, "neither or both codes")
	}
	// The same TOTP code again, and the same recovery code again.
	_, _, err = a.Auth.SecondFactor(bg, it.Secret, cases[0].code, "")
	wantErr(t, err, latchkey.EINVALIDCREDENTIALS, "a reused TOTP code")
	_, _, err = a.Auth.SecondFactor(bg, it.Secret, "", codes[0])
	wantErr(t, err, latchkey.EINVALIDCREDENTIALS, "a reused recovery code")
	tok, _, err := a.Auth.SecondFactor(bg, it.Secret, "", codes[1])
	if err != nil {
		t.Fatalf("a recovery code after two failures: %v", err)
	}
	if tok.Attempts != 3 {
		t.Fatalf("%d attempts counted, want 3: neither-or-both counts none", tok.Attempts)
	}
}

// TestSecondFactorChangeOnce: the change the context carries (here an
// audit event) is made once, with the token's use; a failed attempt
// makes none of it.
func TestSecondFactorChangeOnce(t *testing.T) {
	a, clock, u, secret, _ := enrolled(t)
	it, err := a.Auth.IssueMFAToken(bg, u.ID, pwd)
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		evs, _, err := a.Store.ListAudit(bg, latchkey.AuditFilter{UserID: u.ID, Type: latchkey.AuditSignin, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	before := count()
	ev := &latchkey.AuditEvent{Type: latchkey.AuditSignin, UserID: u.ID}
	cctx := latchkey.WithAudit(bg, ev)
	_, _, err = a.Auth.SecondFactor(cctx, it.Secret, codeAt(t, secret, clock.Now().Add(-time.Hour)), "")
	wantErr(t, err, latchkey.EINVALIDCREDENTIALS, "a wrong code")
	if n := count(); n != before {
		t.Fatalf("a wrong code recorded %d events", n-before)
	}
	if _, _, err := a.Auth.SecondFactor(cctx, it.Secret, codeAt(t, secret, clock.Now()), ""); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != before+1 {
		t.Fatalf("a right code recorded %d events, want 1", n-before)
	}
}

// usedMeanwhile is a store in which another request uses every mfa_token
// just before this one does.
type usedMeanwhile struct{ latchkey.Store }

func (s usedMeanwhile) UseMFAToken(ctx context.Context, id string, now time.Time) error {
	if err := s.Store.UseMFAToken(context.Background(), id, now); err != nil {
		return err
	}
	return s.Store.UseMFAToken(ctx, id, now)
}

// TestSecondFactorLostToken: a right code whose token another request
// used meanwhile fails closed, and the change meant for the sign-in is
// not made (nor made early, with the code).
func TestSecondFactorLostToken(t *testing.T) {
	a, clock, u, secret, codes := enrolled(t)
	svc := withStore(a, usedMeanwhile{a.Store})
	for _, c := range [][2]string{{codeAt(t, secret, clock.Now()), ""}, {"", codes[0]}} {
		it, err := svc.IssueMFAToken(bg, u.ID, pwd)
		if err != nil {
			t.Fatal(err)
		}
		ev := &latchkey.AuditEvent{Type: latchkey.AuditSignin, UserID: u.ID}
		_, _, err = svc.SecondFactor(latchkey.WithAudit(bg, ev), it.Secret, c[0], c[1])
		wantErr(t, err, latchkey.EINVALIDTOKEN, "a token used meanwhile")
		if ev.ID != "" {
			t.Fatalf("the sign-in's event was recorded (%s) though the token was lost", ev.ID)
		}
	}
}

// TestVerifyCode: a TOTP code or a recovery code, each by its shape, each
// once.
func TestVerifyCode(t *testing.T) {
	a, clock, u, secret, codes := enrolled(t)
	code := codeAt(t, secret, clock.Now())
	if amr, err := a.Auth.VerifyCode(bg, u.ID, code); err != nil || !slices.Equal(amr, []string{"otp", "mfa"}) {
		t.Fatalf("TOTP code: %v, %v", amr, err)
	}
	if amr, err := a.Auth.VerifyCode(bg, u.ID, codes[0]); err != nil || !slices.Equal(amr, []string{"mfa"}) {
		t.Fatalf("recovery code: %v, %v", amr, err)
	}
	for _, again := range []string{code, codes[0], "", " " + code, "0000-0000"} {
		_, err := a.Auth.VerifyCode(bg, u.ID, again)
		wantErr(t, err, latchkey.EINVALIDCREDENTIALS, "code "+again)
	}
}
