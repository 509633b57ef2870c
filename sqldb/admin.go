package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.AdminService = (*DB)(nil)

// The keyset queries of ListUsers, newest first, written as ListTasks'.
const (
	listUsersSQL = `SELECT ` + userColumns + ` FROM users
		ORDER BY created_at DESC, id DESC LIMIT $1`
	listUsersAfterSQL = `SELECT ` + userColumns + ` FROM users
		WHERE created_at <= $1 AND (created_at < $1 OR id < $2)
		ORDER BY created_at DESC, id DESC LIMIT $3`
)

// ListUsers returns up to limit (latchkey.DefaultPageSize when not
// positive) users, disabled ones included, newest first by (CreatedAt, ID),
// starting strictly after after. When more follow, it also returns the
// cursor of the last user returned.
func (db *DB) ListUsers(ctx context.Context, limit int, after *latchkey.Cursor) ([]*latchkey.User, *latchkey.Cursor, error) {
	query := listUsersSQL
	if after != nil {
		query = listUsersAfterSQL
	}
	return listPage(ctx, db, "list users", limit, after, query, nil, scanUser,
		func(u *latchkey.User) latchkey.Cursor { return latchkey.Cursor{CreatedAt: u.CreatedAt, ID: u.ID} })
}

// lockAdminsSQL returns the enabled local admins: Latchkey's own users,
// with a password. Admins provisioned from a trusted external issuer do
// not count: they cannot use the admin API (their tokens work on the task
// routes only), so leaving only them would leave nobody who can. It is a
// write that changes nothing so that it takes their row locks: two
// transactions each removing a different one of two admins then run one
// after the other on PostgreSQL, whose READ COMMITTED would otherwise let
// each see the other still an admin and leave none. (SQLite runs write
// transactions one at a time anyway.)
const lockAdminsSQL = `UPDATE users SET disabled = disabled
	WHERE role = 'admin' AND disabled = FALSE AND issuer = '' AND password_hash <> ''
	RETURNING id`

// UpdateUser applies the non-nil fields of upd to user id in one
// transaction and returns the user as updated. Disabling the user revokes
// every unrevoked session of it (reason latchkey.ReasonUserDisabled);
// otherwise changing its role does (latchkey.ReasonRoleChanged); the
// revoked ids are returned. Enabling revokes nothing. It returns
// EVALIDATION on "role" for an unknown role (before looking at the
// database), EVALIDATION on "role" or "disabled" when the change would
// leave no enabled local admin (one with a password; see lockAdminsSQL),
// and ENOTFOUND when there is no such user; then
// nothing changes and no audit event is recorded.
func (db *DB) UpdateUser(ctx context.Context, id string, upd latchkey.UserUpdate, now time.Time) (*latchkey.User, []string, error) {
	// A nil pointer binds NULL, and COALESCE keeps the column.
	var role, disabled, verified any
	if upd.Role != nil {
		if !upd.Role.Valid() {
			return nil, nil, latchkey.ValidationError(latchkey.FieldError{Field: "role", Message: "must be user or admin"})
		}
		role = string(*upd.Role)
	}
	if upd.Disabled != nil {
		disabled = *upd.Disabled
	}
	if upd.EmailVerified != nil {
		verified = *upd.EmailVerified
	}
	// Only these changes can remove an enabled admin.
	demote := upd.Role != nil && *upd.Role != latchkey.RoleAdmin
	disable := upd.Disabled != nil && *upd.Disabled

	var u *latchkey.User
	var revoked []string
	err := db.inTx(ctx, func(tx *tx) error {
		var admins []string
		if demote || disable {
			var err error
			if admins, err = ids(tx.QueryContext(ctx, lockAdminsSQL)); err != nil {
				return err
			}
		}
		old, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user")
		} else if err != nil {
			return err
		}
		if slices.Equal(admins, []string{id}) { // the last enabled local admin
			var fields []latchkey.FieldError
			if demote {
				fields = append(fields, latchkey.FieldError{Field: "role", Message: "cannot demote the last admin"})
			}
			if disable {
				fields = append(fields, latchkey.FieldError{Field: "disabled", Message: "cannot disable the last admin"})
			}
			return latchkey.ValidationError(fields...)
		}
		u, err = scanUser(tx.QueryRowContext(ctx,
			`UPDATE users SET role = COALESCE($1, role), disabled = COALESCE($2, disabled),
			 email_verified = COALESCE($3, email_verified)
			 WHERE id = $4
			 RETURNING `+userColumns,
			role, disabled, verified, id))
		if err != nil {
			return err
		}
		var reason string
		switch {
		case !old.Disabled && u.Disabled:
			reason = latchkey.ReasonUserDisabled
		case old.Role != u.Role:
			reason = latchkey.ReasonRoleChanged
		default:
			return nil
		}
		revoked, err = db.revokeUserSessions(ctx, tx, id, "", reason, now)
		return err
	})
	if err != nil {
		return nil, nil, db.wrap("update user", err)
	}
	return u, revoked, nil
}
