package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"time"

	"github.com/latchkey/latchkey/emailkey"
)

// throttleKey is what the throttle stores for an email: the SHA-256 of its
// key (emailkey.Of), so every spelling of an address counts for one
// account. A fixed 32 bytes whatever a client sends, and no email in plain
// text in that table.
//
// An email over emailkey.MaxLen bytes is no account's (sign-in refuses it
// before any lookup, after counting it), and keying it would cost time in
// proportion to its length: it is hashed as given.
func throttleKey(email string) []byte {
	if len(email) <= emailkey.MaxLen {
		email = emailkey.Of(email)
	}
	h := sha256.Sum256([]byte(email))
	return h[:]
}

// ReserveSignIn counts the attempts recorded for email at or after since
// and, if fewer than max, records this one at now, in one write
// transaction: concurrent attempts are serialized, so no more than max ever
// get through. When it refuses, nothing is recorded and oldest is the time
// of the oldest attempt in the window.
func (db *DB) ReserveSignIn(ctx context.Context, email string, now, since time.Time, max int) (bool, time.Time, error) {
	ok, oldest, err := db.reserve(ctx, "signin_failures", throttleKey(email), now, since, max)
	return ok, oldest, db.wrap("reserve sign-in", err)
}

// reserve is ReserveSignIn on table (signin_failures or code_attempts,
// never a caller's text) for key.
func (db *DB) reserve(ctx context.Context, table string, key []byte, now, since time.Time, max int) (bool, time.Time, error) {
	var ok bool
	var oldest time.Time
	err := db.inTx(ctx, func(tx *tx) error {
		if db.dialect.KeyLock != "" {
			// The key's first 8 bytes, as a signed BIGINT: a collision
			// only makes two accounts wait for each other.
			if _, err := tx.ExecContext(ctx, db.dialect.KeyLock, int64(binary.BigEndian.Uint64(key))); err != nil {
				return err
			}
		}
		var n int
		var first sql.NullInt64
		if err := tx.QueryRowContext(ctx,
			`SELECT COUNT(*), MIN(at) FROM `+table+` WHERE email_key = $1 AND at >= $2`,
			key, nanos(since)).Scan(&n, &first); err != nil {
			return err
		}
		if n >= max {
			oldest = fromNanos(first.Int64)
			return nil
		}
		ok = true
		_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (email_key, at) VALUES ($1, $2)`, key, nanos(now))
		return err
	})
	return ok, oldest, err
}

// codeKey is the stored key of a code attempt's caller key: a fixed 32
// bytes, no address in plain text.
func codeKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// ReserveCodeAttempt counts a one-time code guess under key (see
// latchkey.ThrottleService).
func (db *DB) ReserveCodeAttempt(ctx context.Context, key string, now, since time.Time, max int) (bool, time.Time, error) {
	ok, oldest, err := db.reserve(ctx, "code_attempts", codeKey(key), now, since, max)
	return ok, oldest, db.wrap("reserve code attempt", err)
}

// ReleaseCodeAttempt takes back the attempt reserved at at.
func (db *DB) ReleaseCodeAttempt(ctx context.Context, key string, at time.Time) error {
	_, err := db.writer.ExecContext(ctx,
		`DELETE FROM code_attempts WHERE email_key = $1 AND at = $2`, codeKey(key), nanos(at))
	return db.wrap("release code attempt", err)
}

// PruneCodeAttempts deletes attempts older than before.
func (db *DB) PruneCodeAttempts(ctx context.Context, before time.Time) (int64, error) {
	n, err := db.execCount(ctx, "prune code attempts", `DELETE FROM code_attempts WHERE at < $1`, nanos(before))
	return n, err
}

// ReleaseSignIn takes back the attempt reserved for email at at: it never
// reached a password check (the server was too busy to hash).
func (db *DB) ReleaseSignIn(ctx context.Context, email string, at time.Time) error {
	_, err := db.writer.ExecContext(ctx,
		`DELETE FROM signin_failures WHERE email_key = $1 AND at = $2`, throttleKey(email), nanos(at))
	return db.wrap("release sign-in", err)
}

// ClearSignInFailures forgets the attempts for email (after a success).
func (db *DB) ClearSignInFailures(ctx context.Context, email string) error {
	_, err := db.writer.ExecContext(ctx, `DELETE FROM signin_failures WHERE email_key = $1`, throttleKey(email))
	return db.wrap("clear sign-in failures", err)
}

// PruneSignInFailures deletes attempts older than before.
func (db *DB) PruneSignInFailures(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.writer.ExecContext(ctx, `DELETE FROM signin_failures WHERE at < $1`, nanos(before))
	if err != nil {
		return 0, db.wrap("prune sign-in failures", err)
	}
	n, err := res.RowsAffected()
	return n, db.wrap("prune sign-in failures", err)
}
