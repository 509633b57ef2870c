package auth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image/png"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/testkit"
)

var bg = context.Background()

// codeAt is the code an authenticator app shows at at, made by
// pquerna/otp itself.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// toStepStart moves the clock to the start of the next 30 s step plus
// into, so that a test knows which step "now" is in.
func toStepStart(clock *testkit.Clock, into time.Duration) {
	now := clock.Now()
	next := now.Truncate(30 * time.Second).Add(30 * time.Second)
	clock.Advance(next.Sub(now) + into)
}

// wantErr fails unless err has the code.
func wantErr(t *testing.T, err error, code, what string) {
	t.Helper()
	if latchkey.ErrorCode(err) != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

// enrolled is a user of a on clock with a confirmed TOTP factor: its
// secret (base32) and recovery codes. The confirming code was the one
// of the step before the current one, so that the current step is free.
func enrolled(t *testing.T) (*app.App, *testkit.Clock, *latchkey.User, string, []string) {
	t.Helper()
	a, clock, u := tokenApp(t)
	toStepStart(clock, time.Second)
	e, err := a.Auth.EnrollTOTP(bg, u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Auth.ConfirmTOTP(bg, u.ID, e.Factor.ID, codeAt(t, e.Secret, clock.Now().Add(-30*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	return a, clock, u, e.Secret, c.RecoveryCodes
}

var recoveryShape = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`)

func TestTOTPEnrolAndConfirm(t *testing.T) {
	a, clock, u := tokenApp(t)
	e, err := a.Auth.EnrollTOTP(bg, u)
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(e.URI)
	if err != nil {
		t.Fatal(err)
	}
	if key.Issuer() != auth.DefaultTOTPIssuer || key.AccountName() != u.Email || key.Period() != 30 ||
		key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 || key.Secret() != e.Secret || len(e.Secret) != 32 {
		t.Fatalf("otpauth URI %q (secret %q) is not RFC 6238 SHA-1/6/30 for %s", e.URI, e.Secret, u.Email)
	}
	b64, ok := strings.CutPrefix(e.QRPNG, "data:image/png;base64,")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil {
		t.Fatalf("QR is not a PNG data URL: %.40q", e.QRPNG)
	}
	if img, err := png.Decode(bytes.NewReader(raw)); err != nil || img.Bounds().Dx() < 200 {
		t.Fatalf("QR PNG: %v", err)
	}
	// Sealed at rest: not the secret, not even in base32.
	stored, err := a.Store.FindTOTPFactor(bg, u.ID, e.Factor.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Confirmed() || len(stored.Secret) != 20+29 || bytes.Contains(stored.Secret, []byte(e.Secret)) {
		t.Fatalf("stored factor %+v: want unconfirmed, sealed (49 bytes)", stored)
	}

	// An unconfirmed factor turns nothing on.
	_, err = a.Auth.VerifyTOTP(bg, u.ID, codeAt(t, e.Secret, clock.Now()))
	wantErr(t, err, latchkey.EINVALIDCREDENTIALS, "code before confirmation")
	_, err = a.Auth.ConfirmTOTP(bg, u.ID, e.Factor.ID, "000000")
	if codeAt(t, e.Secret, clock.Now()) != "000000" {
		wantErr(t, err, latchkey.EINVALIDCREDENTIALS, "confirm with a wrong code")
	}
	code := codeAt(t, e.Secret, clock.Now())
	c, err := a.Auth.ConfirmTOTP(bg, u.ID, e.Factor.ID, code)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rc := range c.RecoveryCodes {
		if !recoveryShape.MatchString(rc) || seen[rc] {
			t.Fatalf("recovery code %q: want xxxx-xxxx-xxxx-xxxx in Crockford base32, all different", rc)
		}
		seen[rc] = true
	}
	if len(seen) != latchkey.RecoveryCodeCount {
		t.Fatalf("%d recovery codes, want %d", len(seen), latchkey.RecoveryCodeCount)
	}
	// The confirming code is spent; confirmed once; one factor at a time.
	_, err = a.Auth.VerifyTOTP(bg, u.ID, code)
	wantErr(t, err, latchkey.EINVALIDCREDENTIALS, "the confirming code again")
	_, err = a.Auth.ConfirmTOTP(bg, u.ID, e.Factor.ID, code)
	wantErr(t, err, latchkey.EINVALID, "confirm twice")
	_, err = a.Auth.EnrollTOTP(bg, u)
	wantErr(t, err, latchkey.EINVALID, "a second factor")
	_, err = a.Auth.ConfirmTOTP(bg, u.ID, "no-such-factor", code)
	wantErr(t, err, latchkey.ENOTFOUND, "confirm an unknown factor")
}

// TestTOTPWindow: the previous, current and next steps are accepted, two
// steps away is not, and an accepted step and every earlier one are spent.
func TestTOTPWindow(t *testing.T) {
	a, clock, u, secret, _ := enrolled(t)
	now := clock.Now() // 1 s into step S; S-1 confirmed the factor
	step := 30 * time.Second
	check := func(at time.Time, want string, what string) {
		t.Helper()
		_, err := a.Auth.VerifyTOTP(bg, u.ID, codeAt(t, secret, at))
		wantErr(t, err, want, what)
	}
	check(now.Add(-step), latchkey.EINVALIDCREDENTIALS, "S-1, the confirming step, again")
	check(now.Add(-2*step), latchkey.EINVALIDCREDENTIALS, "S-2")
	check(now.Add(2*step), latchkey.EINVALIDCREDENTIALS, "S+2")
	check(now, "", "S")
	check(now, latchkey.EINVALIDCREDENTIALS, "S again")
	check(now.Add(step), "", "S+1, the next step")
	check(now, latchkey.EINVALIDCREDENTIALS, "S after S+1")

	// At the last instant of a step, the next one is still in reach and
	// two ahead is not; one step later, the previous is in reach.
	toStepStart(clock, step-time.Nanosecond) // the end of S+1
	now = clock.Now()
	check(now.Add(2*step), latchkey.EINVALIDCREDENTIALS, "two steps past the end of S+1")
	check(now.Add(step), "", "S+2 at the end of S+1")
	clock.Advance(2 * step) // S+3, at its end
	check(clock.Now().Add(-step), latchkey.EINVALIDCREDENTIALS, "S+2 again, now the previous step")
	check(clock.Now(), "", "S+3, the current step")
}

// TestTOTPExactInput: only the 6 digits as typed; pquerna/otp would trim
// the spaces. Malformed input is not counted towards the lock.
func TestTOTPExactInput(t *testing.T) {
	a, clock, u, secret, _ := enrolled(t)
	code := codeAt(t, secret, clock.Now())
	full := strings.Map(func(r rune) rune { return r - '0' + '０' }, code)
	for _, in := range []string{
		" " + code, code + " ", code + "\n", "\t" + code, code[:3] + " " + code[3:], code[:3] + "-" + code[3:],
		code[:5], code + "0", full, "", "abcdef", "+" + code[1:], "12345\x00",
	} {
		_, err := a.Auth.VerifyTOTP(bg, u.ID, in)
		wantErr(t, err, latchkey.EINVALIDCREDENTIALS, "input "+strings.ReplaceAll(in, "\x00", `\0`))
	}
	f, err := a.Store.ConfirmedTOTPFactor(bg, u.ID)
	if err != nil || f.Failures != 0 {
		t.Fatalf("malformed input counted: %v failures (%v)", f.Failures, err)
	}
	if _, err := a.Auth.VerifyTOTP(bg, u.ID, code); err != nil {
		t.Fatalf("the code as typed: %v", err)
	}
	// A reused code is a wrong one: it counts.
	_, err = a.Auth.VerifyTOTP(bg, u.ID, code)
	wantErr(t, err, latchkey.EINVALIDCREDENTIALS, "the code again")
	if f, err = a.Store.ConfirmedTOTPFactor(bg, u.ID); err != nil || f.Failures != 1 {
		t.Fatalf("a reused code: %d failures counted (%v), want 1", f.Failures, err)
	}
}

// TestTOTPLock: the tenth consecutive wrong code locks TOTP for 15
// minutes, right codes included; recovery codes still work.
func TestTOTPLock(t *testing.T) {
	a, clock, u, secret, recovery := enrolled(t)
	wrong := func() error {
		c := codeAt(t, secret, clock.Now().Add(-time.Hour)) // a real code, of long ago
		_, err := a.Auth.VerifyTOTP(bg, u.ID, c)
		return err
	}
	for i := 1; i < latchkey.MaxTOTPFailures; i++ {
		if err := wrong(); latchkey.ErrorCode(err) != latchkey.EINVALIDCREDENTIALS {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	err := wrong()
	wantErr(t, err, latchkey.ERATELIMITED, "the tenth wrong code")
	var le *latchkey.Error
	if !errors.Is(err, auth.ErrTOTPLockedNow) || !errors.As(err, &le) || le.RetryAfter != latchkey.TOTPLockout {
		t.Fatalf("the locking code: %v, want ErrTOTPLockedNow and Retry-After %v", err, latchkey.TOTPLockout)
	}
	clock.Advance(latchkey.TOTPLockout - time.Second)
	_, err = a.Auth.VerifyTOTP(bg, u.ID, codeAt(t, secret, clock.Now()))
	wantErr(t, err, latchkey.ERATELIMITED, "a right code while locked")
	if errors.Is(err, auth.ErrTOTPLockedNow) || !errors.As(err, &le) || le.RetryAfter != time.Second {
		t.Fatalf("locked: %v (Retry-After %v), want 1s and not 'locked now'", err, le.RetryAfter)
	}
	if err := a.Auth.UseRecoveryCode(bg, u.ID, recovery[0]); err != nil {
		t.Fatalf("recovery code while locked: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := a.Auth.VerifyTOTP(bg, u.ID, codeAt(t, secret, clock.Now())); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

// TestTOTPSecretBound: a sealed secret copied into another user's factor
// does not open there, so it cannot pass that user's codes.
func TestTOTPSecretBound(t *testing.T) {
	a, clock, ada, secret, _ := enrolled(t)
	g, err := a.Auth.SignUp(bg, "bob@example.com", testkit.Password, "", auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := a.Auth.EnrollTOTP(bg, g.User)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Auth.ConfirmTOTP(bg, g.User.ID, e.Factor.ID, codeAt(t, e.Secret, clock.Now())); err != nil {
		t.Fatal(err)
	}
	_, err = a.Store.Writer().ExecContext(bg, `UPDATE totp_factors SET secret = (SELECT secret FROM totp_factors WHERE user_id = $1) WHERE user_id = $2`,
		ada.ID, g.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Auth.VerifyTOTP(bg, g.User.ID, codeAt(t, secret, clock.Now().Add(30*time.Second)))
	if err == nil || latchkey.ErrorCode(err) != latchkey.EINTERNAL {
		t.Fatalf("ada's secret in bob's row: %v, want an internal error", err)
	}
}
