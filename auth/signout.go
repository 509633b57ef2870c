package auth

import (
	"cmp"
	"context"

	"github.com/latchkey/latchkey"
)

// Sign-out scopes.
const (
	ScopeLocal  = "local"
	ScopeOthers = "others"
	ScopeGlobal = "global"
)

// SignOut revokes the caller's session (local), every other one (others)
// or all of them (global). sid is never empty: Latchkey's verifier refuses
// a token without one (verify's RequireSessionID), and a refresh token
// always names its session.
func (s *Service) SignOut(ctx context.Context, userID, sid, scope string, c Client) error {
	now := s.now()
	ev := event(latchkey.AuditSignout, c)
	ev.UserID, ev.SessionID, ev.Reason = userID, sid, "scope="+cmp.Or(scope, ScopeLocal)
	ctx = latchkey.WithAudit(ctx, ev)
	var ids []string
	var err error
	switch scope {
	case "", ScopeLocal:
		err = s.Store.RevokeSession(ctx, userID, sid, latchkey.ReasonSignout, now)
		if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
			err = nil // already gone: signing out again is not an error
		}
		ids = []string{sid}
	case ScopeOthers:
		ids, err = s.Store.RevokeUserSessions(ctx, userID, sid, latchkey.ReasonSignout, now)
	case ScopeGlobal:
		ids, err = s.Store.RevokeUserSessions(ctx, userID, "", latchkey.ReasonSignout, now)
	default:
		return latchkey.ValidationError(latchkey.FieldError{Field: "scope", Message: "must be local, others or global"})
	}
	if err != nil {
		return err
	}
	s.Revoked.Add(now, ids...)
	logEvent(s.Logger, ev)
	return nil
}

// SignOutRefresh signs out the session holding a refresh token, current or
// already rotated, for a caller whose access token has lapsed.
func (s *Service) SignOutRefresh(ctx context.Context, refresh, scope string, c Client) error {
	p, err := s.checkRefresh(ctx, toSignOut, refresh, nil, s.now(), c)
	if err != nil {
		return err
	}
	return s.SignOut(ctx, p.sess.UserID, p.sess.ID, scope, c)
}
