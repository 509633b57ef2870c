package verify

import (
	"context"
	"crypto/ed25519"
	"errors"
	"slices"
)

// KeyFunc returns the verification key for a token's "kid" and "alg"
// headers: an ed25519.PublicKey for EdDSA, a []byte secret for HS256. It is
// only called for an allowed alg, and before the signature is checked, so it
// must treat kid as untrusted input. For an unknown kid it returns an error
// wrapping ErrUnknownKey; any other error is reported as key_unavailable.
type KeyFunc func(ctx context.Context, kid, alg string) (any, error)

// ErrUnknownKey is what a KeyFunc wraps when it has no key for the kid, so
// that the verifier can tell "unknown_kid" from an unreachable key store.
var ErrUnknownKey = errors.New("verify: unknown key")

// StaticKeys is a KeyFunc serving a fixed set of Ed25519 public keys by kid.
// The map and keys are copied, so later changes by the caller have no effect.
func StaticKeys(keys map[string]ed25519.PublicKey) KeyFunc {
	// Stored as any so that returning a key does not allocate per call.
	m := make(map[string]any, len(keys))
	for kid, k := range keys {
		m[kid] = slices.Clone(k)
	}
	return func(_ context.Context, kid, _ string) (any, error) {
		if k, ok := m[kid]; ok {
			return k, nil
		}
		return nil, ErrUnknownKey
	}
}

// HMACSecret is a KeyFunc for the shared-secret mode: one secret, whatever
// the kid. The secret is copied. An empty secret makes every token fail with
// bad_key rather than verify against an all-zero HMAC key.
func HMACSecret(secret []byte) KeyFunc {
	var s any = slices.Clone(secret) // boxed once, not per call
	return func(context.Context, string, string) (any, error) {
		return s, nil
	}
}
