package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/emailkey"
)

const userColumns = `id, email, name, role, password_hash, disabled, created_at, issuer, email_verified`

// userRow receives userColumns.
type userRow struct {
	u       latchkey.User
	role    string
	created int64
}

func (r *userRow) dest() []any {
	u := &r.u
	return []any{&u.ID, &u.Email, &u.Name, &r.role, &u.PasswordHash, &u.Disabled, &r.created, &u.Issuer, &u.EmailVerified}
}

func (r *userRow) user() *latchkey.User {
	u := r.u
	u.Role = latchkey.Role(r.role)
	u.CreatedAt = fromNanos(r.created)
	return &u
}

func scanUser(r rowScanner) (*latchkey.User, error) {
	var row userRow
	if err := r.Scan(row.dest()...); err != nil {
		return nil, err
	}
	return row.user(), nil
}

// CreateUser inserts u and fills in an empty u.ID (a UUIDv7) and
// u.CreatedAt. An empty role
// becomes latchkey.RoleUser. It returns EEMAILTAKEN when a user has the
// same email, compared by emailkey.Of. An audit event in ctx with
// an empty UserID gets the new user's.
func (db *DB) CreateUser(ctx context.Context, u *latchkey.User) error {
	role := u.Role
	if role == "" {
		role = latchkey.RoleUser
	}
	if !role.Valid() {
		return latchkey.Errorf(latchkey.EINVALID, "unknown role %q", role)
	}
	id := u.ID
	if id == "" {
		var err error
		if id, err = newID(); err != nil {
			return fmt.Errorf("sqldb: create user: %w", err)
		}
	}
	now := db.now()
	err := db.inTx(ctx, func(tx *tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO users (id, email, email_key, name, role, password_hash, disabled, created_at, email_verified)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			id, u.Email, emailkey.Of(u.Email), u.Name, string(role), u.PasswordHash, u.Disabled, now.UnixNano(), u.EmailVerified)
		if err != nil {
			if db.isUnique(err) {
				return latchkey.Errorf(latchkey.EEMAILTAKEN, "email already registered")
			}
			return err
		}
		fillAudit(ctx, id, "")
		return nil
	})
	if err != nil {
		return db.wrap("create user", err)
	}
	u.ID, u.Role, u.CreatedAt = id, role, now
	return nil
}

// FindUserByID returns ENOTFOUND when there is no such user.
func (db *DB) FindUserByID(ctx context.Context, id string) (*latchkey.User, error) {
	u, err := scanUser(db.reader.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user")
	}
	if err != nil {
		return nil, db.wrap("find user", err)
	}
	return u, nil
}

// FindUserByEmail finds the user whose email has the key emailkey.Of(email);
// ENOTFOUND when none.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*latchkey.User, error) {
	key := emailkey.Of(email)
	if strings.IndexByte(key, 0) >= 0 {
		// No address has a NUL, and PostgreSQL's TEXT cannot take one.
		return nil, notFound("user")
	}
	u, err := scanUser(db.reader.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE email_key = $1`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user")
	}
	if err != nil {
		return nil, db.wrap("find user by email", err)
	}
	return u, nil
}

// SetPassword replaces the user's password hash and, in the same
// transaction, revokes every unrevoked session of the user except keepSessionID
// with reason latchkey.ReasonPasswordChanged. It returns the revoked ids;
// ENOTFOUND when there is no such user (and then nothing changes).
func (db *DB) SetPassword(ctx context.Context, userID, hash, keepSessionID string, now time.Time) ([]string, error) {
	var revoked []string
	err := db.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound("user")
		}
		revoked, err = db.revokeUserSessions(ctx, tx, userID, keepSessionID, latchkey.ReasonPasswordChanged, now)
		return err
	})
	if err != nil {
		return nil, db.wrap("set password", err)
	}
	return revoked, nil
}

// RehashPassword swaps the hash only if it is still oldHash. When it does
// not, it records no audit event either.
func (db *DB) RehashPassword(ctx context.Context, userID, oldHash, newHash string) (bool, error) {
	var ok bool
	err := db.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3`, newHash, userID, oldHash)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return errNoChange
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, db.wrap("rehash password", err)
	}
	return ok, nil
}

// ProvisionExternalUser makes sure a user of a trusted external issuer
// exists, creating it with u's id, role and issuer on first sight, and
// returns the stored user (which may belong to another issuer: the caller
// checks). No email or name is stored for such users.
func (db *DB) ProvisionExternalUser(ctx context.Context, u *latchkey.User) (*latchkey.User, error) {
	role := u.Role
	if !role.Valid() {
		role = latchkey.RoleUser
	}
	err := db.inTx(ctx, func(tx *tx) error {
		// email_key only has to be unique: newlines cannot occur in an
		// address that passed validation, nor in its key (nor NULs, which
		// PostgreSQL's TEXT refuses; rows SQLite stored with them keep
		// working).
		_, err := tx.ExecContext(ctx,
			`INSERT INTO users (id, email, email_key, name, role, password_hash, disabled, created_at, issuer)
			 VALUES ($1, '', $2, '', $3, '', FALSE, $4, $5) ON CONFLICT DO NOTHING`,
			u.ID, "\nexternal\n"+u.Issuer+"\n"+u.ID, string(role), nanos(db.now()), u.Issuer)
		return err
	})
	if err != nil {
		return nil, db.wrap("provision external user", err)
	}
	return db.FindUserByID(ctx, u.ID)
}
