package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
	"github.com/latchkey/latchkey/sqlite"
)

var ctx = context.Background()

func open(t *testing.T, path string) *sqldb.DB {
	t.Helper()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenCreatesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	db := open(t, path)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("Open did not create the file: %v", err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(name), perm)
		}
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOpenBadPath(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "not.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(dir, "file")
	if err := os.WriteFile(aFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
	}{
		{"empty", ""},
		{"memory", ":memory:"},
		{"uri", "file:" + filepath.Join(dir, "x.db")},
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "x.db")},
		{"directory", dir},
		{"parent is a file", filepath.Join(aFile, "x.db")},
		{"not a database", notDB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var err error
			var db *sqldb.DB
			go func() {
				defer close(done)
				db, err = sqlite.Open(ctx, tt.path)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Open hangs")
			}
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded", tt.path)
			}
			if tt.path != "" && !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the path", err)
			}
			t.Log(err)
		})
	}
	// Nothing was created on the way.
	if _, err := os.Stat(filepath.Join(dir, "no")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open created a directory: %v", err)
	}
}

func TestOpenUnwritableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permissions")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if db, err := sqlite.Open(ctx, filepath.Join(dir, "x.db")); err == nil {
		db.Close()
		t.Fatal("Open in a read-only directory succeeded")
	}
}

func TestPragmas(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "p.db"))
	for _, tt := range []struct {
		pool *sql.DB
		name string
		want string
	}{
		{db.Writer(), "journal_mode", "wal"},
		{db.Writer(), "foreign_keys", "1"},
		{db.Writer(), "busy_timeout", "5000"},
		{db.Writer(), "synchronous", "1"}, // NORMAL
		{db.Writer(), "query_only", "0"},
		{db.Reader(), "journal_mode", "wal"},
		{db.Reader(), "foreign_keys", "1"},
		{db.Reader(), "busy_timeout", "5000"},
		{db.Reader(), "query_only", "1"},
	} {
		var got string
		if err := tt.pool.QueryRowContext(ctx, "PRAGMA "+tt.name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(got, tt.want) {
			t.Errorf("%s = %q, want %q", tt.name, got, tt.want)
		}
	}
	if s := db.Writer().Stats(); s.MaxOpenConnections != 1 {
		t.Errorf("writer allows %d connections, want 1", s.MaxOpenConnections)
	}
	if s := db.Reader().Stats(); s.MaxOpenConnections < 2 {
		t.Errorf("reader allows %d connections, want several", s.MaxOpenConnections)
	}
	if _, err := db.Reader().ExecContext(ctx, `CREATE TABLE t (x)`); err == nil {
		t.Error("the reader pool can write")
	}
}

// Reads go through their own pool: they do not wait for a write
// transaction holding the writer's only connection.
func TestReadsDoNotQueueBehindWrites(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "rw.db"))
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := &latchkey.User{Email: "a@example.com", PasswordHash: "h"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Writer().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE users SET name = 'in flight'`); err != nil {
		t.Fatal(err)
	}

	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	got, err := db.FindUserByID(rctx, u.ID)
	if err != nil {
		t.Fatalf("read during a write transaction: %v", err)
	}
	if got.Name != "" {
		t.Fatalf("read saw uncommitted name %q", got.Name)
	}
}

// Write transactions begin IMMEDIATE: a second process's write waits for
// the first (busy_timeout) instead of failing to upgrade a read lock.
func TestWriteTransactionsAreImmediate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tx.db")
	a := open(t, path)
	b := open(t, path)
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err := a.Writer().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing written yet, but BEGIN IMMEDIATE already holds the lock.
	done := make(chan error, 1)
	go func() {
		done <- b.CreateUser(ctx, &latchkey.User{Email: "b@example.com", PasswordHash: "h"})
	}()
	select {
	case err := <-done:
		t.Fatalf("write from b went through during a's transaction: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("b's write after a committed: %v", err)
	}
}

// SetPassword changes the hash and revokes sessions in one transaction: if
// the revocation fails, the hash is unchanged.
func TestSetPasswordAtomic(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "atomic.db"))
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := &latchkey.User{Email: "a@example.com", PasswordHash: "old"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := &latchkey.Session{UserID: u.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour),
		RefreshHash: []byte("hash")}
	if _, err := db.CreateSession(ctx, s, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Writer().ExecContext(ctx, `CREATE TRIGGER no_revoke BEFORE UPDATE OF revoked_at ON sessions
		BEGIN SELECT RAISE(ABORT, 'revocation refused'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetPassword(ctx, u.ID, "new", "", now); err == nil {
		t.Fatal("SetPassword succeeded despite the trigger")
	}
	got, err := db.FindUserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash != "old" {
		t.Fatalf("hash = %q after a failed SetPassword: half written", got.PasswordHash)
	}
}

func TestDialectErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	db := open(t, path)
	if _, err := db.Writer().ExecContext(ctx, `CREATE TABLE p (id TEXT PRIMARY KEY, u TEXT UNIQUE);
		CREATE TABLE c (p TEXT REFERENCES p (id))`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Writer().ExecContext(ctx, `INSERT INTO p VALUES ('a', 'x')`); err != nil {
		t.Fatal(err)
	}
	exec := func(q string) error {
		_, err := db.Writer().ExecContext(ctx, q)
		if err == nil {
			t.Fatalf("%s succeeded", q)
		}
		return err
	}
	d := sqlite.Dialect()
	unique := exec(`INSERT INTO p VALUES ('b', 'x')`)
	pk := exec(`INSERT INTO p VALUES ('a', 'y')`)
	fk := exec(`INSERT INTO c VALUES ('zzz')`)
	syntax := exec(`INSERT INTO nowhere VALUES (1)`)
	for _, tt := range []struct {
		name       string
		err        error
		unique, fk bool
	}{
		{"unique", unique, true, false},
		{"primary key", pk, true, false},
		{"foreign key", fk, false, true},
		{"other", syntax, false, false},
		{"wrapped unique", errors.Join(errors.New("context"), unique), true, false},
	} {
		if got := d.IsUniqueViolation(tt.err); got != tt.unique {
			t.Errorf("%s: IsUniqueViolation(%v) = %v", tt.name, tt.err, got)
		}
		if got := d.IsForeignKeyViolation(tt.err); got != tt.fk {
			t.Errorf("%s: IsForeignKeyViolation(%v) = %v", tt.name, tt.err, got)
		}
		if d.IsUnavailable(tt.err) {
			t.Errorf("%s: IsUnavailable(%v) = true", tt.name, tt.err)
		}
	}

	// Another connection holds the write lock and this one may not wait:
	// SQLITE_BUSY, an overload rather than a fault.
	tx, err := db.Writer().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	impatient, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	_, busy := impatient.ExecContext(ctx, `INSERT INTO p VALUES ('c', 'z')`)
	if busy == nil || !d.IsUnavailable(busy) {
		t.Errorf("IsUnavailable(%v) = false for a write that found the lock taken", busy)
	}
}
