package keyseal

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func newSealer(t *testing.T) *Sealer {
	t.Helper()
	kek := make([]byte, KeySize)
	rand.Read(kek)
	s, err := New(kek)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealOpenRoundTrip(t *testing.T) {
	s := newSealer(t)
	for _, n := range []int{0, 1, 64, 1000} {
		pt := make([]byte, n)
		rand.Read(pt)
		sealed, err := s.Seal(pt, []byte("kid-1"))
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != n+Overhead || sealed[0] != Version {
			t.Fatalf("sealed %d bytes into %d starting %#x, want %d starting %#x", n, len(sealed), sealed[0], n+Overhead, Version)
		}
		if n >= 8 && bytes.Contains(sealed, pt) {
			t.Fatal("the plaintext appears in the sealed value")
		}
		got, err := s.Open(sealed, []byte("kid-1"))
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("open %d bytes: %x, %v", n, got, err)
		}
	}
	// Random nonces: the same plaintext seals differently each time.
	a, _ := s.Seal([]byte("same"), nil)
	b, _ := s.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one plaintext are equal")
	}
}

func TestOpenRefuses(t *testing.T) {
	s := newSealer(t)
	pt := bytes.Repeat([]byte{0x42}, 64)
	sealed, _ := s.Seal(pt, []byte("kid-1"))
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	tests := []struct {
		name    string
		s       *Sealer
		value   []byte
		aad     string
		errOpen bool // ErrOpen, rather than a malformed-value error
	}{
		{"tampered nonce", s, flip(1), "kid-1", true},
		{"tampered ciphertext", s, flip(20), "kid-1", true},
		{"tampered tag", s, flip(len(sealed) - 1), "kid-1", true},
		{"wrong aad", s, sealed, "kid-2", true},
		{"no aad", s, sealed, "", true},
		{"wrong kek", newSealer(t), sealed, "kid-1", true},
		{"truncated", s, sealed[:len(sealed)-1], "kid-1", true},
		{"too short", s, sealed[:Overhead-1], "kid-1", false},
		{"unknown version", s, flip(0), "kid-1", false},
		{"plaintext", s, pt, "kid-1", false},
	}
	for _, tc := range tests {
		got, err := tc.s.Open(tc.value, []byte(tc.aad))
		if err == nil {
			t.Errorf("%s: opened to %x", tc.name, got)
			continue
		}
		if errors.Is(err, ErrOpen) != tc.errOpen {
			t.Errorf("%s: error %v, ErrOpen %v", tc.name, err, tc.errOpen)
		}
	}
}

func TestNewKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New accepted a %d-byte key", n)
		}
	}
}

func TestFromSecret(t *testing.T) {
	for _, s := range []string{"", "short", strings.Repeat("x", MinSecret-1)} {
		if _, err := FromSecret(s); err == nil {
			t.Errorf("FromSecret accepted %d bytes", len(s))
		}
	}
	a, err := FromSecret(strings.Repeat("a", MinSecret))
	if err != nil || len(a) != KeySize {
		t.Fatalf("FromSecret: %d bytes, %v", len(a), err)
	}
	a2, _ := FromSecret(strings.Repeat("a", MinSecret))
	b, _ := FromSecret(strings.Repeat("a", MinSecret) + "b")
	if !bytes.Equal(a, a2) || bytes.Equal(a, b) {
		t.Fatal("FromSecret is not a deterministic function of the whole secret")
	}
	if bytes.Equal(a, []byte(strings.Repeat("a", KeySize))) {
		t.Fatal("FromSecret returns the secret itself")
	}
	// Sealed under one secret, not opened under another.
	sa, _ := New(a)
	sb, _ := New(b)
	sealed, _ := sa.Seal([]byte("private"), []byte("kid"))
	if _, err := sb.Open(sealed, []byte("kid")); !errors.Is(err, ErrOpen) {
		t.Fatalf("opened under another secret: %v", err)
	}
}

// A known answer pins the derivation (changing the hash or the info string
// would make every deployed secret open nothing), and an HKDF written out
// from RFC 5869 with crypto/hmac checks it: extract with the default salt
// (32 zero bytes), then one block of expand, since 32 bytes is one
// SHA-256 output.
func TestFromSecretKnownAnswer(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	k, err := FromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	ext := hmac.New(sha256.New, make([]byte, sha256.Size))
	ext.Write([]byte(secret))
	exp := hmac.New(sha256.New, ext.Sum(nil))
	exp.Write([]byte("latchkey keyseal v1: signing-key encryption"))
	exp.Write([]byte{1})
	if want := exp.Sum(nil); !bytes.Equal(k, want) {
		t.Fatalf("FromSecret = %x, RFC 5869 by hand = %x", k, want)
	}
	if got := hex.EncodeToString(k); got != "79ec47644751c2c84dda99825b39b0f429601ae500a49dee16f3f59f0129d0bc" {
		t.Fatalf("FromSecret = %s: the derivation changed", got)
	}
}

func TestLoadOrCreateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lk.db.key")
	kek, created, err := LoadOrCreateFile(path)
	if err != nil || !created || len(kek) != KeySize {
		t.Fatalf("first call: %d bytes, created %v, %v", len(kek), created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", perm)
	}
	again, created, err := LoadOrCreateFile(path)
	if err != nil || created || !bytes.Equal(again, kek) {
		t.Fatalf("second call: created %v, same key %v, %v", created, bytes.Equal(again, kek), err)
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the key file", len(entries))
	}
}

func TestLoadFileRefusesOpenModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lk.db.key")
	if _, _, err := LoadOrCreateFile(path); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o602, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadFile(path); !errors.Is(err, ErrFileMode) {
			t.Errorf("mode %04o: %v, want ErrFileMode", mode, err)
		}
		if _, _, err := LoadOrCreateFile(path); !errors.Is(err, ErrFileMode) {
			t.Errorf("LoadOrCreateFile at mode %04o: %v, want ErrFileMode", mode, err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); err != nil {
		t.Errorf("mode 0400: %v", err)
	}
}

func TestLoadFileRefusesBadContent(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 16, KeySize - 1, KeySize + 1, 64} {
		path := filepath.Join(dir, "k")
		if err := os.WriteFile(path, make([]byte, n), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadFile(path); err == nil {
			t.Errorf("a %d-byte key file was accepted", n)
		}
		os.Remove(path)
	}
	if _, err := LoadFile(dir); err == nil {
		t.Error("a directory was accepted as key file")
	}
}

// Processes starting at once on a new database agree on one key.
func TestLoadOrCreateFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lk.db.key")
	const n = 16
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], _, errs[i] = LoadOrCreateFile(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("callers 0 and %d got different keys", i)
		}
	}
}

// TestDeriveKey: one KEK and info give one key, on any instance; another
// info or another KEK gives another; the sealing key's info and short
// infos are refused; the caller's KEK slice is copied.
func TestDeriveKey(t *testing.T) {
	kek := bytes.Repeat([]byte{0x42}, KeySize)
	a, err := New(kek)
	if err != nil {
		t.Fatal(err)
	}
	kek[0] = 0 // New copied it
	b, _ := New(bytes.Repeat([]byte{0x42}, KeySize))
	const info = "latchkey test: derived key v1"
	ka, err := a.DeriveKey(info)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := b.DeriveKey(info)
	if len(ka) != KeySize || !bytes.Equal(ka, kb) {
		t.Fatalf("one KEK and info gave %x and %x", ka, kb)
	}
	other, _ := a.DeriveKey(info + " other")
	if bytes.Equal(ka, other) {
		t.Fatal("two infos gave one key")
	}
	if k, _ := newSealer(t).DeriveKey(info); bytes.Equal(ka, k) {
		t.Fatal("two KEKs gave one key")
	}
	if bytes.Equal(ka, bytes.Repeat([]byte{0x42}, KeySize)) {
		t.Fatal("the derived key is the KEK")
	}
	for _, bad := range []string{"", "short", hkdfInfo} {
		if _, err := a.DeriveKey(bad); err == nil {
			t.Errorf("DeriveKey(%q) accepted", bad)
		}
	}
}
