package sqldb_test

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

// TestNULIsNotInternal: a NUL in an id or a filter (from a path, a query
// or a trusted issuer's sub) is never an internal error. PostgreSQL's TEXT
// cannot hold one (EINVALID, a 400); SQLite simply finds nothing.
func TestNULIsNotInternal(t *testing.T) {
	const bad = "a\x00b"
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := &latchkey.User{Email: "nul@example.com", PasswordHash: "x"}
		must(t, db.CreateUser(ctx, u))
		now := time.Now()
		errs := map[string]error{}
		_, errs["FindTask"] = db.FindTask(ctx, u.ID, bad)
		_, errs["UpdateTask"] = db.UpdateTask(ctx, u.ID, bad, latchkey.TaskUpdate{})
		_, errs["ToggleTask"] = db.ToggleTask(ctx, u.ID, bad)
		errs["DeleteTask"] = db.DeleteTask(ctx, u.ID, bad)
		_, _, errs["ListTasks"] = db.ListTasks(ctx, latchkey.TaskFilter{UserID: bad})
		errs["RevokeSession"] = db.RevokeSession(ctx, u.ID, bad, latchkey.ReasonSessionRevoked, now)
		_, _, errs["ListSessions"] = db.ListSessions(ctx, latchkey.SessionFilter{UserID: u.ID, Now: now,
			After: &latchkey.Cursor{CreatedAt: now, ID: bad}})
		_, _, errs["ListAudit"] = db.ListAudit(ctx, latchkey.AuditFilter{Type: bad, UserID: bad})
		_, _, errs["ListUsers"] = db.ListUsers(ctx, 10, &latchkey.Cursor{CreatedAt: now, ID: bad})
		_, _, errs["UpdateUser"] = db.UpdateUser(ctx, bad, latchkey.UserUpdate{}, now)
		_, errs["FindUserByID"] = db.FindUserByID(ctx, bad)
		_, errs["ProvisionExternalUser"] = db.ProvisionExternalUser(ctx, &latchkey.User{ID: bad, Role: latchkey.RoleUser, Issuer: "https://issuer.example"})
		for op, err := range errs {
			if latchkey.ErrorCode(err) == latchkey.EINTERNAL {
				t.Errorf("%s with a NUL: %v", op, err)
			}
		}
	})
}
