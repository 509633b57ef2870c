package auth_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	vw "github.com/descope/virtualwebauthn"
	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/testkit"
)

// The cost of a sign-in's second factor, and of a passkey sign-in, on
// SQLite through the service (the HTTP layer adds what BenchmarkRefresh's
// HTTP twin shows). Compare with BenchmarkRefresh: both open or rotate a
// session and sign a token; neither hashes a password. The password step
// itself is password.BenchmarkHash (argon2id), which these never pay.

func benchApp(b *testing.B) (*app.App, *testkit.Clock, *latchkey.User) {
	b.Helper()
	clock := testkit.NewClock()
	cfg := testkit.Config(b)
	cfg.Now = clock.Now
	a := testkit.NewApp(b, cfg)
	g, err := a.Auth.SignUp(context.Background(), "bench@example.com", testkit.Password, "", testClient)
	if err != nil {
		b.Fatal(err)
	}
	return a, clock, g.User
}

// BenchmarkSignInTOTP is the second step with a TOTP code: an mfa_token
// issued (as the password step does), then SignInMFA: the token's
// attempt, the sealed secret opened and the code checked and its step
// stored, the token used, the session opened and the access token signed.
// The clock moves one 30 s step per sign-in, as no step is accepted twice.
func BenchmarkSignInTOTP(b *testing.B) {
	ctx := context.Background()
	a, clock, u := benchApp(b)
	e, err := a.Auth.EnrollTOTP(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	code := func() string {
		clock.Advance(30 * time.Second)
		c, err := totp.GenerateCode(e.Secret, clock.Now())
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	if _, err := a.Auth.ConfirmTOTP(ctx, u.ID, e.Factor.ID, code()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		t, err := a.Auth.IssueMFAToken(ctx, u.ID, []string{latchkey.AMRPassword})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.Auth.SignInMFA(ctx, auth.MFAStep{MFAToken: t.Secret, Code: code()}, testClient); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignInPasskey is a whole passkey sign-in: the options (a
// challenge stored), the authenticator's assertion (a P-256 signature, the
// client's share, made in Go by virtualwebauthn), and SignInPasskey: the
// challenge taken, the passkey found, the signature checked, the counter
// stored, the session opened and the access token signed.
func BenchmarkSignInPasskey(b *testing.B) {
	ctx := context.Background()
	a, _, u := benchApp(b)
	pk := testkit.NewPasskey(u.ID, vw.AuthenticatorOptions{})
	reg, err := a.Auth.BeginPasskeyRegistration(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.Auth.FinishPasskeyRegistration(ctx, testClient, u, reg.ChallengeID, pk.Attest(b, reg.Options), ""); err != nil {
		b.Fatal(err)
	}
	var counter uint32
	b.ReportAllocs()
	for b.Loop() {
		in, err := a.Auth.BeginPasskeySignIn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		counter++
		cred := pk.Assert(b, in.Options, counter)
		if _, err := a.Auth.SignInPasskey(ctx, testClient, in.ChallengeID, json.RawMessage(cred)); err != nil {
			b.Fatal(err)
		}
	}
}
