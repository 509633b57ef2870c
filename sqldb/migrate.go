package sqldb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded file, migrations/NNNN_name.sql, and the Go
// step of its version, if any.
type migration struct {
	version int64
	name    string
	sql     string
	step    func(ctx context.Context, tx *sql.Tx) error
}

// goSteps are the migrations that need Go after their SQL, by version: a
// value computed in Go, such as an email's key, cannot be computed in SQL.
// A step runs in its migration's transaction, after the SQL, so the
// migration is still applied entirely or not at all.
var goSteps = map[int64]func(ctx context.Context, tx *sql.Tx) error{
	16: rekeyEmails,
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	seen := map[int64]string{}
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", base)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, base, v)
		}
		seen[v] = base
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: strings.TrimSuffix(base, ".sql"), sql: string(b), step: goSteps[v]})
	}
	for v := range goSteps {
		if _, ok := seen[v]; !ok {
			return nil, fmt.Errorf("migration %d has a Go step but no file", v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// Migrate brings the schema up to date by applying, in order, each embedded
// migration not yet recorded in schema_migrations. Each migration runs in
// its own write transaction together with its bookkeeping row, so it is
// applied entirely or not at all. Running Migrate again is a no-op, and two
// processes migrating at once are serialized by the write lock (SQLite) or
// the dialect's MigrationLock: the second one finds the work done.
func (db *DB) Migrate(ctx context.Context) error {
	return db.migrateTo(ctx, math.MaxInt64)
}

// migrateTo applies the migrations up to version last.
func (db *DB) migrateTo(ctx context.Context, last int64) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("sqldb: migrate: %w", err)
	}
	for _, m := range ms {
		if m.version > last {
			break
		}
		if err := db.inTx(ctx, func(tx *tx) error { return db.apply(ctx, tx, m) }); err != nil {
			return fmt.Errorf("sqldb: migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// apply runs one migration. Its statements run once, so they bypass the
// prepared-statement cache.
func (db *DB) apply(ctx context.Context, tx *tx, m migration) error {
	if db.dialect.MigrationLock != "" {
		if _, err := tx.tx.ExecContext(ctx, db.dialect.MigrationLock); err != nil {
			return err
		}
	}
	if _, err := tx.tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return err
	}
	var one int
	err := tx.tx.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE version = $1`, m.version).Scan(&one)
	switch {
	case err == nil:
		return nil // already applied
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	text := m.sql
	if db.dialect.Schema != nil {
		text = db.dialect.Schema(text)
	}
	if _, err := tx.tx.ExecContext(ctx, text); err != nil {
		return err
	}
	if m.step != nil {
		if err := m.step(ctx, tx.tx); err != nil {
			return err
		}
	}
	_, err = tx.tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, m.name, time.Now().UnixNano())
	return err
}
