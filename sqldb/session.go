package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

const sessionColumns = `id, user_id, created_at, last_used_at, expires_at, user_agent, ip,
	revoked_at, revoke_reason, refresh_key, refresh_hash, prev_hash, generation, rotated_at, amr`

// sessionRow receives sessionColumns.
type sessionRow struct {
	s                                  latchkey.Session
	created, lastUsed, expires, rotate int64
	revoked                            sql.NullInt64
	amr                                string
}

func (r *sessionRow) dest() []any {
	s := &r.s
	return []any{&s.ID, &s.UserID, &r.created, &r.lastUsed, &r.expires, &s.UserAgent, &s.IP,
		&r.revoked, &s.RevokeReason, &s.RefreshKey, &s.RefreshHash, &s.PrevHash, &s.Generation, &r.rotate, &r.amr}
}

func (r *sessionRow) session() *latchkey.Session {
	s := r.s
	s.CreatedAt = fromNanos(r.created)
	s.LastUsedAt = fromNanos(r.lastUsed)
	s.ExpiresAt = fromNanos(r.expires)
	s.RotatedAt = fromNanos(r.rotate)
	if r.amr != "" {
		s.AMR = strings.Fields(r.amr)
	}
	if r.revoked.Valid {
		s.RevokedAt = fromNanos(r.revoked.Int64)
	}
	return &s
}

func scanSession(r rowScanner) (*latchkey.Session, error) {
	var row sessionRow
	if err := r.Scan(row.dest()...); err != nil {
		return nil, err
	}
	return row.session(), nil
}

// findSession runs a query selecting sessionColumns of at most one row.
func (db *DB) findSession(ctx context.Context, op, query string, arg any) (*latchkey.Session, error) {
	s, err := scanSession(db.reader.QueryRowContext(ctx, query, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("session")
	}
	return s, db.wrap(op, err)
}

// CreateSession inserts s as given; only an empty ID is filled in (UUIDv7).
// It returns ENOTFOUND when s.UserID is not a user. An audit event in ctx
// gets s.UserID and the session's id where its UserID and SessionID are
// empty.
//
// With max > 0 it keeps the user's live sessions within max, the new one
// included, and returns the ids of the sessions it revoked to make room:
// the least recently used (by LastUsedAt) of the others, revoked with
// latchkey.ReasonSessionLimit, each with a session_revoked event, all in
// the one transaction. Concurrent calls for one user are serialized: on
// SQLite by the write lock, on PostgreSQL by the dialect's KeyLock on the
// user, taken before the insert, so that each counts the sessions the
// others committed.
func (db *DB) CreateSession(ctx context.Context, s *latchkey.Session, max int) ([]string, error) {
	id := s.ID
	if id == "" {
		var err error
		if id, err = newID(); err != nil {
			return nil, db.wrap("create session", err)
		}
	}
	var revoked []string
	err := db.inTx(ctx, func(tx *tx) error {
		if max > 0 {
			if err := db.keyLock(ctx, tx, sessionsLockKey(s.UserID)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO sessions (`+sessionColumns+`)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			id, s.UserID, nanos(s.CreatedAt), nanos(s.LastUsedAt), nanos(s.ExpiresAt), s.UserAgent, s.IP,
			nullNanos(s.RevokedAt), s.RevokeReason, s.RefreshKey, s.RefreshHash, s.PrevHash, s.Generation, nanos(s.RotatedAt),
			strings.Join(s.AMR, " "))
		if err != nil {
			if db.isForeignKey(err) {
				return notFound("user")
			}
			return err
		}
		fillAudit(ctx, s.UserID, id)
		if max > 0 {
			revoked, err = db.makeRoom(ctx, tx, s, id, max)
		}
		return err
	})
	if err != nil {
		return nil, db.wrap("create session", err)
	}
	s.ID = id
	return revoked, nil
}

// FindSession returns ENOTFOUND when there is no such session.
func (db *DB) FindSession(ctx context.Context, id string) (*latchkey.Session, error) {
	return db.findSession(ctx, "find session",
		`SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id)
}

// FindSessionByRefreshHash finds the session, revoked or not, whose current
// refresh token has this hash; ENOTFOUND when none.
func (db *DB) FindSessionByRefreshHash(ctx context.Context, hash []byte) (*latchkey.Session, error) {
	return db.findSession(ctx, "find session by refresh hash",
		`SELECT `+sessionColumns+` FROM sessions WHERE refresh_hash = $1`, hash)
}

// FindRefreshSession is FindSessionByRefreshHash that also returns the
// session's user, read in the same query: the refresh path needs both.
func (db *DB) FindRefreshSession(ctx context.Context, hash []byte) (*latchkey.Session, *latchkey.User, error) {
	var sr sessionRow
	var ur userRow
	err := db.reader.QueryRowContext(ctx, findRefreshSessionSQL, hash).Scan(append(sr.dest(), ur.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound("session")
	} else if err != nil {
		return nil, nil, db.wrap("find refresh session", err)
	}
	return sr.session(), ur.user(), nil
}

// findRefreshSessionSQL is sessionColumns then userColumns, qualified.
var findRefreshSessionSQL = `SELECT ` + qualify("s", sessionColumns) + `, ` + qualify("u", userColumns) + `
	FROM sessions s JOIN users u ON u.id = s.user_id
	WHERE s.refresh_hash = $1`

// qualify prefixes each name of a column list with table.
func qualify(table, columns string) string {
	var out []string
	for c := range strings.SplitSeq(columns, ",") {
		out = append(out, table+"."+strings.TrimSpace(c))
	}
	return strings.Join(out, ", ")
}

// FindSessionBySpentHash finds the session that rotated away a refresh
// token with this hash; ENOTFOUND when none.
func (db *DB) FindSessionBySpentHash(ctx context.Context, hash []byte) (*latchkey.Session, error) {
	return db.findSession(ctx, "find session by spent hash",
		`SELECT `+sessionColumns+` FROM sessions
		 WHERE id = (SELECT session_id FROM spent_refresh_tokens WHERE token_hash = $1)`, hash)
}

// RotateSession records r.OldHash as spent and makes r.NewHash current, in
// one transaction, only if the session is not revoked and still at
// r.FromGeneration. It reports false, with nothing changed and no audit
// event recorded, otherwise (also when there is no such session). Expiry is
// the caller's check.
func (db *DB) RotateSession(ctx context.Context, r latchkey.Rotation) (bool, error) {
	var ok bool
	err := db.inTx(ctx, func(tx *tx) error {
		now := nanos(r.Now)
		res, err := tx.ExecContext(ctx,
			`UPDATE sessions
			 SET prev_hash = $1, refresh_hash = $2, generation = generation + 1,
			     rotated_at = $3, last_used_at = $3, expires_at = $4
			 WHERE id = $5 AND generation = $6 AND revoked_at IS NULL`,
			r.OldHash, r.NewHash, now, nanos(r.ExpiresAt), r.SessionID, r.FromGeneration)
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
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO spent_refresh_tokens (token_hash, session_id, spent_at) VALUES ($1, $2, $3)`,
			r.OldHash, r.SessionID, now); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, db.wrap("rotate session", err)
	}
	return ok, nil
}

// The keyset queries of ListSessions, newest first, written as
// listTasksSQL's are so that a page is an index range wherever it starts.
const (
	listSessionsSQL = `SELECT ` + sessionColumns + ` FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
		ORDER BY created_at DESC, id DESC LIMIT $3`
	listSessionsAfterSQL = `SELECT ` + sessionColumns + ` FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
		  AND created_at <= $3 AND (created_at < $3 OR id < $4)
		ORDER BY created_at DESC, id DESC LIMIT $5`
)

// ListSessions returns up to f.Limit (latchkey.DefaultPageSize when not
// positive) of the user's live sessions (not revoked, expiring after
// f.Now), newest first by (CreatedAt, ID), starting strictly after
// f.After. When more follow, it also returns the cursor of the last one.
func (db *DB) ListSessions(ctx context.Context, f latchkey.SessionFilter) ([]*latchkey.Session, *latchkey.Cursor, error) {
	query := listSessionsSQL
	if f.After != nil {
		query = listSessionsAfterSQL
	}
	args := make([]any, 0, 5) // room for listPage's cursor and limit
	args = append(args, f.UserID, nanos(f.Now))
	return listPage(ctx, db, "list sessions", f.Limit, f.After, query, args, scanSession,
		func(s *latchkey.Session) latchkey.Cursor { return latchkey.Cursor{CreatedAt: s.CreatedAt, ID: s.ID} })
}

// revokedAt is the time a revocation is stamped with: taken inside the write
// transaction, so that on SQLite, where the write lock is already held, it
// is at most milliseconds older than the commit that makes it visible. On
// PostgreSQL it is taken before any row lock is waited for, and the stamp
// comes from this process's clock: readers of the feed (RevokedSince) allow
// for both by re-reading the last 10 s, which is why instances' clocks must
// agree (docs/deploy.md). The caller's now wins when it is later (a test
// clock).
func (db *DB) revokedAt(now time.Time) int64 {
	return nanos(later(now, db.now()))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// RevokeSession revokes one session of userID that is not yet revoked;
// ENOTFOUND when the session is not the user's or is already revoked. An
// expired session is still revoked: its last access token may be live.
func (db *DB) RevokeSession(ctx context.Context, userID, id, reason string, now time.Time) error {
	err := db.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE sessions SET revoked_at = $1, revoke_reason = $2
			 WHERE id = $3 AND user_id = $4 AND revoked_at IS NULL`,
			db.revokedAt(now), reason, id, userID)
		if err != nil {
			return err
		}
		if err := db.oneRow(res, "revoke session", "session"); err != nil {
			return err
		}
		return db.notify(ctx, tx, ChannelRevocations)
	})
	return db.wrap("revoke session", err)
}

// revokeUserSessionsSQL revokes the unrevoked sessions of a user but one.
// Arguments: revoked at, reason, user id, the id to keep ("" for none).
const revokeUserSessionsSQL = `UPDATE sessions SET revoked_at = $1, revoke_reason = $2
	WHERE user_id = $3 AND id <> $4 AND revoked_at IS NULL
	RETURNING id`

// revokeUserSessions revokes, in tx, the unrevoked sessions of userID but
// exceptID, announces them (Dialect.Notify) and returns their ids. Every
// write that revokes a user's sessions goes through here, so that none
// forgets the announcement.
func (db *DB) revokeUserSessions(ctx context.Context, tx *tx, userID, exceptID, reason string, now time.Time) ([]string, error) {
	out, err := ids(tx.QueryContext(ctx, revokeUserSessionsSQL, db.revokedAt(now), reason, userID, exceptID))
	if err != nil || len(out) == 0 {
		return out, err
	}
	return out, db.notify(ctx, tx, ChannelRevocations)
}

// RevokeUserSessions revokes every session of userID not yet revoked,
// except exceptID (may be empty), and returns the ids it revoked, in no
// particular order.
func (db *DB) RevokeUserSessions(ctx context.Context, userID, exceptID, reason string, now time.Time) ([]string, error) {
	var out []string
	err := db.inTx(ctx, func(tx *tx) error {
		var err error
		out, err = db.revokeUserSessions(ctx, tx, userID, exceptID, reason, now)
		return err
	})
	return out, db.wrap("revoke user sessions", err)
}

// RevokeSessionByID revokes a session whatever its user. A session already
// revoked keeps its first RevokedAt and reason, and that is no error;
// ENOTFOUND when there is no such session.
func (db *DB) RevokeSessionByID(ctx context.Context, id, reason string, now time.Time) error {
	err := db.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL`,
			db.revokedAt(now), reason, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			return db.notify(ctx, tx, ChannelRevocations)
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM sessions WHERE id = $1`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("session")
		}
		return err
	})
	return db.wrap("revoke session by id", err)
}

// PruneSessions deletes sessions that expired or were revoked before
// before; their spent refresh tokens go with them (ON DELETE CASCADE).
func (db *DB) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.writer.ExecContext(ctx,
		`DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1`, nanos(before))
	if err != nil {
		return 0, db.wrap("prune sessions", err)
	}
	n, err := res.RowsAffected()
	return n, db.wrap("prune sessions", err)
}

// RevokedSince lists the sessions revoked at or after since, oldest first,
// from the (revoked_at, id) index. The user id and reason come from the
// table: the watcher's reads span seconds, so a few rows' lookups.
func (db *DB) RevokedSince(ctx context.Context, since time.Time) ([]latchkey.RevokedSession, error) {
	rows, err := db.reader.QueryContext(ctx, revokedSinceSQL, nanos(since))
	return db.scanRevoked(rows, err, "revoked since")
}

const revokedSinceSQL = `SELECT id, user_id, revoked_at, revoke_reason FROM sessions
	WHERE revoked_at >= $1 ORDER BY revoked_at, id`

// oneRow turns an UPDATE or DELETE that matched no row into ENOTFOUND.
func (db *DB) oneRow(res sql.Result, op, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return db.wrap(op, err)
	}
	if n == 0 {
		return notFound(what)
	}
	return nil
}
