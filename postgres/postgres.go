// Package postgres opens Latchkey's store in PostgreSQL, using jackc/pgx:
// one pgxpool pool serves database/sql (through pgx's stdlib adapter) for
// every query in package sqldb, and Listen holds one more connection with
// the same settings, outside the pool, over which every instance hears of
// revocations and key rotations (LISTEN/NOTIFY). It knows only how to connect, how PostgreSQL's dialect
// differs and how it reports failures; every query lives in package sqldb.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/latchkey/latchkey/sqldb"
)

// Defaults of Options.
const (
	DefaultMaxConns        = 10
	DefaultConnectTimeout  = 5 * time.Second
	DefaultMaxConnLifetime = time.Hour
	DefaultMaxConnIdleTime = 30 * time.Minute
)

// Options are the pool settings. Zero values take the defaults above.
type Options struct {
	// MaxConns bounds the connections this process opens for queries;
	// Listen holds one more, outside the pool.
	MaxConns int
	// ConnectTimeout bounds each attempt to connect, so that a request
	// made while the server is unreachable fails (503) instead of hanging.
	// A connect_timeout in the URL wins.
	ConnectTimeout time.Duration
	// MaxConnLifetime and MaxConnIdleTime recycle connections, so that
	// after a failover every connection ends up on the new primary.
	MaxConnLifetime time.Duration
	MaxConnIdleTime time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxConnLifetime <= 0 {
		o.MaxConnLifetime = DefaultMaxConnLifetime
	}
	if o.MaxConnIdleTime <= 0 {
		o.MaxConnIdleTime = DefaultMaxConnIdleTime
	}
	return o
}

// DB is the store on PostgreSQL: a *sqldb.DB, plus Listen.
type DB struct {
	*sqldb.DB
	pool *pgxpool.Pool
}

// Open connects to the PostgreSQL database at url (postgres://...) and
// returns it as a store. It does not migrate: call Migrate. A url that
// does not parse is an error here; a server that does not answer is one
// too, so that a mistyped host fails at start rather than at the first
// request.
func Open(ctx context.Context, url string, o Options) (*DB, error) {
	o = o.withDefaults()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message can quote the URL, password included.
		return nil, errors.New("postgres: the URL does not parse (expected postgres://user:password@host:port/database?sslmode=...)")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = o.ConnectTimeout
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "latchkey"
	}
	cfg.MaxConns = int32(o.MaxConns)
	cfg.MaxConnLifetime = o.MaxConnLifetime
	cfg.MaxConnIdleTime = o.MaxConnIdleTime
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// database/sql keeps the connections it uses; pgxpool makes them and
	// bounds their number and age.
	sdb := stdlib.OpenDBFromPool(pool)
	sdb.SetMaxOpenConns(o.MaxConns)
	sdb.SetMaxIdleConns(o.MaxConns)
	sdb.SetConnMaxLifetime(o.MaxConnLifetime)
	sdb.SetConnMaxIdleTime(o.MaxConnIdleTime)
	db := &DB{DB: sqldb.New(sdb, nil, Dialect()), pool: pool}
	pctx, cancel := context.WithTimeout(ctx, cfg.ConnConfig.ConnectTimeout+time.Second)
	defer cancel()
	if err := db.Ping(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", describe(cfg), err)
	}
	return db, nil
}

// describe names the server of cfg without its credentials.
func describe(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s:%d/%s as %s", c.Host, c.Port, c.Database, c.User)
}

// Close closes the database/sql pool and then the pgx pool under it.
func (db *DB) Close() error {
	err := db.DB.Close()
	db.pool.Close()
	return err
}

// migrationLockKey is the advisory lock that serializes migrators: any
// fixed BIGINT no other application on the database uses ("lk" + "migr").
const migrationLockKey = 0x6c6b_6d69_6772

var blob = regexp.MustCompile(`\bBLOB\b`)

// Dialect tells sqldb how PostgreSQL differs.
func Dialect() sqldb.Dialect {
	return sqldb.Dialect{
		IsUniqueViolation:     func(err error) bool { return hasCode(err, "23505") },
		IsForeignKeyViolation: func(err error) bool { return hasCode(err, "23503") },
		Schema:                func(m string) string { return blob.ReplaceAllString(m, "BYTEA") },
		MigrationLock:         fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLockKey),
		KeyLock:               "SELECT pg_advisory_xact_lock($1)",
		Notify:                "SELECT pg_notify($1, '')",
		SkipLocked:            " FOR UPDATE SKIP LOCKED",
		IsUnavailable:         IsUnavailable,
		// 22021: a NUL in a TEXT value (character_not_in_repertoire).
		IsBadText: func(err error) bool { return hasCode(err, "22021") },
	}
}

func hasCode(err error, code string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == code
}

// IsUnavailable reports whether err says that the server cannot be
// reached, went away, or is starting or shutting down: the errors a
// failover or an outage produces, as opposed to a bad query.
func IsUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // shutdown, crash, starting
			return true
		case pgErr.Code == "53300": // too many connections
			return true
		case pgErr.Code == "25006": // read-only transaction: a standby, mid-failover
			return true
		case pgErr.Code == "40001", pgErr.Code == "40P01": // serialization failure, deadlock: retry
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) ||
		pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, pgconn.ErrConnClosed)
}

// ClockSkew returns how far this process's clock is ahead of the database
// server's (negative: behind), measured against the middle of one round
// trip. Revocations are stamped with the revoking instance's clock and read
// back by time by the others, so instances whose clocks disagree by more
// than a few seconds can miss one another's revocations; serve warns.
func (db *DB) ClockSkew(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	var micros int64
	err := db.pool.QueryRow(ctx, `SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT`).Scan(&micros)
	if err != nil {
		return 0, fmt.Errorf("postgres: read the server's clock: %w", err)
	}
	end := time.Now()
	mid := start.Add(end.Sub(start) / 2)
	return mid.Sub(time.UnixMicro(micros)), nil
}
