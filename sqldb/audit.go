package sqldb

// The audit log. An event that goes with a change is recorded by inTx, in
// the change's own transaction, and every method that changes something
// runs in inTx; AppendAudit records the events that go with none. A method
// records its event when it succeeds, except that RotateSession and
// RehashPassword, which report false when their compare-and-swap lost,
// record none then: nothing changed.

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.AuditService = (*DB)(nil)

// errNoChange is what a function run by inTx returns when it changed
// nothing (a compare-and-swap that lost): inTx then rolls back, records no
// audit event and returns nil.
var errNoChange = errors.New("sqldb: no change")

// execer is *pool or *tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

const auditColumns = `id, at, type, user_id, actor_id, session_id, ip, user_agent, reason, count`

func scanAudit(r rowScanner) (*latchkey.AuditEvent, error) {
	var ev latchkey.AuditEvent
	var at int64
	if err := r.Scan(&ev.ID, &at, &ev.Type, &ev.UserID, &ev.ActorID, &ev.SessionID,
		&ev.IP, &ev.UserAgent, &ev.Reason, &ev.Count); err != nil {
		return nil, err
	}
	ev.At = fromNanos(at)
	return &ev, nil
}

// insertAuditSQL records one event. An event already recorded (its ID
// filled in by an earlier change made with the same context) is not
// recorded twice: a caller that attaches one event to a context used for
// two changes, such as creating a user and then its first session, gets one
// row, written with the first change that commits.
const insertAuditSQL = `INSERT INTO audit_events (` + auditColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
	ON CONFLICT (id) DO NOTHING`

// insertAudit records ev through q, filling in an empty ID (UUIDv7), a
// zero At (db.Now) and a Count below 1 (1) once the row is written.
func (db *DB) insertAudit(ctx context.Context, q execer, ev *latchkey.AuditEvent) error {
	id, at, count := ev.ID, ev.At, max(ev.Count, 1)
	if id == "" {
		var err error
		if id, err = newID(); err != nil {
			return err
		}
	}
	if at.IsZero() {
		at = db.now()
	}
	if _, err := q.ExecContext(ctx, insertAuditSQL,
		id, nanos(at), ev.Type, ev.UserID, ev.ActorID, ev.SessionID, ev.IP, ev.UserAgent, ev.Reason, count); err != nil {
		return err
	}
	ev.ID, ev.At, ev.Count = id, fromNanos(nanos(at)), count
	return nil
}

// fillAudit gives the event ctx carries, if any, the user and session a
// change created, where the caller left them empty ("" leaves a field as
// it is). inTx undoes it when the change is not committed.
func fillAudit(ctx context.Context, userID, sessionID string) {
	ev := latchkey.AuditFrom(ctx)
	if ev == nil {
		return
	}
	if ev.UserID == "" {
		ev.UserID = userID
	}
	if ev.SessionID == "" {
		ev.SessionID = sessionID
	}
}

// AppendAudit records ev, an event that goes with no change, and fills in
// an empty ID, a zero At and a zero Count. Recording an event already recorded is a
// no-op.
func (db *DB) AppendAudit(ctx context.Context, ev *latchkey.AuditEvent) error {
	return db.wrap("append audit", db.insertAudit(ctx, db.writer, ev))
}

// The keyset queries of ListAudit, newest first, one per filter: none, by
// type, by user, by both (which the user index serves). The cursor bound is
// written as in ListTasks, so that it is an index range.
const (
	listAuditSQL = `SELECT ` + auditColumns + ` FROM audit_events
		ORDER BY at DESC, id DESC LIMIT $1`
	listAuditAfterSQL = `SELECT ` + auditColumns + ` FROM audit_events
		WHERE at <= $1 AND (at < $1 OR id < $2)
		ORDER BY at DESC, id DESC LIMIT $3`
	listAuditTypeSQL = `SELECT ` + auditColumns + ` FROM audit_events
		WHERE type = $1
		ORDER BY at DESC, id DESC LIMIT $2`
	listAuditTypeAfterSQL = `SELECT ` + auditColumns + ` FROM audit_events
		WHERE type = $1 AND at <= $2 AND (at < $2 OR id < $3)
		ORDER BY at DESC, id DESC LIMIT $4`
	listAuditUserSQL = `SELECT ` + auditColumns + ` FROM audit_events
		WHERE user_id = $1
		ORDER BY at DESC, id DESC LIMIT $2`
	listAuditUserAfterSQL = `SELECT ` + auditColumns + ` FROM audit_events
		WHERE user_id = $1 AND at <= $2 AND (at < $2 OR id < $3)
		ORDER BY at DESC, id DESC LIMIT $4`
	listAuditUserTypeSQL = `SELECT ` + auditColumns + ` FROM audit_events
		WHERE user_id = $1 AND type = $2
		ORDER BY at DESC, id DESC LIMIT $3`
	listAuditUserTypeAfterSQL = `SELECT ` + auditColumns + ` FROM audit_events
		WHERE user_id = $1 AND type = $2 AND at <= $3 AND (at < $3 OR id < $4)
		ORDER BY at DESC, id DESC LIMIT $5`
)

// ListAudit returns up to f.Limit (latchkey.DefaultPageSize when not
// positive) events, newest first by (At, ID), starting strictly after
// f.After, of type f.Type and about user f.UserID where those are set. When
// more follow, it also returns the cursor of the last event returned.
func (db *DB) ListAudit(ctx context.Context, f latchkey.AuditFilter) ([]*latchkey.AuditEvent, *latchkey.Cursor, error) {
	var query string
	args := make([]any, 0, 5) // room for listPage's cursor and limit
	switch {
	case f.UserID != "" && f.Type != "":
		query, args = listAuditUserTypeSQL, append(args, f.UserID, f.Type)
		if f.After != nil {
			query = listAuditUserTypeAfterSQL
		}
	case f.UserID != "":
		query, args = listAuditUserSQL, append(args, f.UserID)
		if f.After != nil {
			query = listAuditUserAfterSQL
		}
	case f.Type != "":
		query, args = listAuditTypeSQL, append(args, f.Type)
		if f.After != nil {
			query = listAuditTypeAfterSQL
		}
	default:
		query = listAuditSQL
		if f.After != nil {
			query = listAuditAfterSQL
		}
	}
	return listPage(ctx, db, "list audit", f.Limit, f.After, query, args, scanAudit,
		func(ev *latchkey.AuditEvent) latchkey.Cursor { return latchkey.Cursor{CreatedAt: ev.At, ID: ev.ID} })
}

// PruneAudit deletes the events older than before and returns how many.
func (db *DB) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.writer.ExecContext(ctx, `DELETE FROM audit_events WHERE at < $1`, nanos(before))
	if err != nil {
		return 0, db.wrap("prune audit", err)
	}
	n, err := res.RowsAffected()
	return n, db.wrap("prune audit", err)
}
