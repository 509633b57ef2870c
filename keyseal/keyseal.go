// Package keyseal encrypts small secrets at rest (Latchkey's private
// signing keys) with AES-256-GCM under a key-encryption key (KEK). It uses
// only the standard library's crypto and imports nothing else of ours.
//
// A sealed value is
//
//	version (1 byte, 0x01) || nonce (12 random bytes) || ciphertext || tag (16 bytes)
//
// and the caller's additional data (Latchkey passes the key id) is
// authenticated with it, so a sealed value opens only in the place it was
// sealed for.
//
// The KEK comes from a secret setting through HKDF-SHA256 (FromSecret) or
// is 32 random bytes in a file readable by its owner only
// (LoadOrCreateFile). Sealer.DeriveKey derives independent keys for other
// uses from the same KEK (the HMAC key of one-time codes), so that every
// instance sharing the KEK shares them too.
package keyseal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
)

// KeySize is the size of a key-encryption key: AES-256.
const KeySize = 32

// Version is the first byte of every value Seal makes.
const Version byte = 1

// Overhead is how much longer a sealed value is than its plaintext: the
// version byte, the nonce and the tag.
const Overhead = 1 + 12 + 16

// MinSecret is the shortest secret FromSecret accepts, in bytes.
const MinSecret = 32

// hkdfInfo binds keys derived by FromSecret to this one use; changing it
// changes every derived key.
const hkdfInfo = "latchkey keyseal v1: signing-key encryption"

// ErrOpen is returned by Open when a value does not authenticate: a wrong
// key-encryption key, other additional data, or altered bytes. AES-GCM
// cannot tell these apart.
var ErrOpen = errors.New("keyseal: cannot open sealed value (wrong key-encryption key, or the value was altered or moved)")

// Sealer seals and opens values under one key-encryption key. It is safe
// for concurrent use.
type Sealer struct {
	aead cipher.AEAD
	kek  []byte // for DeriveKey
}

// New returns a Sealer for kek, which must be KeySize bytes.
func New(kek []byte) (*Sealer, error) {
	if len(kek) != KeySize {
		return nil, fmt.Errorf("keyseal: key-encryption key of %d bytes, want %d", len(kek), KeySize)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("keyseal: %w", err)
	}
	// The standard library draws and prepends the 96-bit nonce. A KEK
	// seals a handful of signing keys in its life, far below the 2^32
	// messages at which random nonces start to risk a collision.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("keyseal: %w", err)
	}
	return &Sealer{aead: aead, kek: append([]byte(nil), kek...)}, nil
}

// Seal encrypts plaintext and authenticates it with aad; the same aad must
// be given to Open.
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1, 1+len(plaintext)+s.aead.Overhead())
	out[0] = Version
	return s.aead.Seal(out, nil, plaintext, aad), nil
}

// Open decrypts a value made by Seal with the same key and aad. It returns
// ErrOpen when the value does not authenticate, and another error when it
// is not a sealed value of a known version at all.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, fmt.Errorf("keyseal: sealed value of %d bytes is too short", len(sealed))
	}
	if sealed[0] != Version {
		return nil, fmt.Errorf("keyseal: unknown sealed-value version %d", sealed[0])
	}
	pt, err := s.aead.Open(nil, nil, sealed[1:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// FromSecret derives a key-encryption key from a configured secret with
// HKDF-SHA256 (no salt, a fixed info string). The secret's bytes are taken
// as they are and must be at least MinSecret long: HKDF spreads entropy,
// it does not add any.
func FromSecret(secret string) ([]byte, error) {
	if len(secret) < MinSecret {
		return nil, fmt.Errorf("keyseal: secret of %d bytes, want at least %d", len(secret), MinSecret)
	}
	k, err := hkdf.Key(sha256.New, []byte(secret), nil, hkdfInfo, KeySize)
	if err != nil {
		return nil, fmt.Errorf("keyseal: derive key: %w", err)
	}
	return k, nil
}

// MinInfo is the shortest info string DeriveKey accepts: every derived key
// must name its one use.
const MinInfo = 16

// DeriveKey returns a 32-byte key for another use than sealing, derived
// from the key-encryption key with HKDF-SHA256 (no salt) under info, which
// names that use and must differ from every other use's (and from the
// sealing key's). Keys derived under different infos are independent: one
// of them, or the sealing key, tells nothing about another. Every instance
// sharing the KEK derives the same key, and changing the KEK changes it.
func (s *Sealer) DeriveKey(info string) ([]byte, error) {
	if len(info) < MinInfo || info == hkdfInfo {
		return nil, fmt.Errorf("keyseal: derive key: info %q does not name a use of its own", info)
	}
	k, err := hkdf.Key(sha256.New, s.kek, nil, info, KeySize)
	if err != nil {
		return nil, fmt.Errorf("keyseal: derive key: %w", err)
	}
	return k, nil
}
