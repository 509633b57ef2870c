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
	if err := checkScope(scope); err != nil {
		return err
	}
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
	default: // ScopeGlobal
		ids, err = s.Store.RevokeUserSessions(ctx, userID, "", latchkey.ReasonSignout, now)
	}
	if err != nil {
		return err
	}
	s.Revoked.Add(now, ids...)
	logEvent(s.Logger, ev)
	return nil
}

// SignOutRefresh signs out for a caller whose access token has lapsed and
// who holds only a refresh token. The token passes the rules of a refresh
// (checkRefresh): the session's current token, or the one it just replaced
// within the grace window (a second tab, holding the session as much as the
// first), signs out with scope; a spent token is reuse and revokes its
// session; an expired or unknown token, or a revoked session's, signs
// nothing out. The scope is checked first, so a malformed call changes
// nothing.
func (s *Service) SignOutRefresh(ctx context.Context, refresh, scope string, c Client) error {
	if err := checkScope(scope); err != nil {
		return err
	}
	p, err := s.checkRefresh(ctx, refresh, nil, s.now(), c)
	if err != nil {
		s.recordRefusal(c, "signout", err)
		return err
	}
	return s.SignOut(ctx, p.sess.UserID, p.sess.ID, scope, c)
}

// checkScope refuses a sign-out scope other than local (or none), others
// and global.
func checkScope(scope string) error {
	switch scope {
	case "", ScopeLocal, ScopeOthers, ScopeGlobal:
		return nil
	}
	return latchkey.ValidationError(latchkey.FieldError{Field: "scope", Message: "must be local, others or global"})
}
