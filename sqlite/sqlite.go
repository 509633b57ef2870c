// Package sqlite opens Latchkey's store in a SQLite database file, using
// modernc.org/sqlite (pure Go, no cgo). It knows only how to open the file,
// which pragmas to set and how SQLite reports constraint failures; every
// query lives in package sqldb.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/latchkey/latchkey/sqldb"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// BusyTimeoutMillis is how long a connection waits for another
// connection's (or process's) write lock before failing with SQLITE_BUSY.
const BusyTimeoutMillis = 5000

// Open opens the SQLite database at path, creating the file if it does not
// exist, and returns it as a store. It does not migrate: call Migrate.
//
// Two pools share the file: a writer with a single connection, whose
// transactions begin IMMEDIATE (they take the write lock up front, so they
// never deadlock upgrading a read lock and concurrent writers simply queue
// on busy_timeout), and a read-only reader pool of several connections. The
// file is put in WAL mode, so reads never wait for writes; foreign keys are
// enforced; synchronous=NORMAL (durable across application crashes, may lose
// the last transactions on power loss, never corrupts).
//
// Open touches the file before returning, so a path in a missing directory,
// a directory, or a file that is not a database fails here, naming the path.
func Open(ctx context.Context, path string) (*sqldb.DB, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	// The file holds password hashes and refresh-token keys: create it
	// readable by its owner only. SQLite gives the -wal and -shm files
	// the same mode. (An empty file is an empty database.)
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}

	writer, err := open(ctx, path, dsn(path, false))
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	// Check what the connection actually got: an old driver might ignore a
	// DSN parameter, and some file systems cannot do WAL.
	if err := expectPragma(ctx, writer, "journal_mode", "wal"); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	if err := expectPragma(ctx, writer, "foreign_keys", "1"); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}

	reader, err := open(ctx, path, dsn(path, true))
	if err != nil {
		writer.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	return sqldb.New(writer, reader, Dialect()), nil
}

// Dialect tells sqldb how SQLite differs: only in its error codes.
func Dialect() sqldb.Dialect {
	return sqldb.Dialect{
		IsUniqueViolation: func(err error) bool {
			return hasCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
		},
		IsForeignKeyViolation: func(err error) bool { return hasCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) },
		// Another process held the write lock past the busy timeout: an
		// overload to retry (503), not a fault.
		IsUnavailable: func(err error) bool {
			var e *sqlite.Error
			return errors.As(err, &e) && (e.Code()&0xff == sqlite3.SQLITE_BUSY || e.Code()&0xff == sqlite3.SQLITE_LOCKED)
		},
	}
}

func hasCode(err error, codes ...int) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code() == c {
			return true
		}
	}
	return false
}

// dsn returns the modernc.org/sqlite data source name for path. _pragma
// values run on every new connection, busy_timeout first.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeoutMillis))
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		// journal_mode is persistent in the file: the writer has set it.
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// checkPath rejects what Open cannot serve, with a clearer message than
// SQLite's "unable to open database file".
func checkPath(path string) error {
	switch {
	case path == "":
		return errors.New("sqlite: open: empty database path")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return fmt.Errorf("sqlite: open %q: want a file path (in-memory databases and URIs are not supported)", path)
	case strings.ContainsRune(path, '?'):
		return fmt.Errorf("sqlite: open %q: file path contains '?'", path)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("sqlite: open %q: is a directory", path)
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("sqlite: open %q: %w", path, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("sqlite: open %q: %s is not a directory", path, dir)
	}
	return nil
}

// open opens a pool and makes it open its first connection, which applies
// the pragmas and so reads, or creates, the file.
func open(ctx context.Context, path, dsn string) (*sql.DB, error) {
	// Two processes starting on a new file race to put it in WAL mode, and
	// SQLite answers the loser SQLITE_BUSY at once, without waiting out
	// busy_timeout. Retry within that timeout, as a busy write would wait.
	deadline := time.Now().Add(BusyTimeoutMillis * time.Millisecond)
	for {
		db, err := openOnce(ctx, path, dsn)
		var e *sqlite.Error
		if err == nil || !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return db, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func openOnce(ctx context.Context, path, dsn string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	// Read the schema, which fails on a file that is not a database even
	// when no pragma above had to read it.
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master`).Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	return db, nil
}

func expectPragma(ctx context.Context, db *sql.DB, name, want string) error {
	var got string
	if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
		return fmt.Errorf("pragma %s: %w", name, err)
	}
	if !strings.EqualFold(got, want) {
		return fmt.Errorf("pragma %s is %q, want %q", name, got, want)
	}
	return nil
}
