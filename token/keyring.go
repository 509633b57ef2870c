// Package token issues Latchkey's access tokens, keeps the signing key ring
// and its JWKS, and makes refresh tokens. Verification goes through package
// verify, so the rejection rules exist in one place.
package token

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/verify"
)

// NewSigningKey makes an Ed25519 key whose kid is its RFC 7638 thumbprint,
// so that every process derives the same kid for the same key.
func NewSigningKey(now time.Time) (*latchkey.SigningKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("token: generate ed25519 key: %w", err)
	}
	return &latchkey.SigningKey{
		ID:         thumbprint(pub),
		Algorithm:  verify.AlgEdDSA,
		PublicKey:  pub,
		PrivateKey: priv,
		CreatedAt:  now.UTC(),
	}, nil
}

// thumbprint is the RFC 7638 JWK thumbprint of an Ed25519 public key: the
// SHA-256 of the required members in lexicographic order.
func thumbprint(pub ed25519.PublicKey) string {
	canon := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Rotate adds a new signing key to the store, its private key sealed by s.
// The newest key signs from the next reload of every ring; older keys keep
// verifying until their tokens have expired. It returns the key as stored,
// private key sealed.
//
// s must be the sealer the other keys were sealed with (SealStoredKeys
// checks that), or the rings sharing the store will refuse the new key.
func Rotate(ctx context.Context, store latchkey.KeyService, s Sealer, now time.Time) (*latchkey.SigningKey, error) {
	k, err := NewSigningKey(now)
	if err != nil {
		return nil, err
	}
	stored, err := sealKey(s, k)
	if err != nil {
		return nil, err
	}
	if err := store.CreateSigningKey(ctx, stored); err != nil {
		return nil, fmt.Errorf("token: store signing key: %w", err)
	}
	return stored, nil
}

// Activation is how long a new key is published before it signs. Every
// process sharing the store re-reads the ring every second; signing with a
// key before the others have loaded it would get its tokens refused there.
const Activation = 5 * time.Second

// reloadOnMiss bounds the extra reloads an unknown kid triggers, so a flood
// of forged kids costs at most one store read a second.
const reloadOnMiss = time.Second

// KeyRing holds the store's Ed25519 keys in memory: the newest key that has
// been published for Activation signs, and every key that may still have
// live tokens verifies and is published. The store holds the private keys
// sealed; the ring opens them with its Sealer, and only the signing key's
// stays in memory in the clear.
type KeyRing struct {
	store  latchkey.KeyService
	sealer Sealer
	// retain is how long a replaced key stays published: the longest access
	// token lifetime plus the verifier's leeway.
	retain time.Duration
	now    func() time.Time

	mu         sync.RWMutex
	signingKID string
	signingKey ed25519.PrivateKey
	public     map[string]ed25519.PublicKey
	jwks       []byte

	missMu   sync.Mutex
	lastMiss time.Time
}

// OpenKeyRing loads the ring from the store, opening the private keys with
// s, and creates the first key when the store has none. A key that does
// not open with s (a wrong key-encryption key) is an error, never a reason
// to make a new key.
func OpenKeyRing(ctx context.Context, store latchkey.KeyService, s Sealer, retain time.Duration) (*KeyRing, error) {
	if s == nil {
		return nil, errors.New("token: OpenKeyRing: no sealer")
	}
	r := &KeyRing{store: store, sealer: s, retain: retain, now: time.Now}
	keys, err := store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("token: list signing keys: %w", err)
	}
	if len(keys) == 0 {
		if _, err := Rotate(ctx, store, s, r.now()); err != nil {
			return nil, err
		}
	}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the keys again, picking up a rotation made by another process.
// Every live key must open with the ring's sealer and match its public key;
// otherwise the ring stays as it was and Reload reports why.
func (r *KeyRing) Reload(ctx context.Context) error {
	keys, err := r.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: list signing keys: %w", err)
	}
	if len(keys) == 0 {
		return errors.New("token: the store has no signing key")
	}
	now := r.now()
	public := make(map[string]ed25519.PublicKey)
	set := jwkSet{Keys: []jwk{}}
	// keys are newest first; a key is live while its successor is younger
	// than retain, because tokens it signed can be that old. (A key signs
	// until Activation after its successor was made, and retain, the token
	// lifetime plus verify.MaxLeeway, is longer than that.)
	var signing *latchkey.SigningKey
	var signingKey ed25519.PrivateKey
	for i, k := range keys {
		if i > 0 && now.Sub(keys[i-1].CreatedAt) > r.retain {
			// Retired: every token these keys signed has expired. Deleting
			// them means no database write can bring one back (by moving
			// its created_at) to sign again. A failure is retried at the
			// next reload.
			retired := make([]string, 0, len(keys)-i)
			for _, old := range keys[i:] {
				retired = append(retired, old.ID)
			}
			_ = r.store.DeleteSigningKeys(ctx, retired)
			break
		}
		// Opening every live key, not only the signing one, vouches for
		// the public keys too: only the holder of the key-encryption key
		// can have put them there.
		priv, err := openKey(r.sealer, k)
		if err != nil {
			return err
		}
		// The newest key published long enough signs; while none is (a first
		// start, or rotations in quick succession), the oldest live one.
		if signing == nil || now.Sub(signing.CreatedAt) < Activation {
			signing, signingKey = k, priv
		}
		public[k.ID] = ed25519.PublicKey(k.PublicKey)
		set.Keys = append(set.Keys, jwk{
			Kty: "OKP", Crv: "Ed25519", Alg: verify.AlgEdDSA, Use: "sig", Kid: k.ID,
			X: base64.RawURLEncoding.EncodeToString(k.PublicKey),
		})
	}
	body, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("token: encode jwks: %w", err)
	}
	r.mu.Lock()
	r.signingKID, r.signingKey, r.public, r.jwks = signing.ID, signingKey, public, body
	r.mu.Unlock()
	return nil
}

// Watch reloads the ring every interval until ctx ends, so a `keys rotate`
// run against the same store reaches this process without a restart. A
// receive on wake (may be nil) reloads at once: the store's notification
// that the keys changed.
func (r *KeyRing) Watch(ctx context.Context, interval time.Duration, wake <-chan struct{}, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		// Bounded, so that a read stuck on a connection the network
		// dropped silently does not stop every later reload.
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := r.Reload(rctx); err != nil && ctx.Err() == nil {
			log.Warn("reload signing keys", "err", err)
		}
		cancel()
	}
}

// Key is a verify.KeyFunc over the ring's live public keys.
func (r *KeyRing) Key(ctx context.Context, kid, alg string) (any, error) {
	if alg != verify.AlgEdDSA {
		return nil, fmt.Errorf("token: algorithm %q: %w", alg, verify.ErrUnknownKey)
	}
	if k, ok := r.lookup(kid); ok {
		return k, nil
	}
	// Another process may have just rotated: look once more in the store,
	// at most once per reloadOnMiss whatever the kids presented.
	r.missMu.Lock()
	if now := r.now(); now.Sub(r.lastMiss) >= reloadOnMiss {
		r.lastMiss = now
		_ = r.Reload(ctx) // on failure the ring stays as it was
	}
	r.missMu.Unlock()
	if k, ok := r.lookup(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("token: kid not in ring: %w", verify.ErrUnknownKey)
}

func (r *KeyRing) lookup(kid string) (ed25519.PublicKey, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.public[kid]
	return k, ok
}

// JWKS returns the JSON Web Key Set of the live public keys.
func (r *KeyRing) JWKS() []byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.jwks
}

func (r *KeyRing) signer() (kid string, key ed25519.PrivateKey) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.signingKID, r.signingKey
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}
