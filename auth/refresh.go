package auth

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/token"
)

var (
	errUnknownRefresh = latchkey.Errorf(latchkey.EINVALIDTOKEN, "unknown or expired refresh token")
	errRevoked        = latchkey.Errorf(latchkey.ETOKENREVOKED, "session revoked")
	errReuse          = latchkey.Errorf(latchkey.ETOKENREVOKED, "refresh token reused; session revoked")
)

// Refresh rotates a refresh token. Presenting the current token moves the
// session one generation on; presenting the token it just replaced, within
// the grace window, answers again with the same new token (two tabs
// converge); presenting any other spent token is reuse and revokes the
// session. The rotation is a compare-and-swap on the session's generation in
// the store, so concurrent refreshes, in one process or several, agree.
func (s *Service) Refresh(ctx context.Context, refresh string, c Client) (*Grant, error) {
	g, err := s.refresh(ctx, refresh, c)
	if code := latchkey.ErrorCode(err); err != errReuse && (code == latchkey.EINVALIDTOKEN || code == latchkey.ETOKENREVOKED) {
		s.Record(latchkey.AuditTokenRejected, c, "", "", "refresh: "+latchkey.ErrorMessage(err))
	}
	return g, err
}

func (s *Service) refresh(ctx context.Context, refresh string, c Client) (*Grant, error) {
	if refresh == "" || len(refresh) > 256 {
		return nil, errUnknownRefresh
	}
	h := token.HashRefresh(refresh)
	now := s.now()
	sess, u, err := s.Store.FindRefreshSession(ctx, h)
	switch latchkey.ErrorCode(err) {
	case "":
		if sess.Revoked() {
			return nil, errRevoked
		}
		if !now.Before(sess.ExpiresAt) {
			return nil, errUnknownRefresh
		}
		if u.Disabled {
			return nil, errRevoked
		}
		next := token.NextRefresh(sess.RefreshKey, refresh)
		ev := event(latchkey.AuditRefresh, c)
		ev.UserID, ev.SessionID = sess.UserID, sess.ID
		won, err := s.Store.RotateSession(latchkey.WithAudit(ctx, ev), latchkey.Rotation{
			SessionID:      sess.ID,
			FromGeneration: sess.Generation,
			OldHash:        h,
			NewHash:        token.HashRefresh(next),
			Now:            now,
			ExpiresAt:      now.Add(s.RefreshTTL),
		})
		if err != nil {
			return nil, fmt.Errorf("auth: rotate: %w", err)
		}
		if won {
			logEvent(s.Logger, ev)
			sess.ExpiresAt = now.Add(s.RefreshTTL)
			return s.grant(u, sess, next, now)
		}
		// Another refresh of this token, or a revocation, got there first:
		// answer as for a spent token, with the session as it is now.
		if sess, err = s.Store.FindSession(ctx, sess.ID); err != nil {
			return nil, fmt.Errorf("auth: reload session: %w", err)
		}
	case latchkey.ENOTFOUND:
		sess, err = s.Store.FindSessionBySpentHash(ctx, h)
		if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
			return nil, errUnknownRefresh
		} else if err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	return s.spent(ctx, sess, refresh, h, now, c)
}

// spent handles a refresh token that has already been rotated away.
func (s *Service) spent(ctx context.Context, sess *latchkey.Session, refresh string, h []byte, now time.Time, c Client) (*Grant, error) {
	if sess.Revoked() {
		return nil, errRevoked
	}
	if !now.Before(sess.ExpiresAt) {
		return nil, errUnknownRefresh // an ended session has nothing left to protect
	}
	if s.RefreshGrace > 0 && bytes.Equal(sess.PrevHash, h) && now.Sub(sess.RotatedAt) <= s.RefreshGrace {
		next := token.NextRefresh(sess.RefreshKey, refresh)
		if bytes.Equal(token.HashRefresh(next), sess.RefreshHash) {
			u, err := s.liveUser(ctx, sess)
			if err != nil {
				return nil, err
			}
			s.Record(latchkey.AuditRefresh, c, sess.UserID, sess.ID, "grace")
			return s.grant(u, sess, next, now)
		}
	}
	ev := event(latchkey.AuditRefreshReuse, c)
	ev.UserID, ev.SessionID = sess.UserID, sess.ID
	if err := s.Store.RevokeSessionByID(latchkey.WithAudit(ctx, ev), sess.ID, latchkey.ReasonRefreshReuse, now); err != nil {
		return nil, fmt.Errorf("auth: revoke on reuse: %w", err)
	}
	s.Revoked.Add(now, sess.ID)
	logEvent(s.Logger, ev)
	return nil, errReuse
}

// liveUser loads the session's user, refusing a disabled one.
func (s *Service) liveUser(ctx context.Context, sess *latchkey.Session) (*latchkey.User, error) {
	u, err := s.Store.FindUserByID(ctx, sess.UserID)
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return nil, errRevoked
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errRevoked
	}
	return u, nil
}
