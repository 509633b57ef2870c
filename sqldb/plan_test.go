package sqldb

// The hot queries must be answered from an index: no table scan, no sort.
// SQLite's EXPLAIN QUERY PLAN shows it; PostgreSQL's planner depends on
// table statistics, so this check is SQLite's alone. It opens SQLite with
// the bare driver, since importing package sqlite here would be a cycle.

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

func TestQueryPlansUseIndexes(t *testing.T) {
	ctx := context.Background()
	conn, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "plan.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	db := New(conn, conn, Dialect{})
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, query string
		args        []any
		index       string
	}{
		{"list tasks", listTasksSQL, []any{"u", 51}, "tasks_user_created"},
		{"list tasks after", listTasksAfterSQL, []any{"u", 1, "id", 51}, "tasks_user_created"},
		{"list tasks by status", listTasksStatusSQL, []any{"u", true, 51}, "tasks_user_status_created"},
		{"list tasks by status after", listTasksStatusAfterSQL, []any{"u", false, 1, "id", 51}, "tasks_user_status_created"},
		{"revoked since", revokedSinceSQL, []any{1}, "sessions_revoked_at"},
		{"revoke user sessions", revokeUserSessionsSQL, []any{1, "r", "u", ""}, "sessions_user_created"},
		{"list sessions", listSessionsSQL, []any{"u", 1, 51}, "sessions_user_created"},
		{"list sessions after", listSessionsAfterSQL, []any{"u", 1, 1, "id", 51}, "sessions_user_created"},
		{"pending revocations", pendingRevocationsSQL, []any{"s", 1, 100}, "sessions_revoked_at"},
		{"pending revocations' acks", pendingRevocationsSQL, []any{"s", 1, 100}, "sqlite_autoindex_ssf_acks_1"},
		{"count streams", countStreamsSQL, []any{"r", 1}, "ssf_streams_receiver_created"},
		{"list streams", listStreamsSQL, []any{"r"}, "ssf_streams_receiver_created"},
		{"prune a receiver's streams", pruneReceiverStreamsSQL, []any{"r", 1}, "ssf_streams_receiver_created"},
		{"prune streams", pruneStreamsSQL, []any{1}, "ssf_streams_last_poll_at"},
		{"prune acks", pruneAcksSQL, []any{1}, "ssf_acks_expires_at"},
		{"find session by refresh hash", `SELECT ` + sessionColumns + ` FROM sessions WHERE refresh_hash = $1`,
			[]any{[]byte("h")}, "sessions_refresh_hash"},
	}
	for _, tt := range tests {
		rows, err := conn.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tt.query, tt.args...)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "; ")
		if !strings.Contains(text, "INDEX "+tt.index) || strings.Contains(text, "SCAN") || strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("%s: plan %q, want a search of %s without scan or sort", tt.name, text, tt.index)
		} else {
			t.Logf("%s: %s", tt.name, text)
		}
	}
}
