// Package sqldb implements latchkey.Store over database/sql.
//
// All of Latchkey's SQL lives here, written once for both engines: $N
// placeholders (which modernc.org/sqlite accepts too), TEXT ids, BIGINT
// unix-nanosecond timestamps, BOOLEAN flags and BLOB byte strings. What
// differs between engines is a Dialect, supplied by the package that opens
// the database (sqlite, and later postgres); sqldb imports no driver.
//
// A DB holds two pools over the same database: writes go through the writer
// pool, reads through the reader pool, so that on SQLite (one writer at a
// time) reads never queue behind writes. On an engine without that limit
// both may be the same *sql.DB.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/latchkey/latchkey"
)

var _ latchkey.Store = (*DB)(nil)

// Dialect is everything sqldb needs to know about the SQL engine. Keep it
// small: the SQL text itself is shared.
type Dialect struct {
	// IsUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
	// constraint failure. Required.
	IsUniqueViolation func(err error) bool

	// IsForeignKeyViolation reports whether err is a FOREIGN KEY constraint
	// failure. Required.
	IsForeignKeyViolation func(err error) bool

	// Schema, if set, rewrites a migration's text before it runs. The
	// migrations use types both engines know except BLOB, which
	// PostgreSQL's Schema turns into BYTEA.
	Schema func(migration string) string

	// MigrationLock, if set, is executed first in every migration
	// transaction to serialize concurrent migrators (PostgreSQL: SELECT
	// pg_advisory_xact_lock(...)). SQLite needs none: its write
	// transactions begin IMMEDIATE and so already exclude each other.
	MigrationLock string

	// KeyLock, if set, takes a transaction-scoped lock on the BIGINT $1
	// (PostgreSQL: SELECT pg_advisory_xact_lock($1)). ReserveSignIn takes
	// it on the email's key so that concurrent attempts for one account,
	// on any instance, count one after the other: under READ COMMITTED two
	// transactions could otherwise both count below the limit and both
	// insert. SQLite needs none (one write transaction at a time).
	KeyLock string

	// Notify, if set, queues a notification on channel $1, delivered to
	// listeners when the transaction commits and never if it rolls back
	// (PostgreSQL: SELECT pg_notify($1, '')). Writes that revoke sessions
	// or change the signing keys send one (ChannelRevocations,
	// ChannelKeys) so that other instances re-read at once instead of at
	// their next poll.
	Notify string

	// IsUnavailable reports whether err means the database cannot be
	// reached or is shutting down (as opposed to a bad query). The store
	// then answers latchkey.EUNAVAILABLE, which clients see as a 503 with
	// Retry-After.
	IsUnavailable func(err error) bool

	// IsBadText reports whether err is the database refusing a character
	// of a text value (PostgreSQL's TEXT cannot hold NUL). Such text comes
	// from a request, so the store answers latchkey.EINVALID, a 400, not
	// an internal error.
	IsBadText func(err error) bool

	// SkipLocked, if set, ends the subquery that picks the mails a sender
	// claims, so that concurrent claims skip each other's rows instead of
	// waiting for them (PostgreSQL: " FOR UPDATE SKIP LOCKED"). SQLite
	// needs none: one write transaction at a time.
	SkipLocked string
}

// The notification channels of Dialect.Notify.
const (
	ChannelRevocations = "latchkey_revocations"
	ChannelKeys        = "latchkey_keys"
)

// errUnavailable is what a store operation returns, wrapped with its
// cause, when the database cannot be reached.
var errUnavailable = &latchkey.Error{
	Code:       latchkey.EUNAVAILABLE,
	Message:    "the database is unavailable; try again shortly",
	RetryAfter: time.Second,
}

// errBadText is what a store operation returns, wrapped with its cause,
// when the database refuses a character of the text it was given.
var errBadText = latchkey.Errorf(latchkey.EINVALID, "the request holds a character that cannot be stored (NUL)")

// DB is the database/sql implementation of latchkey.Store.
type DB struct {
	writer  *pool
	reader  *pool // == writer when both are one *sql.DB
	dialect Dialect

	// Now is the clock for the timestamps the store assigns itself (users'
	// and tasks' CreatedAt and UpdatedAt). Times the caller passes in, such
	// as a session's, are stored as given. Set it before use; nil means
	// time.Now. Times are stored in UTC.
	Now func() time.Time

	// MailQueued, if set, is called after mail is committed to the outbox
	// by this DB (EnqueueMail, a change made with latchkey.WithMail,
	// RetryMail), so that this process's sender can send it at once
	// rather than at its next poll. It must not block. Set it before use.
	MailQueued func()
}

// New returns a DB over the given pools. writer should allow one open
// connection on SQLite; reader may be the same pool as writer. New does not
// migrate: call Migrate. Close closes both pools.
func New(writer, reader *sql.DB, d Dialect) *DB {
	db := &DB{writer: newPool(writer), dialect: d, Now: time.Now}
	db.reader = db.writer
	if reader != nil && reader != writer {
		db.reader = newPool(reader)
	}
	return db
}

// Writer returns the pool that writes go through, for tools and tests.
func (db *DB) Writer() *sql.DB { return db.writer.db }

// Reader returns the pool that reads go through, for tools and tests.
func (db *DB) Reader() *sql.DB { return db.reader.db }

// Ping reports whether both pools answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.writer.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqldb: ping writer: %w", err)
	}
	if db.reader != db.writer {
		if err := db.reader.db.PingContext(ctx); err != nil {
			return fmt.Errorf("sqldb: ping reader: %w", err)
		}
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	var errR error
	if db.reader != db.writer {
		errR = db.reader.close()
	}
	return errors.Join(db.writer.close(), errR)
}

// now returns the store's clock reading in UTC, at the precision stored.
func (db *DB) now() time.Time {
	f := db.Now
	if f == nil {
		f = time.Now
	}
	return fromNanos(f().UnixNano())
}

// inTx runs fn in a write transaction and commits when fn returns nil.
//
// Mails ctx carries (latchkey.WithMail) are written to the outbox in the
// same way, and given their ID and CreatedAt once committed.
//
// When ctx carries an audit event (latchkey.WithAudit), inTx records it in
// the same transaction, once fn has succeeded, so that the change and its
// record are committed together or not at all; it fills in the event's ID
// and At when they are empty. fn may fill in the event's UserID and
// SessionID (see fillAudit). fn returns errNoChange to say that it changed
// nothing, such as a compare-and-swap that lost: the transaction is rolled
// back, no event is recorded and inTx returns nil. Whenever nothing is
// committed, the event is left as the caller gave it.
//
// A one-time-token change ctx carries (latchkey.WithTokenChange) and not
// yet applied is made the same way, after fn and before the audit event;
// when it fails (a token to use is no longer live), nothing is committed;
// when its Cooldown runs, nothing is committed either and inTx returns nil,
// the change left not Applied.
// It is marked Applied on commit, and left as given otherwise.
func (db *DB) inTx(ctx context.Context, fn func(tx *tx) error) error {
	ev := latchkey.AuditFrom(ctx)
	committed := false
	if ev != nil {
		saved := *ev
		defer func() {
			if !committed {
				*ev = saved
			}
		}()
	}
	ch := latchkey.TokenChangeFrom(ctx)
	if ch != nil && ch.Applied {
		ch = nil
	}
	if ch != nil {
		saved, issued := *ch, ch.Issue
		var savedIssue latchkey.OneTimeToken
		if issued != nil {
			savedIssue = *issued
		}
		defer func() {
			if !committed {
				*ch = saved
				if issued != nil {
					*issued = savedIssue
				}
			}
		}()
	}
	t, err := db.writer.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	w := &tx{tx: t, p: db.writer}
	defer func() {
		for _, q := range w.missed {
			db.writer.prepared(ctx, q)
		}
	}()
	if err := fn(w); err != nil {
		_ = t.Rollback()
		if errors.Is(err, errNoChange) {
			return nil
		}
		return err
	}
	if ch != nil {
		if err := db.applyTokenChange(ctx, w, ch); err != nil {
			_ = t.Rollback()
			if errors.Is(err, errNoChange) { // a mail's cooldown runs
				return nil
			}
			return err
		}
	}
	if ev != nil {
		if err := db.insertAudit(ctx, w, ev); err != nil {
			_ = t.Rollback()
			return fmt.Errorf("record audit event: %w", err)
		}
	}
	mailed, err := db.insertMails(ctx, w)
	if err != nil {
		_ = t.Rollback()
		return fmt.Errorf("write mail to the outbox: %w", err)
	}
	if err := t.Commit(); err != nil {
		return err
	}
	committed = true
	if ch != nil {
		ch.Applied = true
	}
	if mailed != nil {
		mailed()
	}
	return nil
}

// newID returns a fresh UUIDv7 string.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// nanos turns t into the stored BIGINT: unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos; it returns UTC times.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// nullNanos is nanos for a nullable column: NULL for the zero time.
func nullNanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func notFound(what string) error {
	return latchkey.Errorf(latchkey.ENOTFOUND, "%s not found", what)
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// ids collects the single TEXT column of rows, such as an UPDATE ...
// RETURNING id.
func ids(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (db *DB) isUnique(err error) bool {
	return db.dialect.IsUniqueViolation != nil && db.dialect.IsUniqueViolation(err)
}

func (db *DB) isForeignKey(err error) bool {
	return db.dialect.IsForeignKeyViolation != nil && db.dialect.IsForeignKeyViolation(err)
}

// wrap adds context to err, except to application errors (*latchkey.Error),
// which travel unwrapped so that callers see their code. An error that
// says the database is out of reach (or that ctx ran out while waiting for
// it) also carries errUnavailable, so that callers see EUNAVAILABLE; one
// that refuses a character of the request's text carries errBadText.
func (db *DB) wrap(op string, err error) error {
	var e *latchkey.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || db.dialect.IsUnavailable != nil && db.dialect.IsUnavailable(err) {
		return fmt.Errorf("sqldb: %s: %w: %w", op, errUnavailable, err)
	}
	if db.dialect.IsBadText != nil && db.dialect.IsBadText(err) {
		return fmt.Errorf("sqldb: %s: %w: %w", op, errBadText, err)
	}
	return fmt.Errorf("sqldb: %s: %w", op, err)
}

// notify queues a notification on channel in tx (see Dialect.Notify).
func (db *DB) notify(ctx context.Context, tx *tx, channel string) error {
	if db.dialect.Notify == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, db.dialect.Notify, channel)
	return err
}

// keyLock takes the dialect's KeyLock on key in tx, where it has one (see
// Dialect.KeyLock); SQLite's write transactions exclude each other anyway.
func (db *DB) keyLock(ctx context.Context, tx *tx, key int64) error {
	if db.dialect.KeyLock == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, db.dialect.KeyLock, key)
	return err
}
