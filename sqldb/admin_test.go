package sqldb_test

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

func ptr[T any](v T) *T { return &v }

// newAdmin creates an enabled admin with a unique email.
func newAdmin(tb testing.TB, db *sqldb.DB) *latchkey.User {
	tb.Helper()
	u := newUser(tb, db)
	_, _, err := db.UpdateUser(ctx, u.ID, latchkey.UserUpdate{Role: ptr(latchkey.RoleAdmin)}, t0)
	must(tb, err)
	u.Role = latchkey.RoleAdmin
	return u
}

// wantFields fails the test unless err is EVALIDATION naming exactly fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	wantCode(t, err, latchkey.EVALIDATION)
	var e *latchkey.Error
	errors.As(err, &e)
	var got []string
	for _, f := range e.Fields {
		if f.Message == "" {
			t.Fatalf("field %q has no message", f.Field)
		}
		got = append(got, f.Field)
	}
	if !slices.Equal(got, fields) {
		t.Fatalf("fields %v, want %v", e.Fields, fields)
	}
}

func TestListUsers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		got, next, err := db.ListUsers(ctx, 10, nil)
		must(t, err)
		if len(got) != 0 || next != nil {
			t.Fatalf("no users lists %d, next %v", len(got), next)
		}
		var all []*latchkey.User
		for i := range 11 {
			if i%4 == 0 {
				clockOf(db).Advance(time.Millisecond) // several share a CreatedAt
			}
			u := newUser(t, db)
			if i == 5 {
				_, _, err := db.UpdateUser(ctx, u.ID, latchkey.UserUpdate{Disabled: ptr(true)}, t0)
				must(t, err)
				u.Disabled = true
			}
			all = append(all, u)
		}
		slices.SortFunc(all, func(a, b *latchkey.User) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return cmp.Compare(b.ID, a.ID)
		})
		for _, limit := range []int{1, 3, 11, 50} {
			var listed []*latchkey.User
			var after *latchkey.Cursor
			for page := 0; ; page++ {
				if page > len(all) {
					t.Fatal("pagination does not end")
				}
				got, next, err := db.ListUsers(ctx, limit, after)
				must(t, err)
				listed = append(listed, got...)
				more := len(listed) < len(all)
				if more != (next != nil) || (more && len(got) != limit) {
					t.Fatalf("limit %d page %d: %d users, next %v, %d listed of %d", limit, page, len(got), next, len(listed), len(all))
				}
				if next == nil {
					break
				}
				if last := got[len(got)-1]; next.ID != last.ID || !next.CreatedAt.Equal(last.CreatedAt) {
					t.Fatalf("cursor %+v is not the last user %+v", next, last)
				}
				after, err = latchkey.DecodeCursor(next.Encode())
				must(t, err)
			}
			if !slices.EqualFunc(listed, all, func(a, b *latchkey.User) bool { return *a == *b }) {
				t.Fatalf("limit %d: listed", limit)
				for i := range listed {
					t.Logf("%+v\n%+v", listed[i], all[i])
				}
			}
		}
	})
}

func TestListUsersDefaultLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		for range latchkey.DefaultPageSize + 1 {
			newUser(t, db)
		}
		for _, limit := range []int{0, -3} {
			got, next, err := db.ListUsers(ctx, limit, nil)
			must(t, err)
			if len(got) != latchkey.DefaultPageSize || next == nil {
				t.Fatalf("limit %d: %d users, next %v", limit, len(got), next)
			}
		}
	})
}

// sessionsOf gives user u three sessions, one of them already revoked, and
// returns the ids of the two live ones.
func sessionsOf(t *testing.T, db *sqldb.DB, u *latchkey.User) []string {
	t.Helper()
	a := newSession(t, db, u.ID, t0)
	b := newSession(t, db, u.ID, t0.Add(time.Second))
	done := newSession(t, db, u.ID, t0)
	must(t, db.RevokeSessionByID(ctx, done.ID, latchkey.ReasonSignout, t0))
	return []string{a.ID, b.ID}
}

// wantRevoked checks that ids are exactly the sessions revoked, with reason
// at at.
func wantRevoked(t *testing.T, db *sqldb.DB, got, want []string, reason string, at time.Time) {
	t.Helper()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("revoked %v, want %v", got, want)
	}
	for _, id := range want {
		s, err := db.FindSession(ctx, id)
		must(t, err)
		if s.RevokeReason != reason || !s.RevokedAt.Equal(at) {
			t.Fatalf("session %s revoked %v for %q, want %v for %q", id, s.RevokedAt, s.RevokeReason, at, reason)
		}
	}
}

func TestUpdateUser(t *testing.T) {
	later := t0.Add(time.Hour) // after the store clock: the stamp revocations take
	tests := []struct {
		name       string
		disabled   bool // the user's state before
		upd        latchkey.UserUpdate
		wantRole   latchkey.Role
		wantOff    bool
		wantReason string // "" when nothing is revoked
	}{
		{"promote", false, latchkey.UserUpdate{Role: ptr(latchkey.RoleAdmin)}, latchkey.RoleAdmin, false, latchkey.ReasonRoleChanged},
		{"disable", false, latchkey.UserUpdate{Disabled: ptr(true)}, latchkey.RoleUser, true, latchkey.ReasonUserDisabled},
		{"disable and promote", false, latchkey.UserUpdate{Role: ptr(latchkey.RoleAdmin), Disabled: ptr(true)},
			latchkey.RoleAdmin, true, latchkey.ReasonUserDisabled},
		{"enable", true, latchkey.UserUpdate{Disabled: ptr(false)}, latchkey.RoleUser, false, ""},
		{"promote a disabled user", true, latchkey.UserUpdate{Role: ptr(latchkey.RoleAdmin)}, latchkey.RoleAdmin, true, latchkey.ReasonRoleChanged},
		{"disable a disabled user", true, latchkey.UserUpdate{Disabled: ptr(true)}, latchkey.RoleUser, true, ""},
		{"same role", false, latchkey.UserUpdate{Role: ptr(latchkey.RoleUser)}, latchkey.RoleUser, false, ""},
		{"nothing", false, latchkey.UserUpdate{}, latchkey.RoleUser, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
				u := newUser(t, db)
				if tt.disabled {
					_, _, err := db.UpdateUser(ctx, u.ID, latchkey.UserUpdate{Disabled: ptr(true)}, t0)
					must(t, err)
				}
				live := sessionsOf(t, db, u) // after disabling: sessions a disabled user still has
				other := newSession(t, db, newUser(t, db).ID, t0)

				got, revoked, err := db.UpdateUser(ctx, u.ID, tt.upd, later)
				must(t, err)
				want := *u
				want.Role, want.Disabled = tt.wantRole, tt.wantOff
				if *got != want {
					t.Fatalf("UpdateUser = %+v, want %+v", *got, want)
				}
				stored, err := db.FindUserByID(ctx, u.ID)
				must(t, err)
				if *stored != want {
					t.Fatalf("stored %+v, want %+v", *stored, want)
				}
				if tt.wantReason == "" {
					if len(revoked) != 0 {
						t.Fatalf("revoked %v, want none", revoked)
					}
					if ss, err := liveSessions(db, u.ID, t0); err != nil || len(ss) != 2 {
						t.Fatalf("%d live sessions (%v), want 2", len(ss), err)
					}
				} else {
					wantRevoked(t, db, revoked, live, tt.wantReason, later)
				}
				if s, err := db.FindSession(ctx, other.ID); err != nil || s.Revoked() {
					t.Fatalf("another user's session: %+v %v", s, err)
				}
			})
		})
	}
}

func TestUpdateUserLastAdmin(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		a := newAdmin(t, db)
		live := sessionsOf(t, db, a)
		// A disabled admin does not count as one.
		off := newAdmin(t, db)
		_, _, err := db.UpdateUser(ctx, off.ID, latchkey.UserUpdate{Disabled: ptr(true)}, t0)
		must(t, err)
		newUser(t, db)

		refused := []struct {
			upd    latchkey.UserUpdate
			fields []string
		}{
			{latchkey.UserUpdate{Role: ptr(latchkey.RoleUser)}, []string{"role"}},
			{latchkey.UserUpdate{Disabled: ptr(true)}, []string{"disabled"}},
			{latchkey.UserUpdate{Role: ptr(latchkey.RoleUser), Disabled: ptr(true)}, []string{"role", "disabled"}},
			{latchkey.UserUpdate{Role: ptr(latchkey.RoleUser), Disabled: ptr(false)}, []string{"role"}},
		}
		for _, r := range refused {
			_, revoked, err := db.UpdateUser(ctx, a.ID, r.upd, t0)
			wantFields(t, err, r.fields...)
			if revoked != nil {
				t.Fatalf("revoked %v", revoked)
			}
		}
		stored, err := db.FindUserByID(ctx, a.ID)
		must(t, err)
		if stored.Role != latchkey.RoleAdmin || stored.Disabled {
			t.Fatalf("last admin became %+v", stored)
		}
		if ss, err := liveSessions(db, a.ID, t0); err != nil || len(ss) != len(live) {
			t.Fatalf("last admin has %d live sessions (%v), want %d", len(ss), err, len(live))
		}
		// Keeping the last admin an admin is allowed.
		_, _, err = db.UpdateUser(ctx, a.ID, latchkey.UserUpdate{Role: ptr(latchkey.RoleAdmin), Disabled: ptr(false)}, t0)
		must(t, err)

		// With a second enabled admin, the first can go; then the second is
		// the last one.
		b := newAdmin(t, db)
		got, revoked, err := db.UpdateUser(ctx, a.ID, latchkey.UserUpdate{Role: ptr(latchkey.RoleUser)}, t0)
		must(t, err)
		if got.Role != latchkey.RoleUser {
			t.Fatalf("demoted admin is %+v", got)
		}
		wantRevoked(t, db, revoked, live, latchkey.ReasonRoleChanged, t0)
		_, _, err = db.UpdateUser(ctx, b.ID, latchkey.UserUpdate{Disabled: ptr(true)}, t0)
		wantFields(t, err, "disabled")
		_, _, err = db.UpdateUser(ctx, b.ID, latchkey.UserUpdate{Role: ptr(latchkey.RoleUser)}, t0)
		wantFields(t, err, "role")

		// Re-enabling the disabled admin makes b removable.
		_, _, err = db.UpdateUser(ctx, off.ID, latchkey.UserUpdate{Disabled: ptr(false)}, t0)
		must(t, err)
		_, _, err = db.UpdateUser(ctx, b.ID, latchkey.UserUpdate{Disabled: ptr(true)}, t0)
		must(t, err)
	})
}

// Admins provisioned from a trusted external issuer cannot use the admin
// API: they do not count as admins for the last-admin rule.
func TestUpdateUserLastAdminExternal(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		a := newAdmin(t, db)
		live := sessionsOf(t, db, a)
		ext, err := db.ProvisionExternalUser(ctx, &latchkey.User{ID: "ext-admin", Role: latchkey.RoleAdmin, Issuer: "https://front.example"})
		must(t, err)
		if ext.Role != latchkey.RoleAdmin || ext.Disabled {
			t.Fatalf("external admin is %+v", ext)
		}
		for _, r := range []struct {
			upd    latchkey.UserUpdate
			fields []string
		}{
			{latchkey.UserUpdate{Role: ptr(latchkey.RoleUser)}, []string{"role"}},
			{latchkey.UserUpdate{Disabled: ptr(true)}, []string{"disabled"}},
			{latchkey.UserUpdate{Role: ptr(latchkey.RoleUser), Disabled: ptr(true)}, []string{"role", "disabled"}},
		} {
			_, revoked, err := db.UpdateUser(ctx, a.ID, r.upd, t0)
			wantFields(t, err, r.fields...)
			if revoked != nil {
				t.Fatalf("revoked %v", revoked)
			}
		}
		stored, err := db.FindUserByID(ctx, a.ID)
		must(t, err)
		if stored.Role != latchkey.RoleAdmin || stored.Disabled {
			t.Fatalf("the only local admin became %+v", stored)
		}
		if ss, err := liveSessions(db, a.ID, t0); err != nil || len(ss) != len(live) {
			t.Fatalf("the only local admin has %d live sessions (%v), want %d", len(ss), err, len(live))
		}
		// The external admin is not guarded: it may be demoted or disabled.
		_, _, err = db.UpdateUser(ctx, ext.ID, latchkey.UserUpdate{Disabled: ptr(true)}, t0)
		must(t, err)
		_, _, err = db.UpdateUser(ctx, ext.ID, latchkey.UserUpdate{Role: ptr(latchkey.RoleUser), Disabled: ptr(false)}, t0)
		must(t, err)
		// A second local admin lets the first step down.
		newAdmin(t, db)
		_, _, err = db.UpdateUser(ctx, a.ID, latchkey.UserUpdate{Role: ptr(latchkey.RoleUser)}, t0)
		must(t, err)
	})
}

// Two enabled admins, the only ones, removed at once (one demoted, one
// disabled): exactly one change wins and one enabled admin is left.
func TestUpdateUserLastAdminConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		var survivor *latchkey.User
		for round := range 10 {
			pair := []*latchkey.User{newAdmin(t, db), newAdmin(t, db)}
			if survivor != nil { // retire the last round's admin
				_, _, err := db.UpdateUser(ctx, survivor.ID, latchkey.UserUpdate{Role: ptr(latchkey.RoleUser)}, t0)
				must(t, err)
			}
			updates := []latchkey.UserUpdate{{Role: ptr(latchkey.RoleUser)}, {Disabled: ptr(true)}}
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i := range pair {
				wg.Go(func() { _, _, errs[i] = db.UpdateUser(ctx, pair[i].ID, updates[i], t0) })
			}
			wg.Wait()
			if (errs[0] == nil) == (errs[1] == nil) {
				t.Fatalf("round %d: errors %v, want exactly one refusal", round, errs)
			}
			survivor = pair[0]
			if errs[0] == nil {
				survivor = pair[1]
			}
			wantCode(t, errors.Join(errs...), latchkey.EVALIDATION)

			users, _, err := db.ListUsers(ctx, 1000, nil)
			must(t, err)
			var enabled []string
			for _, u := range users {
				if u.Role == latchkey.RoleAdmin && !u.Disabled {
					enabled = append(enabled, u.ID)
				}
			}
			if !slices.Equal(enabled, []string{survivor.ID}) {
				t.Fatalf("round %d: enabled admins %v, want only %s", round, enabled, survivor.ID)
			}
		}
	})
}

func TestUpdateUserErrors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		_, _, err := db.UpdateUser(ctx, "nobody", latchkey.UserUpdate{Disabled: ptr(true)}, t0)
		wantCode(t, err, latchkey.ENOTFOUND)
		_, _, err = db.UpdateUser(ctx, "nobody", latchkey.UserUpdate{}, t0)
		wantCode(t, err, latchkey.ENOTFOUND)

		u := newUser(t, db)
		live := sessionsOf(t, db, u)
		for _, role := range []latchkey.Role{"root", "", "Admin"} {
			_, revoked, err := db.UpdateUser(ctx, u.ID, latchkey.UserUpdate{Role: ptr(role), Disabled: ptr(true)}, t0)
			wantFields(t, err, "role")
			if revoked != nil {
				t.Fatalf("revoked %v", revoked)
			}
		}
		stored, err := db.FindUserByID(ctx, u.ID)
		must(t, err)
		if *stored != *u {
			t.Fatalf("stored %+v, want unchanged %+v", stored, u)
		}
		if ss, err := liveSessions(db, u.ID, t0); err != nil || len(ss) != len(live) {
			t.Fatalf("%d live sessions (%v), want %d", len(ss), err, len(live))
		}
	})
}
