package auth

// Recovery codes: 10 single-use codes that stand in for a TOTP code when
// the phone is gone, and still work while TOTP is locked. Each is 80
// random bits in 16 Crockford base32 characters, shown xxxx-xxxx-xxxx-xxxx.
// The store keeps only an HMAC-SHA256 of each under a key derived from the
// key-encryption key, so a copy of the database gives none away.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"

	"github.com/latchkey/latchkey"
)

// RecoveryKeyInfo is the HKDF info under which the recovery codes' HMAC
// key is derived from the key-encryption key (keyseal.Sealer.DeriveKey).
// Changing it makes every recovery code fail.
const RecoveryKeyInfo = "latchkey recovery codes v1: HMAC-SHA256 key"

// crockford is Crockford's base32 alphabet: digits and capitals without
// I, L, O and U, so that a code read aloud or off paper is not misread.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var crockfordEncoding = base32.NewEncoding(crockford).WithPadding(base32.NoPadding)

const (
	recoveryCodeBytes = 10 // 80 bits: 16 characters of 5 bits
	recoveryCodeLen   = 16
	// maxRecoveryInput bounds what is normalised: 16 characters and a
	// few dashes.
	maxRecoveryInput = 32
)

// NormalizeRecoveryCode returns code as stored: its 16 characters in
// capitals, without dashes. Dashes may be anywhere or nowhere, letters in
// either case; as Crockford's base32 has it, O reads as 0 and I and L as 1.
// Anything else (spaces, U, other characters, non-ASCII letters that
// Unicode would fold to ASCII ones) is refused: ok is false.
func NormalizeRecoveryCode(code string) (norm string, ok bool) {
	if len(code) > maxRecoveryInput {
		return "", false
	}
	b := make([]byte, 0, recoveryCodeLen)
	for i := 0; i < len(code); i++ {
		c := code[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		switch c {
		case '-':
			continue
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		if !isCrockford(c) {
			return "", false
		}
		b = append(b, c)
	}
	if len(b) != recoveryCodeLen {
		return "", false
	}
	return string(b), true
}

func isCrockford(c byte) bool {
	for i := 0; i < len(crockford); i++ {
		if crockford[i] == c {
			return true
		}
	}
	return false
}

// FormatRecoveryCode shows a normalised code as xxxx-xxxx-xxxx-xxxx.
func FormatRecoveryCode(norm string) string {
	if len(norm) != recoveryCodeLen {
		return norm
	}
	return norm[0:4] + "-" + norm[4:8] + "-" + norm[8:12] + "-" + norm[12:16]
}

// recoveryMAC is a normalised code's HMAC-SHA256 under the server key,
// bound to the user: the same code of another user gives another MAC.
func (s *Service) recoveryMAC(userID, norm string) []byte {
	m := hmac.New(sha256.New, s.RecoveryKey)
	m.Write([]byte("latchkey recovery code v1\x00" + userID + "\x00" + norm))
	return m.Sum(nil)
}

// newRecoveryCodes makes latchkey.RecoveryCodeCount codes for the user:
// formatted for showing, and their MACs for storing.
func (s *Service) newRecoveryCodes(userID string) (codes []string, macs [][]byte, err error) {
	if len(s.RecoveryKey) == 0 {
		return nil, nil, errors.New("auth: no recovery code key")
	}
	raw := make([]byte, recoveryCodeBytes)
	for range latchkey.RecoveryCodeCount {
		if _, err := rand.Read(raw); err != nil {
			return nil, nil, fmt.Errorf("auth: recovery code: %w", err)
		}
		norm := crockfordEncoding.EncodeToString(raw)
		codes = append(codes, FormatRecoveryCode(norm))
		macs = append(macs, s.recoveryMAC(userID, norm))
	}
	return codes, macs, nil
}

// RegenerateRecoveryCodes replaces all of the user's recovery codes by
// new ones and returns them, formatted, to be shown once (with the change
// ctx carries). ENOTFOUND when the user has no confirmed TOTP factor.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes, macs, err := s.newRecoveryCodes(userID)
	if err != nil {
		return nil, err
	}
	if err := s.Store.ReplaceRecoveryCodes(ctx, userID, macs, s.now()); err != nil {
		return nil, fmt.Errorf("auth: replace recovery codes: %w", err)
	}
	return codes, nil
}

// UseRecoveryCode uses one of the user's recovery codes, once (with the
// change ctx carries). A wrong, used or malformed code is the same
// EINVALIDCREDENTIALS as a wrong TOTP code. It does not look at the TOTP
// lock: recovery codes are the way past it.
func (s *Service) UseRecoveryCode(ctx context.Context, userID, code string) error {
	norm, ok := NormalizeRecoveryCode(code)
	if !ok || len(s.RecoveryKey) == 0 {
		return errWrongCode
	}
	err := s.Store.UseRecoveryCode(ctx, userID, s.recoveryMAC(userID, norm))
	if latchkey.ErrorCode(err) == latchkey.EINVALIDCREDENTIALS {
		return errWrongCode
	} else if err != nil {
		return fmt.Errorf("auth: use recovery code: %w", err)
	}
	return nil
}
