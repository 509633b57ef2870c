package sqldb_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

// withEvent returns ctx carrying a fresh event of type typ, and the event.
func withEvent(typ string) (context.Context, *latchkey.AuditEvent) {
	ev := &latchkey.AuditEvent{Type: typ, IP: "198.51.100.7", UserAgent: "audit-test/1.0", Reason: "because"}
	return latchkey.WithAudit(ctx, ev), ev
}

// auditRows returns every stored event, newest first.
func auditRows(t *testing.T, db *sqldb.DB) []*latchkey.AuditEvent {
	t.Helper()
	evs, next, err := db.ListAudit(ctx, latchkey.AuditFilter{Limit: 10000})
	must(t, err)
	if next != nil {
		t.Fatal("more than 10000 audit events")
	}
	return evs
}

// wantOneEvent checks that ev was recorded, with its ID and At filled in,
// and is the only stored event.
func wantOneEvent(t *testing.T, db *sqldb.DB, ev *latchkey.AuditEvent) {
	t.Helper()
	if id, err := uuid.Parse(ev.ID); err != nil || id.Version() != 7 {
		t.Fatalf("event ID = %q (%v), want a UUIDv7", ev.ID, err)
	}
	if ev.At.IsZero() || ev.At.Location() != time.UTC {
		t.Fatalf("event At = %v, want a UTC time", ev.At)
	}
	rows := auditRows(t, db)
	if len(rows) != 1 || *rows[0] != *ev {
		t.Fatalf("stored events %s, want only %+v", fmtEvents(rows), *ev)
	}
}

// wantNoEvent checks that nothing was recorded and ev is as it was given.
func wantNoEvent(t *testing.T, db *sqldb.DB, ev, given *latchkey.AuditEvent) {
	t.Helper()
	if rows := auditRows(t, db); len(rows) != 0 {
		t.Fatalf("stored events %s, want none", fmtEvents(rows))
	}
	if *ev != *given {
		t.Fatalf("event changed to %+v, want it left as %+v", *ev, *given)
	}
}

func fmtEvents(evs []*latchkey.AuditEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "\n  %+v", *ev)
	}
	return b.String()
}

func rotation(s *latchkey.Session, now time.Time, newHash []byte) latchkey.Rotation {
	return latchkey.Rotation{SessionID: s.ID, FromGeneration: s.Generation, OldHash: s.RefreshHash,
		NewHash: newHash, Now: now, ExpiresAt: now.Add(720 * time.Hour)}
}

// Every change made with an event in its context records the event with
// it, fills in the event's ID and At, and for a created user or session
// its UserID and SessionID where they are empty.
func TestAuditRecordedWithChange(t *testing.T) {
	type change func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent)
	tests := []struct {
		name   string
		change change
	}{
		{"CreateUser", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			u := &latchkey.User{Email: "new@example.com", PasswordHash: "x"}
			must(t, db.CreateUser(ctx, u))
			if ev.UserID != u.ID || ev.SessionID != "" {
				t.Fatalf("event user %q session %q, want user %q", ev.UserID, ev.SessionID, u.ID)
			}
		}},
		{"CreateUser keeps a given UserID", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			ev.UserID = "given"
			must(t, db.CreateUser(ctx, &latchkey.User{Email: "new@example.com", PasswordHash: "x"}))
			if ev.UserID != "given" {
				t.Fatalf("event user %q, want the given one", ev.UserID)
			}
		}},
		{"CreateSession", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			u := newUser(t, db)
			s := &latchkey.Session{UserID: u.ID, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour),
				RefreshKey: randBytes(t, 32), RefreshHash: randBytes(t, 32)}
			must(t, insertSession(ctx, db, s))
			if ev.UserID != u.ID || ev.SessionID != s.ID || s.ID == "" {
				t.Fatalf("event user %q session %q, want %q %q", ev.UserID, ev.SessionID, u.ID, s.ID)
			}
		}},
		{"CreateSession keeps given ids", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			u := newUser(t, db)
			ev.UserID, ev.SessionID = "u-given", "s-given"
			s := &latchkey.Session{UserID: u.ID, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour),
				RefreshHash: randBytes(t, 32)}
			must(t, insertSession(ctx, db, s))
			if ev.UserID != "u-given" || ev.SessionID != "s-given" {
				t.Fatalf("event user %q session %q, want the given ones", ev.UserID, ev.SessionID)
			}
		}},
		{"RotateSession", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			s := newSession(t, db, newUser(t, db).ID, t0)
			ok, err := db.RotateSession(ctx, rotation(s, t0.Add(time.Minute), randBytes(t, 32)))
			must(t, err)
			if !ok {
				t.Fatal("rotation lost")
			}
		}},
		{"RevokeSession", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			u := newUser(t, db)
			s := newSession(t, db, u.ID, t0)
			must(t, db.RevokeSession(ctx, u.ID, s.ID, latchkey.ReasonSignout, t0))
		}},
		{"RevokeUserSessions", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			u := newUser(t, db)
			newSession(t, db, u.ID, t0)
			got, err := db.RevokeUserSessions(ctx, u.ID, "", latchkey.ReasonSignout, t0)
			must(t, err)
			if len(got) != 1 {
				t.Fatalf("revoked %v", got)
			}
		}},
		{"RevokeUserSessions revoking none", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			_, err := db.RevokeUserSessions(ctx, newUser(t, db).ID, "", latchkey.ReasonSignout, t0)
			must(t, err)
		}},
		{"RevokeSessionByID", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			s := newSession(t, db, newUser(t, db).ID, t0)
			must(t, db.RevokeSessionByID(ctx, s.ID, latchkey.ReasonRefreshReuse, t0))
		}},
		{"SetPassword", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			u := newUser(t, db)
			newSession(t, db, u.ID, t0)
			_, err := db.SetPassword(ctx, u.ID, "new-hash", "", t0)
			must(t, err)
		}},
		{"RehashPassword", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			u := newUser(t, db)
			ok, err := db.RehashPassword(ctx, u.ID, u.PasswordHash, "stronger")
			must(t, err)
			if !ok {
				t.Fatal("rehash did not replace")
			}
		}},
		{"UpdateUser", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			u := newUser(t, db)
			ev.UserID, ev.ActorID = u.ID, "admin-id"
			_, _, err := db.UpdateUser(ctx, u.ID, latchkey.UserUpdate{Disabled: ptr(true)}, t0)
			must(t, err)
		}},
		{"CreateTask", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			must(t, db.CreateTask(ctx, &latchkey.Task{UserID: newUser(t, db).ID, Title: "t"}))
		}},
		{"UpdateTask", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			task := seedTasks(t, db, newUser(t, db).ID, 1)[0]
			_, err := db.UpdateTask(ctx, task.UserID, task.ID, latchkey.TaskUpdate{Title: ptr("new")})
			must(t, err)
		}},
		{"ToggleTask", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			task := seedTasks(t, db, newUser(t, db).ID, 1)[0]
			_, err := db.ToggleTask(ctx, task.UserID, task.ID)
			must(t, err)
		}},
		{"DeleteTask", func(t *testing.T, db *sqldb.DB, ctx context.Context, ev *latchkey.AuditEvent) {
			task := seedTasks(t, db, newUser(t, db).ID, 1)[0]
			must(t, db.DeleteTask(ctx, task.UserID, task.ID))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
				ectx, ev := withEvent("some_type")
				tt.change(t, db, ectx, ev)
				wantOneEvent(t, db, ev)
				if !ev.At.Equal(clockOf(db).Now()) {
					t.Fatalf("event At = %v, want the store clock %v", ev.At, clockOf(db).Now())
				}
			})
		})
	}
}

// A change that fails, or that reports it changed nothing, records no
// event and leaves the event as given. RotateSession and RehashPassword
// record theirs only when the swap happened.
func TestAuditNotRecordedWithoutChange(t *testing.T) {
	type change func(t *testing.T, db *sqldb.DB, ctx context.Context)
	lost := func(t *testing.T, ok bool, err error) {
		t.Helper()
		must(t, err)
		if ok {
			t.Fatal("the swap happened")
		}
	}
	tests := []struct {
		name   string
		change change
	}{
		{"CreateUser email taken", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			u := newUser(t, db)
			wantCode(t, db.CreateUser(ctx, &latchkey.User{Email: strings.ToUpper(u.Email), PasswordHash: "x"}), latchkey.EEMAILTAKEN)
		}},
		{"CreateUser invalid role", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			wantCode(t, db.CreateUser(ctx, &latchkey.User{Email: "a@example.com", Role: "root"}), latchkey.EINVALID)
		}},
		{"CreateSession unknown user", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			s := &latchkey.Session{UserID: "nobody", ExpiresAt: t0, RefreshHash: randBytes(t, 32)}
			wantCode(t, insertSession(ctx, db, s), latchkey.ENOTFOUND)
		}},
		{"CreateSession duplicate refresh hash", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			s := newSession(t, db, newUser(t, db).ID, t0)
			dup := &latchkey.Session{UserID: s.UserID, ExpiresAt: t0, RefreshHash: s.RefreshHash}
			if err := insertSession(ctx, db, dup); err == nil {
				t.Fatal("duplicate refresh hash accepted")
			}
		}},
		{"RotateSession lost the compare-and-swap", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			s := newSession(t, db, newUser(t, db).ID, t0)
			ok, err := db.RotateSession(context.Background(), rotation(s, t0, randBytes(t, 32)))
			must(t, err)
			if !ok {
				t.Fatal("first rotation lost")
			}
			ok, err = db.RotateSession(ctx, rotation(s, t0, randBytes(t, 32))) // still from generation 0
			lost(t, ok, err)
		}},
		{"RotateSession revoked", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			s := newSession(t, db, newUser(t, db).ID, t0)
			must(t, db.RevokeSessionByID(context.Background(), s.ID, latchkey.ReasonSignout, t0))
			ok, err := db.RotateSession(ctx, rotation(s, t0, randBytes(t, 32)))
			lost(t, ok, err)
		}},
		{"RotateSession unknown", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			ok, err := db.RotateSession(ctx, rotation(&latchkey.Session{ID: "nope", RefreshHash: randBytes(t, 32)}, t0, randBytes(t, 32)))
			lost(t, ok, err)
		}},
		{"RehashPassword stale", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			u := newUser(t, db)
			ok, err := db.RehashPassword(ctx, u.ID, "not-the-stored-hash", "stronger")
			lost(t, ok, err)
		}},
		{"RevokeSession already revoked", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			u := newUser(t, db)
			s := newSession(t, db, u.ID, t0)
			must(t, db.RevokeSession(context.Background(), u.ID, s.ID, latchkey.ReasonSignout, t0))
			wantCode(t, db.RevokeSession(ctx, u.ID, s.ID, latchkey.ReasonSignout, t0), latchkey.ENOTFOUND)
		}},
		{"RevokeSession of another user", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			s := newSession(t, db, newUser(t, db).ID, t0)
			wantCode(t, db.RevokeSession(ctx, newUser(t, db).ID, s.ID, latchkey.ReasonSignout, t0), latchkey.ENOTFOUND)
		}},
		{"RevokeSessionByID unknown", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			wantCode(t, db.RevokeSessionByID(ctx, "nope", latchkey.ReasonRefreshReuse, t0), latchkey.ENOTFOUND)
		}},
		{"SetPassword unknown user", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			_, err := db.SetPassword(ctx, "nobody", "h", "", t0)
			wantCode(t, err, latchkey.ENOTFOUND)
		}},
		{"UpdateUser unknown user", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			_, _, err := db.UpdateUser(ctx, "nobody", latchkey.UserUpdate{Disabled: ptr(true)}, t0)
			wantCode(t, err, latchkey.ENOTFOUND)
		}},
		{"UpdateUser invalid role", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			_, _, err := db.UpdateUser(ctx, newUser(t, db).ID, latchkey.UserUpdate{Role: ptr(latchkey.Role("root"))}, t0)
			wantCode(t, err, latchkey.EVALIDATION)
		}},
		{"UpdateUser last admin", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			a := newAdmin(t, db)
			_, _, err := db.UpdateUser(ctx, a.ID, latchkey.UserUpdate{Disabled: ptr(true)}, t0)
			wantCode(t, err, latchkey.EVALIDATION)
		}},
		{"DeleteTask unknown", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			wantCode(t, db.DeleteTask(ctx, newUser(t, db).ID, "nope"), latchkey.ENOTFOUND)
		}},
		{"CreateTask unknown user", func(t *testing.T, db *sqldb.DB, ctx context.Context) {
			wantCode(t, db.CreateTask(ctx, &latchkey.Task{UserID: "nobody", Title: "t"}), latchkey.ENOTFOUND)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
				ectx, ev := withEvent("some_type")
				ev.UserID = "" // left empty: a fill-in must be undone too
				given := *ev
				tt.change(t, db, ectx)
				wantNoEvent(t, db, ev, &given)
			})
		})
	}
}

// When the event cannot be recorded, the change is rolled back with it;
// without an event in the context the same change succeeds as before.
func TestAuditFailureRollsBackChange(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		if _, err := db.Writer().ExecContext(ctx, `DROP TABLE audit_events`); err != nil {
			t.Fatal(err)
		}

		ectx, ev := withEvent(latchkey.AuditSignup)
		if err := db.CreateUser(ectx, &latchkey.User{Email: "rolled@example.com", PasswordHash: "x"}); err == nil {
			t.Fatal("CreateUser succeeded without its audit event")
		}
		_, err := db.FindUserByEmail(ctx, "rolled@example.com")
		wantCode(t, err, latchkey.ENOTFOUND)
		if ev.ID != "" || ev.UserID != "" || !ev.At.IsZero() {
			t.Fatalf("event of a rolled back change filled in: %+v", *ev)
		}

		ectx, _ = withEvent(latchkey.AuditPasswordChanged)
		if _, err := db.SetPassword(ectx, u.ID, "new-hash", "", t0); err == nil {
			t.Fatal("SetPassword succeeded without its audit event")
		}
		got, err := db.FindUserByID(ctx, u.ID)
		must(t, err)
		if got.PasswordHash != u.PasswordHash {
			t.Fatal("password changed without its audit event")
		}
		if gs, err := db.FindSession(ctx, s.ID); err != nil || gs.Revoked() {
			t.Fatalf("session revoked without its audit event: %+v %v", gs, err)
		}

		ectx, _ = withEvent(latchkey.AuditRefresh)
		if ok, err := db.RotateSession(ectx, rotation(s, t0, randBytes(t, 32))); err == nil || ok {
			t.Fatalf("RotateSession = %v, %v without its audit event", ok, err)
		}
		if gs, err := db.FindSession(ctx, s.ID); err != nil || gs.Generation != 0 {
			t.Fatalf("session rotated without its audit event: %+v %v", gs, err)
		}

		// Without an event, nothing needs the table.
		must(t, db.CreateUser(ctx, &latchkey.User{Email: "rolled@example.com", PasswordHash: "x"}))
		_, err = db.SetPassword(ctx, u.ID, "new-hash", "", t0)
		must(t, err)
	})
}

// Methods called without an event record nothing.
func TestAuditNothingWithoutEvent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		_, err := db.RotateSession(ctx, rotation(s, t0, randBytes(t, 32)))
		must(t, err)
		_, err = db.SetPassword(ctx, u.ID, "h", "", t0)
		must(t, err)
		_, _, err = db.UpdateUser(ctx, u.ID, latchkey.UserUpdate{Disabled: ptr(true)}, t0)
		must(t, err)
		seedTasks(t, db, u.ID, 2)
		if rows := auditRows(t, db); len(rows) != 0 {
			t.Fatalf("stored %s", fmtEvents(rows))
		}
	})
}

// One event attached to a context used for two changes (a sign-up that
// creates the user and then its first session) is recorded once, with the
// first change, and the second change still succeeds.
func TestAuditSameEventTwice(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ectx, ev := withEvent(latchkey.AuditSignup)
		u := &latchkey.User{Email: "twice@example.com", PasswordHash: "x"}
		must(t, db.CreateUser(ectx, u))
		first := *ev
		clockOf(db).Advance(time.Second)
		s := &latchkey.Session{UserID: u.ID, ExpiresAt: t0.Add(time.Hour), RefreshHash: randBytes(t, 32)}
		must(t, insertSession(ectx, db, s))
		rows := auditRows(t, db)
		if len(rows) != 1 || *rows[0] != first {
			t.Fatalf("stored %s, want only %+v", fmtEvents(rows), first)
		}
	})
}

func TestAppendAudit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ev := &latchkey.AuditEvent{Type: latchkey.AuditSigninFailed, IP: "2001:db8::1", UserAgent: "curl/8"}
		must(t, db.AppendAudit(ctx, ev))
		if !ev.At.Equal(t0) {
			t.Fatalf("At = %v, want the store clock %v", ev.At, t0)
		}
		wantOneEvent(t, db, ev)

		// Given fields, a given At in another zone and a given ID are kept.
		at := time.Date(2026, 1, 2, 3, 4, 5, 987654321, time.FixedZone("X", 3600))
		given := &latchkey.AuditEvent{ID: "given-id", At: at, Type: latchkey.AuditUserDisabled, UserID: "u1",
			ActorID: "a1", SessionID: "s1", IP: "192.0.2.9", UserAgent: "ua", Reason: "r"}
		must(t, db.AppendAudit(ctx, given))
		if given.ID != "given-id" || !given.At.Equal(at) || given.At.Location() != time.UTC {
			t.Fatalf("given event became %+v", *given)
		}
		rows := auditRows(t, db)
		if len(rows) != 2 || *rows[1] != *given {
			t.Fatalf("stored %s, want %+v last", fmtEvents(rows), *given)
		}

		// Appending it again records nothing more.
		must(t, db.AppendAudit(ctx, given))
		if n := len(auditRows(t, db)); n != 2 {
			t.Fatalf("%d events after appending one twice", n)
		}

		// An event that stands for several occurrences keeps its count;
		// the others stand for one.
		if ev.Count != 1 || given.Count != 1 {
			t.Fatalf("counts %d and %d, want 1 for events given none", ev.Count, given.Count)
		}
		many := &latchkey.AuditEvent{Type: latchkey.AuditTokenRejected, IP: "192.0.2.9", Reason: "malformed", Count: 9999}
		must(t, db.AppendAudit(ctx, many))
		if rows := auditRows(t, db); len(rows) != 3 || *rows[0] != *many || rows[0].Count != 9999 {
			t.Fatalf("stored %s, want %+v first", fmtEvents(rows), *many)
		}
	})
}

// seedEvents appends n events, the clock advancing every third one so that
// several share a time. Types and users alternate. It returns them newest
// first by (At, ID).
func seedEvents(t *testing.T, db *sqldb.DB, n int) []*latchkey.AuditEvent {
	t.Helper()
	var out []*latchkey.AuditEvent
	for i := range n {
		if i%3 == 0 {
			clockOf(db).Advance(time.Millisecond)
		}
		ev := &latchkey.AuditEvent{
			Type:   []string{latchkey.AuditSignin, latchkey.AuditRefresh}[i%2],
			UserID: []string{"u1", "u2", "u3"}[i%3],
		}
		must(t, db.AppendAudit(ctx, ev))
		out = append(out, ev)
	}
	sortEvents(out)
	return out
}

func sortEvents(evs []*latchkey.AuditEvent) {
	slices.SortFunc(evs, func(a, b *latchkey.AuditEvent) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

// listAllAudit pages through the log, checking each page's length and
// cursor, and returns every event it saw.
func listAllAudit(t *testing.T, db *sqldb.DB, f latchkey.AuditFilter, total int) []*latchkey.AuditEvent {
	t.Helper()
	var all []*latchkey.AuditEvent
	for page := 0; ; page++ {
		if page > total+1 {
			t.Fatal("pagination does not end")
		}
		got, next, err := db.ListAudit(ctx, f)
		must(t, err)
		all = append(all, got...)
		remaining := total - len(all)
		switch {
		case remaining > 0 && (len(got) != f.Limit || next == nil):
			t.Fatalf("page %d: %d events, next %v; %d more to come", page, len(got), next, remaining)
		case remaining <= 0 && next != nil:
			t.Fatalf("page %d: next cursor %v after the last event", page, next)
		case remaining < 0:
			t.Fatalf("listed %d events, want %d", len(all), total)
		}
		if next == nil {
			return all
		}
		last := got[len(got)-1]
		if !next.CreatedAt.Equal(last.At) || next.ID != last.ID {
			t.Fatalf("page %d: cursor %+v is not the last event %+v", page, next, last)
		}
		c, err := latchkey.DecodeCursor(next.Encode())
		must(t, err)
		f.After = c
	}
}

func TestListAudit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		all := seedEvents(t, db, 20)
		tests := []struct {
			name string
			f    latchkey.AuditFilter
			keep func(*latchkey.AuditEvent) bool
		}{
			{"all", latchkey.AuditFilter{}, func(*latchkey.AuditEvent) bool { return true }},
			{"type", latchkey.AuditFilter{Type: latchkey.AuditRefresh},
				func(ev *latchkey.AuditEvent) bool { return ev.Type == latchkey.AuditRefresh }},
			{"user", latchkey.AuditFilter{UserID: "u2"},
				func(ev *latchkey.AuditEvent) bool { return ev.UserID == "u2" }},
			{"type and user", latchkey.AuditFilter{Type: latchkey.AuditSignin, UserID: "u3"},
				func(ev *latchkey.AuditEvent) bool { return ev.Type == latchkey.AuditSignin && ev.UserID == "u3" }},
			{"no match", latchkey.AuditFilter{Type: "nothing"}, func(*latchkey.AuditEvent) bool { return false }},
		}
		for _, tt := range tests {
			want := slices.DeleteFunc(slices.Clone(all), func(ev *latchkey.AuditEvent) bool { return !tt.keep(ev) })
			for _, limit := range []int{1, 3, 100} {
				f := tt.f
				f.Limit = limit
				got := listAllAudit(t, db, f, len(want))
				if !slices.EqualFunc(got, want, func(a, b *latchkey.AuditEvent) bool { return *a == *b }) {
					t.Fatalf("%s, limit %d: got %s\nwant %s", tt.name, limit, fmtEvents(got), fmtEvents(want))
				}
			}
		}
	})
}

func TestListAuditDefaultLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		got, next, err := db.ListAudit(ctx, latchkey.AuditFilter{})
		must(t, err)
		if len(got) != 0 || next != nil {
			t.Fatalf("empty log lists %d events, next %v", len(got), next)
		}
		all := seedEvents(t, db, latchkey.DefaultPageSize+1)
		for _, limit := range []int{0, -1} {
			got, next, err = db.ListAudit(ctx, latchkey.AuditFilter{Limit: limit})
			must(t, err)
			if len(got) != latchkey.DefaultPageSize || next == nil || next.ID != all[latchkey.DefaultPageSize-1].ID {
				t.Fatalf("limit %d: %d events, next %v", limit, len(got), next)
			}
		}
	})
}

func TestPruneAudit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		for _, at := range []time.Time{t0.Add(-2 * time.Hour), t0.Add(-time.Hour), t0.Add(-time.Minute), t0} {
			must(t, db.AppendAudit(ctx, &latchkey.AuditEvent{Type: latchkey.AuditSignin, At: at}))
		}
		n, err := db.PruneAudit(ctx, t0.Add(-time.Minute))
		must(t, err)
		if n != 2 {
			t.Fatalf("pruned %d, want 2", n)
		}
		rows := auditRows(t, db)
		if len(rows) != 2 || !rows[0].At.Equal(t0) || !rows[1].At.Equal(t0.Add(-time.Minute)) {
			t.Fatalf("left %s", fmtEvents(rows))
		}
		if n, err = db.PruneAudit(ctx, t0.Add(-time.Minute)); err != nil || n != 0 {
			t.Fatalf("second prune: %d, %v", n, err)
		}
	})
}

// No stored event holds a password hash, a refresh token's hash or a
// session's refresh key, whatever flow recorded it: the store copies
// nothing into an event beyond ids.
func TestAuditHoldsNoSecrets(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		var secrets [][]byte
		secret := func(b []byte) []byte { secrets = append(secrets, b); return b }
		hash := func(tag string) string {
			return string(secret([]byte("$argon2id$v=19$m=19456,t=2,p=1$" + tag + "$" + base64.RawStdEncoding.EncodeToString(randBytes(t, 32)))))
		}
		ev := func(typ string) context.Context { c, _ := withEvent(typ); return c }

		admin := &latchkey.User{Email: "admin@example.com", Role: latchkey.RoleAdmin, PasswordHash: hash("admin")}
		must(t, db.CreateUser(ev(latchkey.AuditSignup), admin))
		u := &latchkey.User{Email: "user@example.com", PasswordHash: hash("user")}
		must(t, db.CreateUser(ev(latchkey.AuditSignup), u))
		s := &latchkey.Session{UserID: u.ID, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour),
			UserAgent: "ua", IP: "192.0.2.1", RefreshKey: secret(randBytes(t, 32)), RefreshHash: secret(randBytes(t, 32))}
		must(t, insertSession(ev(latchkey.AuditSignin), db, s))
		ok, err := db.RotateSession(ev(latchkey.AuditRefresh), rotation(s, t0, secret(randBytes(t, 32))))
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		_, err = db.SetPassword(ev(latchkey.AuditPasswordChanged), u.ID, hash("changed"), "", t0)
		must(t, err)
		got, err := db.FindUserByID(ctx, u.ID)
		must(t, err)
		ok, err = db.RehashPassword(ev("rehash"), u.ID, got.PasswordHash, hash("rehashed"))
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		s2 := &latchkey.Session{UserID: u.ID, ExpiresAt: t0.Add(time.Hour), RefreshKey: secret(randBytes(t, 32)),
			RefreshHash: secret(randBytes(t, 32))}
		must(t, insertSession(ev(latchkey.AuditSignin), db, s2))
		must(t, db.RevokeSessionByID(ev(latchkey.AuditRefreshReuse), s2.ID, latchkey.ReasonRefreshReuse, t0))
		_, _, err = db.UpdateUser(ev(latchkey.AuditUserDisabled), u.ID, latchkey.UserUpdate{Disabled: ptr(true)}, t0)
		must(t, err)
		must(t, db.AppendAudit(ctx, &latchkey.AuditEvent{Type: latchkey.AuditSigninFailed, IP: "192.0.2.1"}))
		if n := len(auditRows(t, db)); n != 10 {
			t.Fatalf("%d events recorded, want 10", n)
		}

		// Every column of every row, as the database gives it.
		rows, err := db.Reader().QueryContext(ctx, `SELECT * FROM audit_events`)
		must(t, err)
		defer rows.Close()
		cols, err := rows.Columns()
		must(t, err)
		var text bytes.Buffer
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			must(t, rows.Scan(ptrs...))
			for _, v := range vals {
				fmt.Fprintf(&text, "%v|%s|", v, v)
			}
			text.WriteByte('\n')
		}
		must(t, rows.Err())
		for _, s := range secrets {
			for _, form := range [][]byte{s, []byte(hex.EncodeToString(s)), []byte(base64.StdEncoding.EncodeToString(s)),
				[]byte(base64.RawURLEncoding.EncodeToString(s))} {
				if bytes.Contains(text.Bytes(), form) {
					t.Fatalf("an audit row holds a secret (%q):\n%s", form, text.String())
				}
			}
		}
	})
}
