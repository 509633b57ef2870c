package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/testkit"
)

// tokenApp is an app on a settable clock, with a user.
func tokenApp(t *testing.T) (*app.App, *testkit.Clock, *latchkey.User) {
	t.Helper()
	clock := testkit.NewClock()
	cfg := testkit.Config(t)
	cfg.Now = clock.Now
	a := testkit.NewApp(t, cfg)
	g, err := a.Auth.SignUp(context.Background(), "ada@example.com", testkit.Password, "", auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return a, clock, g.User
}

// wantInvalid fails unless err is the one invalid_token answer.
func wantInvalid(t *testing.T, err error, what string) {
	t.Helper()
	if latchkey.ErrorCode(err) != latchkey.EINVALIDONETIME {
		t.Fatalf("%s: %v, want invalid_token", what, err)
	}
	if msg := latchkey.ErrorMessage(err); msg != "the link or code is invalid or has expired" {
		t.Fatalf("%s: message %q says more than the others", what, msg)
	}
}

// TestIssueTokenSecrets: the link is 32 random bytes in base64url, the
// code 6 digits; the store holds the link's SHA-256 and no code at all.
func TestIssueTokenSecrets(t *testing.T) {
	a, clock, u := tokenApp(t)
	ctx := context.Background()
	it, err := a.Auth.IssueToken(ctx, u, latchkey.PurposeReset, "")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(it.Link)
	if err != nil || len(raw) != auth.LinkSecretSize {
		t.Fatalf("link %q: %d bytes, %v", it.Link, len(raw), err)
	}
	if h := sha256.Sum256(raw); !bytes.Equal(it.Token.LinkHash, h[:]) {
		t.Fatal("the stored link hash is not the SHA-256 of the secret")
	}
	if len(it.Code) != 6 || strings.Trim(it.Code, "0123456789") != "" {
		t.Fatalf("code %q is not 6 digits", it.Code)
	}
	if bytes.Contains(it.Token.CodeMAC, []byte(it.Code)) || len(it.Token.CodeMAC) != sha256.Size {
		t.Fatalf("code MAC %x", it.Token.CodeMAC)
	}
	if it.Token.Email != u.Email || it.Token.UserID != u.ID || !it.Token.ExpiresAt.Equal(clock.Now().Add(30*time.Minute)) {
		t.Fatalf("token %+v", it.Token)
	}
	// The code's MAC is not a plain hash of the code: without the key,
	// trying the million codes finds nothing.
	if h := sha256.Sum256([]byte(it.Code)); bytes.Equal(h[:], it.Token.CodeMAC) {
		t.Fatal("the code is stored as its plain SHA-256")
	}
}

// TestCodesAreUniform: many codes, all 6 digits, leading zeros kept, and
// spread over the first digit.
func TestCodesAreUniform(t *testing.T) {
	a, _, u := tokenApp(t)
	first := map[byte]int{}
	for i := 0; i < 3000; i++ {
		it, err := a.Auth.NewToken(u, latchkey.PurposeVerifyEmail, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(it.Code) != 6 {
			t.Fatalf("code %q", it.Code)
		}
		first[it.Code[0]]++
	}
	for d := byte('0'); d <= '9'; d++ {
		if n := first[d]; n < 200 || n > 400 {
			t.Errorf("first digit %c in %d of 3000 codes, want about 300", d, n)
		}
	}
}

func TestConsumeLinkOnce(t *testing.T) {
	a, _, u := tokenApp(t)
	ctx := context.Background()
	it, err := a.Auth.IssueToken(ctx, u, latchkey.PurposeVerifyEmail, "")
	if err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, func() error { _, err := a.Auth.ConsumeLink(ctx, latchkey.PurposeReset, it.Link); return err }(), "another purpose")
	ut, err := a.Auth.ConsumeLink(ctx, latchkey.PurposeVerifyEmail, it.Link)
	if err != nil {
		t.Fatal(err)
	}
	if ut.User.ID != u.ID || ut.Token.Email != u.Email || ut.Token.UsedAt.IsZero() {
		t.Fatalf("used %+v", ut)
	}
	_, err = a.Auth.ConsumeLink(ctx, latchkey.PurposeVerifyEmail, it.Link)
	wantInvalid(t, err, "the link again")
	_, err = a.Auth.ConsumeCode(ctx, u.ID, latchkey.PurposeVerifyEmail, it.Code)
	wantInvalid(t, err, "the code after the link")
	for _, bad := range []string{"", "x", it.Link + "A", it.Link[:42], strings.Repeat("A", 43), it.Link + "="} {
		_, err = a.Auth.ConsumeLink(ctx, latchkey.PurposeVerifyEmail, bad)
		wantInvalid(t, err, "link "+bad)
	}
}

// TestConsumeCodeByEmail: the email-and-code flow; wrong, malformed and
// unknown-address answers are all one invalid_token; the fifth wrong code
// kills the link too.
func TestConsumeCodeByEmail(t *testing.T) {
	a, _, u := tokenApp(t)
	ctx := context.Background()
	it, err := a.Auth.IssueToken(ctx, u, latchkey.PurposeReset, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "12345", "1234567", "12345a", "１２３４５６", " " + it.Code[1:]} {
		_, err := a.Auth.ConsumeEmailCode(ctx, u.Email, latchkey.PurposeReset, bad)
		wantInvalid(t, err, "code "+bad)
	}
	_, err = a.Auth.ConsumeEmailCode(ctx, "nobody@example.com", latchkey.PurposeReset, it.Code)
	wantInvalid(t, err, "unknown address")
	// Those counted nothing against the token: it still works.
	ut, err := a.Auth.ConsumeEmailCode(ctx, strings.ToUpper(u.Email), latchkey.PurposeReset, it.Code)
	if err != nil || ut.User.ID != u.ID {
		t.Fatalf("the right code after malformed ones: %v", err)
	}

	it, err = a.Auth.IssueToken(ctx, u, latchkey.PurposeReset, "")
	if err != nil {
		t.Fatal(err)
	}
	wrong := "000000"
	if it.Code == wrong {
		wrong = "000001"
	}
	for i := 0; i < latchkey.MaxCodeAttempts; i++ {
		_, err := a.Auth.ConsumeEmailCode(ctx, u.Email, latchkey.PurposeReset, wrong)
		wantInvalid(t, err, "wrong code")
	}
	_, err = a.Auth.ConsumeEmailCode(ctx, u.Email, latchkey.PurposeReset, it.Code)
	wantInvalid(t, err, "the right code after five wrong ones")
	_, err = a.Auth.ConsumeLink(ctx, latchkey.PurposeReset, it.Link)
	wantInvalid(t, err, "the link after five wrong codes")
}

// TestTokenLifetimes: each purpose's token works until its lifetime has
// passed, on the service's clock.
func TestTokenLifetimes(t *testing.T) {
	a, clock, u := tokenApp(t)
	ctx := context.Background()
	for p, ttl := range map[latchkey.TokenPurpose]time.Duration{
		latchkey.PurposeReset: 30 * time.Minute, latchkey.PurposeVerifyEmail: 24 * time.Hour, latchkey.PurposeEmailChange: 30 * time.Minute,
	} {
		live, err := a.Auth.IssueToken(ctx, u, p, "new@example.com")
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(ttl - time.Second)
		if _, err := a.Auth.ConsumeCode(ctx, u.ID, p, live.Code); err != nil {
			t.Fatalf("%s a second before its end: %v", p, err)
		}
		dead, err := a.Auth.IssueToken(ctx, u, p, "new@example.com")
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(ttl)
		_, err = a.Auth.ConsumeLink(ctx, p, dead.Link)
		wantInvalid(t, err, string(p)+" link at its end")
		_, err = a.Auth.ConsumeCode(ctx, u.ID, p, dead.Code)
		wantInvalid(t, err, string(p)+" code at its end")
	}
}

// TestEmailChangeTokenHoldsNewAddress: the token names the new address,
// and a code works only for its user.
func TestEmailChangeTokenHoldsNewAddress(t *testing.T) {
	a, _, u := tokenApp(t)
	ctx := context.Background()
	g, err := a.Auth.SignUp(ctx, "bob@example.com", testkit.Password, "", auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	it, err := a.Auth.IssueToken(ctx, u, latchkey.PurposeEmailChange, "ada@new.example")
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Auth.ConsumeCode(ctx, g.User.ID, latchkey.PurposeEmailChange, it.Code)
	wantInvalid(t, err, "another user's code")
	_, err = a.Auth.ConsumeCode(ctx, u.ID, latchkey.PurposeReset, it.Code)
	wantInvalid(t, err, "a code for another purpose")
	ut, err := a.Auth.ConsumeCode(ctx, u.ID, latchkey.PurposeEmailChange, it.Code)
	if err != nil {
		t.Fatal(err)
	}
	if ut.Token.Email != "ada@new.example" || ut.User.Email != u.Email {
		t.Fatalf("token to %q for %q", ut.Token.Email, ut.User.Email)
	}
}

// TestCodeKeySharedByInstances: a code mailed by one instance works on
// another that shares the key-encryption key, and not under another key.
func TestCodeKeySharedByInstances(t *testing.T) {
	cfg := testkit.Config(t)
	cfg.SecretKey = strings.Repeat("k", 32)
	a := testkit.NewApp(t, cfg)
	b := testkit.NewApp(t, cfg)
	ctx := context.Background()
	g, err := a.Auth.SignUp(ctx, "ada@example.com", testkit.Password, "", auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Auth.CodeKey, b.Auth.CodeKey) || len(a.Auth.CodeKey) != 32 {
		t.Fatal("two instances with one KEK derived different code keys")
	}
	it, err := a.Auth.IssueToken(ctx, g.User, latchkey.PurposeReset, "")
	if err != nil {
		t.Fatal(err)
	}
	other := withStore(b, b.Store)
	other.CodeKey = bytes.Repeat([]byte{1}, 32)
	_, err = other.ConsumeCode(ctx, g.User.ID, latchkey.PurposeReset, it.Code)
	wantInvalid(t, err, "the code under another key")
	if _, err := b.Auth.ConsumeCode(ctx, g.User.ID, latchkey.PurposeReset, it.Code); err != nil {
		t.Fatalf("the code on the second instance: %v", err)
	}
}

// TestResetWithTokenChange: the reset flow's shape. The token is checked,
// then used in the password change's own transaction with the user's other
// tokens killed; of two resets racing with one token, exactly one changes
// the password.
func TestResetWithTokenChange(t *testing.T) {
	a, _, u := tokenApp(t)
	ctx := context.Background()
	it, err := a.Auth.IssueToken(ctx, u, latchkey.PurposeReset, "")
	if err != nil {
		t.Fatal(err)
	}
	verify, err := a.Auth.IssueToken(ctx, u, latchkey.PurposeVerifyEmail, "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The second may find the token used already, or use it
			// after both found it live: either way it loses.
			ut, err := a.Auth.CheckLink(ctx, latchkey.PurposeReset, it.Link)
			if err == nil {
				ch := a.Auth.UseToken(ut)
				ch.KillUser = ut.User.ID
				_, err = a.Store.SetPassword(latchkey.WithTokenChange(ctx, ch), ut.User.ID, "$argon2id$reset", "", ch.Now)
			}
			mu.Lock()
			defer mu.Unlock()
			switch latchkey.ErrorCode(err) {
			case "":
				wins++
			case latchkey.EINVALIDONETIME:
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d resets won with one token, want 1", wins)
	}
	_, err = a.Auth.ConsumeLink(ctx, latchkey.PurposeVerifyEmail, verify.Link)
	wantInvalid(t, err, "a verification token after the reset")
}
