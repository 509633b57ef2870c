package auth

import (
	"context"

	"github.com/latchkey/latchkey"
)

// Sessions lists up to limit of the user's live sessions, newest first,
// after the cursor after (nil for the first page), and returns the cursor
// of the next page when there is one.
func (s *Service) Sessions(ctx context.Context, userID string, limit int, after *latchkey.Cursor) ([]*latchkey.Session, *latchkey.Cursor, error) {
	return s.Store.ListSessions(ctx, latchkey.SessionFilter{UserID: userID, Now: s.now(), Limit: limit, After: after})
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
