package sqldb

// Second factors (latchkey.MFAService): TOTP factors and recovery codes
// here, mfa_tokens in mfatoken.go. Whether a code is accepted is decided
// by one conditional statement each (a TOTP step's compare-and-swap, a
// recovery code's delete, an mfa_token's attempt and use), so the rules
// hold across instances without locks; only the changes to a user's set
// of factors and codes take a KeyLock on PostgreSQL, so that "one
// confirmed factor" and "codes only beside a confirmed factor" are
// checked and changed one request at a time.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.MFAService = (*DB)(nil)

var (
	// errWrongTOTP is a TOTP step that is not after the factor's last.
	errWrongTOTP = latchkey.Errorf(latchkey.EINVALIDCREDENTIALS, "the code is wrong")
	// errWrongRecovery is a recovery code the user does not have (unused).
	errWrongRecovery = latchkey.Errorf(latchkey.EINVALIDCREDENTIALS, "the recovery code is wrong")
	// errMFAOn is a second confirmed factor for one user.
	errMFAOn = latchkey.Errorf(latchkey.EINVALID, "two-factor sign-in is already on for this account")
)

const factorColumns = `id, user_id, secret, confirmed_at, last_step, failures, locked_until, created_at, last_used_at`

const (
	insertFactorSQL = `INSERT INTO totp_factors (` + factorColumns + `)
		VALUES ($1, $2, $3, NULL, 0, 0, 0, $4, NULL)`
	confirmedFactorSQL = `SELECT ` + factorColumns + ` FROM totp_factors
		WHERE user_id = $1 AND confirmed_at IS NOT NULL`
	// acceptStepSQL is the compare-and-swap that accepts a step once:
	// a step not greater than last_step, or a locked factor, changes
	// nothing. On PostgreSQL a concurrent update of the same row waits
	// for the first to commit and then re-checks the condition.
	acceptStepSQL = `UPDATE totp_factors SET last_step = $2, failures = 0, last_used_at = $3
		WHERE id = $1 AND last_step < $2 AND locked_until <= $3`
	confirmFactorSQL = `UPDATE totp_factors SET last_step = $3, failures = 0, last_used_at = $4, confirmed_at = $4
		WHERE id = $1 AND user_id = $2 AND confirmed_at IS NULL AND last_step < $3 AND locked_until <= $4`
	// failureSQL counts a wrong code; the last allowed one locks the
	// factor and clears the count. Both CASEs read the old failures.
	failureSQL = `UPDATE totp_factors SET
		failures = CASE WHEN failures + 1 >= $3 THEN 0 ELSE failures + 1 END,
		locked_until = CASE WHEN failures + 1 >= $3 THEN $4 ELSE locked_until END
		WHERE id = $1 AND locked_until <= $2
		RETURNING ` + factorColumns

	insertCodeSQL  = `INSERT INTO recovery_codes (user_id, code_mac, created_at) VALUES ($1, $2, $3)`
	useCodeSQL     = `DELETE FROM recovery_codes WHERE user_id = $1 AND code_mac = $2`
	deleteCodesSQL = `DELETE FROM recovery_codes WHERE user_id = $1`
)

func scanFactor(r rowScanner) (*latchkey.TOTPFactor, error) {
	var f latchkey.TOTPFactor
	var confirmed, used sql.NullInt64
	var created, locked int64
	if err := r.Scan(&f.ID, &f.UserID, &f.Secret, &confirmed, &f.LastStep, &f.Failures,
		&locked, &created, &used); err != nil {
		return nil, err
	}
	f.CreatedAt, f.LockedUntil = fromNanos(created), fromNanos(locked)
	if confirmed.Valid {
		f.ConfirmedAt = fromNanos(confirmed.Int64)
	}
	if used.Valid {
		f.LastUsedAt = fromNanos(used.Int64)
	}
	return &f, nil
}

// mfaLockKey is the KeyLock key that makes the changes to one user's
// factors and recovery codes one at a time on PostgreSQL: under READ
// COMMITTED, a replacement of the codes could otherwise check for the
// confirmed factor while a removal deletes it, and leave codes behind.
func mfaLockKey(userID string) int64 {
	h := sha256.Sum256([]byte("mfa\x00" + userID))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// lockedErr is the answer to a code for a factor locked until until.
func lockedErr(until, now time.Time) error {
	return &latchkey.Error{
		Code:       latchkey.ERATELIMITED,
		Message:    "too many wrong codes; two-factor codes are locked for a while, recovery codes still work",
		RetryAfter: max(time.Second, until.Sub(now).Round(time.Second)),
	}
}

// CreateTOTPFactor stores f unconfirmed and deletes the user's older
// unconfirmed factors.
func (db *DB) CreateTOTPFactor(ctx context.Context, f *latchkey.TOTPFactor) error {
	if f.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		f.ID = id
	}
	if f.CreatedAt.IsZero() {
		f.CreatedAt = db.now()
	}
	err := db.inTx(ctx, func(tx *tx) error {
		if err := db.keyLock(ctx, tx, mfaLockKey(f.UserID)); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL`, f.UserID).Scan(&one)
		if err == nil {
			return errMFAOn
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NULL`, f.UserID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, insertFactorSQL, f.ID, f.UserID, f.Secret, nanos(f.CreatedAt))
		if db.isForeignKey(err) {
			return notFound("user")
		}
		return err
	})
	return db.wrap("create TOTP factor", err)
}

// FindTOTPFactor returns the user's factor id.
func (db *DB) FindTOTPFactor(ctx context.Context, userID, id string) (*latchkey.TOTPFactor, error) {
	f, err := scanFactor(db.writer.QueryRowContext(ctx,
		`SELECT `+factorColumns+` FROM totp_factors WHERE id = $1 AND user_id = $2`, id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("TOTP factor")
	}
	return f, db.wrap("find TOTP factor", err)
}

// ConfirmedTOTPFactor returns the user's confirmed factor. It reads from
// the writer: a sign-in must see a factor confirmed a moment ago.
func (db *DB) ConfirmedTOTPFactor(ctx context.Context, userID string) (*latchkey.TOTPFactor, error) {
	f, err := scanFactor(db.writer.QueryRowContext(ctx, confirmedFactorSQL, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("TOTP factor")
	}
	return f, db.wrap("find TOTP factor", err)
}

// ListTOTPFactors returns the user's factors, oldest first.
func (db *DB) ListTOTPFactors(ctx context.Context, userID string) ([]*latchkey.TOTPFactor, error) {
	rows, err := db.reader.QueryContext(ctx,
		`SELECT `+factorColumns+` FROM totp_factors WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, db.wrap("list TOTP factors", err)
	}
	defer rows.Close()
	var out []*latchkey.TOTPFactor
	for rows.Next() {
		f, err := scanFactor(rows)
		if err != nil {
			return nil, db.wrap("list TOTP factors", err)
		}
		out = append(out, f)
	}
	return out, db.wrap("list TOTP factors", rows.Err())
}

// ConfirmTOTPFactor confirms the factor with a step and replaces the
// user's recovery codes, in one transaction.
func (db *DB) ConfirmTOTPFactor(ctx context.Context, userID, id string, step int64, codeMACs [][]byte, now time.Time) error {
	err := db.inTx(ctx, func(tx *tx) error {
		if err := db.keyLock(ctx, tx, mfaLockKey(userID)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, confirmFactorSQL, id, userID, step, nanos(now))
		if db.isUnique(err) {
			return errMFAOn
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return db.whyNotConfirmed(ctx, tx, userID, id, now)
		}
		return replaceCodes(ctx, tx, userID, codeMACs, now)
	})
	return db.wrap("confirm TOTP factor", err)
}

// whyNotConfirmed tells why confirmFactorSQL changed nothing.
func (db *DB) whyNotConfirmed(ctx context.Context, tx *tx, userID, id string, now time.Time) error {
	f, err := scanFactor(tx.QueryRowContext(ctx,
		`SELECT `+factorColumns+` FROM totp_factors WHERE id = $1 AND user_id = $2 AND confirmed_at IS NULL`, id, userID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound("unconfirmed TOTP factor")
	case err != nil:
		return err
	case f.Locked(now):
		return lockedErr(f.LockedUntil, now)
	}
	return errWrongTOTP
}

// replaceCodes deletes the user's recovery codes and stores codeMACs.
func replaceCodes(ctx context.Context, tx *tx, userID string, codeMACs [][]byte, now time.Time) error {
	if _, err := tx.ExecContext(ctx, deleteCodesSQL, userID); err != nil {
		return err
	}
	for _, mac := range codeMACs {
		if _, err := tx.ExecContext(ctx, insertCodeSQL, userID, mac, nanos(now)); err != nil {
			return err
		}
	}
	return nil
}

// AcceptTOTPStep accepts step for factor id once (see
// latchkey.MFAService).
func (db *DB) AcceptTOTPStep(ctx context.Context, id string, step int64, now time.Time) error {
	err := db.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, acceptStepSQL, id, step, nanos(now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n > 0 {
			return nil
		}
		f, err := scanFactor(tx.QueryRowContext(ctx, `SELECT `+factorColumns+` FROM totp_factors WHERE id = $1`, id))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return notFound("TOTP factor")
		case err != nil:
			return err
		case f.Locked(now):
			return lockedErr(f.LockedUntil, now)
		}
		return errWrongTOTP
	})
	return db.wrap("accept TOTP step", err)
}

// RecordTOTPFailure counts a wrong code against factor id, committed at
// once and alone (see alone).
func (db *DB) RecordTOTPFailure(ctx context.Context, id string, now time.Time) (*latchkey.TOTPFactor, bool, error) {
	var f *latchkey.TOTPFactor
	err := db.inTx(alone{ctx}, func(tx *tx) error {
		var err error
		f, err = scanFactor(tx.QueryRowContext(ctx, failureSQL, id, nanos(now),
			latchkey.MaxTOTPFailures, nanos(now.Add(latchkey.TOTPLockout))))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		old, err := scanFactor(tx.QueryRowContext(ctx, `SELECT `+factorColumns+` FROM totp_factors WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("TOTP factor")
		} else if err != nil {
			return err
		}
		return lockedErr(old.LockedUntil, now)
	})
	if err != nil {
		return nil, false, db.wrap("record TOTP failure", err)
	}
	return f, f.Locked(now), nil
}

// DeleteTOTPFactor deletes the user's factor id, and with the confirmed
// one the user's recovery codes.
func (db *DB) DeleteTOTPFactor(ctx context.Context, userID, id string) error {
	err := db.inTx(ctx, func(tx *tx) error {
		if err := db.keyLock(ctx, tx, mfaLockKey(userID)); err != nil {
			return err
		}
		var confirmed sql.NullInt64
		err := tx.QueryRowContext(ctx, `DELETE FROM totp_factors WHERE id = $1 AND user_id = $2 RETURNING confirmed_at`,
			id, userID).Scan(&confirmed)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("TOTP factor")
		} else if err != nil {
			return err
		}
		if confirmed.Valid {
			_, err = tx.ExecContext(ctx, deleteCodesSQL, userID)
		}
		return err
	})
	return db.wrap("delete TOTP factor", err)
}

// ReplaceRecoveryCodes replaces the user's recovery codes, when the user
// has a confirmed factor.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, userID string, codeMACs [][]byte, now time.Time) error {
	err := db.inTx(ctx, func(tx *tx) error {
		if err := db.keyLock(ctx, tx, mfaLockKey(userID)); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL`, userID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("confirmed TOTP factor")
		} else if err != nil {
			return err
		}
		return replaceCodes(ctx, tx, userID, codeMACs, now)
	})
	return db.wrap("replace recovery codes", err)
}

// UseRecoveryCode deletes the user's code whose MAC is codeMAC; of two
// requests with one code, the second deletes nothing.
func (db *DB) UseRecoveryCode(ctx context.Context, userID string, codeMAC []byte) error {
	return db.execOne(ctx, "use recovery code", errWrongRecovery, useCodeSQL, userID, codeMAC)
}

// execOne runs one statement in a write transaction, with what ctx
// carries, when it changes a row; when it changes none, nothing is
// committed (the audit event and mail of ctx included) and it returns
// none.
func (db *DB) execOne(ctx context.Context, op string, none error, query string, args ...any) error {
	err := db.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return none
		}
		return nil
	})
	return db.wrap(op, err)
}

// CountRecoveryCodes returns how many unused recovery codes the user has.
func (db *DB) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := db.writer.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1`, userID).Scan(&n)
	return n, db.wrap("count recovery codes", err)
}
