package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// AddSignInFailure records a failed sign-in for email.
func (db *DB) AddSignInFailure(ctx context.Context, email string, at time.Time) error {
	_, err := db.writer.ExecContext(ctx,
		`INSERT INTO signin_failures (email_lower, at) VALUES ($1, $2)`, strings.ToLower(email), nanos(at))
	return wrap("add sign-in failure", err)
}

// SignInFailures counts the failures for email at or after since, and
// returns the time of the oldest of them (zero when there is none).
func (db *DB) SignInFailures(ctx context.Context, email string, since time.Time) (int, time.Time, error) {
	var n int
	var oldest sql.NullInt64
	err := db.reader.QueryRowContext(ctx,
		`SELECT COUNT(*), MIN(at) FROM signin_failures WHERE email_lower = $1 AND at >= $2`,
		strings.ToLower(email), nanos(since)).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, wrap("count sign-in failures", err)
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, fromNanos(oldest.Int64), nil
}

// ClearSignInFailures forgets the failures for email (after a success).
func (db *DB) ClearSignInFailures(ctx context.Context, email string) error {
	_, err := db.writer.ExecContext(ctx,
		`DELETE FROM signin_failures WHERE email_lower = $1`, strings.ToLower(email))
	return wrap("clear sign-in failures", err)
}

// PruneSignInFailures deletes failures older than before.
func (db *DB) PruneSignInFailures(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.writer.ExecContext(ctx, `DELETE FROM signin_failures WHERE at < $1`, nanos(before))
	if err != nil {
		return 0, wrap("prune sign-in failures", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("prune sign-in failures", err)
}
