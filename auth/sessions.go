package auth

import (
	"context"

	"github.com/latchkey/latchkey"
)

// Sessions lists the user's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, userID string) ([]*latchkey.Session, error) {
	return s.Store.ListSessions(ctx, userID, s.now())
}

// RevokeSession revokes one of the user's own sessions.
func (s *Service) RevokeSession(ctx context.Context, userID, id string, c Client) error {
	now := s.now()
	ev := event(latchkey.AuditSessionRevoked, c)
	ev.UserID, ev.SessionID = userID, id
	if err := s.Store.RevokeSession(latchkey.WithAudit(ctx, ev), userID, id, latchkey.ReasonSessionRevoked, now); err != nil {
		return err
	}
	s.Revoked.Add(now, id)
	logEvent(s.Logger, ev)
	return nil
}
