package sqldb_test

import (
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

// TestListSessionsPages: the list pages by (created_at, id), newest first;
// a page holds at most the limit, the cursor continues strictly after the
// last one, and the last page has no cursor.
func TestListSessionsPages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		now := t0.Add(time.Hour)
		var want []string
		for i := range 7 {
			// Two sessions share each creation time: the id breaks the tie.
			s := newSession(t, db, u.ID, t0.Add(time.Duration(i/2)*time.Minute))
			want = append(want, s.ID)
		}
		revoked := newSession(t, db, u.ID, t0.Add(time.Minute))
		must(t, db.RevokeSessionByID(ctx, revoked.ID, latchkey.ReasonSignout, now))
		slices.Reverse(want) // UUIDv7 ids grow with time: newest first

		var got []string
		var after *latchkey.Cursor
		for page := 0; ; page++ {
			ss, next, err := db.ListSessions(ctx, latchkey.SessionFilter{UserID: u.ID, Now: now, Limit: 3, After: after})
			must(t, err)
			if len(ss) > 3 || page > 3 {
				t.Fatalf("page %d: %d sessions", page, len(ss))
			}
			got = append(got, sessionIDs(ss)...)
			if next == nil {
				break
			}
			after = next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages gave %v, want %v", got, want)
		}
		// Exactly a full last page: no cursor after it.
		ss, next, err := db.ListSessions(ctx, latchkey.SessionFilter{UserID: u.ID, Now: now, Limit: 7})
		must(t, err)
		if len(ss) != 7 || next != nil {
			t.Fatalf("limit 7 of 7: %d sessions, cursor %v", len(ss), next)
		}
		// No limit is the default page size.
		if ss, _, err := db.ListSessions(ctx, latchkey.SessionFilter{UserID: u.ID, Now: now}); err != nil || len(ss) != 7 {
			t.Fatalf("default limit: %d sessions (%v)", len(ss), err)
		}
	})
}
