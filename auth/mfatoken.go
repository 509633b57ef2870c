package auth

// mfa_tokens: what a right password answers for a user with a confirmed
// factor, instead of tokens, and what the second step brings back with its
// code. 32 random bytes in base64url; the store keeps their SHA-256 only,
// as for refresh tokens and links: 256 random bits need no slow hash, and
// the lookup by hash tells a timing attacker nothing.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
)

// MFATokenSize is the number of random bytes in an mfa_token.
const MFATokenSize = 32

// errBadMFAToken answers every mfa_token that cannot be used, whatever the
// reason (unknown, used, expired, out of attempts).
var errBadMFAToken = latchkey.Errorf(latchkey.EINVALIDTOKEN, "the mfa_token is invalid or has expired")

// IssuedMFAToken is a stored mfa_token and its secret, which goes in the
// answer to the sign-in and nowhere else (never a log).
type IssuedMFAToken struct {
	Token *latchkey.MFAToken
	// Secret is the token's 32 bytes in base64url without padding.
	Secret    string
	ExpiresIn time.Duration
}

// IssueMFAToken stores a new mfa_token for the user, carrying amr, how the
// first step authenticated them (with the change ctx carries).
func (s *Service) IssueMFAToken(ctx context.Context, userID string, amr []string) (*IssuedMFAToken, error) {
	secret := make([]byte, MFATokenSize)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("auth: mfa_token: %w", err)
	}
	h := sha256.Sum256(secret)
	now := s.now()
	t := &latchkey.MFAToken{UserID: userID, Hash: h[:], AMR: slices.Clone(amr),
		CreatedAt: now, ExpiresAt: now.Add(latchkey.MFATokenTTL)}
	if err := s.Store.CreateMFAToken(ctx, t); err != nil {
		return nil, fmt.Errorf("auth: store mfa_token: %w", err)
	}
	return &IssuedMFAToken{Token: t, Secret: base64.RawURLEncoding.EncodeToString(secret), ExpiresIn: latchkey.MFATokenTTL}, nil
}

// CheckMFAToken finds the live mfa_token secret names and counts one
// attempt against it, committed at once whatever follows: every code
// brought with the token, right, wrong or malformed, is one of its
// latchkey.MaxMFAAttempts. EINVALIDTOKEN for any token that cannot take
// it. The token is not used: UseMFAToken does that once the code is right.
func (s *Service) CheckMFAToken(ctx context.Context, secret string) (*latchkey.MFAToken, error) {
	b, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(b) != MFATokenSize {
		return nil, errBadMFAToken
	}
	h := sha256.Sum256(b)
	t, err := s.Store.CountMFAAttempt(ctx, h[:], s.now())
	if err != nil {
		return nil, mfaTokenErr(err)
	}
	return t, nil
}

// UseMFAToken uses t once (with the change ctx carries): of two requests
// that both got past CheckMFAToken, one wins and the other gets
// EINVALIDTOKEN.
func (s *Service) UseMFAToken(ctx context.Context, t *latchkey.MFAToken) error {
	now := s.now()
	if err := s.Store.UseMFAToken(ctx, t.ID, now); err != nil {
		return mfaTokenErr(err)
	}
	t.UsedAt = now
	return nil
}

// SecondFactor is the second step of a password sign-in: it counts an
// attempt against the mfa_token, accepts the TOTP code or the recovery
// code (exactly one of them is given), and uses the token. It returns the
// token, whose UserID is the user, and the amr of the whole sign-in: the
// first step's, then "otp" and "mfa" for a TOTP code or "mfa" for a
// recovery code (RFC 8176 has no value for a recovery code).
//
// The change ctx carries (an audit event, a mail) is made with the
// token's use, once, and not with the code's. A code accepted by a
// request that then loses the token to a concurrent one stays spent: the
// sign-in fails closed.
//
// An audit event ctx carries gets the token's user when it has none.
//
// Errors: EINVALIDTOKEN for the token; EINVALIDCREDENTIALS for a wrong,
// reused or malformed code; ERATELIMITED while TOTP is locked (recovery
// codes still work); EINVALID when neither or both codes are given (no
// attempt is counted). When the token was good and the code was not, the
// token is returned with the code's error, so that the caller knows whose
// failure it records.
func (s *Service) SecondFactor(ctx context.Context, mfaToken, code, recoveryCode string) (*latchkey.MFAToken, []string, error) {
	if (code == "") == (recoveryCode == "") {
		return nil, nil, latchkey.Errorf(latchkey.EINVALID, "give either a code or a recovery code")
	}
	t, err := s.CheckMFAToken(ctx, mfaToken)
	if err != nil {
		return nil, nil, err
	}
	if ev := latchkey.AuditFrom(ctx); ev != nil && ev.UserID == "" {
		ev.UserID = t.UserID
	}
	var added []string
	if code != "" {
		_, err = s.VerifyTOTP(alone{ctx}, t.UserID, code)
		added = []string{latchkey.AMROTP, latchkey.AMRMFA}
	} else {
		err = s.UseRecoveryCode(alone{ctx}, t.UserID, recoveryCode)
		added = []string{latchkey.AMRMFA}
	}
	if err != nil {
		return t, nil, err
	}
	if err := s.UseMFAToken(ctx, t); err != nil {
		return nil, nil, err
	}
	return t, joinAMR(t.AMR, added), nil
}

// joinAMR is the amr of a sign-in in two steps: the first step's values,
// then the second's that are not among them.
func joinAMR(first, second []string) []string {
	amr := slices.Clone(first)
	for _, m := range second {
		if !slices.Contains(amr, m) {
			amr = append(amr, m)
		}
	}
	return amr
}

// VerifyCode accepts a TOTP code or a recovery code for the user, told
// apart by their shape (6 digits, or 16 characters): what removing the
// factor and regenerating the codes ask for. It returns the amr values the
// code stands for, as SecondFactor adds them. The change ctx carries is
// made with the code's acceptance. Errors as VerifyTOTP's and
// UseRecoveryCode's.
func (s *Service) VerifyCode(ctx context.Context, userID, code string) ([]string, error) {
	if validCode(code) {
		if _, err := s.VerifyTOTP(ctx, userID, code); err != nil {
			return nil, err
		}
		return []string{latchkey.AMROTP, latchkey.AMRMFA}, nil
	}
	if err := s.UseRecoveryCode(ctx, userID, code); err != nil {
		return nil, err
	}
	return []string{latchkey.AMRMFA}, nil
}

// mfaTokenErr is errBadMFAToken for the store's invalid_token, and err
// wrapped otherwise (the database's failures keep their code).
func mfaTokenErr(err error) error {
	if latchkey.ErrorCode(err) == latchkey.EINVALIDTOKEN {
		return errBadMFAToken
	}
	return fmt.Errorf("auth: mfa_token: %w", err)
}

// alone is a context without values, for the steps of a flow that must
// not carry the change meant for its end (the audit event, the mail). Its
// deadline and cancellation are the caller's.
type alone struct{ context.Context }

func (alone) Value(any) any { return nil }
