package token

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/keyseal"
	"github.com/latchkey/latchkey/sqldb"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/verify"
)

// testSealer seals the keys of the package's tests.
var testSealer = newSealer()

func newSealer() *keyseal.Sealer {
	kek := make([]byte, keyseal.KeySize)
	rand.Read(kek)
	s, err := keyseal.New(kek)
	if err != nil {
		panic(err)
	}
	return s
}

func openDB(t *testing.T) *sqldb.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func listKeys(t *testing.T, db *sqldb.DB) []*latchkey.SigningKey {
	t.Helper()
	keys, err := db.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// The store holds every private key sealed under the ring's KEK, bound to
// its kid, and the ring signs with the opened key.
func TestKeysStoredSealed(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	ring, err := OpenKeyRing(ctx, db, testSealer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Rotate(ctx, db, testSealer, time.Now()); err != nil {
		t.Fatal(err)
	}
	keys := listKeys(t, db)
	if len(keys) != 2 {
		t.Fatalf("%d keys, want 2", len(keys))
	}
	for _, k := range keys {
		if !IsSealed(k) || len(k.PrivateKey) != ed25519.PrivateKeySize+keyseal.Overhead || k.PrivateKey[0] != keyseal.Version {
			t.Fatalf("key %s stored as %d bytes, not sealed", k.ID, len(k.PrivateKey))
		}
		priv, err := testSealer.Open(k.PrivateKey, []byte(k.ID))
		if err != nil {
			t.Fatalf("key %s does not open with its kid as AAD: %v", k.ID, err)
		}
		if bytes.Contains(k.PrivateKey, priv[:ed25519.SeedSize]) {
			t.Fatalf("key %s: the seed appears in the stored value", k.ID)
		}
	}
	kid, key := ring.signer()
	if kid != keys[1].ID || !bytes.Equal(key.Public().(ed25519.PublicKey), keys[1].PublicKey) {
		t.Fatal("the ring does not sign with the opened key of the oldest live key")
	}
	is := &Issuer{Issuer: "http://i", Audience: "a", TTL: time.Minute, Ring: ring}
	v, err := verify.New(verify.Config{Issuer: "http://i", Audience: "a", Keys: ring.Key})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := is.Issue(&latchkey.User{ID: "u1", Role: latchkey.RoleUser}, "s1", pwd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

// A store sealed under one KEK does not open under another, and the ring
// then fails rather than making itself a new key.
func TestKeyRingWrongKEK(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	if _, err := OpenKeyRing(ctx, db, testSealer, time.Hour); err != nil {
		t.Fatal(err)
	}
	other := newSealer()
	if _, err := OpenKeyRing(ctx, db, other, time.Hour); !errors.Is(err, keyseal.ErrOpen) {
		t.Fatalf("OpenKeyRing under another KEK: %v, want keyseal.ErrOpen", err)
	}
	if _, err := SealStoredKeys(ctx, db, other); !errors.Is(err, keyseal.ErrOpen) {
		t.Fatalf("SealStoredKeys under another KEK: %v, want keyseal.ErrOpen", err)
	}
	if n := len(listKeys(t, db)); n != 1 {
		t.Fatalf("the store has %d keys after a wrong KEK, want the 1 it had", n)
	}
	if _, err := OpenKeyRing(ctx, db, nil, time.Hour); err == nil {
		t.Fatal("OpenKeyRing without a sealer")
	}
	if _, err := Rotate(ctx, db, nil, time.Now()); err == nil {
		t.Fatal("Rotate without a sealer stored a key")
	}
}

// Plain keys from an earlier version are sealed in place, in one
// transaction, and keep signing; a ring refuses them until then.
func TestSealStoredKeys(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	now := time.Now().Add(-time.Minute)
	var plain []*latchkey.SigningKey
	for i := range 2 {
		k, err := NewSigningKey(now.Add(time.Duration(i) * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		raw := *k
		raw.PrivateKey = bytes.Clone(k.PrivateKey)
		if err := db.CreateSigningKey(ctx, &raw); err != nil { // as an earlier version did
			t.Fatal(err)
		}
		plain = append(plain, k)
	}
	if _, err := OpenKeyRing(ctx, db, testSealer, time.Hour); !errors.Is(err, ErrPlainKey) {
		t.Fatalf("a ring over plain keys: %v, want ErrPlainKey", err)
	}

	n, err := SealStoredKeys(ctx, db, testSealer)
	if err != nil || n != 2 {
		t.Fatalf("SealStoredKeys = %d, %v; want 2 sealed", n, err)
	}
	byID := map[string]*latchkey.SigningKey{}
	for _, k := range listKeys(t, db) {
		byID[k.ID] = k
	}
	for _, want := range plain {
		got := byID[want.ID]
		if got == nil || !IsSealed(got) || !bytes.Equal(got.PublicKey, want.PublicKey) {
			t.Fatalf("key %s after sealing: %+v", want.ID, got)
		}
		if priv, err := testSealer.Open(got.PrivateKey, []byte(got.ID)); err != nil || !bytes.Equal(priv, want.PrivateKey) {
			t.Fatalf("key %s does not open to its old private key: %v", want.ID, err)
		}
	}
	if n, err := SealStoredKeys(ctx, db, testSealer); err != nil || n != 0 {
		t.Fatalf("second SealStoredKeys = %d, %v; want 0", n, err)
	}
	ring, err := OpenKeyRing(ctx, db, testSealer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if kid, key := ring.signer(); kid != plain[1].ID || !bytes.Equal(key, plain[1].PrivateKey) {
		t.Fatalf("after sealing the ring signs with %s, want the newest old key %s", kid, plain[1].ID)
	}
}

// With a wrong KEK nothing is sealed: a plain key next to a sealed one
// stays as it was, rather than ending up under a second KEK.
func TestSealStoredKeysAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	if _, err := Rotate(ctx, db, testSealer, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	k, err := NewSigningKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSigningKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if _, err := SealStoredKeys(ctx, db, newSealer()); !errors.Is(err, keyseal.ErrOpen) {
		t.Fatalf("SealStoredKeys with a wrong KEK: %v", err)
	}
	if got := listKeys(t, db)[0]; got.ID != k.ID || IsSealed(got) {
		t.Fatal("a failed SealStoredKeys sealed the plain key")
	}
}

// A sealed key moved to another row, a key planted by a database write
// alone, and a key whose private half does not match its public one are
// all refused; the ring keeps what it had.
func TestKeyRingRefusesTamperedStore(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		tamper func(t *testing.T, db *sqldb.DB, a, b *latchkey.SigningKey)
	}{
		{"private key moved to another row", func(t *testing.T, db *sqldb.DB, a, b *latchkey.SigningKey) {
			exec(t, db, `UPDATE signing_keys SET private_key = (SELECT private_key FROM signing_keys WHERE id = $1) WHERE id = $2`, a.ID, b.ID)
		}},
		{"ciphertext altered", func(t *testing.T, db *sqldb.DB, a, b *latchkey.SigningKey) {
			v := bytes.Clone(b.PrivateKey)
			v[len(v)/2] ^= 1
			exec(t, db, `UPDATE signing_keys SET private_key = $1 WHERE id = $2`, v, b.ID)
		}},
		{"public key replaced", func(t *testing.T, db *sqldb.DB, a, b *latchkey.SigningKey) {
			exec(t, db, `UPDATE signing_keys SET public_key = $1 WHERE id = $2`, a.PublicKey, b.ID)
		}},
		{"plain key planted", func(t *testing.T, db *sqldb.DB, a, b *latchkey.SigningKey) {
			k, _ := NewSigningKey(time.Now())
			if err := db.CreateSigningKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}},
		{"key sealed under another KEK planted", func(t *testing.T, db *sqldb.DB, a, b *latchkey.SigningKey) {
			if _, err := Rotate(ctx, db, newSealer(), time.Now()); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			a, err := Rotate(ctx, db, testSealer, time.Now().Add(-2*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			b, err := Rotate(ctx, db, testSealer, time.Now().Add(-time.Second))
			if err != nil {
				t.Fatal(err)
			}
			ring, err := OpenKeyRing(ctx, db, testSealer, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			before := string(ring.JWKS())
			tc.tamper(t, db, a, b)
			if err := ring.Reload(ctx); err == nil {
				t.Fatal("Reload accepted the tampered store")
			}
			if string(ring.JWKS()) != before {
				t.Fatal("a failed Reload changed the published keys")
			}
			if _, err := OpenKeyRing(ctx, db, testSealer, time.Hour); err == nil {
				t.Fatal("OpenKeyRing accepted the tampered store")
			}
		})
	}
}

func exec(t *testing.T, db *sqldb.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Writer().Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}
