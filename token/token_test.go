package token

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/verify"
)

// RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
func TestThumbprintRFC8037(t *testing.T) {
	x, _ := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if got := thumbprint(ed25519.PublicKey(x)); got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Fatalf("thumbprint = %s", got)
	}
}

func TestRefreshDerivation(t *testing.T) {
	tok, key := NewRefresh()
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 32 || len(key) != 32 {
		t.Fatalf("token of %d bytes, key of %d: %v", len(raw), len(key), err)
	}
	tok2, key2 := NewRefresh()
	if tok == tok2 || string(key) == string(key2) {
		t.Fatal("two fresh tokens are equal")
	}
	next := NextRefresh(key, tok)
	if next == tok || next != NextRefresh(key, tok) {
		t.Fatal("derivation is not a deterministic new value")
	}
	if NextRefresh(key2, tok) == next || NextRefresh(key, tok2) == next {
		t.Fatal("derivation ignores its key or its token")
	}
	if h := HashRefresh(tok); len(h) != 32 || string(h) == tok {
		t.Fatalf("hash = %x", h)
	}
}

func openStore(t testing.TB) latchkey.Store {
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

func jwksKids(t *testing.T, r *KeyRing) []string {
	t.Helper()
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(r.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if _, ok := k["d"]; ok {
			t.Fatal("private key in JWKS")
		}
		kids = append(kids, k["kid"])
	}
	return kids
}

// TestKeyRingRotation: the newest key signs, the replaced one verifies and
// stays published for retain, then leaves both the JWKS and the verifier.
func TestKeyRingRotation(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	const retain = time.Minute
	ring, err := OpenKeyRing(ctx, store, testSealer, retain)
	if err != nil {
		t.Fatal(err)
	}
	// Start a minute after the first key was made, so it is active.
	now := time.Now().Add(time.Minute)
	ring.now = func() time.Time { return now }
	if err := ring.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	is := &Issuer{Issuer: "http://i", Audience: "a", TTL: time.Minute, Ring: ring}
	v, err := verify.New(verify.Config{Issuer: "http://i", Audience: "a", Keys: ring.Key})
	if err != nil {
		t.Fatal(err)
	}
	u := &latchkey.User{ID: "u1", Role: latchkey.RoleUser}
	old, err := is.Issue(u, "s1", pwd)
	if err != nil {
		t.Fatal(err)
	}
	first := jwksKids(t, ring)
	if len(first) != 1 {
		t.Fatalf("first start: %v", first)
	}

	k2, err := Rotate(ctx, store, testSealer, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if kids := jwksKids(t, ring); strings.Join(kids, ",") != k2.ID+","+first[0] {
		t.Fatalf("after rotation JWKS = %v", kids)
	}
	// Published but not yet signing: other processes may not have it yet.
	if tok, _ := is.Issue(u, "s1", pwd); !strings.Contains(header(t, tok), first[0]) {
		t.Fatal("a key signs before it has been published for Activation")
	}
	now = now.Add(Activation)
	if err := ring.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	fresh, _ := is.Issue(u, "s1", pwd)
	if !strings.Contains(header(t, fresh), k2.ID) {
		t.Fatal("the new key does not sign after Activation")
	}
	for _, tok := range []string{old, fresh} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("verify: %v", err)
		}
	}

	now = now.Add(retain)
	if err := ring.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if kids := jwksKids(t, ring); strings.Join(kids, ",") != k2.ID {
		t.Fatalf("after retain JWKS = %v", kids)
	}
	if _, err := v.Verify(ctx, old); err == nil || err.(*verify.Error).Reason != verify.ReasonUnknownKID {
		t.Fatalf("retired key still verifies: %v", err)
	}
	// And it is gone from the store, so no write there can revive it.
	if keys, err := store.ListSigningKeys(ctx); err != nil || len(keys) != 1 || keys[0].ID != k2.ID {
		t.Fatalf("store keys after retirement: %d, %v", len(keys), err)
	}
}

// TestKeyRingWatch: a rotation by another handle reaches a watching ring.
func TestKeyRingWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := openStore(t)
	ring, err := OpenKeyRing(ctx, store, testSealer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	go ring.Watch(ctx, 20*time.Millisecond, nil, slog.New(slog.DiscardHandler))
	k, err := Rotate(ctx, store, testSealer, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, ok := ring.lookup(k.ID); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the ring did not pick up the rotation")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestKeyRingReloadOnUnknownKid: a token signed by a key another process
// has just made verifies at once, and unknown kids cost at most one store
// read per second.
func TestKeyRingReloadOnUnknownKid(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	ring, err := OpenKeyRing(ctx, store, testSealer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ring.now = func() time.Time { return now }
	k, err := Rotate(ctx, store, testSealer, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring.Key(ctx, k.ID, verify.AlgEdDSA); err != nil {
		t.Fatalf("fresh kid after rotation: %v", err)
	}
	k3, err := Rotate(ctx, store, testSealer, now)
	if err != nil {
		t.Fatal(err)
	}
	// Within reloadOnMiss of the last miss-triggered reload: no new read.
	if _, err := ring.Key(ctx, k3.ID, verify.AlgEdDSA); err == nil {
		t.Fatal("a second miss within the interval read the store again")
	}
	now = now.Add(reloadOnMiss)
	if _, err := ring.Key(ctx, k3.ID, verify.AlgEdDSA); err != nil {
		t.Fatalf("after the interval: %v", err)
	}
}

func header(t *testing.T, tok string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pwd is the amr of a password sign-in.
var pwd = []string{latchkey.AMRPassword}
