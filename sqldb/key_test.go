package sqldb_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
	"github.com/latchkey/latchkey/sqlite"
)

// RewriteSigningKeys writes back only the private keys fn changed, and
// nothing at all when fn fails.
func TestRewriteSigningKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		a := &latchkey.SigningKey{ID: "kid-a", Algorithm: "EdDSA", PublicKey: randBytes(t, 32), PrivateKey: randBytes(t, 64), CreatedAt: t0.Add(-time.Hour)}
		b := &latchkey.SigningKey{ID: "kid-b", Algorithm: "EdDSA", PublicKey: randBytes(t, 32), PrivateKey: randBytes(t, 64), CreatedAt: t0}
		must(t, db.CreateSigningKey(ctx, a))
		must(t, db.CreateSigningKey(ctx, b))

		// A failing fn leaves every key as it was, even one it changed.
		boom := errors.New("boom")
		var seen []string
		err := db.RewriteSigningKeys(ctx, func(k *latchkey.SigningKey) (bool, error) {
			seen = append(seen, k.ID)
			if k.ID == "kid-b" {
				k.PrivateKey = randBytes(t, 93)
				return true, nil
			}
			return false, boom
		})
		if !errors.Is(err, boom) || err != boom {
			t.Fatalf("fn's error came back as %v", err)
		}
		if !reflect.DeepEqual(seen, []string{"kid-b", "kid-a"}) {
			t.Fatalf("fn saw %v, want newest first", seen)
		}
		keys, err := db.ListSigningKeys(ctx)
		must(t, err)
		if !reflect.DeepEqual(keys, []*latchkey.SigningKey{b, a}) {
			t.Fatalf("a failed rewrite changed the keys:\n%+v", keys)
		}

		sealed := randBytes(t, 93)
		must(t, db.RewriteSigningKeys(ctx, func(k *latchkey.SigningKey) (bool, error) {
			if k.ID != "kid-a" {
				return false, nil
			}
			k.PrivateKey, k.PublicKey, k.Algorithm = sealed, randBytes(t, 32), "changed"
			return true, nil
		}))
		keys, err = db.ListSigningKeys(ctx)
		must(t, err)
		wantA := *a
		wantA.PrivateKey = sealed // and nothing else
		if !reflect.DeepEqual(keys, []*latchkey.SigningKey{b, &wantA}) {
			t.Fatalf("after rewrite:\n%+v\nwant\n%+v", keys, []*latchkey.SigningKey{b, &wantA})
		}
	})
}

// Private keys rewritten in place leave no trace of their old bytes in the
// SQLite files: not in the pages' free space, not in the WAL. (Without the
// zeroing step, SQLite leaves some of the old cells in free space once a
// page holds more than one key: this test fails then.)
func TestRewriteSigningKeysLeavesNoResidue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lk.db")
	open := func() *sqldb.DB {
		db, err := sqlite.Open(ctx, path)
		must(t, err)
		must(t, db.Migrate(ctx))
		return db
	}
	db := open()
	var seeds [][]byte // the secret half of each key; the rest is its public key
	for i := range 5 {
		priv := randBytes(t, 64)
		seeds = append(seeds, priv[:32])
		must(t, db.CreateSigningKey(ctx, &latchkey.SigningKey{ID: "kid-" + strconv.Itoa(i), Algorithm: "EdDSA",
			PublicKey: randBytes(t, 32), PrivateKey: priv, CreatedAt: t0.Add(time.Duration(i) * time.Second)}))
	}
	must(t, db.Close())
	if b := readAll(t, path); !bytes.Contains(b, seeds[0]) {
		t.Fatal("control: the keys are not in the database file before the rewrite; the test would prove nothing")
	}

	db = open()
	must(t, db.RewriteSigningKeys(ctx, func(k *latchkey.SigningKey) (bool, error) {
		k.PrivateKey = randBytes(t, 93)
		return true, nil
	}))
	check := func(when string, files ...string) {
		t.Helper()
		for _, p := range files {
			b := readAll(t, p)
			for i, s := range seeds {
				if bytes.Contains(b, s) {
					t.Errorf("%s: %s still holds old private key %d", when, filepath.Base(p), i)
				}
			}
		}
	}
	// While the store is open, the database file keeps the old pages until
	// the next checkpoint; the new ones, in the WAL, must be clean.
	check("store open", path+"-wal")
	must(t, db.Close()) // checkpoints
	check("store closed", path, path+"-wal", path+"-shm")
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b
}
