package auth

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// changedStore answers FindUserByID with the user as changed meanwhile and
// records the reason of a revocation.
type changedStore struct {
	latchkey.Store
	now    *latchkey.User
	reason string
}

func (s *changedStore) FindUserByID(context.Context, string) (*latchkey.User, error) {
	return s.now, nil
}

func (s *changedStore) RevokeSessionByID(_ context.Context, _, reason string, _ time.Time) error {
	s.reason = reason
	return nil
}

// TestStillAsCheckedReason: a session opened while the user was being
// changed is revoked with the change's reason (the revocation feed's
// initiating_entity follows it), and not revoked when nothing changed.
func TestStillAsCheckedReason(t *testing.T) {
	checked := &latchkey.User{ID: "u1", Role: latchkey.RoleUser, PasswordHash: "h1"}
	for _, tc := range []struct {
		name   string
		change func(u *latchkey.User)
		want   string
	}{
		{"nothing", func(*latchkey.User) {}, ""},
		{"disabled", func(u *latchkey.User) { u.Disabled = true }, latchkey.ReasonUserDisabled},
		{"role", func(u *latchkey.User) { u.Role = latchkey.RoleAdmin }, latchkey.ReasonRoleChanged},
		{"password", func(u *latchkey.User) { u.PasswordHash = "h2" }, latchkey.ReasonPasswordChanged},
		{"disabled and role", func(u *latchkey.User) { u.Disabled, u.Role = true, latchkey.RoleAdmin }, latchkey.ReasonUserDisabled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := *checked
			tc.change(&now)
			st := &changedStore{now: &now}
			s := &Service{Store: st, Revoked: NewRevocations(0)}
			err := s.stillAsChecked(context.Background(), checked, "s1")
			if st.reason != tc.want {
				t.Fatalf("revoked with reason %q, want %q (err %v)", st.reason, tc.want, err)
			}
			if (tc.want == "") != (err == nil) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
