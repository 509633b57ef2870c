package auth

// One-time tokens: the link and the code mailed for a password reset, an
// email verification or an email change (issue 13). The store keeps only
// digests (latchkey.OneTimeToken); this file makes the secrets, computes
// the digests and maps every failure to one invalid_token answer.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/emailkey"
)

// CodeKeyInfo is the HKDF info under which the code MAC key is derived
// from the key-encryption key (keyseal.Sealer.DeriveKey). Changing it
// makes every live code fail; links keep working.
const CodeKeyInfo = "latchkey one-time codes v1: HMAC-SHA256 key"

// LinkSecretSize is the number of random bytes in a link's secret.
const LinkSecretSize = 32

// codeDigits is the length of a code; codeSpace how many codes there are.
const codeDigits = 6

var codeSpace = big.NewInt(1_000_000)

// errBadToken is the answer to every link or code that does not use a
// token, whatever the reason: the message does not say which check failed.
var errBadToken = latchkey.Errorf(latchkey.EINVALIDONETIME, "the link or code is invalid or has expired")

// TokenTTLs are the lifetimes of one-time tokens, by purpose
// (LATCHKEY_RESET_TTL, LATCHKEY_VERIFY_TTL, LATCHKEY_EMAIL_CHANGE_TTL).
type TokenTTLs struct {
	Reset       time.Duration
	Verify      time.Duration
	EmailChange time.Duration
}

// For returns the lifetime of tokens of purpose p; 0 for an unknown one.
func (t TokenTTLs) For(p latchkey.TokenPurpose) time.Duration {
	switch p {
	case latchkey.PurposeReset:
		return t.Reset
	case latchkey.PurposeVerifyEmail:
		return t.Verify
	case latchkey.PurposeEmailChange:
		return t.EmailChange
	}
	return 0
}

// IssuedToken is a new one-time token: what is stored, and the two
// secrets that go in the mail and nowhere else (never a log).
type IssuedToken struct {
	Token *latchkey.OneTimeToken
	// Link is the link's secret in base64url without padding, for the
	// fragment of {issuer}/#/reset?token=… and the like.
	Link string
	// Code is the 6-digit code, leading zeros kept.
	Code string
}

// UsedToken is a token a link or code named: its user, and the token,
// whose Email is the address it was mailed to (for an email change, the
// new address to set).
type UsedToken struct {
	User  *latchkey.User
	Token *latchkey.OneTimeToken
}

// NewToken makes a token of purpose p for u, mailed to email (u's address
// when empty; for an email change, the new address), expiring after the
// purpose's lifetime. It does not store it: a latchkey.TokenChange's
// Issue does, together with another change (the outbox mail that carries
// it).
func (s *Service) NewToken(u *latchkey.User, p latchkey.TokenPurpose, email string) (*IssuedToken, error) {
	ttl := s.TokenTTLs.For(p)
	if ttl <= 0 {
		return nil, fmt.Errorf("auth: no lifetime for one-time tokens of purpose %q", p)
	}
	if len(s.CodeKey) == 0 {
		return nil, errors.New("auth: no one-time code key")
	}
	if email == "" {
		email = u.Email
	}
	secret := make([]byte, LinkSecretSize)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("auth: link secret: %w", err)
	}
	n, err := rand.Int(rand.Reader, codeSpace)
	if err != nil {
		return nil, fmt.Errorf("auth: code: %w", err)
	}
	code := fmt.Sprintf("%0*d", codeDigits, n.Int64())
	hash := sha256.Sum256(secret)
	now := s.now()
	return &IssuedToken{
		Token: &latchkey.OneTimeToken{
			UserID:    u.ID,
			Purpose:   p,
			Email:     email,
			LinkHash:  hash[:],
			CodeMAC:   s.codeMAC(u.ID, p, code),
			CreatedAt: now,
			ExpiresAt: now.Add(ttl),
		},
		Link: base64.RawURLEncoding.EncodeToString(secret),
		Code: code,
	}, nil
}

// codeMAC is the code's HMAC-SHA256 under the server key, bound to the
// user and the purpose, so that the same code of another token never
// gives the same MAC and a code can match nothing but its own token.
func (s *Service) codeMAC(userID string, p latchkey.TokenPurpose, code string) []byte {
	m := hmac.New(sha256.New, s.CodeKey)
	m.Write([]byte("latchkey one-time code v1\x00"))
	m.Write([]byte(string(p) + "\x00" + userID + "\x00" + code))
	return m.Sum(nil)
}

// linkHash decodes a link's secret and hashes it; ok is false for
// anything that cannot be one.
func linkHash(link string) (hash []byte, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(link)
	if err != nil || len(b) != LinkSecretSize {
		return nil, false
	}
	h := sha256.Sum256(b)
	return h[:], true
}

// validCode reports whether code is 6 ASCII digits.
func validCode(code string) bool {
	if len(code) != codeDigits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// CheckLink returns the live token of purpose p that link names, without
// using it: a latchkey.TokenChange with Use set to its ID then uses it
// together with the change it allows (UseToken).
func (s *Service) CheckLink(ctx context.Context, p latchkey.TokenPurpose, link string) (*UsedToken, error) {
	h, ok := linkHash(link)
	if !ok {
		return nil, errBadToken
	}
	t, err := s.Store.FindOneTimeTokenByLink(ctx, p, h, s.now())
	return s.usedToken(ctx, t, err)
}

// The guesses of mailed codes over every token of an address (or user)
// and purpose: past MaxCodeFailures wrong codes within CodeFailureWindow,
// codes are refused before they are checked, as wrong (links still work,
// having 256 bits). One token takes 5 wrong codes, and anyone may have a
// new token mailed once a minute: without this, an address would take
// 7,200 guesses a day.
const (
	MaxCodeFailures   = 10
	CodeFailureWindow = 24 * time.Hour
)

// reserveCode counts a code guess under key before it is checked; the
// returned release takes it back once the code proved right.
func (s *Service) reserveCode(ctx context.Context, key string) (release func(), err error) {
	now := s.now()
	ok, _, err := s.Store.ReserveCodeAttempt(ctx, key, now, now.Add(-CodeFailureWindow), MaxCodeFailures)
	if err != nil {
		return nil, fmt.Errorf("auth: count a code attempt: %w", err)
	}
	if !ok {
		return nil, errBadToken
	}
	return func() { _ = s.Store.ReleaseCodeAttempt(context.WithoutCancel(ctx), key, now) }, nil
}

// CheckCode returns the user's live token of purpose p when code is its
// code, without using it. A wrong code counts against the token (the
// fifth kills it, link and code alike) and against the user's daily
// budget of wrong codes for p (MaxCodeFailures).
func (s *Service) CheckCode(ctx context.Context, userID string, p latchkey.TokenPurpose, code string) (*UsedToken, error) {
	if !validCode(code) || userID == "" {
		return nil, errBadToken
	}
	release, err := s.reserveCode(ctx, "user\x00"+string(p)+"\x00"+userID)
	if err != nil {
		return nil, err
	}
	return s.checkCode(ctx, userID, p, code, release)
}

// checkCode checks code against the user's token of purpose p, and
// releases the attempt counted for it when it is right.
func (s *Service) checkCode(ctx context.Context, userID string, p latchkey.TokenPurpose, code string, release func()) (*UsedToken, error) {
	t, err := s.Store.CheckOneTimeTokenCode(ctx, userID, p, s.codeMAC(userID, p, code), s.now())
	ut, err := s.usedToken(ctx, t, err)
	if err == nil {
		release()
	}
	return ut, err
}

// CheckEmailCode is CheckCode for the user with this email, for the flows
// that ask for the address and the code; the daily budget of wrong codes
// is the address's, known or not. An unknown address is the same
// invalid_token, after the same store work as a wrong code (a code check
// against a user that cannot exist), so that the answer's timing does not
// tell which addresses have accounts.
func (s *Service) CheckEmailCode(ctx context.Context, email string, p latchkey.TokenPurpose, code string) (*UsedToken, error) {
	if !validCode(code) || len(email) > MaxEmailLen {
		return nil, errBadToken
	}
	release, err := s.reserveCode(ctx, "email\x00"+string(p)+"\x00"+emailkey.Of(email))
	if err != nil {
		return nil, err
	}
	u, err := s.Store.FindUserByEmail(ctx, email)
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		_, err := s.Store.CheckOneTimeTokenCode(ctx, noUser, p, s.codeMAC(noUser, p, code), s.now())
		if err != nil && latchkey.ErrorCode(err) != latchkey.EINVALIDONETIME {
			return nil, tokenErr(err) // the database failed
		}
		return nil, errBadToken
	} else if err != nil {
		return nil, fmt.Errorf("auth: find user: %w", err)
	}
	return s.checkCode(ctx, u.ID, p, code, release)
}

// noUser is a user ID no user has (IDs are UUIDv7).
const noUser = "00000000-0000-0000-0000-000000000000"

// UseToken is the change that uses ut's token: attach it with
// latchkey.WithTokenChange to the change the token allows, so that both
// are committed or neither (and add kills to it as the flow needs).
func (s *Service) UseToken(ut *UsedToken) *latchkey.TokenChange {
	return &latchkey.TokenChange{Now: s.now(), Use: ut.Token.ID}
}

// usedToken completes a lookup: the token's user, or the one answer for
// every failure.
func (s *Service) usedToken(ctx context.Context, t *latchkey.OneTimeToken, err error) (*UsedToken, error) {
	if err != nil {
		return nil, tokenErr(err)
	}
	u, err := s.Store.FindUserByID(ctx, t.UserID)
	if err != nil {
		if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
			return nil, errBadToken
		}
		return nil, fmt.Errorf("auth: find user: %w", err)
	}
	return &UsedToken{User: u, Token: t}, nil
}

// tokenErr is errBadToken for the store's invalid_token, and err wrapped
// otherwise (the database's failures keep their code).
func tokenErr(err error) error {
	if latchkey.ErrorCode(err) == latchkey.EINVALIDONETIME {
		return errBadToken
	}
	return fmt.Errorf("auth: one-time token: %w", err)
}
