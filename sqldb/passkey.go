package sqldb

// Passkeys and the challenges of their ceremonies
// (latchkey.PasskeyService).

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.PasskeyService = (*DB)(nil)

const passkeyColumns = `id, user_id, credential_id, public_key, sign_count, aaguid, transports,
	backup_eligible, backed_up, user_verified, name, created_at, last_used_at`

const (
	insertPasskeySQL = `INSERT INTO passkeys (` + passkeyColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL)`
	countPasskeysSQL = `SELECT COUNT(*) FROM passkeys WHERE user_id = $1`
	// usePasskeySQL moves the counter forward in the update itself: of two
	// assertions carrying one counter value, the second finds the first's
	// value stored (PostgreSQL re-checks the row after the first commits)
	// and changes nothing. 0 stays allowed after 0: an authenticator
	// without a counter (most synced passkeys) always sends 0.
	usePasskeySQL = `UPDATE passkeys SET sign_count = $2, backed_up = $3, last_used_at = $4
		WHERE id = $1 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))`

	challengeColumns = `id, purpose, user_id, challenge, session, created_at, expires_at, used_at`
	// takeChallengeSQL is the single use: the update that sets used_at
	// wins, and a second take finds it set.
	takeChallengeSQL = `UPDATE webauthn_challenges SET used_at = $1
		WHERE id = $2 AND purpose = $3 AND COALESCE(user_id, '') = $4
		AND used_at IS NULL AND expires_at > $1
		RETURNING ` + challengeColumns
)

var (
	errPasskeyLimit = latchkey.Errorf(latchkey.EINVALID,
		"a user may have at most %d passkeys; remove one first", latchkey.MaxPasskeys)
	errPasskeyTaken = latchkey.Errorf(latchkey.EINVALID, "this passkey is already registered")
)

func scanPasskey(r rowScanner) (*latchkey.Passkey, error) {
	var p latchkey.Passkey
	var count, created int64
	var transports string
	var used sql.NullInt64
	if err := r.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &count, &p.AAGUID, &transports,
		&p.BackupEligible, &p.BackedUp, &p.UserVerified, &p.Name, &created, &used); err != nil {
		return nil, err
	}
	p.SignCount = uint32(count)
	p.Transports = strings.Fields(transports)
	p.CreatedAt = fromNanos(created)
	if used.Valid {
		p.LastUsedAt = fromNanos(used.Int64)
	}
	return &p, nil
}

// passkeysLockKey is the KeyLock key that makes adding a user's passkeys
// one at a time on PostgreSQL: under READ COMMITTED two transactions
// could otherwise both count MaxPasskeys-1 and both insert.
func passkeysLockKey(userID string) int64 {
	h := sha256.Sum256([]byte("passkeys\x00" + userID))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// CreatePasskey stores p under the user's cap of MaxPasskeys.
func (db *DB) CreatePasskey(ctx context.Context, p *latchkey.Passkey) error {
	saved := *p
	if p.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		p.ID = id
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = db.now()
	}
	err := db.inTx(ctx, func(tx *tx) error {
		if err := db.keyLock(ctx, tx, passkeysLockKey(p.UserID)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, countPasskeysSQL, p.UserID).Scan(&n); err != nil {
			return err
		}
		if n >= latchkey.MaxPasskeys {
			return errPasskeyLimit
		}
		_, err := tx.ExecContext(ctx, insertPasskeySQL, p.ID, p.UserID, p.CredentialID, p.PublicKey,
			int64(p.SignCount), nonNil(p.AAGUID), strings.Join(p.Transports, " "),
			p.BackupEligible, p.BackedUp, p.UserVerified, p.Name, nanos(p.CreatedAt))
		switch {
		case db.isForeignKey(err):
			return notFound("user")
		case db.isUnique(err):
			return errPasskeyTaken
		}
		if err == nil {
			fillAudit(ctx, p.UserID, "")
		}
		return err
	})
	if err != nil {
		*p = saved
	}
	return db.wrap("create passkey", err)
}

// nonNil keeps an absent byte string out of a NOT NULL column.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// ListPasskeys returns the user's passkeys, oldest first.
func (db *DB) ListPasskeys(ctx context.Context, userID string) ([]*latchkey.Passkey, error) {
	rows, err := db.reader.db.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys
		WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, db.wrap("list passkeys", err)
	}
	defer rows.Close()
	var out []*latchkey.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, db.wrap("list passkeys", err)
		}
		out = append(out, p)
	}
	return out, db.wrap("list passkeys", rows.Err())
}

// FindPasskeyByCredentialID returns the passkey with this credential ID.
// It reads from the writer, as a sign-in updates the row just after.
func (db *DB) FindPasskeyByCredentialID(ctx context.Context, credentialID []byte) (*latchkey.Passkey, error) {
	p, err := scanPasskey(db.writer.db.QueryRowContext(ctx,
		`SELECT `+passkeyColumns+` FROM passkeys WHERE credential_id = $1`, credentialID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("passkey")
	}
	return p, db.wrap("find passkey", err)
}

// RenamePasskey sets the name of the user's passkey id.
func (db *DB) RenamePasskey(ctx context.Context, userID, id, name string) error {
	n, err := db.execCount(ctx, "rename passkey",
		`UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2`, id, userID, name)
	if err == nil && n == 0 {
		return notFound("passkey")
	}
	return err
}

// DeletePasskey removes the user's passkey id.
func (db *DB) DeletePasskey(ctx context.Context, userID, id string) error {
	err := db.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM passkeys WHERE id = $1 AND user_id = $2`, id, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound("passkey")
		}
		fillAudit(ctx, userID, "")
		return nil
	})
	return db.wrap("delete passkey", err)
}

// UpdatePasskeyUse records a sign-in with passkey id, refusing a counter
// that does not move forward.
func (db *DB) UpdatePasskeyUse(ctx context.Context, id string, signCount uint32, backedUp bool, usedAt time.Time) error {
	err := db.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, usePasskeySQL, id, int64(signCount), backedUp, nanos(usedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		// Nothing changed: tell a counter that did not grow from a
		// passkey removed meanwhile.
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM passkeys WHERE id = $1`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("passkey")
		} else if err != nil {
			return err
		}
		return latchkey.ErrPasskeyCounter
	})
	return db.wrap("record passkey use", err)
}

func scanChallenge(r rowScanner) (*latchkey.WebAuthnChallenge, error) {
	var c latchkey.WebAuthnChallenge
	var user sql.NullString
	var session string
	var created, expires int64
	var used sql.NullInt64
	if err := r.Scan(&c.ID, &c.Purpose, &user, &c.Challenge, &session, &created, &expires, &used); err != nil {
		return nil, err
	}
	c.UserID, c.Session = user.String, []byte(session)
	c.CreatedAt, c.ExpiresAt = fromNanos(created), fromNanos(expires)
	if used.Valid {
		c.UsedAt = fromNanos(used.Int64)
	}
	return &c, nil
}

// CreateWebAuthnChallenge stores c.
func (db *DB) CreateWebAuthnChallenge(ctx context.Context, c *latchkey.WebAuthnChallenge) error {
	if !c.Purpose.Valid() {
		return latchkey.Errorf(latchkey.EINVALID, "unknown WebAuthn challenge purpose %q", c.Purpose)
	}
	saved := *c
	if c.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		c.ID = id
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = db.now()
	}
	user := sql.NullString{String: c.UserID, Valid: c.UserID != ""}
	err := db.inTx(ctx, func(tx *tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webauthn_challenges (`+challengeColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)`,
			c.ID, string(c.Purpose), user, c.Challenge, string(c.Session), nanos(c.CreatedAt), nanos(c.ExpiresAt))
		if db.isForeignKey(err) {
			return notFound("user")
		}
		return err
	})
	if err != nil {
		*c = saved
	}
	return db.wrap("create WebAuthn challenge", err)
}

// TakeWebAuthnChallenge uses the challenge once and returns it.
func (db *DB) TakeWebAuthnChallenge(ctx context.Context, id string, p latchkey.ChallengePurpose, userID string, now time.Time) (*latchkey.WebAuthnChallenge, error) {
	var c *latchkey.WebAuthnChallenge
	err := db.inTx(ctx, func(tx *tx) error {
		var err error
		c, err = scanChallenge(tx.QueryRowContext(ctx, takeChallengeSQL, nanos(now), id, string(p), userID))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("challenge")
		}
		return err
	})
	if err != nil {
		return nil, db.wrap("take WebAuthn challenge", err)
	}
	return c, nil
}

// PruneWebAuthnChallenges deletes the challenges that expired before
// before, used ones included.
func (db *DB) PruneWebAuthnChallenges(ctx context.Context, before time.Time) (int64, error) {
	return db.execCount(ctx, "prune WebAuthn challenges",
		`DELETE FROM webauthn_challenges WHERE expires_at < $1`, nanos(before))
}
