package token

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/verify"
)

// Sealer encrypts private signing keys at rest; *keyseal.Sealer is one.
// Each key is sealed with its kid as additional data, so a sealed key
// opens only in its own row. Open's errors come back wrapped: with
// keyseal, errors.Is(err, keyseal.ErrOpen) means a wrong key-encryption
// key or an altered key.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// KeyRewriter can rewrite the stored private keys in one transaction;
// *sqldb.DB is one.
type KeyRewriter interface {
	RewriteSigningKeys(ctx context.Context, fn func(k *latchkey.SigningKey) (changed bool, err error)) error
}

// ErrPlainKey is returned when a private key in the store is not sealed.
var ErrPlainKey = errors.New("private key stored in plain text")

// IsSealed reports whether k's private key is stored sealed. Versions
// before keys were encrypted at rest stored the raw 64-byte Ed25519 key;
// a sealed one is always longer (keyseal adds 29 bytes), so the length
// tells them apart without a doubt, which the first byte alone would not.
func IsSealed(k *latchkey.SigningKey) bool {
	return len(k.PrivateKey) != ed25519.PrivateKeySize
}

// SealStoredKeys brings every private key in the store under s, in one
// transaction: a key stored in plain text by an earlier version is sealed
// in place, and every sealed key must open, so that a wrong key-encryption
// key fails here, before anything is written under it. It returns how many
// keys it sealed.
func SealStoredKeys(ctx context.Context, store KeyRewriter, s Sealer) (int, error) {
	n := 0
	err := store.RewriteSigningKeys(ctx, func(k *latchkey.SigningKey) (bool, error) {
		if IsSealed(k) {
			_, err := openKey(s, k)
			return false, err
		}
		if err := checkPair(k, k.PrivateKey); err != nil {
			return false, err
		}
		sealed, err := s.Seal(k.PrivateKey, []byte(k.ID))
		if err != nil {
			return false, fmt.Errorf("token: seal signing key %s: %w", k.ID, err)
		}
		k.PrivateKey = sealed
		n++
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// sealKey returns a copy of k with its private key sealed, as it is stored.
func sealKey(s Sealer, k *latchkey.SigningKey) (*latchkey.SigningKey, error) {
	if s == nil {
		return nil, errors.New("token: no sealer: private keys are never stored in plain text")
	}
	sealed, err := s.Seal(k.PrivateKey, []byte(k.ID))
	if err != nil {
		return nil, fmt.Errorf("token: seal signing key %s: %w", k.ID, err)
	}
	out := *k
	out.PrivateKey = sealed
	return &out, nil
}

// openKey returns k's private key, opened with s and checked against k's
// public key. Since only the holder of the key-encryption key can seal,
// this also proves that the public key was put in the store by us: a
// database write alone cannot plant a key the ring would trust.
func openKey(s Sealer, k *latchkey.SigningKey) (ed25519.PrivateKey, error) {
	if s == nil {
		return nil, errors.New("token: no sealer to open the private keys with")
	}
	if !IsSealed(k) {
		return nil, fmt.Errorf("token: signing key %s: %w", k.ID, ErrPlainKey)
	}
	priv, err := s.Open(k.PrivateKey, []byte(k.ID))
	if err != nil {
		return nil, fmt.Errorf("token: signing key %s: %w", k.ID, err)
	}
	if err := checkPair(k, priv); err != nil {
		return nil, err
	}
	return ed25519.PrivateKey(priv), nil
}

// checkPair makes sure priv is an Ed25519 private key whose public key is
// k's.
func checkPair(k *latchkey.SigningKey, priv []byte) error {
	if k.Algorithm != verify.AlgEdDSA || len(k.PublicKey) != ed25519.PublicKeySize || len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("token: signing key %s: unsupported algorithm or size", k.ID)
	}
	derived := ed25519.NewKeyFromSeed(priv[:ed25519.SeedSize])
	if !bytes.Equal(derived, priv) || !bytes.Equal(derived[ed25519.SeedSize:], k.PublicKey) {
		return fmt.Errorf("token: signing key %s: private key does not match its public key", k.ID)
	}
	return nil
}
