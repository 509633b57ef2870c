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

// issueToken makes a token of purpose p for u (NewToken) and stores it
// alone through a TokenChange's Issue, as the mail flows do with their
// mail: the user's older tokens of the purpose are killed.
func issueToken(t *testing.T, s *auth.Service, u *latchkey.User, p latchkey.TokenPurpose, email string) *auth.IssuedToken {
	t.Helper()
	it, err := s.NewToken(u, p, email)
	if err != nil {
		t.Fatal(err)
	}
	ch := &latchkey.TokenChange{Now: it.Token.CreatedAt, Issue: it.Token}
	if err := s.Store.ApplyTokenChange(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	return it
}

// use uses the token a check found, as the flows do (UseToken), alone.
func use(ctx context.Context, s *auth.Service, ut *auth.UsedToken, err error) (*auth.UsedToken, error) {
	if err != nil {
		return nil, err
	}
	if err := s.Store.ApplyTokenChange(ctx, s.UseToken(ut)); err != nil {
		return nil, err
	}
	return ut, nil
}

// consumeLink is CheckLink, then the token used.
func consumeLink(ctx context.Context, s *auth.Service, p latchkey.TokenPurpose, link string) (*auth.UsedToken, error) {
	ut, err := s.CheckLink(ctx, p, link)
	return use(ctx, s, ut, err)
}

// consumeCode is CheckCode, then the token used.
func consumeCode(ctx context.Context, s *auth.Service, userID string, p latchkey.TokenPurpose, code string) (*auth.UsedToken, error) {
	ut, err := s.CheckCode(ctx, userID, p, code)
	return use(ctx, s, ut, err)
}

// consumeEmailCode is CheckEmailCode, then the token used.
func consumeEmailCode(ctx context.Context, s *auth.Service, email string, p latchkey.TokenPurpose, code string) (*auth.UsedToken, error) {
	ut, err := s.CheckEmailCode(ctx, email, p, code)
	return use(ctx, s, ut, err)
}

// TestIssueTokenSecrets: the link is 32 random bytes in base64url, the
// code 6 digits; the store holds the link's SHA-256 and no code at all.
func TestIssueTokenSecrets(t *testing.T) {
	a, clock, u := tokenApp(t)
	ctx := context.Background()
	it := issueToken(t, a.Auth, u, latchkey.PurposeReset, "")
	raw, err := base64.RawURLEncoding.DecodeString(it.Link)
	if err != nil || len(raw) != auth.LinkSecretSize {
		t.Fatalf("link %q: %d bytes, %v", it.Link, len(raw), err)
	}
	if h := sha256.Sum256(raw); !bytes.Equal(it.Token.LinkHash, h[:]) {
		t.Fatal("the stored link hash is not the SHA-256 of the secret")
	}
	if stored, err := a.Store.FindOneTimeTokenByLink(ctx, latchkey.PurposeReset, it.Token.LinkHash, clock.Now()); err != nil ||
		stored.ID != it.Token.ID || !bytes.Equal(stored.CodeMAC, it.Token.CodeMAC) {
		t.Fatalf("stored token %+v, %v", stored, err)
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
	it := issueToken(t, a.Auth, u, latchkey.PurposeVerifyEmail, "")
	wantInvalid(t, func() error { _, err := consumeLink(ctx, a.Auth, latchkey.PurposeReset, it.Link); return err }(), "another purpose")
	ut, err := consumeLink(ctx, a.Auth, latchkey.PurposeVerifyEmail, it.Link)
	if err != nil {
		t.Fatal(err)
	}
	if ut.User.ID != u.ID || ut.Token.Email != u.Email {
		t.Fatalf("used %+v", ut)
	}
	if spent, err := a.Store.FindSpentOneTimeToken(ctx, latchkey.PurposeVerifyEmail, it.Token.LinkHash); err != nil || spent.UsedAt.IsZero() {
		t.Fatalf("the stored token after its use: %+v, %v", spent, err)
	}
	_, err = consumeLink(ctx, a.Auth, latchkey.PurposeVerifyEmail, it.Link)
	wantInvalid(t, err, "the link again")
	_, err = consumeCode(ctx, a.Auth, u.ID, latchkey.PurposeVerifyEmail, it.Code)
	wantInvalid(t, err, "the code after the link")
	for _, bad := range []string{"", "x", it.Link + "A", it.Link[:42], strings.Repeat("A", 43), it.Link + "="} {
		_, err = consumeLink(ctx, a.Auth, latchkey.PurposeVerifyEmail, bad)
		wantInvalid(t, err, "link "+bad)
	}
}

// TestConsumeCodeByEmail: the email-and-code flow; wrong, malformed and
// unknown-address answers are all one invalid_token; the fifth wrong code
// kills the link too.
func TestConsumeCodeByEmail(t *testing.T) {
	a, _, u := tokenApp(t)
	ctx := context.Background()
	it := issueToken(t, a.Auth, u, latchkey.PurposeReset, "")
	for _, bad := range []string{"", "12345", "1234567", "12345a", "１２３４５６", " " + it.Code[1:]} {
		_, err := consumeEmailCode(ctx, a.Auth, u.Email, latchkey.PurposeReset, bad)
		wantInvalid(t, err, "code "+bad)
	}
	_, err := consumeEmailCode(ctx, a.Auth, "nobody@example.com", latchkey.PurposeReset, it.Code)
	wantInvalid(t, err, "unknown address")
	// Those counted nothing against the token: it still works.
	ut, err := consumeEmailCode(ctx, a.Auth, strings.ToUpper(u.Email), latchkey.PurposeReset, it.Code)
	if err != nil || ut.User.ID != u.ID {
		t.Fatalf("the right code after malformed ones: %v", err)
	}

	it = issueToken(t, a.Auth, u, latchkey.PurposeReset, "")
	wrong := "000000"
	if it.Code == wrong {
		wrong = "000001"
	}
	for i := 0; i < latchkey.MaxCodeAttempts; i++ {
		_, err := consumeEmailCode(ctx, a.Auth, u.Email, latchkey.PurposeReset, wrong)
		wantInvalid(t, err, "wrong code")
	}
	_, err = consumeEmailCode(ctx, a.Auth, u.Email, latchkey.PurposeReset, it.Code)
	wantInvalid(t, err, "the right code after five wrong ones")
	_, err = consumeLink(ctx, a.Auth, latchkey.PurposeReset, it.Link)
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
		live := issueToken(t, a.Auth, u, p, "new@example.com")
		clock.Advance(ttl - time.Second)
		if _, err := consumeCode(ctx, a.Auth, u.ID, p, live.Code); err != nil {
			t.Fatalf("%s a second before its end: %v", p, err)
		}
		dead := issueToken(t, a.Auth, u, p, "new@example.com")
		clock.Advance(ttl)
		_, err := consumeLink(ctx, a.Auth, p, dead.Link)
		wantInvalid(t, err, string(p)+" link at its end")
		_, err = consumeCode(ctx, a.Auth, u.ID, p, dead.Code)
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
	it := issueToken(t, a.Auth, u, latchkey.PurposeEmailChange, "ada@new.example")
	_, err = consumeCode(ctx, a.Auth, g.User.ID, latchkey.PurposeEmailChange, it.Code)
	wantInvalid(t, err, "another user's code")
	_, err = consumeCode(ctx, a.Auth, u.ID, latchkey.PurposeReset, it.Code)
	wantInvalid(t, err, "a code for another purpose")
	ut, err := consumeCode(ctx, a.Auth, u.ID, latchkey.PurposeEmailChange, it.Code)
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
	it := issueToken(t, a.Auth, g.User, latchkey.PurposeReset, "")
	other := withStore(b, b.Store)
	other.CodeKey = bytes.Repeat([]byte{1}, 32)
	_, err = consumeCode(ctx, other, g.User.ID, latchkey.PurposeReset, it.Code)
	wantInvalid(t, err, "the code under another key")
	if _, err := consumeCode(ctx, b.Auth, g.User.ID, latchkey.PurposeReset, it.Code); err != nil {
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
	it := issueToken(t, a.Auth, u, latchkey.PurposeReset, "")
	verify := issueToken(t, a.Auth, u, latchkey.PurposeVerifyEmail, "")
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
	_, err := consumeLink(ctx, a.Auth, latchkey.PurposeVerifyEmail, verify.Link)
	wantInvalid(t, err, "a verification token after the reset")
}
