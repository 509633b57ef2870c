package latchkey

import (
	"context"
	"time"
)

// SigningKey is one key of the signing key ring. The newest key signs; older
// ones stay published until the tokens they signed have expired.
type SigningKey struct {
	ID         string // the JWS "kid"
	Algorithm  string // "EdDSA"
	PublicKey  []byte // raw Ed25519 public key
	PrivateKey []byte // raw Ed25519 private key (seed || public)
	CreatedAt  time.Time
}

// KeyService stores signing keys.
type KeyService interface {
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns every key, newest first.
	ListSigningKeys(ctx context.Context) ([]*SigningKey, error)
	// DeleteSigningKeys removes retired keys for good.
	DeleteSigningKeys(ctx context.Context, ids []string) error
}
