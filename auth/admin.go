package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey"
)

// UpdateUser applies an admin's change to a user: role, disabled, whether
// the address is verified. Disabling
// or changing the role revokes every session of the user at once, here and
// (through the store) on every other instance.
func (s *Service) UpdateUser(ctx context.Context, actorID, id string, upd latchkey.UserUpdate, c Client) (*latchkey.User, error) {
	if upd.Role != nil && !upd.Role.Valid() {
		return nil, latchkey.ValidationError(latchkey.FieldError{Field: "role", Message: "must be user or admin"})
	}
	// Only what would really change is a change: no audit event, no
	// revoked sessions, for a PATCH that restates the user.
	cur, err := s.Store.FindUserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if upd.Role != nil && *upd.Role == cur.Role {
		upd.Role = nil
	}
	if upd.Disabled != nil && *upd.Disabled == cur.Disabled {
		upd.Disabled = nil
	}
	if upd.EmailVerified != nil && *upd.EmailVerified == cur.EmailVerified {
		upd.EmailVerified = nil
	}
	var reasons []string
	typ := ""
	if upd.Role != nil {
		typ = latchkey.AuditRoleChanged
		reasons = append(reasons, "role="+string(*upd.Role))
	}
	if upd.Disabled != nil {
		if *upd.Disabled {
			typ = latchkey.AuditUserDisabled
		} else if typ == "" {
			typ = latchkey.AuditUserEnabled
		}
		reasons = append(reasons, fmt.Sprintf("disabled=%t", *upd.Disabled))
	}
	if upd.EmailVerified != nil {
		// The admin vouches for the address: no session is revoked.
		if typ == "" {
			typ = latchkey.AuditEmailVerified
		}
		reasons = append(reasons, fmt.Sprintf("email_verified=%t", *upd.EmailVerified))
	}
	if typ == "" {
		return cur, nil
	}
	now := s.now()
	ev := event(typ, c)
	ev.UserID, ev.ActorID, ev.Reason = id, actorID, strings.Join(reasons, " ")
	u, ids, err := s.Store.UpdateUser(latchkey.WithAudit(ctx, ev), id, upd, now)
	if err != nil {
		return nil, err
	}
	s.Revoked.Add(now, ids...)
	logEvent(s.Logger, ev)
	return u, nil
}
