package sqldb

// The account changes of issue 13's flows: a password reset, an email
// verification and an email change. Each runs in one transaction with the
// one-time token change its context carries (latchkey.WithTokenChange), so
// that the token is used if and only if the change is made.

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/emailkey"
)

// errStaleAddress is a verification or change whose address is no longer
// the user's: the token that named it cannot be used.
var errStaleAddress = latchkey.Errorf(latchkey.EINVALIDONETIME, "the link or code is invalid or has expired")

// revokeSessionsBeforeSQL revokes the user's sessions created up to $4
// but $5: the pre-account-takeover rule of a first verification.
const revokeSessionsBeforeSQL = `UPDATE sessions SET revoked_at = $1, revoke_reason = $2
	WHERE user_id = $3 AND created_at <= $4 AND id <> $5 AND revoked_at IS NULL
	RETURNING id`

// ResetPassword replaces the hash, marks the email verified, revokes every
// session of the user (latchkey.ReasonPasswordReset) and clears the
// account's sign-in throttle. ENOTFOUND when there is no such user.
func (db *DB) ResetPassword(ctx context.Context, userID, hash string, now time.Time) ([]string, error) {
	var revoked []string
	err := db.inTx(ctx, func(tx *tx) error {
		var email string
		err := tx.QueryRowContext(ctx,
			`UPDATE users SET password_hash = $1, email_verified = TRUE WHERE id = $2 RETURNING email`,
			hash, userID).Scan(&email)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user")
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM signin_failures WHERE email_key = $1`, throttleKey(email)); err != nil {
			return err
		}
		revoked, err = db.revokeUserSessions(ctx, tx, userID, "", latchkey.ReasonPasswordReset, now)
		return err
	})
	if err != nil {
		return nil, db.wrap("reset password", err)
	}
	return revoked, nil
}

// VerifyEmail marks the address verified while it is still email; the
// first verification revokes the sessions created up to now but
// keepSessionID (latchkey.ReasonEmailVerified).
func (db *DB) VerifyEmail(ctx context.Context, userID, email, keepSessionID string, now time.Time) (*latchkey.User, bool, []string, error) {
	var u *latchkey.User
	var first bool
	var revoked []string
	err := db.inTx(ctx, func(tx *tx) error {
		old, err := scanUser(tx.QueryRowContext(ctx,
			`UPDATE users SET email_verified = email_verified WHERE id = $1 RETURNING `+userColumns, userID))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user")
		} else if err != nil {
			return err
		}
		if old.Email != email {
			return errStaleAddress
		}
		u, first = old, !old.EmailVerified
		if !first {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email_verified = TRUE WHERE id = $1`, userID); err != nil {
			return err
		}
		u.EmailVerified = true
		revoked, err = ids(tx.QueryContext(ctx, revokeSessionsBeforeSQL,
			db.revokedAt(now), latchkey.ReasonEmailVerified, userID, nanos(now), keepSessionID))
		if err != nil || len(revoked) == 0 {
			return err
		}
		return db.notify(ctx, tx, ChannelRevocations)
	})
	if err != nil {
		return nil, false, nil, db.wrap("verify email", err)
	}
	return u, first, revoked, nil
}

// ChangeEmail sets the address, verified, while the old one is still
// oldEmail, and revokes every other session (latchkey.ReasonEmailChanged).
func (db *DB) ChangeEmail(ctx context.Context, userID, oldEmail, email, keepSessionID string, now time.Time) (*latchkey.User, []string, error) {
	var u *latchkey.User
	var revoked []string
	err := db.inTx(ctx, func(tx *tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx,
			`UPDATE users SET email = $1, email_key = $2, email_verified = TRUE
			 WHERE id = $3 AND email = $4
			 RETURNING `+userColumns,
			email, emailkey.Of(email), userID, oldEmail))
		if errors.Is(err, sql.ErrNoRows) {
			return errStaleAddress
		} else if db.isUnique(err) {
			return latchkey.Errorf(latchkey.EEMAILTAKEN, "email already registered")
		} else if err != nil {
			return err
		}
		revoked, err = db.revokeUserSessions(ctx, tx, userID, keepSessionID, latchkey.ReasonEmailChanged, now)
		return err
	})
	if err != nil {
		return nil, nil, db.wrap("change email", err)
	}
	return u, revoked, nil
}
