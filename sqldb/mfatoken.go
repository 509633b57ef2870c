package sqldb

// mfa_tokens, the second step of a password sign-in (latchkey.MFAService),
// and ResetMFA, which ends every second factor of a user.

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// alone is a context without values: the audit event, mails and token
// change a context carries are meant for the change a flow makes when it
// succeeds, never for the counts its failures leave (a wrong code must not
// send the mail "two-factor sign-in turned on"). Its deadline and
// cancellation are the caller's.
type alone struct{ context.Context }

func (alone) Value(any) any { return nil }

// errMFAToken is every mfa_token that cannot be used, whatever the
// reason: the message does not say which.
var errMFAToken = latchkey.Errorf(latchkey.EINVALIDTOKEN, "the mfa_token is invalid or has expired")

const (
	mfaTokenColumns   = `id, user_id, token_hash, amr, attempts, created_at, expires_at, used_at`
	insertMFATokenSQL = `INSERT INTO mfa_tokens (` + mfaTokenColumns + `)
		VALUES ($1, $2, $3, $4, 0, $5, $6, NULL)`
	// countMFAAttemptSQL reserves one of the token's attempts. The
	// reserved attempt may still use the token (useMFATokenSQL does not
	// look at attempts), so a right code on the last attempt works.
	countMFAAttemptSQL = `UPDATE mfa_tokens SET attempts = attempts + 1
		WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 AND attempts < $3
		RETURNING ` + mfaTokenColumns
	useMFATokenSQL = `UPDATE mfa_tokens SET used_at = $2
		WHERE id = $1 AND used_at IS NULL AND expires_at > $2`
)

func scanMFAToken(r rowScanner) (*latchkey.MFAToken, error) {
	var t latchkey.MFAToken
	var amr string
	var created, expires int64
	var used sql.NullInt64
	if err := r.Scan(&t.ID, &t.UserID, &t.Hash, &amr, &t.Attempts, &created, &expires, &used); err != nil {
		return nil, err
	}
	t.AMR = strings.Fields(amr)
	t.CreatedAt, t.ExpiresAt = fromNanos(created), fromNanos(expires)
	if used.Valid {
		t.UsedAt = fromNanos(used.Int64)
	}
	return &t, nil
}

// ResetMFA deletes the user's factors (TOTP and passkeys) and recovery
// codes and kills the user's live mfa_tokens.
func (db *DB) ResetMFA(ctx context.Context, userID string, now time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx *tx) error {
		if err := db.keyLock(ctx, tx, mfaLockKey(userID)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM totp_factors WHERE user_id = $1`, userID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		// A passkey is a factor too: one an attacker added must not
		// outlive the reset that follows a takeover.
		res, err = tx.ExecContext(ctx, `DELETE FROM passkeys WHERE user_id = $1`, userID)
		if err != nil {
			return err
		}
		keys, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n += keys
		if _, err := tx.ExecContext(ctx, deleteCodesSQL, userID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE mfa_tokens SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`, userID, nanos(now))
		return err
	})
	return n, db.wrap("reset MFA", err)
}

// CreateMFAToken stores t.
func (db *DB) CreateMFAToken(ctx context.Context, t *latchkey.MFAToken) error {
	if t.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		t.ID = id
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.now()
	}
	err := db.inTx(ctx, func(tx *tx) error {
		_, err := tx.ExecContext(ctx, insertMFATokenSQL, t.ID, t.UserID, t.Hash, strings.Join(t.AMR, " "),
			nanos(t.CreatedAt), nanos(t.ExpiresAt))
		if db.isForeignKey(err) {
			return notFound("user")
		}
		return err
	})
	return db.wrap("create mfa_token", err)
}

// CountMFAAttempt counts one attempt against the live token with this
// hash, committed at once and alone: what ctx carries goes with the change
// the caller makes when the attempt succeeds.
func (db *DB) CountMFAAttempt(ctx context.Context, hash []byte, now time.Time) (*latchkey.MFAToken, error) {
	var t *latchkey.MFAToken
	err := db.inTx(alone{ctx}, func(tx *tx) error {
		var err error
		t, err = scanMFAToken(tx.QueryRowContext(ctx, countMFAAttemptSQL, hash, nanos(now), latchkey.MaxMFAAttempts))
		if errors.Is(err, sql.ErrNoRows) {
			return errMFAToken
		}
		return err
	})
	if err != nil {
		return nil, db.wrap("count mfa_token attempt", err)
	}
	return t, nil
}

// UseMFAToken uses the token id once.
func (db *DB) UseMFAToken(ctx context.Context, id string, now time.Time) error {
	return db.execOne(ctx, "use mfa_token", errMFAToken, useMFATokenSQL, id, nanos(now))
}

// PruneMFATokens deletes the tokens that expired before before.
func (db *DB) PruneMFATokens(ctx context.Context, before time.Time) (int64, error) {
	return db.execCount(ctx, "prune mfa_tokens", `DELETE FROM mfa_tokens WHERE expires_at < $1`, nanos(before))
}
