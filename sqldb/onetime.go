package sqldb

// One-time tokens (latchkey.OneTimeTokenService). Every change to them runs
// through applyTokenChange inside inTx, so that a token is issued, used or
// killed in the same transaction as the change it goes with
// (latchkey.WithTokenChange), or alone.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/binary"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.OneTimeTokenService = (*DB)(nil)

// errInvalidToken is every failed lookup or use of a one-time token: the
// message does not say which check failed.
var errInvalidToken = latchkey.Errorf(latchkey.EINVALIDONETIME, "the link or code is invalid or has expired")

const tokenColumns = `id, user_id, purpose, email, link_hash, code_mac, attempts, created_at, expires_at, used_at`

const (
	insertTokenSQL = `INSERT INTO one_time_tokens (` + tokenColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, NULL)`
	// The lookups name only live tokens: unused, not expired, fewer than
	// MaxCodeAttempts wrong codes.
	findTokenByLinkSQL = `SELECT ` + tokenColumns + ` FROM one_time_tokens
		WHERE link_hash = $1 AND purpose = $2
		AND used_at IS NULL AND expires_at > $3 AND attempts < $4`
	// countAttemptSQL finds the user's live token of a purpose and counts
	// one attempt against it; the last allowed one kills it (used_at).
	countAttemptSQL = `UPDATE one_time_tokens SET attempts = attempts + 1,
		used_at = CASE WHEN attempts + 1 >= $4 THEN $3 ELSE used_at END
		WHERE user_id = $1 AND purpose = $2
		AND used_at IS NULL AND expires_at > $3 AND attempts < $4
		RETURNING ` + tokenColumns

	// useTokenSQL is the single use: of two requests with one token, the
	// second finds used_at set (PostgreSQL re-checks the row after the
	// first commits) and changes nothing.
	useTokenSQL = `UPDATE one_time_tokens SET used_at = $1
		WHERE id = $2 AND used_at IS NULL AND expires_at > $1 AND attempts < $3`
	killUserPurposeSQL = `UPDATE one_time_tokens SET used_at = $1
		WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL`
	killUserSQL = `UPDATE one_time_tokens SET used_at = $1
		WHERE user_id = $2 AND used_at IS NULL`
	// A new password also ends the second steps the old one began.
	killUserMFATokensSQL = `UPDATE mfa_tokens SET used_at = $1
		WHERE user_id = $2 AND used_at IS NULL`
	killUserEmailSQL = `UPDATE one_time_tokens SET used_at = $1
		WHERE user_id = $2 AND email = $3 AND used_at IS NULL`
	// recentTokenSQL finds a token of the user and purpose made after $3,
	// used or not: the mail cooldown.
	recentTokenSQL = `SELECT 1 FROM one_time_tokens
		WHERE user_id = $1 AND purpose = $2 AND created_at > $3 LIMIT 1`
)

func scanToken(r rowScanner) (*latchkey.OneTimeToken, error) {
	var t latchkey.OneTimeToken
	var created, expires int64
	var used sql.NullInt64
	if err := r.Scan(&t.ID, &t.UserID, &t.Purpose, &t.Email, &t.LinkHash, &t.CodeMAC,
		&t.Attempts, &created, &expires, &used); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt = fromNanos(created), fromNanos(expires)
	if used.Valid {
		t.UsedAt = fromNanos(used.Int64)
	}
	return &t, nil
}

// tokensLockKey is the KeyLock key that makes issuing a user's tokens of
// one purpose one at a time on PostgreSQL: without it, two issues under
// READ COMMITTED would both kill the older tokens, and the second insert
// would then break the unique index on the unused token instead of killing
// the first one's token.
func tokensLockKey(userID string, p latchkey.TokenPurpose) int64 {
	h := sha256.Sum256([]byte("one_time_tokens\x00" + userID + "\x00" + string(p)))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// applyTokenChange makes ch in tx (see latchkey.TokenChange). inTx calls
// it after the change it goes with.
func (db *DB) applyTokenChange(ctx context.Context, tx *tx, ch *latchkey.TokenChange) error {
	now := nanos(ch.Now)
	if ch.Use != "" {
		res, err := tx.ExecContext(ctx, useTokenSQL, now, ch.Use, latchkey.MaxCodeAttempts)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errInvalidToken
		}
	}
	if ch.KillUser != "" {
		if _, err := tx.ExecContext(ctx, killUserSQL, now, ch.KillUser); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, killUserMFATokensSQL, now, ch.KillUser); err != nil {
			return err
		}
	}
	if ch.KillEmailUser != "" {
		if _, err := tx.ExecContext(ctx, killUserEmailSQL, now, ch.KillEmailUser, ch.KillEmail); err != nil {
			return err
		}
	}
	if t := ch.Issue; t != nil {
		return db.issueToken(ctx, tx, t, ch.Now, ch.Cooldown, ch.IfEmail)
	}
	return nil
}

// issueToken kills the user's older tokens of t's purpose and stores t.
// The ID and CreatedAt it fills in are undone by inTx when nothing is
// committed (it restores the whole change).
func (db *DB) issueToken(ctx context.Context, tx *tx, t *latchkey.OneTimeToken, now time.Time, cooldown time.Duration, ifEmail string) error {
	if !t.Purpose.Valid() {
		return latchkey.Errorf(latchkey.EINVALID, "unknown one-time token purpose %q", t.Purpose)
	}
	if t.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		t.ID = id
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	if ifEmail != "" {
		// A write that changes nothing, to hold the row: an email change
		// (which kills the old address's tokens) runs before or after.
		var id string
		err := tx.QueryRowContext(ctx, `UPDATE users SET email = email WHERE id = $1 AND email = $2 RETURNING id`,
			t.UserID, ifEmail).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoChange
		} else if err != nil {
			return err
		}
	}
	if err := db.keyLock(ctx, tx, tokensLockKey(t.UserID, t.Purpose)); err != nil {
		return err
	}
	if cooldown > 0 {
		// Under the key lock, so that of two requests at once, one mails.
		var one int
		err := tx.QueryRowContext(ctx, recentTokenSQL, t.UserID, string(t.Purpose), nanos(now.Add(-cooldown))).Scan(&one)
		if err == nil {
			return errNoChange
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, killUserPurposeSQL, nanos(now), t.UserID, string(t.Purpose)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, insertTokenSQL, t.ID, t.UserID, string(t.Purpose), t.Email,
		t.LinkHash, t.CodeMAC, nanos(t.CreatedAt), nanos(t.ExpiresAt))
	if db.isForeignKey(err) {
		return notFound("user")
	}
	return err
}

// ApplyTokenChange makes ch alone, with the audit event ctx carries.
func (db *DB) ApplyTokenChange(ctx context.Context, ch *latchkey.TokenChange) error {
	ctx = latchkey.WithTokenChange(ctx, ch)
	return db.wrap("one-time tokens", db.inTx(ctx, func(*tx) error { return nil }))
}

// FindOneTimeTokenByLink returns the live token of purpose p with this
// link hash.
func (db *DB) FindOneTimeTokenByLink(ctx context.Context, p latchkey.TokenPurpose, linkHash []byte, now time.Time) (*latchkey.OneTimeToken, error) {
	t, err := scanToken(db.writer.QueryRowContext(ctx, findTokenByLinkSQL,
		linkHash, string(p), nanos(now), latchkey.MaxCodeAttempts))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errInvalidToken
	}
	return t, db.wrap("find one-time token", err)
}

// FindSpentOneTimeToken returns the token of purpose p with this link
// hash whatever its state.
func (db *DB) FindSpentOneTimeToken(ctx context.Context, p latchkey.TokenPurpose, linkHash []byte) (*latchkey.OneTimeToken, error) {
	t, err := scanToken(db.reader.QueryRowContext(ctx,
		`SELECT `+tokenColumns+` FROM one_time_tokens WHERE link_hash = $1 AND purpose = $2`, linkHash, string(p)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errInvalidToken
	}
	return t, db.wrap("find one-time token", err)
}

// CheckOneTimeTokenCode returns the user's live token of purpose p when
// codeMAC is its code's MAC, and otherwise counts a wrong attempt against
// that token, committed at once and without the audit event ctx carries
// (that event goes with the change the caller meant to make).
//
// The attempt is counted before the MAC is compared, by the update that
// finds the token, and taken back (rolled back) when the code is right.
// That update holds the row until the transaction ends, so the checks of
// one token run one after the other, and the limit holds by construction:
// of a burst of concurrent guesses, at most MaxCodeAttempts wrong ones are
// ever compared, and a right one after them finds the token dead.
func (db *DB) CheckOneTimeTokenCode(ctx context.Context, userID string, p latchkey.TokenPurpose, codeMAC []byte, now time.Time) (*latchkey.OneTimeToken, error) {
	var found *latchkey.OneTimeToken
	bare := latchkey.WithTokenChange(latchkey.WithAudit(ctx, nil), nil)
	err := db.inTx(bare, func(tx *tx) error {
		t, err := scanToken(tx.QueryRowContext(ctx, countAttemptSQL,
			userID, string(p), nanos(now), latchkey.MaxCodeAttempts))
		if errors.Is(err, sql.ErrNoRows) {
			return errInvalidToken
		}
		if err != nil {
			return err
		}
		if len(codeMAC) > 0 && subtle.ConstantTimeCompare(t.CodeMAC, codeMAC) == 1 {
			t.Attempts--
			found = t
			return errNoChange // a right code counts nothing
		}
		return nil
	})
	if err != nil {
		return nil, db.wrap("check a one-time code", err)
	}
	if found == nil {
		return nil, errInvalidToken
	}
	return found, nil
}

// execCount runs one statement in a write transaction (with what ctx
// carries) and returns how many rows it changed.
func (db *DB) execCount(ctx context.Context, op, query string, args ...any) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, db.wrap(op, err)
}

// PruneOneTimeTokens deletes the tokens that expired before before (used
// and killed ones included: they expire too) and returns how many.
func (db *DB) PruneOneTimeTokens(ctx context.Context, before time.Time) (int64, error) {
	return db.execCount(ctx, "prune one-time tokens", `DELETE FROM one_time_tokens WHERE expires_at < $1`, nanos(before))
}
