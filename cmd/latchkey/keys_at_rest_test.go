package main

// Signing keys encrypted at rest, through run() and the real binary: the
// key file beside the database, LATCHKEY_SECRET_KEY, a wrong or missing
// key-encryption key, and plain keys left by an earlier version.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testkit"
	"github.com/latchkey/latchkey/keyseal"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/token"
)

// storedKey is one row of signing_keys as it lies in the file.
type storedKey struct {
	id          string
	pub, sealed []byte
}

func readStoredKeys(t *testing.T, dbPath string) []storedKey {
	t.Helper()
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, public_key, private_key FROM signing_keys ORDER BY created_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedKey
	for rows.Next() {
		var k storedKey
		if err := rows.Scan(&k.id, &k.pub, &k.sealed); err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// openedKeys opens every stored private key with kek, failing the test
// when one does not open or is not its row's key.
func openedKeys(t *testing.T, dbPath string, kek []byte) map[string]ed25519.PrivateKey {
	t.Helper()
	s, err := keyseal.New(kek)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ed25519.PrivateKey{}
	for _, k := range readStoredKeys(t, dbPath) {
		priv, err := s.Open(k.sealed, []byte(k.id))
		if err != nil {
			t.Fatalf("stored key %s does not open with the KEK: %v", k.id, err)
		}
		if !bytes.Equal(ed25519.PrivateKey(priv).Public().(ed25519.PublicKey), k.pub) {
			t.Fatalf("stored key %s opens to another key", k.id)
		}
		out[k.id] = priv
	}
	return out
}

// assertKeysNotInFiles searches the database, its WAL and shared-memory
// file for each private key: raw, its seed alone, and base64 of both.
func assertKeysNotInFiles(t *testing.T, dbPath string, keys map[string]ed25519.PrivateKey) {
	t.Helper()
	var files [][]byte
	for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	if len(files[0]) == 0 {
		t.Fatal("the database file is empty; the search would prove nothing")
	}
	for kid, priv := range keys {
		seed := priv.Seed()
		needles := [][]byte{priv, seed}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
			needles = append(needles, []byte(enc.EncodeToString(priv)), []byte(enc.EncodeToString(seed)))
		}
		for i, f := range files {
			for _, n := range needles {
				if bytes.Contains(f, n) {
					t.Errorf("private key %s appears in %s", kid, []string{"the database", "the WAL", "the -shm file"}[i])
				}
			}
		}
	}
}

// withDB adds --database-url to a command's arguments unless they have it
// (flags must come before a positional argument).
func withDB(args []string, dbPath string) []string {
	if strings.Contains(strings.Join(args, " "), "--database-url") {
		return args
	}
	return append(args, "--database-url", "sqlite:"+dbPath)
}

func secretEnv(secret string) map[string]string {
	return map[string]string{"LATCHKEY_SECRET_KEY": secret}
}

// First start creates the key file beside the database, 32 bytes, mode
// 0600; the stored keys open with it, and no private key is anywhere in
// the SQLite files, before or after a rotation.
func TestRunKeyFile(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	keyPath := dbPath + ".key"
	s := serveInProcess(t, nil, dbPath)
	fi, err := os.Stat(keyPath)
	if err != nil {
		t.Fatalf("no key file beside the database: %v", err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != keyseal.KeySize {
		t.Fatalf("key file mode %04o, %d bytes; want 0600 and %d", fi.Mode().Perm(), fi.Size(), keyseal.KeySize)
	}
	if !strings.Contains(s.log.String(), keyPath) {
		t.Errorf("the log does not say where the key file was created:\n%s", s.log.String())
	}
	c := testkit.NewClient(t, s.base, nil)
	g := c.SignUp("file@example.com", "correct horse battery", "")
	if code, _, stderr := runCLI(t, nil, "", "keys", "rotate", "--database-url", "sqlite:"+dbPath); code != 0 {
		t.Fatalf("keys rotate: exit %d, %q", code, stderr)
	}
	kek, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	keys := openedKeys(t, dbPath, kek)
	if len(keys) != 2 {
		t.Fatalf("%d keys in the store, want 2", len(keys))
	}
	assertKeysNotInFiles(t, dbPath, keys) // WAL not yet checkpointed
	if code, _, stderr := runCLI(t, nil, "", "token", "inspect", "--database-url", "sqlite:"+dbPath, g.AccessToken); code != 0 {
		t.Errorf("token inspect with the key file: exit %d, %q", code, stderr)
	}
	if code, _ := s.stop(t); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	assertKeysNotInFiles(t, dbPath, keys) // checkpointed on close

	// A second start reuses the file.
	s2 := serveInProcess(t, nil, dbPath)
	s2.stop(t)
	if again, _ := os.ReadFile(keyPath); !bytes.Equal(again, kek) {
		t.Fatal("a second start changed the key file")
	}

	// Group or others may not read or write it.
	for _, mode := range []os.FileMode{0o644, 0o640, 0o660, 0o606} {
		if err := os.Chmod(keyPath, mode); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"serve", "--addr", "127.0.0.1:0"},
			{"keys", "rotate"},
			{"token", "inspect", "--database-url", "sqlite:" + dbPath, g.AccessToken},
			{"user", "create", "--email", "m@example.com", "--password-stdin"},
			{"migrate"},
		} {
			code, stdout, stderr := runCLI(t, nil, "correct horse battery\n", withDB(args, dbPath)...)
			if code != 2 || !strings.Contains(stderr, keyPath) || !strings.Contains(stderr, "0600") {
				t.Errorf("%s with the key file at %04o: exit %d, stderr %q; want 2 naming the file and 0600", args[0], mode, code, stderr)
			}
			wantOneLineError(t, stderr)
			if args[0] != "token" && stdout != "" {
				t.Errorf("%s refused, yet printed %q", args[0], stdout)
			}
		}
	}
	if n := len(readStoredKeys(t, dbPath)); n != 2 {
		t.Errorf("refused commands left %d keys, want 2", n)
	}
	if err := os.Chmod(keyPath, 0o400); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, nil, "", "migrate", "--database-url", "sqlite:"+dbPath); code != 0 {
		t.Errorf("migrate with the key file at 0400: exit %d, %q", code, stderr)
	}
}

func TestRunSecretKeyTooShort(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"migrate"}} {
		code, _, stderr := runCLI(t, secretEnv(strings.Repeat("s", 31)), "", append(args, "--database-url", "sqlite:"+dbPath)...)
		if code != 2 || !strings.Contains(stderr, "LATCHKEY_SECRET_KEY") || !strings.Contains(stderr, "32 bytes") {
			t.Errorf("%s with a 31-byte LATCHKEY_SECRET_KEY: exit %d, stderr %q; want 2 naming the setting", args[0], code, stderr)
		}
		wantOneLineError(t, stderr)
	}
	for _, p := range []string{dbPath, dbPath + ".key"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("a refused start left %s behind", filepath.Base(p))
		}
	}
}

// A store sealed under one key-encryption key: serve, keys rotate and token
// inspect all use the configured one; another, or none, stops each of them
// with exit status 2 and never makes a new key.
func TestRunSecretKeyWrongKEK(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	dbURL := "sqlite:" + dbPath
	good, bad := strings.Repeat("g", 32)+"-right", strings.Repeat("b", 32)+"-wrong"

	s := serveInProcess(t, secretEnv(good), dbPath)
	c := testkit.NewClient(t, s.base, nil)
	g := c.SignUp("kek@example.com", "correct horse battery", "")
	if _, err := os.Stat(dbPath + ".key"); !os.IsNotExist(err) {
		t.Error("a key file was created although LATCHKEY_SECRET_KEY is set")
	}
	if code, _, stderr := runCLI(t, secretEnv(good), "", "keys", "rotate", "--database-url", dbURL); code != 0 {
		t.Fatalf("keys rotate with the right secret: exit %d, %q", code, stderr)
	}
	s.stop(t)
	kek, err := keyseal.FromSecret(good)
	if err != nil {
		t.Fatal(err)
	}
	keys := openedKeys(t, dbPath, kek)
	assertKeysNotInFiles(t, dbPath, keys)

	refused := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"another secret", secretEnv(bad), "LATCHKEY_SECRET_KEY"},
		{"no secret and no key file", nil, "no key file"},
	}
	for _, r := range refused {
		for _, args := range [][]string{
			{"serve", "--addr", "127.0.0.1:0"},
			{"keys", "rotate"},
			{"token", "inspect", "--database-url", dbURL, g.AccessToken},
			{"migrate"},
		} {
			code, _, stderr := runCLI(t, r.env, "", withDB(args, dbPath)...)
			if code != 2 || !strings.Contains(stderr, r.want) {
				t.Errorf("%s with %s: exit %d, stderr %q; want 2 mentioning %q", args[0], r.name, code, stderr, r.want)
			}
			wantOneLineError(t, stderr)
		}
	}
	if _, err := os.Stat(dbPath + ".key"); !os.IsNotExist(err) {
		t.Error("a start without LATCHKEY_SECRET_KEY made a key file for a store whose keys are sealed")
	}
	if got := openedKeys(t, dbPath, kek); len(got) != len(keys) {
		t.Fatalf("the store has %d keys after the refused commands, want %d", len(got), len(keys))
	}

	// The right secret still serves, and tokens signed before still verify.
	if code, stdout, stderr := runCLI(t, secretEnv(good), "", "token", "inspect", "--database-url", dbURL, g.AccessToken); code != 0 {
		t.Errorf("token inspect with the right secret: exit %d, %q %q", code, stdout, stderr)
	}
	s2 := serveInProcess(t, secretEnv(good), dbPath)
	testkit.NewClient(t, s2.base, nil).Call("GET", "/api/auth/me", g.AccessToken, nil).WantStatus(t, 200)
}

// A database from a version that stored private keys in plain text: the
// first start seals them in place, keeps signing with the same key, and the
// plain bytes are gone from the file.
func TestRunSealsPlainKeysOfEarlierVersion(t *testing.T) {
	t.Parallel()
	for _, first := range []string{"serve", "migrate"} {
		t.Run(first, func(t *testing.T) {
			t.Parallel()
			dbPath := filepath.Join(t.TempDir(), "lk.db")
			old := writeOldDatabase(t, dbPath)

			if first == "migrate" {
				code, stdout, stderr := runCLI(t, nil, "", "migrate", "--database-url", "sqlite:"+dbPath)
				if code != 0 || !strings.Contains(stdout, "encrypted 2 signing keys") {
					t.Fatalf("migrate of an old database: exit %d, stdout %q, stderr %q", code, stdout, stderr)
				}
			}
			s := serveInProcess(t, nil, dbPath)
			if first == "serve" && !strings.Contains(s.log.String(), "keys=2") {
				t.Errorf("serve does not log that it sealed 2 keys:\n%s", s.log.String())
			}
			c := testkit.NewClient(t, s.base, nil)
			g := c.SignUp("old@example.com", "correct horse battery", "")
			if kid := testkit.JSONPart(t, g.AccessToken, 0)["kid"]; kid != old[1].ID {
				t.Errorf("after the upgrade tokens are signed by %v, want the newest old key %s", kid, old[1].ID)
			}
			s.stop(t)

			kek, err := os.ReadFile(dbPath + ".key")
			if err != nil {
				t.Fatal(err)
			}
			keys := openedKeys(t, dbPath, kek)
			for _, k := range old {
				if !bytes.Equal(keys[k.ID], k.PrivateKey) {
					t.Errorf("old key %s was not kept as it was", k.ID)
				}
			}
			assertKeysNotInFiles(t, dbPath, keys)
		})
	}
}

// writeOldDatabase makes a store as an earlier version left it: two
// signing keys, private keys in plain text, and no key file.
func writeOldDatabase(t *testing.T, dbPath string) []*oldKey {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var out []*oldKey
	for i := range 2 {
		// Ten and five minutes old: both still live (a key retires, and is
		// deleted, once its successor is older than the token lifetime).
		k, err := token.NewSigningKey(time.Now().Add(time.Duration(i-2) * 5 * time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &oldKey{ID: k.ID, PrivateKey: bytes.Clone(k.PrivateKey)})
		if err := db.CreateSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dbPath)
	if err != nil || !bytes.Contains(b, out[0].PrivateKey) {
		t.Fatalf("control: the old database does not hold the plain key (%v); the test would prove nothing", err)
	}
	return out
}

type oldKey struct {
	ID         string
	PrivateKey ed25519.PrivateKey
}

// The real binary refuses a key file open to others with exit status 2 and
// one line on stderr.
func TestE2EKeyFileMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "lk.db")
	p := serveBin(t, dbPath)
	p.stop(t, os.Interrupt, 10*time.Second)
	if err := os.Chmod(dbPath+".key", 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binPath, "serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:"+dbPath)
	cmd.Env = childEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("serve with a 0644 key file: %v, want exit status 2; stderr %q", err, stderr.String())
	}
	wantOneLineError(t, stderr.String())
	if !strings.Contains(stderr.String(), dbPath+".key") {
		t.Errorf("stderr %q does not name the key file", stderr.String())
	}
}
